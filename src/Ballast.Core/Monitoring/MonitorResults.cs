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

/// <summary>
/// A stored window: [<see cref="Start"/>, <see cref="End"/>) in Unix ms, its row count, status and results. A row window
/// also has its exact bounds in the log: its records are those after <see cref="After"/> (the previous window's last
/// record, stamped <see cref="Start"/>; null: from <see cref="Start"/> on) through <see cref="Last"/> (its last record;
/// null when it has none), so the next window starts right after its last record, however many share a millisecond.
/// Time windows, and windows stored before positions were, have neither: the next starts at <see cref="End"/>.
/// </summary>
public sealed record StoredMonitorWindow(long Id, string Monitor, long Start, long End, long Rows, string Status, MonitorResults Results, long ComputedAt,
    Serving.LogPosition? After = null, Serving.LogPosition? Last = null);

/// <summary>A monitor as stored: its validated spec and when it was created and last changed (Unix ms).</summary>
public sealed record StoredMonitor(MonitorSpec Spec, long CreatedAt, long UpdatedAt);

/// <summary>Where a monitor's newest window ends: <see cref="End"/> (Unix ms) and, for a row window, its last record (the next starts right after it).</summary>
public sealed record MonitorWindowEnd(long End, Serving.LogPosition? Last);

/// <summary>Where a monitor's next window starts: at <see cref="At"/> (Unix ms), right after the record <see cref="After"/> when given (a row window after another).</summary>
public sealed record MonitorWindowStart(long At, Serving.LogPosition? After);
