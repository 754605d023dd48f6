namespace Ballast.Alerts;

/// <summary>The states of an alert (Prometheus/Grafana): inactive → pending → firing → resolved → inactive.</summary>
public static class AlertStates
{
    public const string Inactive = "inactive";
    public const string Pending = "pending";
    public const string Firing = "firing";
    public const string Resolved = "resolved";

    public static IReadOnlyList<string> All { get; } = [Inactive, Pending, Firing, Resolved];
}

/// <summary>
/// A rule's alert instance now. <see cref="Consecutive"/> counts the windows in a row in which the condition held;
/// <see cref="Window"/>/<see cref="WindowEnd"/> are the last window with data that moved it; <see cref="StartsAt"/> is the
/// start of the first window of the run that made it pending or firing, <see cref="EndsAt"/> the start of the window that
/// resolved it. <see cref="Version"/> grows with every write: a transition is written only over the version it was computed from.
/// <see cref="Notified"/> is whether receivers were told that the alert fires (Alertmanager's notification log): false
/// while a silence keeps the firing notification back, and a resolved notification is queued only when it is true. It
/// is set when the firing notification is queued; whether it reached a webhook is the outbox's to say, and the
/// dispatcher skips the resolved notification of a webhook whose firing one failed for good.
/// </summary>
public sealed record AlertState(
    string Rule,
    string Source,
    string Severity,
    string State,
    int Consecutive,
    double? Value,
    string? Window,
    DateTimeOffset? WindowEnd,
    DateTimeOffset? StartsAt,
    DateTimeOffset? EndsAt,
    long Version,
    DateTimeOffset UpdatedAt,
    bool Notified = false)
{
    public static AlertState Initial(AlertRuleSpec rule, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return new AlertState(rule.Name, rule.Source!, rule.Severity ?? AlertSeverities.Warning, AlertStates.Inactive, 0, null, null, null, null, null, 0, now);
    }
}

/// <summary>
/// One window's effect on an alert: its next state, and <see cref="Notify"/> (<c>firing</c> or <c>resolved</c>) when
/// receivers are owed a notification, which goes out unless a silence covers the alert.
/// </summary>
public sealed record AlertStep(AlertState Next, string? Notify);
