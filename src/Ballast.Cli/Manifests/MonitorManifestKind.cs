using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Ballast.Cli.Commands;
using Ballast.Monitoring;

namespace Ballast.Cli.Manifests;

/// <summary><c>kind: Monitor</c>: the body of <c>PUT /api/v1/monitors/{name}</c> (<see cref="MonitorSpec"/>).</summary>
internal sealed class MonitorManifestKind : ManifestKind
{
    public override string Name => "Monitor";

    public override string Plural => "monitors";

    public override string Collection => "/api/v1/monitors";

    public override JsonTypeInfo Spec => ManifestJsonContext.Default.MonitorSpec;

    public override IReadOnlyList<JsonElement> Items(JsonElement list) => ClientOptions.Items(list, "monitors").ToList();

    /// <summary>The answer is the stored spec.</summary>
    public override JsonObject Stored(JsonElement answer) => Project(JsonObject.Create(answer) ?? []);

    // The server's own validation fills the defaults it stores (min_rows 30, a 30 s grace, the task's metrics…).
    public override JsonObject Normalize(JsonObject spec, out string? problem) =>
        Normalize(spec, ManifestJsonContext.Default.MonitorSpec, MonitorValidation.Validate, out problem);

    public override IEnumerable<(string What, string Path)> References(JsonObject spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec["endpoint"] is JsonValue endpoint && endpoint.TryGetValue<string>(out var name))
        {
            yield return ($"endpoint '{name}'", $"/api/v1/endpoints/{Uri.EscapeDataString(name)}");
        }

        if (spec["reference"]?["dataset"] is JsonValue dataset && dataset.TryGetValue<string>(out var datasetName))
        {
            yield return ($"dataset '{datasetName}'", $"/api/v1/datasets/{Uri.EscapeDataString(datasetName)}/versions");
        }
    }

    public override string Summary(JsonElement answer)
    {
        var window = answer.GetProperty("window");
        return window.TryGetProperty("rows", out var rows) ? $"windows of {rows.GetInt64()} rows" : $"windows of {ClientOptions.Text(window, "duration")}";
    }

    public override TextTable Table(IEnumerable<JsonElement> answers) => MonitorsCommand.Table(answers);
}
