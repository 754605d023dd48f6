using Ballast.Statistics.Drift;

namespace Ballast.Monitoring;

public static class MonitorWindowStatus
{
    /// <summary>Computed: the results hold the window's verdicts.</summary>
    public const string Ok = "ok";

    /// <summary>Fewer rows than the monitor's <c>min_rows</c>: no verdict (never a false "no drift").</summary>
    public const string InsufficientData = "insufficient_data";

    /// <summary>The window could not be computed (the reference unreadable, say); the message says why.</summary>
    public const string Failed = "failed";
}

/// <summary>
/// A closed window's results: every metric by its alert name (<c>drift.petal_length</c>, <c>drift.share</c>,
/// <c>performance.accuracy</c>, <c>latency.p99_ms</c>, <c>kpi.revenue.sum</c>…; see docs/monitoring.md), the drift
/// report (the same as <c>ballast drift</c>'s, for the report route), the prediction's drift, and a message.
/// </summary>
public sealed record MonitorResults(
    IReadOnlyDictionary<string, double> Metrics,
    DriftReport? Drift = null,
    FeatureDrift? PredictionDrift = null,
    string? Message = null);

/// <summary>A stored window: [<see cref="Start"/>, <see cref="End"/>) in Unix ms, its row count, status and results.</summary>
public sealed record StoredMonitorWindow(long Id, string Monitor, long Start, long End, long Rows, string Status, MonitorResults Results, long ComputedAt);

/// <summary>A monitor as stored: its validated spec and when it was created and last changed (Unix ms).</summary>
public sealed record StoredMonitor(MonitorSpec Spec, long CreatedAt, long UpdatedAt);
