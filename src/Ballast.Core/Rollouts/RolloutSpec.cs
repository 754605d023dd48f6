using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Ballast.Tracking;

namespace Ballast.Rollouts;

/// <summary>
/// A canary rollout of <see cref="Model"/> on <see cref="Endpoint"/>, Argo Rollouts style (camelCase keys, as Argo's
/// manifests): the steps set the canary's weight, pause (for a duration, or until promoted), or run the analysis.
/// </summary>
public sealed record RolloutSpec(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("endpoint")] string? Endpoint,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("strategy")] string? Strategy,
    [property: JsonPropertyName("steps")] IReadOnlyList<RolloutStep>? Steps,
    [property: JsonPropertyName("analysis")] AnalysisSpec? Analysis = null,
    [property: JsonPropertyName("sla")] SlaSpec? Sla = null,
    [property: JsonPropertyName("blueGreen")] BlueGreenSpec? BlueGreen = null);

/// <summary>
/// Blue/green: the new model is loaded as the variant <c>preview</c>, reachable on its pinned route
/// (<c>/v2/models/{endpoint}/versions/preview/infer</c>) with no production traffic; an optional pre-promotion
/// analysis of the preview's traffic; promotion by hand (or automatic); one atomic switch that keeps the old model
/// loaded as the variant <c>previous</c> for <see cref="ScaleDownDelay"/> (instant rollback); an optional
/// post-promotion analysis of the new stable traffic. With <see cref="PreviewMirrorPercent"/>, the preview also gets a
/// shadow copy of that share of production requests while it waits (the shadow <c>preview-mirror</c>; answers are
/// logged, never returned), and the pre-promotion analysis counts those copies with the pinned requests.
/// </summary>
public sealed record BlueGreenSpec(
    [property: JsonPropertyName("autoPromotionEnabled")] bool? AutoPromotionEnabled = null,
    [property: JsonPropertyName("prePromotionAnalysis")] bool? PrePromotionAnalysis = null,
    [property: JsonPropertyName("postPromotionAnalysis")] bool? PostPromotionAnalysis = null,
    [property: JsonPropertyName("scaleDownDelay")] string? ScaleDownDelay = null,
    [property: JsonPropertyName("previewMirrorPercent")] int? PreviewMirrorPercent = null);

/// <summary>
/// Service levels the new model must keep, checked every tick while the rollout runs (on the canary) and for
/// <see cref="WatchAfterPromotion"/> after it succeeded (on the promoted model): when any condition holds over the
/// last <see cref="SustainedFor"/> of traffic (at least <see cref="MinRequests"/> requests), the rollout rolls back.
/// </summary>
public sealed record SlaSpec(
    [property: JsonPropertyName("failureConditions")] IReadOnlyList<string>? FailureConditions = null,
    [property: JsonPropertyName("sustainedFor")] string? SustainedFor = null,
    [property: JsonPropertyName("watchAfterPromotion")] string? WatchAfterPromotion = null,
    [property: JsonPropertyName("minRequests")] long? MinRequests = null);

/// <summary>
/// One step: exactly one of <see cref="SetWeight"/>, <see cref="Pause"/> (<c>"30s"</c> or <c>{"duration": "30s"}</c>; <c>{}</c>
/// waits until promoted, as Argo's) or <see cref="Analysis"/>.
/// </summary>
public sealed record RolloutStep(
    [property: JsonPropertyName("setWeight")] int? SetWeight = null,
    [property: JsonPropertyName("pause")] System.Text.Json.Nodes.JsonNode? Pause = null,
    [property: JsonPropertyName("analysis")] AnalysisStep? Analysis = null,
    [property: JsonPropertyName("setPreview")] bool? SetPreview = null,
    [property: JsonPropertyName("switch")] bool? Switch = null,
    [property: JsonPropertyName("shadow")] ShadowStep? Shadow = null)
{
    /// <summary>The pause's duration; null for a pause until promoted. Throws for a malformed one.</summary>
    public TimeSpan? PauseDuration()
    {
        var text = Pause switch
        {
            System.Text.Json.Nodes.JsonValue value when value.TryGetValue<string>(out var duration) => duration,
            System.Text.Json.Nodes.JsonObject pause when pause["duration"] is System.Text.Json.Nodes.JsonValue value && value.TryGetValue<string>(out var duration) => duration,
            System.Text.Json.Nodes.JsonObject { Count: 0 } => "",
            _ => throw TrackingException.Invalid($"pause {Pause?.ToJsonString()} is not a duration such as \"30s\", {{\"duration\": \"30s\"}} or {{}} (until promoted)"),
        };
        return text.Length == 0 ? null : Durations.Parse(text) ?? throw TrackingException.Invalid($"pause '{text}' is not a duration such as 30s, 5m or 1h");
    }
}

/// <summary>
/// Mirror <see cref="Percent"/>% of requests to the new model for <see cref="Duration"/> (answers are logged, never
/// returned); the step passes when the mirrored requests' error rate and disagreement with what callers got stay
/// within the limits, with at least <see cref="MinRequests"/> of them (fewer: inconclusive, the rollout pauses).
/// </summary>
public sealed record ShadowStep(
    [property: JsonPropertyName("percent")] int? Percent = null,
    [property: JsonPropertyName("duration")] string? Duration = null,
    [property: JsonPropertyName("maxErrorRate")] double? MaxErrorRate = null,
    [property: JsonPropertyName("maxDisagreementRate")] double? MaxDisagreementRate = null,
    [property: JsonPropertyName("minRequests")] long? MinRequests = null);

/// <summary>An analysis step (it uses the rollout's <see cref="RolloutSpec.Analysis"/>) of the <c>canary</c> (default), <c>preview</c> or <c>stable</c> variant's traffic.</summary>
public sealed record AnalysisStep([property: JsonPropertyName("variant")] string? Variant = null)
{
    public const string Canary = "canary";
    public const string Preview = "preview";
    public const string Stable = "stable";
}

/// <summary>
/// Measurements of the canary's own traffic every <see cref="Interval"/>, <see cref="Count"/> of them. A measurement
/// with fewer than <see cref="MinRequests"/> requests is inconclusive, never a pass; one whose failure condition holds
/// is a failure. More than <see cref="FailureLimit"/> failures abort the rollout; more than <see cref="InconclusiveLimit"/>
/// inconclusive measurements pause it for a human. A measurement that cannot be taken (a metric query fails) is an
/// error: more than <see cref="ConsecutiveErrorLimit"/> in a row abort the rollout (Argo's default, 4); errors never
/// count towards <see cref="Count"/>. Conditions on feedback (accuracy, mean_reward) need at least
/// <see cref="MinFeedback"/> outcomes or rewards in the interval, for the variant and for stable when compared with it;
/// fewer is inconclusive, never a pass.
/// </summary>
public sealed record AnalysisSpec(
    [property: JsonPropertyName("interval")] string? Interval = null,
    [property: JsonPropertyName("count")] int? Count = null,
    [property: JsonPropertyName("failureLimit")] int? FailureLimit = null,
    [property: JsonPropertyName("inconclusiveLimit")] int? InconclusiveLimit = null,
    [property: JsonPropertyName("minRequests")] long? MinRequests = null,
    [property: JsonPropertyName("metrics")] IReadOnlyList<AnalysisMetric>? Metrics = null,
    [property: JsonPropertyName("consecutiveErrorLimit")] int? ConsecutiveErrorLimit = null,
    [property: JsonPropertyName("minFeedback")] long? MinFeedback = null);

/// <summary>
/// A named check: <c>error_rate &gt; 0.01</c> (server errors), <c>rejection_rate &gt; 0.01</c> (inputs the canary refused:
/// a model whose signature does not fit the traffic), <c>latency_p99_ms &gt; 50</c>, <c>latency_mean_ms &gt;= 20</c>,
/// <c>disagreement_rate &gt; 0.1</c> (mirrored copies whose answer differed), and from feedback received in the
/// interval for the variant's predictions: <c>accuracy &lt; stable - 0.02</c>, <c>mean_reward &lt; 0.1</c>,
/// <c>feedback_count &lt; 10</c>; and from the variant's logged inputs and outputs: <c>drift_share &gt; 0.3</c> (share of
/// input columns that drifted from the reference), <c>drift.COLUMN &gt; 0.2</c> (one column's drift score) and
/// <c>prediction_drift &gt; 0.1</c> (the prediction's drift score against stable's over the same interval), and the
/// verdicts of the drift engine's own threshold, 1 or 0, whatever the method: <c>drifted.COLUMN &gt; 0</c>,
/// <c>prediction_drifted &gt; 0</c> (a score is a p-value for tests and a distance otherwise, so its direction changes
/// with the method; a verdict does not).
/// <see cref="Monitor"/> names the monitor whose reference, columns and drift settings a drift condition uses (needed
/// when several monitors watch the endpoint; the only one by default; without a monitor the reference is the stable
/// variant's traffic over the same interval).
/// </summary>
public sealed record AnalysisMetric(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("failureCondition")] string? FailureCondition,
    [property: JsonPropertyName("monitor")] string? Monitor = null);

/// <summary>
/// A parsed failure condition over one of the analysed variant's traffic metrics, against a number or against the
/// stable variant's value over the same window: <c>latency_p99_ms &gt; stable * 1.5</c>, <c>error_rate &gt; stable + 0.01</c>.
/// </summary>
public sealed partial record Condition(string Metric, string Operator, double Threshold, string? StableArithmetic = null)
{
    public const string Accuracy = "accuracy";
    public const string MeanReward = "mean_reward";
    public const string FeedbackCount = "feedback_count";
    public const string DriftShare = "drift_share";
    public const string PredictionDrift = "prediction_drift";
    public const string PredictionDrifted = "prediction_drifted";

    /// <summary>A column's drift score is <c>drift.COLUMN</c> (the column as the monitor names it, or <c>float_input[2]</c>).</summary>
    public const string ColumnDriftPrefix = "drift.";

    /// <summary>A column's drift verdict (1: drifted by the method's threshold, else 0) is <c>drifted.COLUMN</c>.</summary>
    public const string ColumnDriftedPrefix = "drifted.";

    /// <summary>The metrics counted from traffic (every replica's counters): the only ones an SLA may name.</summary>
    public static IReadOnlyList<string> TrafficMetrics { get; } = ["error_rate", "rejection_rate", "latency_p99_ms", "latency_p50_ms", "latency_mean_ms", "requests", "disagreement_rate"];

    public static IReadOnlyList<string> Metrics { get; } = [.. TrafficMetrics, Accuracy, MeanReward, FeedbackCount, DriftShare, ColumnDriftPrefix + "COLUMN", ColumnDriftedPrefix + "COLUMN", PredictionDrift, PredictionDrifted];

    /// <summary>The metrics read from feedback joined with what each variant predicted, rather than from traffic counters.</summary>
    public static IReadOnlyList<string> FeedbackMetrics { get; } = [Accuracy, MeanReward, FeedbackCount];

    public bool OnFeedback => FeedbackMetrics.Contains(Metric);

    /// <summary>Whether the metric is read from the variant's logged predictions by the drift engine (drift_share, drift.COLUMN, drifted.COLUMN, prediction_drift(ed)).</summary>
    public bool OnDrift => Metric is DriftShare or PredictionDrift or PredictionDrifted || IsColumnDrift(Metric);

    /// <summary>Whether the metric is about the prediction output (prediction_drift, prediction_drifted), not an input column.</summary>
    public bool OnPredictionDrift => Metric is PredictionDrift or PredictionDrifted;

    /// <summary>The input column a drift.COLUMN or drifted.COLUMN condition names; null for other metrics.</summary>
    public string? DriftColumn => ColumnOf(Metric);

    public bool OnTraffic => TrafficMetrics.Contains(Metric);

    private static bool IsColumnDrift(string metric) => ColumnOf(metric) is { Length: > 0 };

    private static string? ColumnOf(string metric) =>
        metric.StartsWith(ColumnDriftPrefix, StringComparison.Ordinal) ? metric[ColumnDriftPrefix.Length..]
        : metric.StartsWith(ColumnDriftedPrefix, StringComparison.Ordinal) ? metric[ColumnDriftedPrefix.Length..] : null;

    public static Condition Parse(string? text, string where)
    {
        var match = text is null ? null : Pattern().Match(text);
        if (match is not { Success: true } || !(Metrics.Contains(match.Groups["metric"].Value) || IsColumnDrift(match.Groups["metric"].Value)))
        {
            throw TrackingException.Invalid($"{where}: condition '{text}' is not METRIC OP NUMBER (or OP stable, stable + N, stable - N, stable * N) with METRIC one of {string.Join(", ", Metrics)} and OP one of > >= < <=.");
        }

        if (match.Groups["stable"].Success)
        {
            var arithmetic = match.Groups["arith"].Success ? match.Groups["arith"].Value : "+";
            var offset = match.Groups["offset"].Success ? double.Parse(match.Groups["offset"].Value, CultureInfo.InvariantCulture) : arithmetic == "*" ? 1 : 0;
            return new Condition(match.Groups["metric"].Value, match.Groups["op"].Value, offset, arithmetic);
        }

        return new Condition(match.Groups["metric"].Value, match.Groups["op"].Value, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>Whether the value breaks the condition; against stable, only when the stable variant had traffic in the window.</summary>
    public bool Holds(double value, double? stable = null)
    {
        double threshold;
        if (StableArithmetic is null)
        {
            threshold = Threshold;
        }
        else if (stable is { } reference)
        {
            threshold = StableArithmetic switch { "*" => reference * Threshold, "-" => reference - Threshold, _ => reference + Threshold };
        }
        else
        {
            return false;
        }

        return Operator switch
        {
            ">" => value > threshold,
            ">=" => value >= threshold,
            "<" => value < threshold,
            _ => value <= threshold,
        };
    }

    public override string ToString() => StableArithmetic is null
        ? string.Create(CultureInfo.InvariantCulture, $"{Metric} {Operator} {Threshold}")
        : string.Create(CultureInfo.InvariantCulture, $"{Metric} {Operator} stable {StableArithmetic} {Threshold}");

    [GeneratedRegex(@"^\s*(?<metric>drift(?:ed)?\.[^\s<>=]+|[a-z0-9_]+)\s*(?<op>>=|<=|>|<)\s*(?:(?<stable>stable)(?:\s*(?<arith>[-+*])\s*(?<offset>[0-9]+(\.[0-9]+)?))?|(?<value>-?[0-9]+(\.[0-9]+)?))\s*$")]
    private static partial Regex Pattern();
}

public static partial class RolloutValidation
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);

    /// <summary>Argo Rollouts' default: a metric provider may fail a few times in a row (a restart, a timeout) before the analysis gives up.</summary>
    public const int DefaultConsecutiveErrorLimit = 4;

    /// <summary>An accuracy from 30 outcomes has a standard error up to ±0.09: below that, a difference of a few points is noise.</summary>
    public const long DefaultMinFeedback = 30;
    public const string CanaryStrategy = "canary";
    public const string BlueGreenStrategy = "blueGreen";

    /// <summary>Blue/green as steps: preview, its analysis, the promotion pause, the switch, the post-promotion analysis, the scale-down delay.</summary>
    private static List<RolloutStep> BlueGreenSteps(BlueGreenSpec settings)
    {
        List<RolloutStep> steps = [new RolloutStep(SetPreview: true)];
        if (settings.PrePromotionAnalysis is true)
        {
            steps.Add(new RolloutStep(Analysis: new AnalysisStep(AnalysisStep.Preview)));
        }

        if (settings.AutoPromotionEnabled is not true)
        {
            steps.Add(new RolloutStep(Pause: new System.Text.Json.Nodes.JsonObject()));
        }

        steps.Add(new RolloutStep(Switch: true));
        if (settings.PostPromotionAnalysis is true)
        {
            steps.Add(new RolloutStep(Analysis: new AnalysisStep(AnalysisStep.Stable)));
        }

        steps.Add(new RolloutStep(Pause: System.Text.Json.Nodes.JsonValue.Create(settings.ScaleDownDelay ?? "30s")));
        return steps;
    }

    /// <summary>Checks a spec and fills the analysis defaults (30 s interval, 3 measurements, limits 0 and 0, 50 requests, 4 consecutive errors, 30 feedback).</summary>
    public static RolloutSpec Validate(RolloutSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<string>();
        if (string.IsNullOrEmpty(spec.Name) || !NamePattern().IsMatch(spec.Name))
        {
            problems.Add($"name '{spec.Name}' must be 1 to 63 lowercase letters, digits or '-', starting with a letter");
        }

        if (string.IsNullOrEmpty(spec.Endpoint))
        {
            problems.Add("endpoint: name the endpoint to roll out on");
        }

        Collect(problems, () => Ballast.Serving.ModelReference.Parse(spec.Model, "model"));
        var strategy = spec.Strategy ?? (spec.BlueGreen is null ? CanaryStrategy : BlueGreenStrategy);
        if (strategy is not (CanaryStrategy or BlueGreenStrategy))
        {
            problems.Add($"strategy '{spec.Strategy}' is not one of canary, blueGreen");
        }

        if (strategy == CanaryStrategy && spec.BlueGreen is not null)
        {
            problems.Add("blueGreen settings need strategy blueGreen, not canary");
        }

        if (strategy == BlueGreenStrategy)
        {
            if ((spec.Steps ?? []).Count > 0)
            {
                problems.Add("a blueGreen rollout has no steps: its blueGreen settings (autoPromotionEnabled, prePromotionAnalysis, postPromotionAnalysis, scaleDownDelay) make them");
            }

            if (spec.BlueGreen?.ScaleDownDelay is { } delay && Durations.Parse(delay) is null)
            {
                problems.Add($"blueGreen.scaleDownDelay '{delay}' is not a duration such as 30s");
            }

            if (spec.BlueGreen?.PreviewMirrorPercent is { } mirror and (< 1 or > 100))
            {
                problems.Add($"blueGreen.previewMirrorPercent {mirror} must be between 1 and 100");
            }

            spec = spec with { Steps = BlueGreenSteps(spec.BlueGreen ?? new BlueGreenSpec()) };
        }

        var steps = spec.Steps ?? [];
        if (steps.Count == 0)
        {
            problems.Add("steps: give at least one step (setWeight, pause or analysis)");
        }

        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if ((step.SetWeight is null ? 0 : 1) + (step.Pause is null ? 0 : 1) + (step.Analysis is null ? 0 : 1) + (step.SetPreview is true ? 1 : 0) + (step.Switch is true ? 1 : 0) + (step.Shadow is null ? 0 : 1) != 1)
            {
                problems.Add($"step {i}: give exactly one of setWeight, pause, analysis, shadow");
            }

            if (step.Shadow is { } shadow && (shadow.Duration is null || Durations.Parse(shadow.Duration) is not { Ticks: > 0 } || shadow.Percent is < 1 or > 100
                || shadow.MaxErrorRate is < 0 or > 1 || shadow.MaxDisagreementRate is < 0 or > 1 || shadow.MinRequests is < 0))
            {
                problems.Add($"step {i}: shadow needs a duration (such as 1m), percent 1 to 100, maxErrorRate and maxDisagreementRate between 0 and 1");
            }

            if (step.Analysis?.Variant is { } target && target is not (AnalysisStep.Canary or AnalysisStep.Preview or AnalysisStep.Stable))
            {
                problems.Add($"step {i}: analysis variant '{target}' is not canary, preview or stable");
            }

            if (step.SetWeight is < 0 or > 100)
            {
                problems.Add($"step {i}: setWeight {step.SetWeight} must be between 0 and 100");
            }

            if (step.Pause is not null)
            {
                Collect(problems, () => step.PauseDuration(), $"step {i}: ");
            }
        }

        var analysis = spec.Analysis ?? new AnalysisSpec();
        if (steps.Any(step => step.Analysis is not null) && (analysis.Metrics ?? []).Count == 0)
        {
            problems.Add("analysis: an analysis step needs analysis.metrics with failureCondition");
        }

        foreach (var metric in analysis.Metrics ?? [])
        {
            Collect(problems, () =>
            {
                var condition = Condition.Parse(metric.FailureCondition, $"analysis metric '{metric.Name}'");
                if (metric.Monitor is not null && !condition.OnDrift)
                {
                    problems.Add($"analysis metric '{metric.Name}': monitor goes with drift conditions (drift_share, drift.COLUMN, drifted.COLUMN, prediction_drift, prediction_drifted), not {condition.Metric}");
                }

                if (condition is { OnPredictionDrift: true, StableArithmetic: not null })
                {
                    problems.Add($"analysis metric '{metric.Name}': {condition.Metric} already compares the variant's predictions with stable's; compare it with a number (such as {condition.Metric} > {(condition.Metric == Condition.PredictionDrifted ? "0" : "0.1")})");
                }
            });
        }

        if ((analysis.Metrics ?? []).Select(metric => metric.Monitor).OfType<string>().Distinct(StringComparer.Ordinal).ToList() is { Count: > 1 } monitors)
        {
            problems.Add($"analysis: the drift metrics name different monitors ({string.Join(", ", monitors)}); an analysis compares with one reference, so name one");
        }

        // Zero would measure whatever the last tick's second held, count times in a row.
        if (analysis.Interval is { } interval && Durations.Parse(interval) is not { Ticks: > 0 })
        {
            problems.Add($"analysis.interval '{interval}' is not a positive duration such as 10s");
        }

        if (analysis.Count is < 1 || analysis.FailureLimit is < 0 || analysis.InconclusiveLimit is < 0 || analysis.MinRequests is < 0)
        {
            problems.Add("analysis: count must be at least 1; failureLimit, inconclusiveLimit and minRequests at least 0");
        }

        if (analysis.ConsecutiveErrorLimit is < 0)
        {
            problems.Add($"analysis.consecutiveErrorLimit {analysis.ConsecutiveErrorLimit} must be at least 0 (0: the first measurement error aborts)");
        }

        if (analysis.MinFeedback is < 1)
        {
            problems.Add($"analysis.minFeedback {analysis.MinFeedback} must be at least 1 (feedback conditions on no feedback would pass on nothing)");
        }

        if (spec.Sla is { } sla)
        {
            if ((sla.FailureConditions ?? []).Count == 0)
            {
                problems.Add("sla: give failureConditions such as \"latency_p99_ms > 50\"");
            }

            foreach (var condition in sla.FailureConditions ?? [])
            {
                Collect(problems, () =>
                {
                    if (Condition.Parse(condition, "sla") is { OnTraffic: false } parsed)
                    {
                        problems.Add($"sla: condition '{condition}' names {parsed.Metric}, which is measured by analysis only; an SLA watches traffic metrics ({string.Join(", ", Condition.TrafficMetrics)})");
                    }
                });
            }

            foreach (var (field, value) in new[] { ("sustainedFor", sla.SustainedFor), ("watchAfterPromotion", sla.WatchAfterPromotion) })
            {
                if (value is not null && Durations.Parse(value) is null)
                {
                    problems.Add($"sla.{field} '{value}' is not a duration such as 15m");
                }
            }
        }

        if (problems.Count > 0)
        {
            throw TrackingException.Invalid($"Invalid rollout '{spec.Name}'", problems);
        }

        return spec with
        {
            Strategy = strategy,
            Analysis = analysis with
            {
                Interval = analysis.Interval ?? "30s",
                Count = analysis.Count ?? 3,
                FailureLimit = analysis.FailureLimit ?? 0,
                InconclusiveLimit = analysis.InconclusiveLimit ?? 0,
                MinRequests = analysis.MinRequests ?? 50,
                Metrics = analysis.Metrics ?? [],
                ConsecutiveErrorLimit = analysis.ConsecutiveErrorLimit ?? DefaultConsecutiveErrorLimit,
                MinFeedback = analysis.MinFeedback ?? DefaultMinFeedback,
            },
        };
    }

    private static void Collect(List<string> problems, Action check, string prefix = "")
    {
        try
        {
            check();
        }
        catch (TrackingException exception)
        {
            problems.Add(prefix + exception.Message.TrimEnd('.'));
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial Regex NamePattern();
}
