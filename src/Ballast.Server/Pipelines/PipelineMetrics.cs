using Ballast.Pipelines;
using Prometheus;

namespace Ballast.Server.Pipelines;

/// <summary>Pipeline metrics: step runs and runs by outcome, retries, and how long executed step attempts took.</summary>
public sealed class PipelineMetrics : IPipelineObserver
{
    private static readonly Counter StepRuns = Metrics.CreateCounter("ballast_pipeline_step_runs_total",
        "Step runs that ended, by pipeline, kind and status (succeeded, failed, cached, skipped, cancelled, retrying for a failed attempt that will be retried).",
        new CounterConfiguration { LabelNames = ["pipeline", "kind", "status"] });

    private static readonly Histogram StepDuration = Metrics.CreateHistogram("ballast_pipeline_step_duration_seconds", "Time executed step attempts took, by pipeline and kind.",
        new HistogramConfiguration { LabelNames = ["pipeline", "kind"], Buckets = Histogram.ExponentialBuckets(0.01, 4, 12) });

    private static readonly Counter Runs = Metrics.CreateCounter("ballast_pipeline_runs_total", "Pipeline runs that ended, by pipeline and status (succeeded, failed, cancelled).",
        new CounterConfiguration { LabelNames = ["pipeline", "status"] });

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
