namespace Ballast.Alerts;

/// <summary>
/// The pure transition of one rule's alert on one closed window (Prometheus/Grafana semantics):
/// condition true counts a window; at <c>for</c> windows in a row the alert fires (notified once); the first later window
/// where it is false resolves it (notified once) and the next one makes it inactive; false while pending goes back to
/// inactive. A window without the metric ("no data") and a window not after the last one seen change nothing: one
/// that ends later, or in the same millisecond with a later id (row windows of records logged in one millisecond).
/// As Alertmanager: a resolved notification is owed only when receivers were told of the firing
/// (<see cref="AlertState.Notified"/>), and a firing alert whose receivers were not told (it was silenced) owes its
/// firing notification on every later window until it is sent. A step that owes a firing notification has
/// <see cref="AlertState.Notified"/> set, as if it went out; the evaluator clears it when a silence keeps it back.
/// </summary>
public static class AlertStateMachine
{
    /// <returns>The step, or null when the window changes nothing (no data, or already seen).</returns>
    public static AlertStep? Next(AlertState current, AlertRuleSpec rule, MetricObservation observation, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(observation);
        if (!After(observation, current))
        {
            return null;
        }

        if (!observation.Values.TryGetValue(rule.Metric!, out var value))
        {
            return null;
        }

        var holds = AlertCondition.Holds(value, rule.Operator!, rule.Threshold!.Value);
        var moved = current with
        {
            Value = value,
            Window = observation.Window,
            WindowEnd = observation.WindowEnd,
            Severity = rule.Severity ?? AlertSeverities.Warning,
            Source = rule.Source!,
            Version = current.Version + 1,
            UpdatedAt = now,
        };
        if (holds)
        {
            var consecutive = current.Consecutive + 1;
            var startsAt = current.State is AlertStates.Pending or AlertStates.Firing ? current.StartsAt : observation.WindowStart;
            if (current.State == AlertStates.Firing)
            {
                return current.Notified ? new AlertStep(moved with { Consecutive = consecutive }, null)
                    : new AlertStep(moved with { Consecutive = consecutive, Notified = true }, AlertStates.Firing);
            }

            return consecutive >= (rule.For ?? AlertRuleValidation.DefaultFor)
                ? new AlertStep(moved with { State = AlertStates.Firing, Consecutive = consecutive, StartsAt = startsAt, EndsAt = null, Notified = true }, AlertStates.Firing)
                : new AlertStep(moved with { State = AlertStates.Pending, Consecutive = consecutive, StartsAt = startsAt, EndsAt = null, Notified = false }, null);
        }

        return current.State switch
        {
            AlertStates.Firing => new AlertStep(moved with { State = AlertStates.Resolved, Consecutive = 0, EndsAt = observation.WindowStart, Notified = false },
                current.Notified ? AlertStates.Resolved : null),
            AlertStates.Resolved => new AlertStep(moved with { State = AlertStates.Inactive, Consecutive = 0, Notified = false }, null),
            AlertStates.Pending => new AlertStep(moved with { State = AlertStates.Inactive, Consecutive = 0, StartsAt = null, Notified = false }, null),
            _ => new AlertStep(moved with { Consecutive = 0, Notified = false }, null),
        };
    }

    /// <summary>
    /// Whether <paramref name="observation"/>'s window comes after the last one <paramref name="current"/> saw: it ends
    /// later, or ends in the same millisecond and has a greater id (a monitor's window ids grow in window order, and row
    /// windows can end in one millisecond).
    /// </summary>
    private static bool After(MetricObservation observation, AlertState current)
    {
        if (current.WindowEnd is not { } seen || observation.WindowEnd > seen)
        {
            return true;
        }

        return observation.WindowEnd == seen
            && long.TryParse(observation.Window, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
            && long.TryParse(current.Window, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var last)
            && id > last;
    }
}
