using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Ballast.Cli.Commands;
using Ballast.Experiments;

namespace Ballast.Cli.Manifests;

/// <summary><c>kind: Experiment</c>: an A/B experiment, the body of <c>PUT /api/v1/experiments/{name}</c> (<see cref="AbExperimentSpec"/>).</summary>
internal sealed class ExperimentManifestKind : ManifestKind
{
    public override string Name => "Experiment";

    public override string Plural => "experiments";

    public override string Collection => "/api/v1/experiments";

    public override JsonTypeInfo Spec => ManifestJsonContext.Default.AbExperimentSpec;

    public override IReadOnlyList<JsonElement> Items(JsonElement list) => ClientOptions.Items(list, "experiments").ToList();

    /// <summary>The answer is <c>{"experiment": spec, "started_at": ms, "status": …}</c>; only the spec is compared.</summary>
    public override JsonObject Stored(JsonElement answer) =>
        Project(answer.TryGetProperty("experiment", out var spec) ? JsonObject.Create(spec) ?? [] : []);

    // The server's own validation fills the defaults it stores (sequential engine, α 0.05, a binomial metric on outcomes).
    public override JsonObject Normalize(JsonObject spec, out string? problem) =>
        Normalize(spec, ManifestJsonContext.Default.AbExperimentSpec, AbExperimentValidation.Validate, out problem);

    public override string Summary(JsonElement answer) => $"started {ClientOptions.Time(answer, "started_at")}";

    public override TextTable Table(IEnumerable<JsonElement> answers)
    {
        var table = new TextTable("NAME", "ENDPOINT", "METRIC", "ENGINE", "STARTED", "STATUS");
        foreach (var answer in answers)
        {
            var spec = answer.GetProperty("experiment");
            table.Add(ClientOptions.Text(spec, "name"), ClientOptions.Text(spec, "endpoint"), spec.TryGetProperty("metric", out var metric) ? $"{ClientOptions.Text(metric, "name")} ({ClientOptions.Text(metric, "type")})" : "",
                ClientOptions.Text(spec, "engine"), ClientOptions.Time(answer, "started_at"),
                ClientOptions.Text(answer, "status") + (answer.TryGetProperty("conclusion", out var conclusion) ? $" (winner {(ClientOptions.Text(conclusion, "winner") is { Length: > 0 } won ? won : "none")})" : ""));
        }

        return table;
    }
}
