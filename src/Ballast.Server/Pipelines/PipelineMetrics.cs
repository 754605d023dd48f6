using Ballast.Pipelines;
using Prometheus;

namespace Ballast.Server.Pipelines;

/// <summary>
/// Pipeline metrics: step runs and runs by outcome, retries, how long executed step attempts took, and starts that
/// <c>max_active_runs</c> refused (<c>ballast_pipeline_skipped_starts_total{pipeline,trigger_kind}</c>).
/// </summary>
public sealed class PipelineMetrics : IPipelineObserver
{
    private static readonly Counter StepRuns = Metrics.CreateCounter("ballast_pipeline_step_runs_total",
        "Step runs that ended, by pipeline, kind and status (succeeded, failed, cached, skipped, cancelled, retrying for a failed attempt that will be retried).",
        new CounterConfiguration { LabelNames = ["pipeline", "kind", "status"] });

    private static readonly Histogram StepDuration = Metrics.CreateHistogram("ballast_pipeline_step_duration_seconds", "Time executed step attempts took, by pipeline and kind.",
        new HistogramConfiguration { LabelNames = ["pipeline", "kind"], Buckets = Histogram.ExponentialBuckets(0.01, 4, 12) });

    private static readonly Counter Runs = Metrics.CreateCounter("ballast_pipeline_runs_total", "Pipeline runs that ended, by pipeline and status (succeeded, failed, cancelled).",
        new CounterConfiguration { LabelNames = ["pipeline", "status"] });

    private static readonly Counter SkippedStarts = Metrics.CreateCounter("ballast_pipeline_skipped_starts_total",
        "Starts that max_active_runs refused, by pipeline and trigger kind (schedule, dataset, alert); they are skipped, not queued.",
        new CounterConfiguration { LabelNames = ["pipeline", "trigger_kind"] });

    /// <summary>The trigger kinds a start is counted under: a schedule occurrence, a dataset version, an alert's pipeline action.</summary>
    public static readonly IReadOnlyList<string> TriggerKinds = ["schedule", "dataset", "alert"];

    /// <summary>
    /// Counts a start that <c>max_active_runs</c> refused; <paramref name="trigger"/> is the trigger or dedupe key
    /// (<c>schedule:…</c>, <c>dataset:…</c>, <c>alert:…</c>), counted by its kind only so the labels stay few.
    /// </summary>
    public static void StartSkipped(string pipeline, string trigger)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        var colon = trigger.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? trigger : trigger[..colon];
        SkippedStarts.WithLabels(pipeline, TriggerKinds.Contains(kind) ? kind : "other").Inc();
    }

    public void StepEnded(string pipeline, string kind, string status, TimeSpan? duration)
    {
        StepRuns.WithLabels(pipeline, kind, status).Inc();
        if (duration is { } took)
        {
            StepDuration.WithLabels(pipeline, kind).Observe(took.TotalSeconds);
        }
    }

    public void RunEnded(string pipeline, string status) => Runs.WithLabels(pipeline, status).Inc();
}
