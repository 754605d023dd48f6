using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Ballast.Alerts;
using Ballast.Cli.Commands;
using Ballast.Monitoring;

namespace Ballast.Cli.Manifests;

/// <summary>
/// <c>kind: AlertRule</c>: the body of <c>PUT /api/v1/alert-rules/{name}</c> (<see cref="AlertRuleSpec"/>). A stored
/// rule's secrets come back as <c>***</c>, which a PUT takes as "keep the stored one", so `get -o yaml | apply` round-trips.
/// </summary>
internal sealed class AlertRuleManifestKind : ManifestKind
{
    public override string Name => "AlertRule";

    public override string Plural => "alert-rules";

    public override string Collection => "/api/v1/alert-rules";

    public override JsonTypeInfo Spec => ManifestJsonContext.Default.AlertRuleSpec;

    public override IReadOnlyList<JsonElement> Items(JsonElement list) => ClientOptions.Items(list, "rules").ToList();

    /// <summary>The answer is <c>{"rule": spec, "created_at": ms, "updated_at": ms}</c>.</summary>
    public override JsonObject Stored(JsonElement answer) =>
        Project(answer.TryGetProperty("rule", out var spec) ? JsonObject.Create(spec) ?? [] : []);

    // The server fills for (1), severity (warning) and each webhook's format (json); a secret is compared as the server shows it.
    public override JsonObject Normalize(JsonObject spec, out string? problem) =>
        Normalize(spec, ManifestJsonContext.Default.AlertRuleSpec, rule =>
        {
            var valid = AlertRuleValidation.Validate(rule);
            return valid with { Actions = valid.Actions?.Select(action => action.Secret is null ? action : action with { Secret = AlertAction.Redacted }).ToList() };
        }, out problem);

    /// <summary>A metric rule's monitor (<c>source</c>): the server refuses a rule on a monitor that does not exist.</summary>
    public override IEnumerable<(string What, string Path)> References(JsonObject spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec["events"] is null && spec["source"] is JsonValue source && source.TryGetValue<string>(out var name) && name.Length > 0)
        {
            yield return ($"monitor '{name}'", $"/api/v1/monitors/{Uri.EscapeDataString(name)}");
        }
    }

    /// <summary>The rule's metric must be one its monitor reports, as the server checks (<see cref="MonitorMetricNames"/>).</summary>
    public override string? CheckReference(JsonObject spec, string path, JsonObject referenced)
    {
        ArgumentNullException.ThrowIfNull(spec);
        try
        {
            return spec["metric"] is JsonValue metric && metric.TryGetValue<string>(out var name) && referenced.Deserialize(ManifestJsonContext.Default.MonitorSpec) is { } monitor
                ? MonitorMetricNames.Problem(monitor, name)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public override string Summary(JsonElement answer) =>
        !answer.TryGetProperty("rule", out var rule) ? ""
        : rule.TryGetProperty("events", out var events) ? "events " + string.Join(",", events.EnumerateArray().Select(name => name.GetString()))
        : $"{ClientOptions.Text(rule, "source")} {ClientOptions.Text(rule, "metric")} {ClientOptions.Text(rule, "operator")} {ClientOptions.Text(rule, "threshold")}";

    public override TextTable Table(IEnumerable<JsonElement> answers)
    {
        var table = new TextTable("NAME", "SOURCE", "CONDITION", "FOR", "SEVERITY", "ACTIONS");
        foreach (var answer in answers)
        {
            var rule = answer.GetProperty("rule");
            var events = ClientOptions.Items(rule, "events").Select(name => name.GetString()).ToList();
            table.Add(ClientOptions.Text(rule, "name"), events.Count > 0 ? "events" : ClientOptions.Text(rule, "source"),
                events.Count > 0 ? string.Join(",", events) : $"{ClientOptions.Text(rule, "metric")} {ClientOptions.Text(rule, "operator")} {ClientOptions.Text(rule, "threshold")}", ClientOptions.Text(rule, "for"),
                ClientOptions.Text(rule, "severity"), string.Join(",", ClientOptions.Items(rule, "actions").Select(action => ClientOptions.Text(action, "type"))));
        }

        return table;
    }
}
