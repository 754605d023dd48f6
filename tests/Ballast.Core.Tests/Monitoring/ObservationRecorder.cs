using Ballast.Alerts;

namespace Ballast.Tests.Monitoring;

/// <summary>An alert observer that keeps every observation it gets, for tests of what monitors hand to the alert rules.</summary>
public sealed class ObservationRecorder : IAlertObserver
{
    public List<MetricObservation> Observations { get; } = [];

    public Task ObserveAsync(MetricObservation observation, CancellationToken cancellationToken = default)
    {
        lock (Observations)
        {
            Observations.Add(observation);
        }

        return Task.CompletedTask;
    }
}
