using System.Text.RegularExpressions;
using Ballast.Tracking;

namespace Ballast.Alerts;

/// <summary>Checks a rule and fills its defaults; lists every problem at once.</summary>
public static partial class AlertRuleValidation
{
    /// <summary>A rule fires after one window when <c>for</c> is left out (Prometheus's <c>for: 0</c>).</summary>
    public const int DefaultFor = 1;

    /// <summary>Enough for any real "N consecutive windows"; more is almost surely a typo for a duration.</summary>
    public const int MaxFor = 1000;

    public static AlertRuleSpec Validate(AlertRuleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<string>();
        if (spec.Name is null || !NamePattern().IsMatch(spec.Name))
        {
            problems.Add($"name '{spec.Name}' must be 1 to 63 lowercase letters, digits or '-', starting with a letter");
        }

        if (spec.Events is { } events)
        {
            ValidateEventRule(spec, events, problems);
        }
        else
        {
            ValidateMetricRule(spec, problems);
        }

        var severity = spec.Severity ?? AlertSeverities.Warning;
        if (!AlertSeverities.All.Contains(severity))
        {
            problems.Add($"severity '{spec.Severity}' is not one of {string.Join(", ", AlertSeverities.All)}");
        }

        foreach (var key in (spec.Labels ?? new Dictionary<string, string>()).Keys.Where(key => !LabelPattern().IsMatch(key)))
        {
            problems.Add($"label '{key}' must be letters, digits and '_', not starting with a digit");
        }

        var actions = spec.Actions ?? [];
        for (var i = 0; i < actions.Count; i++)
        {
            ValidateAction(actions[i], $"actions[{i}]", problems);
        }

        if (problems.Count > 0)
        {
            throw TrackingException.Invalid($"Invalid alert rule '{spec.Name}'", problems);
        }

        return spec with
        {
            For = spec.IsEventRule ? null : spec.For ?? DefaultFor,
            Severity = severity,
            Actions = actions.Select(action => action.Type == AlertAction.Webhook ? action with { Format = action.Format ?? AlertAction.Json } : action).ToList(),
        };
    }

    private static void ValidateMetricRule(AlertRuleSpec spec, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(spec.Source))
        {
            problems.Add("source: name the monitor whose windows the rule watches");
        }
        else if (spec.Source.Length > 255 || spec.Source.StartsWith('@'))
        {
            problems.Add($"source '{spec.Source}' must be at most 255 characters, not starting with '@'");
        }

        if (string.IsNullOrWhiteSpace(spec.Metric))
        {
            problems.Add("metric: name the metric to compare, such as drift.share");
        }

        if (spec.Operator is null || !AlertCondition.Operators.Contains(spec.Operator))
        {
            problems.Add($"operator '{spec.Operator}' is not one of {string.Join(" ", AlertCondition.Operators)}");
        }

        if (spec.Threshold is not { } threshold || !double.IsFinite(threshold))
        {
            problems.Add(spec.Threshold is null ? "threshold: give the number to compare with" : $"threshold {spec.Threshold} must be a finite number");
        }

        if (spec.For is { } windows && (windows < 1 || windows > MaxFor))
        {
            problems.Add($"for {windows} must be between 1 and {MaxFor} consecutive windows");
        }
    }

    private static void ValidateEventRule(AlertRuleSpec spec, IReadOnlyList<string> events, List<string> problems)
    {
        if (events.Count == 0)
        {
            problems.Add("events: name at least one event (such as rollout.aborted, rollout.* or *)");
        }

        foreach (var name in events.Where(name => name is null || !EventPattern().IsMatch(name)))
        {
            problems.Add($"event '{name}' must be lowercase letters, digits, '.', '_' or '-', optionally ending in '*'");
        }

        var metricFields = new (string Field, object? Value)[] { ("source", spec.Source), ("metric", spec.Metric), ("operator", spec.Operator), ("threshold", spec.Threshold), ("for", spec.For) };
        var given = metricFields.Where(field => field.Value is not null).Select(field => field.Field).ToList();
        if (given.Count > 0)
        {
            problems.Add($"an event rule has no {string.Join(", ", given)} (those are for rules on a monitor's metric)");
        }
    }

    private static void ValidateAction(AlertAction? action, string where, List<string> problems)
    {
        switch (action?.Type)
        {
            case AlertAction.Webhook:
                if (!Uri.TryCreate(action.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
                {
                    problems.Add($"{where}.url '{action.Url}' is not an absolute http or https URL");
                }

                if (action.Format is not (null or AlertAction.Json or AlertAction.Slack))
                {
                    problems.Add($"{where}.format '{action.Format}' is not json or slack");
                }

                if (action.Secret is { } secret && (secret.Length == 0 || (secret.StartsWith("env:", StringComparison.Ordinal) && secret.Length == 4) || (secret.StartsWith("file:", StringComparison.Ordinal) && secret.Length == 5)))
                {
                    problems.Add($"{where}.secret is empty; give env:NAME, file:/path or the secret");
                }

                if (action.Pipeline is not null || action.Parameters is not null)
                {
                    problems.Add($"{where}: pipeline and parameters belong to a pipeline action, not a webhook");
                }

                break;
            case AlertAction.PipelineType:
                if (string.IsNullOrWhiteSpace(action.Pipeline))
                {
                    problems.Add($"{where}.pipeline: name the pipeline to start");
                }

                if (action.Url is not null || action.Secret is not null || action.Format is not null)
                {
                    problems.Add($"{where}: url, secret and format belong to a webhook action, not a pipeline");
                }

                break;
            default:
                problems.Add($"{where}.type '{action?.Type}' is not webhook or pipeline");
                break;
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^(\\*|[a-z0-9][a-z0-9._-]*\\*?)$")]
    private static partial Regex EventPattern();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelPattern();
}
