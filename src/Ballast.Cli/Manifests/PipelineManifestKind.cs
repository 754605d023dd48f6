using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Ballast.Cli.Commands;
using Ballast.Pipelines;

namespace Ballast.Cli.Manifests;

/// <summary><c>kind: Pipeline</c>: the body of <c>PUT /api/v1/pipelines/{name}</c> (<see cref="PipelineSpec"/>).</summary>
internal sealed class PipelineManifestKind : ManifestKind
{
    public override string Name => "Pipeline";

    public override string Plural => "pipelines";

    public override string Collection => "/api/v1/pipelines";

    public override JsonTypeInfo Spec => ManifestJsonContext.Default.PipelineSpec;

    public override IReadOnlyList<JsonElement> Items(JsonElement list) => ClientOptions.Items(list, "pipelines").ToList();

    /// <summary>The answer is <c>{"pipeline": spec, "created_at", "updated_at", "next_scheduled_at"}</c>.</summary>
    public override JsonObject Stored(JsonElement answer) =>
        Project(answer.TryGetProperty("pipeline", out var spec) ? JsonObject.Create(spec) ?? [] : []);

    // Step kinds are the server's to check (it knows which are installed); everything else is checked here first.
    public override JsonObject Normalize(JsonObject spec, out string? problem) =>
        Normalize(spec, ManifestJsonContext.Default.PipelineSpec, pipeline => PipelineValidation.Validate(pipeline), out problem);

    public override string Summary(JsonElement answer) => answer.TryGetProperty("next_scheduled_at", out var next) && next.ValueKind == JsonValueKind.Number
        ? $"next scheduled run {ClientOptions.Time(answer, "next_scheduled_at")}"
        : "stored";

    public override TextTable Table(IEnumerable<JsonElement> answers)
    {
        var body = new JsonObject { ["pipelines"] = new JsonArray(answers.Select(answer => (JsonNode?)JsonNode.Parse(answer.GetRawText())).ToArray()) };
        return PipelinesCommand.PipelineTable(JsonSerializer.SerializeToElement(body, ManifestJsonContext.Default.JsonObject));
    }
}
