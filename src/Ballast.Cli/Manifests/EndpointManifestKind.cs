using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Ballast.Cli.Commands;
using Ballast.Serving;
using Ballast.Tracking;

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

    public override JsonObject Normalize(JsonObject spec, out string? problem)
    {
        try
        {
            // The server's own validation fills the defaults it stores (policy split, a lone variant's weight 100, …).
            var parsed = spec.Deserialize(ManifestJsonContext.Default.EndpointSpec) ?? throw new JsonException("The manifest is empty.");
            var stored = EndpointValidation.Validate(parsed);
            problem = null;
            return Project(JsonSerializer.SerializeToNode(stored, ManifestJsonContext.Default.EndpointSpec)!.AsObject());
        }
        catch (Exception exception) when (exception is JsonException or TrackingException or InvalidOperationException)
        {
            problem = exception.Message;
            return Project(spec);
        }
    }

    public override string Summary(JsonElement answer)
    {
        var summary = $"revision {ClientOptions.Text(answer, "revision")}";
        return answer.TryGetProperty("status", out var status) && ClientOptions.Text(status, "problem") is { Length: > 0 } problem
            ? $"{summary}; not ready: {problem}"
            : summary;
    }

    public override TextTable Table(IEnumerable<JsonElement> answers) => EndpointsCommand.Table(answers);

    /// <summary>The spec's fields of an endpoint (an answer's revision and status left out), without an empty shadow list (the server stores no shadows as [] and answers null).</summary>
    private JsonObject Project(JsonObject source) => Project(source, (field, value) => !(field == "shadows" && value is JsonArray { Count: 0 }));
}
