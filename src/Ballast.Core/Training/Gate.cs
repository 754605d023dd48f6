using System.Globalization;

namespace Ballast.Training;

/// <summary>
/// Decides whether a candidate model may replace the champion. Every configured check is recorded with its numbers:
/// absolute bounds on the candidate's metrics, changes against the champion's metrics on the same holdout (skipped,
/// not failed, when there is no champion: the first model is held to the bounds alone), and guardrails on measured
/// latency and size. A metric the candidate (or, for a change, the champion) lacks or that is NaN fails its check.
/// The gate passes when no check failed.
/// </summary>
public static class Gate
{
    public static GateDecision Decide(GateSpec spec, IReadOnlyDictionary<string, double> candidate, IReadOnlyDictionary<string, double>? champion, GuardrailMeasurement? guardrails = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(candidate);
        if (spec.Validate() is { Count: > 0 } problems)
        {
            throw new TrainingInputException("Invalid gate: " + ProblemList.Join(problems) + ".");
        }

        var checks = new List<GateCheck>();
        foreach (var gate in spec.Metrics)
        {
            var direction = gate.Direction ?? MetricNames.DefaultDirection(gate.Metric);
            var value = Value(candidate, gate.Metric);
            if (gate.Min is { } min)
            {
                checks.Add(Bound("min", gate.Metric, direction, value, min, value >= min, $">= {F(min)}"));
            }

            if (gate.Max is { } max)
            {
                checks.Add(Bound("max", gate.Metric, direction, value, max, value <= max, $"<= {F(max)}"));
            }

            if (gate.ChecksChange)
            {
                checks.Add(Change(gate, direction, value, champion));
            }
        }

        if (spec.MaxLatencyMs is { } maxLatency)
        {
            checks.Add(Guardrail(MetricNames.LatencyMs, guardrails?.LatencyMs, maxLatency, "ms" + (guardrails is { BatchRows: > 0 } ? $" for a batch of {guardrails.BatchRows} rows" : "")));
        }

        if (spec.MaxSizeBytes is { } maxSize)
        {
            checks.Add(Guardrail(MetricNames.SizeBytes, guardrails?.SizeBytes, maxSize, "bytes"));
        }

        var failed = checks.Where(check => check.Outcome == GateCheck.Failed).ToList();
        var summary = failed.Count == 0
            ? $"passed: {checks.Count(check => check.Outcome == GateCheck.Passed)} checks passed" + (checks.Any(check => check.Outcome == GateCheck.Skipped) ? $", {checks.Count(check => check.Outcome == GateCheck.Skipped)} skipped (no champion)" : "")
            : $"failed {failed.Count} of {checks.Count} checks: " + string.Join("; ", failed.Select(check => check.Reason));
        return new GateDecision(failed.Count == 0, checks, summary);
    }

    private static double? Value(IReadOnlyDictionary<string, double>? metrics, string metric) =>
        metrics is not null && metrics.TryGetValue(metric, out var value) && !double.IsNaN(value) ? value : null;

    private static GateCheck Bound(string kind, string metric, string direction, double? value, double bound, bool within, string rule) =>
        value is null
            ? new GateCheck(kind, metric, GateCheck.Failed, direction, null, null, bound, null, null, $"{metric} is missing from the candidate's metrics (or NaN); it must be {rule}")
            : new GateCheck(kind, metric, within ? GateCheck.Passed : GateCheck.Failed, direction, value, null, bound, null, null,
                $"{metric} = {F(value.Value)} {(within ? "is" : "is not")} {rule}");

    private static GateCheck Change(MetricGate gate, string direction, double? value, IReadOnlyDictionary<string, double>? champion)
    {
        var metric = gate.Metric;
        var rule = Rule(gate);
        if (value is null)
        {
            return new GateCheck("change", metric, GateCheck.Failed, direction, null, Value(champion, metric), null, null, null, $"{metric} is missing from the candidate's metrics (or NaN); it must {rule}");
        }

        if (champion is null)
        {
            return new GateCheck("change", metric, GateCheck.Skipped, direction, value, null, null, null, null, $"no champion to compare with (first model): {metric} = {F(value.Value)}, only absolute bounds apply");
        }

        if (Value(champion, metric) is not { } baseline)
        {
            return new GateCheck("change", metric, GateCheck.Failed, direction, value, null, null, null, null, $"{metric} is missing from the champion's metrics (or NaN), so the candidate cannot be shown to {rule}");
        }

        var change = direction == MetricNames.LowerIsBetter ? baseline - value.Value : value.Value - baseline;
        double? relative = baseline == 0 ? null : change / Math.Abs(baseline);
        var improved = change > 0;
        var enough = (gate.MinImprovement, gate.MinRelativeImprovement) switch
        {
            (null, null) => true,
            (var absolute, var fraction) => (absolute is { } a && change >= a) || (fraction is { } r && relative is { } rel && rel >= r),
        };
        var passed = improved && enough;
        var describe = $"{metric} {F(baseline)} → {F(value.Value)} ({direction.Replace('_', ' ')}): change {Signed(change)}" + (relative is { } x ? $" ({Signed(x * 100)}%)" : "");
        return new GateCheck("change", metric, passed ? GateCheck.Passed : GateCheck.Failed, direction, value, baseline, gate.MinImprovement ?? gate.MinRelativeImprovement, change, relative,
            passed ? $"{describe} does {rule}" : $"{describe} does not {rule}");
    }

    private static string Rule(MetricGate gate)
    {
        var parts = new List<string>();
        if (gate.MinImprovement is { } absolute)
        {
            parts.Add($"by at least {F(absolute)}");
        }

        if (gate.MinRelativeImprovement is { } relative)
        {
            parts.Add($"by at least {F(relative * 100)}%");
        }

        return "improve on the champion" + (parts.Count > 0 ? " " + string.Join(" or ", parts) : "");
    }

    private static GateCheck Guardrail(string metric, double? measured, double bound, string unit) =>
        measured is null
            ? new GateCheck("guardrail", metric, GateCheck.Failed, MetricNames.LowerIsBetter, null, null, bound, null, null, $"{metric} was not measured; it must be <= {F(bound)} {unit}")
            : new GateCheck("guardrail", metric, measured <= bound ? GateCheck.Passed : GateCheck.Failed, MetricNames.LowerIsBetter, measured, null, bound, null, null,
                $"{metric} = {F(measured.Value)} {(measured <= bound ? "is" : "is not")} <= {F(bound)} {unit}");

    private static string F(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    private static string Signed(double value) => (value >= 0 ? "+" : "") + F(value);
}
