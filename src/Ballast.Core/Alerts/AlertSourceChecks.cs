using System.Globalization;
using Ballast.Monitoring;
using Ballast.Tracking;

namespace Ballast.Alerts;

/// <summary>
/// What a metric rule watches, checked against the monitors: its source must be a monitor and its metric one that
/// monitor's windows can have (<see cref="MonitorMetricNames"/>). A rule is refused when it is stored otherwise, and a
/// stored rule whose monitor was deleted (or changed so that it no longer reports the metric) is listed with the
/// problem. Also rebuilds the observation of a monitor's stored window, for a firing notification sent after its window.
/// </summary>
public sealed class AlertSourceChecks(MonitorStore monitors)
{
    /// <summary>Why <paramref name="rule"/> cannot be evaluated now, or null when it can (event rules have no source).</summary>
    public async Task<string?> ProblemAsync(AlertRuleSpec rule, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return rule.IsEventRule ? null : Problem(rule, (await monitors.FindAsync(rule.Source!, cancellationToken).ConfigureAwait(false))?.Spec);
    }

    /// <summary>The problem of every rule that has one, by rule name (the monitors are read once).</summary>
    public async Task<IReadOnlyDictionary<string, string>> ProblemsAsync(IEnumerable<AlertRuleSpec> rules, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var specs = (await monitors.ListAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(monitor => monitor.Spec.Name, monitor => monitor.Spec, StringComparer.Ordinal);
        var problems = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var rule in rules.Where(rule => !rule.IsEventRule))
        {
            if (Problem(rule, specs.GetValueOrDefault(rule.Source!)) is { } problem)
            {
                problems[rule.Name] = problem;
            }
        }

        return problems;
    }

    /// <summary>Null when <paramref name="monitor"/> (the rule's source, null when there is none) reports the rule's metric.</summary>
    public static string? Problem(AlertRuleSpec rule, MonitorSpec? monitor)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return monitor is null ? $"monitor '{rule.Source}' does not exist" : MonitorMetricNames.Problem(monitor, rule.Metric!);
    }

    /// <summary>The observation of window <paramref name="window"/> (its id) of monitor <paramref name="source"/>, or null when either is gone.</summary>
    public async Task<MetricObservation?> ObservationAsync(string source, string? window, CancellationToken cancellationToken = default)
    {
        if (window is null || !long.TryParse(window, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || await monitors.FindAsync(source, cancellationToken).ConfigureAwait(false) is not { } monitor)
        {
            return null;
        }

        try
        {
            return MonitorScheduler.Observation(monitor.Spec, await monitors.GetWindowAsync(source, id, cancellationToken).ConfigureAwait(false));
        }
        catch (TrackingException exception) when (exception.Code == TrackingException.ResourceDoesNotExist)
        {
            return null;
        }
    }
}
