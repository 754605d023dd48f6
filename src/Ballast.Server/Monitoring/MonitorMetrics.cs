using Ballast.Monitoring;
using Prometheus;

namespace Ballast.Server.Monitoring;

/// <summary>
/// Prometheus gauges of each monitor's last closed window: per column drift score and verdict, the dataset's drift
/// share, and every other metric (performance, latency, errors, rows, KPIs) by its alert name.
/// </summary>
public static class MonitorMetrics
{
    private static readonly Gauge DriftScore = Metrics.CreateGauge("ballast_monitor_drift_score", "The last window's drift score per column (the p-value of a test or the distance), by method.",
        new GaugeConfiguration { LabelNames = ["monitor", "column", "method"] });

    private static readonly Gauge DriftDetected = Metrics.CreateGauge("ballast_monitor_drift_detected", "1 when the column drifted in the last window, else 0.",
        new GaugeConfiguration { LabelNames = ["monitor", "column"] });

    private static readonly Gauge DriftShare = Metrics.CreateGauge("ballast_monitor_dataset_drift_share", "The share of compared columns that drifted in the last window.",
        new GaugeConfiguration { LabelNames = ["monitor"] });

    private static readonly Gauge Metric = Metrics.CreateGauge("ballast_monitor_metric", "The last window's metrics by alert name (performance.accuracy, latency.p99_ms, errors.rate, rows, kpi.NAME.sum…).",
        new GaugeConfiguration { LabelNames = ["monitor", "metric"] });

    private static readonly Gauge WindowEnd = Metrics.CreateGauge("ballast_monitor_last_window_end_seconds", "End of the last closed window (Unix seconds).",
        new GaugeConfiguration { LabelNames = ["monitor"] });

    /// <summary>Sets the gauges from a closed window (an <c>insufficient_data</c> or failed window updates only what it measured).</summary>
    public static void Observe(MonitorSpec spec, StoredMonitorWindow window)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(window);
        WindowEnd.WithLabels(spec.Name).Set(window.End / 1000.0);
        if (window.Results.Drift is { } drift)
        {
            // Series of columns or methods the monitor no longer compares go (its spec changed): no stale scores.
            var current = drift.Result.Features.Select(feature => (feature.Name, feature.Method)).ToHashSet();
            Remove(DriftScore, labels => labels[0] == spec.Name && !current.Contains((labels[1], labels[2])));
            Remove(DriftDetected, labels => labels[0] == spec.Name && !current.Any(feature => feature.Name == labels[1]));
            foreach (var feature in drift.Result.Features)
            {
                DriftScore.WithLabels(spec.Name, feature.Name, feature.Method).Set(feature.Score);
                DriftDetected.WithLabels(spec.Name, feature.Name).Set(feature.Drifted ? 1 : 0);
            }

            DriftShare.WithLabels(spec.Name).Set(drift.Result.DriftShare);
        }

        foreach (var (name, value) in window.Results.Metrics)
        {
            if (!name.StartsWith("drift.", StringComparison.Ordinal))
            {
                Metric.WithLabels(spec.Name, name).Set(value);
            }
        }
    }

    /// <summary>Removes every series of a deleted monitor.</summary>
    public static void Forget(string monitor)
    {
        foreach (var gauge in new[] { DriftScore, DriftDetected, DriftShare, Metric, WindowEnd })
        {
            Remove(gauge, labels => labels[0] == monitor);
        }
    }

    private static void Remove(Gauge gauge, Func<string[], bool> stale)
    {
        foreach (var labels in gauge.GetAllLabelValues().Where(stale).ToList())
        {
            gauge.RemoveLabelled(labels);
        }
    }
}
