namespace Ballast.Alerts;

/// <summary>
/// One-off events (a rollout aborted, a pipeline failed) for the alert rules that ask for them (<see cref="AlertRuleSpec.Events"/>):
/// each matching rule's actions are queued in the same outbox as alerts and delivered by the same dispatcher.
/// </summary>
public interface IAlertNotifier
{
    /// <summary>Queues the notifications of every matching rule; the same <see cref="AlertNotice.Id"/> sent again queues nothing. Returns how many were queued.</summary>
    Task<int> NotifyAsync(AlertNotice notice, CancellationToken cancellationToken = default);
}

/// <summary>
/// An event: <see cref="Id"/> identifies it for dedup (<c>rollout/iris-v2/aborted</c>), <see cref="Event"/> names its
/// kind (<c>rollout.aborted</c>), <see cref="Summary"/> says what happened in one line; <see cref="Labels"/> (endpoint,
/// rollout, …) go to receivers and to pipeline actions as parameters, <see cref="Links"/> are URLs or API paths.
/// </summary>
public sealed record AlertNotice(
    string Id,
    string Event,
    string Severity,
    string Summary,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Links);
