using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Ballast.Cli.Commands;
using Ballast.Serving;

namespace Ballast.Cli.Manifests;

/// <summary><c>kind: Endpoint</c>: the body of <c>PUT /api/v1/endpoints/{name}</c> (<see cref="EndpointSpec"/>).</summary>
internal sealed class EndpointManifestKind : ManifestKind
{
    public override string Name => "Endpoint";

    public override string Plural => "endpoints";

    public override string Collection => "/api/v1/endpoints";

    public override JsonTypeInfo Spec => ManifestJsonContext.Default.EndpointSpec;

    public override IReadOnlyList<JsonElement> Items(JsonElement list) => ClientOptions.Items(list, "endpoints").ToList();

    public override JsonObject Stored(JsonElement answer) => Project(JsonObject.Create(answer) ?? []);

    // The server's own validation fills the defaults it stores (policy split, a lone variant's weight 100, …).
    public override JsonObject Normalize(JsonObject spec, out string? problem) =>
        Normalize(spec, ManifestJsonContext.Default.EndpointSpec, EndpointValidation.Validate, out problem);

    public override string? DryRunPath(string name) => $"{ObjectPath(name)}/dry-run";

    public override string? DryRunProblem(JsonElement answer) =>
        ClientOptions.Text(answer, "problem") is { Length: > 0 } problem ? $"would not be served: {problem}" : null;

    public override string Summary(JsonElement answer)
    {
        var summary = $"revision {ClientOptions.Text(answer, "revision")}";
        if (answer.TryGetProperty("status", out var status) && ClientOptions.Text(status, "problem") is { Length: > 0 } problem)
        {
            summary = $"{summary}; not ready: {problem}";
        }

        // What is served but probably not meant (a model trained on a feature service, an endpoint without one).
        if (answer.TryGetProperty("warnings", out var warnings) && warnings.ValueKind == JsonValueKind.Array)
        {
            summary += string.Concat(warnings.EnumerateArray().Select(warning => $"; warning: {warning.GetString()}"));
        }

        return summary;
    }

    public override TextTable Table(IEnumerable<JsonElement> answers) => EndpointsCommand.Table(answers);

    /// <summary>No empty shadow list: the server stores no shadows as [] and answers null.</summary>
    protected override bool Keeps(string field, JsonNode value) => !(field == "shadows" && value is JsonArray { Count: 0 });
}
