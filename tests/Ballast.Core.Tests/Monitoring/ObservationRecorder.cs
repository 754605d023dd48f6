using Ballast.Alerts;

namespace Ballast.Tests.Monitoring;

/// <summary>An alert observer that keeps every observation it gets, for tests of what monitors hand to the alert rules.</summary>
public sealed class ObservationRecorder : IAlertObserver
{
    public List<MetricObservation> Observations { get; } = [];

    /// <summary>Called after each observation is recorded (to change something while a tick runs, say).</summary>
    public Func<MetricObservation, Task>? Then { get; init; }

    public Task ObserveAsync(MetricObservation observation, CancellationToken cancellationToken = default)
    {
        lock (Observations)
        {
            Observations.Add(observation);
        }

        return Then?.Invoke(observation) ?? Task.CompletedTask;
    }
}
