using System.Text.Json.Serialization;

namespace Ballast.Alerts;

/// <summary>
/// A request to silence alerts: those of <see cref="Rule"/>, or of every rule whose labels (with <c>rule</c>,
/// <c>source</c> and <c>severity</c>) equal all <see cref="Matchers"/>, from <see cref="StartsAt"/> (default now) until
/// <see cref="EndsAt"/> or for <see cref="Duration"/> (<c>2h</c>). Silenced alerts change state but notify nobody.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SilenceRequest(
    string? Rule = null,
    IReadOnlyDictionary<string, string>? Matchers = null,
    DateTimeOffset? StartsAt = null,
    DateTimeOffset? EndsAt = null,
    string? Duration = null,
    string? Comment = null,
    string? CreatedBy = null);

/// <summary>A stored silence; it is active while <c>StartsAt &lt;= now &lt; EndsAt</c>; expiring it sets <see cref="EndsAt"/> to now.</summary>
public sealed record Silence(
    string Id,
    string? Rule,
    IReadOnlyDictionary<string, string>? Matchers,
    DateTimeOffset StartsAt,
    DateTimeOffset EndsAt,
    string Comment,
    string CreatedBy,
    DateTimeOffset CreatedAt)
{
    public bool IsActive(DateTimeOffset now) => StartsAt <= now && now < EndsAt;

    /// <summary>Whether the silence covers <paramref name="rule"/>: its name (when given) and every matcher equal.</summary>
    public bool Covers(AlertRuleSpec rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (Rule is not null && Rule != rule.Name)
        {
            return false;
        }

        foreach (var (key, value) in Matchers ?? new Dictionary<string, string>())
        {
            var actual = key switch
            {
                "rule" => rule.Name,
                "source" => rule.Source,
                "severity" => rule.Severity,
                _ => rule.Labels?.GetValueOrDefault(key),
            };
            if (actual != value)
            {
                return false;
            }
        }

        return true;
    }
}
