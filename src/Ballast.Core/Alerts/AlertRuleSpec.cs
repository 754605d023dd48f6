using System.Text.Json.Serialization;

namespace Ballast.Alerts;

/// <summary>
/// A threshold rule over one metric of one source (a monitor): it fires when <c>metric OPERATOR threshold</c> holds in
/// <see cref="For"/> consecutive windows (default 1) and resolves in the first later window where it does not.
/// An event rule gives <see cref="Events"/> instead (names such as <c>rollout.aborted</c>, or prefixes such as
/// <c>rollout.*</c>, or <c>*</c>) and no source, metric, operator, threshold or for: its actions run once per matching
/// event sent through <see cref="IAlertNotifier"/>.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record AlertRuleSpec(
    string Name,
    string? Source,
    string? Metric,
    string? Operator,
    double? Threshold,
    int? For = null,
    string? Severity = null,
    IReadOnlyDictionary<string, string>? Labels = null,
    IReadOnlyDictionary<string, string>? Annotations = null,
    string? Description = null,
    IReadOnlyList<AlertAction>? Actions = null,
    IReadOnlyList<string>? Events = null)
{
    /// <summary>What the rules table stores as the source of an event rule (monitor names never start with '@').</summary>
    public const string EventsSource = "@events";

    public bool IsEventRule => Events is not null;

    /// <summary>Whether the event rule takes <paramref name="name"/>: an exact name, a <c>prefix.*</c> or <c>*</c>.</summary>
    public bool Matches(string name) => Events?.Any(pattern => pattern == "*" || pattern == name
        || (pattern.EndsWith('*') && name.StartsWith(pattern[..^1], StringComparison.Ordinal))) == true;
}

/// <summary>
/// What a rule does when it fires and resolves: <c>webhook</c> (POST to <see cref="Url"/>, signed with <see cref="Secret"/>
/// when given, as Ballast JSON or <c>slack</c>) or <c>pipeline</c> (start <see cref="Pipeline"/> with <see cref="Parameters"/>; on firing only).
/// <see cref="Secret"/> is a reference (<c>env:NAME</c>, <c>file:/path</c>) or the secret itself; it is never shown back.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record AlertAction(
    string? Type,
    string? Url = null,
    string? Secret = null,
    string? Format = null,
    string? Pipeline = null,
    IReadOnlyDictionary<string, string>? Parameters = null)
{
    public const string Webhook = "webhook";
    public const string PipelineType = "pipeline";
    public const string Json = "json";
    public const string Slack = "slack";

    /// <summary>What GET answers in place of a secret.</summary>
    public const string Redacted = "***";
}

/// <summary>The severities a rule may have.</summary>
public static class AlertSeverities
{
    public const string Info = "info";
    public const string Warning = "warning";
    public const string Critical = "critical";

    public static IReadOnlyList<string> All { get; } = [Info, Warning, Critical];
}

/// <summary>A stored rule with when it was created and last changed (Unix milliseconds).</summary>
public sealed record StoredAlertRule(AlertRuleSpec Spec, long CreatedAt, long UpdatedAt)
{
    /// <summary>The rule as the API shows it: every secret replaced by <see cref="AlertAction.Redacted"/>.</summary>
    public AlertRuleSpec Redacted => Spec with
    {
        Actions = Spec.Actions?.Select(action => action.Secret is null ? action : action with { Secret = AlertAction.Redacted }).ToList(),
    };
}
