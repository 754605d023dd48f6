namespace Ballast.Alerts;

/// <summary>
/// One transition of a rule's alert: when, from and to which state, the value and window that caused it, and whether
/// receivers were told: <see cref="Notifications"/> queued that were or will be sent, and <see cref="SkippedNotifications"/>
/// queued but skipped by the dispatcher (a resolved one to a receiver that never got the firing one, a pipeline action
/// while the pipeline had as many runs under way as its <c>max_active_runs</c>).
/// </summary>
public sealed record AlertEvent(long Id, string Rule, DateTimeOffset At, string From, string To, double? Value, string Window, bool Silenced, int Notifications,
    int SkippedNotifications = 0);

/// <summary>The outcomes of a delivery attempt, as the delivery log and <c>ballast_alert_notifications_total</c> count them.</summary>
public static class DeliveryOutcomes
{
    public const string Delivered = "delivered";

    /// <summary>Failed; another attempt is due later.</summary>
    public const string Retry = "retry";

    /// <summary>Failed for good: attempts exhausted, or the receiver refused it (4xx other than 408/429).</summary>
    public const string Failed = "failed";

    /// <summary>
    /// Not sent: a resolved notification whose receiver was never told that the alert fired (its firing notification
    /// to that webhook failed for good), as Alertmanager sends a resolved only after a firing it delivered; or a
    /// pipeline action whose pipeline already had as many runs under way as its <c>max_active_runs</c> allows.
    /// </summary>
    public const string Skipped = "skipped";
}

/// <summary>The states of a notification in the outbox.</summary>
public static class NotificationStatuses
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";

    /// <summary>Not sent (<see cref="DeliveryOutcomes.Skipped"/>): a resolved one whose firing one was not delivered, or a pipeline action over <c>max_active_runs</c>.</summary>
    public const string Skipped = "skipped";
}

/// <summary>
/// A notification in the outbox, written with the transition that caused it. <see cref="Kind"/> is <c>webhook</c> or
/// <c>pipeline</c>; <see cref="Target"/> what the log shows (the webhook's scheme and host, or the pipeline's name);
/// <see cref="Payload"/> the exact body to send (or the pipeline's parameters as JSON); <see cref="AlertStatus"/> what it
/// tells of a metric rule's alert (<c>firing</c> or <c>resolved</c>; null for an event's notification).
/// </summary>
public sealed record AlertNotification(
    string Id,
    string Rule,
    string Status,
    string Kind,
    string Target,
    AlertAction Action,
    string Payload,
    int Attempts,
    DateTimeOffset NextAttemptAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    string? LastError,
    string? AlertStatus = null);

/// <summary>One delivery attempt: its outcome, the receiver's status code (when it answered) and the error.</summary>
public sealed record AlertDelivery(
    long Id,
    string NotificationId,
    string Rule,
    string Kind,
    string Target,
    int Attempt,
    DateTimeOffset At,
    string Outcome,
    int? StatusCode,
    string? Error);
