using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ballast.Alerts;

/// <summary>
/// The bodies a webhook receives, written once when the notification is queued (so a retry sends the same bytes):
/// Ballast's JSON, or a Slack-compatible <c>{"text","blocks"}</c> message.
/// </summary>
public static class AlertPayload
{
    /// <summary>
    /// <c>{"status","rule","severity","source","metric","value","threshold","operator","windows","window","starts_at","ends_at","labels","annotations","links"}</c>;
    /// <c>ends_at</c> is null while firing; times are ISO 8601 UTC.
    /// </summary>
    public static string Json(string status, AlertRuleSpec rule, AlertState state, MetricObservation observation)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(observation);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", status);
            json.WriteString("rule", rule.Name);
            json.WriteString("severity", rule.Severity);
            json.WriteString("source", rule.Source);
            json.WriteString("metric", rule.Metric);
            WriteNumber(json, "value", state.Value);
            WriteNumber(json, "threshold", rule.Threshold);
            json.WriteString("operator", rule.Operator);
            json.WriteNumber("windows", state.Consecutive);
            json.WriteString("window", observation.Window);
            WriteTime(json, "starts_at", state.StartsAt);
            WriteTime(json, "ends_at", state.EndsAt);
            WriteMap(json, "labels", rule.Labels);
            WriteMap(json, "annotations", Annotations(rule));
            WriteMap(json, "links", observation.Links);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A Slack incoming-webhook message: a one-line <c>text</c> (the notification's fallback) and section/context blocks.</summary>
    public static string Slack(string status, AlertRuleSpec rule, AlertState state, MetricObservation observation)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(observation);
        var icon = status == AlertStates.Firing ? (rule.Severity == AlertSeverities.Critical ? ":rotating_light:" : ":warning:") : ":white_check_mark:";
        var value = state.Value?.ToString("G6", CultureInfo.InvariantCulture) ?? "no data";
        var threshold = rule.Threshold?.ToString("G6", CultureInfo.InvariantCulture);
        var text = $"{icon} [{status.ToUpperInvariant()}] {rule.Name} ({rule.Severity}): {rule.Source} {rule.Metric} = {value} ({rule.Operator} {threshold}) in window {observation.Window}";
        var details = new StringBuilder();
        details.Append(CultureInfo.InvariantCulture, $"*{Escape(rule.Name)}* is *{status}*: `{Escape(rule.Metric!)} {rule.Operator} {threshold}` on `{Escape(rule.Source!)}`, value *{value}* ");
        details.Append(CultureInfo.InvariantCulture, $"({state.Consecutive} window(s) in a row, window {Escape(observation.Window)}).");
        var description = Annotations(rule).GetValueOrDefault("description");
        if (description is not null)
        {
            details.Append('\n').Append(Escape(description));
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("text", text);
            json.WriteStartArray("blocks");
            json.WriteStartObject();
            json.WriteString("type", "section");
            json.WriteStartObject("text");
            json.WriteString("type", "mrkdwn");
            json.WriteString("text", details.ToString());
            json.WriteEndObject();
            json.WriteEndObject();
            var context = new List<string> { $"severity: {rule.Severity}" };
            context.AddRange((rule.Labels ?? new Dictionary<string, string>()).OrderBy(label => label.Key, StringComparer.Ordinal).Select(label => $"{label.Key}: {label.Value}"));
            context.AddRange(observation.Links.OrderBy(link => link.Key, StringComparer.Ordinal).Select(link => $"<{link.Value}|{Escape(link.Key)}>"));
            json.WriteStartObject();
            json.WriteString("type", "context");
            json.WriteStartArray("elements");
            foreach (var item in context)
            {
                json.WriteStartObject();
                json.WriteString("type", "mrkdwn");
                json.WriteString("text", item);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// An event's body: <c>{"status":"event","event","id","rule","severity","summary","at","labels","annotations","links"}</c>
    /// (the rule's labels, then the event's), or a Slack message when the action's format is <c>slack</c>.
    /// </summary>
    public static string Event(AlertNotice notice, AlertRuleSpec rule, string format, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(notice);
        ArgumentNullException.ThrowIfNull(rule);
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in (rule.Labels ?? new Dictionary<string, string>()).Concat(notice.Labels))
        {
            labels[key] = value;
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (format == AlertAction.Slack)
            {
                var icon = notice.Severity == AlertSeverities.Critical ? ":rotating_light:" : notice.Severity == AlertSeverities.Warning ? ":warning:" : ":information_source:";
                json.WriteString("text", $"{icon} [{notice.Event}] {notice.Summary}");
                json.WriteStartArray("blocks");
                json.WriteStartObject();
                json.WriteString("type", "section");
                json.WriteStartObject("text");
                json.WriteString("type", "mrkdwn");
                json.WriteString("text", $"*{Escape(notice.Event)}* ({notice.Severity}): {Escape(notice.Summary)}");
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteStartObject();
                json.WriteString("type", "context");
                json.WriteStartArray("elements");
                foreach (var item in labels.Select(label => $"{label.Key}: {label.Value}").Concat(notice.Links.OrderBy(link => link.Key, StringComparer.Ordinal).Select(link => $"<{link.Value}|{Escape(link.Key)}>")).DefaultIfEmpty($"rule: {rule.Name}"))
                {
                    json.WriteStartObject();
                    json.WriteString("type", "mrkdwn");
                    json.WriteString("text", item);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteEndArray();
            }
            else
            {
                json.WriteString("status", "event");
                json.WriteString("event", notice.Event);
                json.WriteString("id", notice.Id);
                json.WriteString("rule", rule.Name);
                json.WriteString("severity", notice.Severity);
                json.WriteString("summary", notice.Summary);
                WriteTime(json, "at", at);
                WriteMap(json, "labels", labels);
                WriteMap(json, "annotations", Annotations(rule));
                WriteMap(json, "links", notice.Links);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The rule's annotations, with its description as <c>description</c> unless an annotation has that name.</summary>
    public static IReadOnlyDictionary<string, string> Annotations(AlertRuleSpec rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var annotations = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in rule.Annotations ?? new Dictionary<string, string>())
        {
            annotations[key] = value;
        }

        if (rule.Description is not null)
        {
            annotations.TryAdd("description", rule.Description);
        }

        return annotations;
    }

    // Slack's mrkdwn needs &, < and > escaped.
    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static void WriteNumber(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } number && double.IsFinite(number))
        {
            json.WriteNumber(name, number);
        }
        else if (value is { } named)
        {
            json.WriteString(name, named.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? time)
    {
        if (time is { } at)
        {
            json.WriteString(name, at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteMap(Utf8JsonWriter json, string name, IReadOnlyDictionary<string, string>? map)
    {
        json.WriteStartObject(name);
        foreach (var (key, value) in (map ?? new Dictionary<string, string>()).OrderBy(entry => entry.Key, StringComparer.Ordinal))
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
    }
}
