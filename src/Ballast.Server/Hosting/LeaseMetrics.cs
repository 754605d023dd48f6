using Ballast.Leasing;
using Prometheus;

namespace Ballast.Server.Hosting;

/// <summary>
/// <c>ballast_controller_lease_held{lease}</c>: 1 while this replica holds the controller lease (rollouts, monitors,
/// alerts, pipelines), 0 after it failed to take or renew it. Summed over replicas it should be 1 for every lease;
/// 0 means no replica runs that controller (the "controller lease lost" alert).
/// </summary>
public sealed class LeaseMetrics : ILeaseObserver
{
    public const string MetricName = "ballast_controller_lease_held";

    private static readonly Gauge Held = Metrics.CreateGauge(MetricName, "1 while this replica holds the named controller lease, else 0.",
        new GaugeConfiguration { LabelNames = ["lease"] });

    public void HeldChanged(string name, bool held) => Held.WithLabels(name).Set(held ? 1 : 0);
}
