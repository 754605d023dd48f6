namespace Ballast.Alerts;

/// <summary>
/// One closed window's numbers from a source that alert rules watch (a monitor), by metric name
/// (<c>drift.amount</c>, <c>drift.share</c>, <c>performance.accuracy</c>, …; see docs/monitoring.md).
/// <paramref name="Window"/> identifies the window within the source; <paramref name="Links"/> are URLs or API paths
/// a receiver can follow (the window's report), <paramref name="Context"/> what an action may pass on (endpoint, window bounds).
/// </summary>
public sealed record MetricObservation(
    string Source,
    string Window,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    IReadOnlyDictionary<string, double> Values,
    IReadOnlyDictionary<string, string> Links,
    IReadOnlyDictionary<string, string> Context);

/// <summary>Receives every closed window's observation, in window order per source (the alert rules engine).</summary>
public interface IAlertObserver
{
    Task ObserveAsync(MetricObservation observation, CancellationToken cancellationToken = default);
}
