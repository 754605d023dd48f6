using System.Globalization;

namespace Ballast.Training;

/// <summary>
/// What a candidate model must satisfy to be promoted (TFX Evaluator / MLflow validation thresholds): per metric an
/// absolute bound and/or a required change against the champion on the same holdout, plus guardrails on the
/// model's measured latency and size.
/// </summary>
public sealed record GateSpec
{
    public IReadOnlyList<MetricGate> Metrics { get; init; } = [];

    /// <summary>The most a batch of the sample may take to score (median of the measured runs), in milliseconds.</summary>
    public double? MaxLatencyMs { get; init; }

    public long? MaxSizeBytes { get; init; }

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        for (var i = 0; i < Metrics.Count; i++)
        {
            var gate = Metrics[i];
            var at = $"metrics[{i}]";
            if (string.IsNullOrWhiteSpace(gate.Metric))
            {
                problems.Add($"{at}.metric must name a metric");
                continue;
            }

            at = $"metrics[{i}] ({gate.Metric})";
            if (gate.Direction is not (null or MetricNames.HigherIsBetter or MetricNames.LowerIsBetter))
            {
                problems.Add($"{at}.direction must be {MetricNames.HigherIsBetter} or {MetricNames.LowerIsBetter}, not '{gate.Direction}'");
            }

            if (gate.Min is null && gate.Max is null && !gate.ChecksChange)
            {
                problems.Add($"{at} checks nothing: give min, max, must_improve, min_improvement or min_relative_improvement");
            }

            foreach (var (name, value) in new[] { ("min", gate.Min), ("max", gate.Max), ("min_improvement", gate.MinImprovement), ("min_relative_improvement", gate.MinRelativeImprovement) })
            {
                if (value is { } number && !double.IsFinite(number))
                {
                    problems.Add($"{at}.{name} must be a finite number");
                }
            }

            if (gate.MinImprovement < 0 || gate.MinRelativeImprovement < 0)
            {
                problems.Add($"{at}: min_improvement and min_relative_improvement must be at least 0 (a required improvement, not an allowed loss)");
            }

            if (gate.Min > gate.Max)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{at}.min ({gate.Min}) is above max ({gate.Max})"));
            }
        }

        foreach (var duplicate in Metrics.GroupBy(gate => gate.Metric, StringComparer.Ordinal).Where(group => group.Count() > 1))
        {
            problems.Add($"metric '{duplicate.Key}' is gated {duplicate.Count()} times; give one entry per metric");
        }

        if (MaxLatencyMs is { } latency && !(latency > 0 && double.IsFinite(latency)))
        {
            problems.Add("max_latency_ms must be a positive number");
        }

        if (MaxSizeBytes is <= 0)
        {
            problems.Add("max_size_bytes must be positive");
        }

        return problems;
    }
}

/// <summary>
/// The checks on one metric. <see cref="Min"/>/<see cref="Max"/> bound the candidate's value. A change check (when
/// <see cref="MustImprove"/> or a minimum improvement is given) compares with the champion: the candidate must be
/// strictly better in the metric's direction, and by at least <see cref="MinImprovement"/> (absolute) OR
/// <see cref="MinRelativeImprovement"/> (a fraction of the champion's value) when either is given.
/// </summary>
public sealed record MetricGate
{
    public required string Metric { get; init; }

    public double? Min { get; init; }

    public double? Max { get; init; }

    public bool MustImprove { get; init; }

    public double? MinImprovement { get; init; }

    public double? MinRelativeImprovement { get; init; }

    /// <summary>higher_is_better or lower_is_better; by default <see cref="MetricNames.DefaultDirection"/>.</summary>
    public string? Direction { get; init; }

    internal bool ChecksChange => MustImprove || MinImprovement is not null || MinRelativeImprovement is not null;
}

/// <summary>What was measured of the candidate model for the guardrails (null when not measured).</summary>
public sealed record GuardrailMeasurement(double? LatencyMs, long? SizeBytes, int BatchRows = 0);

/// <summary>The gate's verdict and every check behind it, with the numbers compared.</summary>
public sealed record GateDecision(bool Passed, IReadOnlyList<GateCheck> Checks, string Summary);

/// <summary>
/// One check: <see cref="Kind"/> is min, max, change or guardrail; <see cref="Outcome"/> passed, failed or skipped (a
/// change check with no champion); <see cref="Change"/> is the improvement in the metric's direction (positive is
/// better) and <see cref="RelativeChange"/> that over |champion|.
/// </summary>
public sealed record GateCheck(
    string Kind,
    string Metric,
    string Outcome,
    string Direction,
    double? Candidate,
    double? Champion,
    double? Bound,
    double? Change,
    double? RelativeChange,
    string Reason)
{
    public const string Passed = "passed";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
}
