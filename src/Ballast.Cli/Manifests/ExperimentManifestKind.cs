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

    /// <summary>The endpoint whose variants are compared: the server refuses an experiment on an endpoint that does not exist.</summary>
    public override IEnumerable<(string What, string Path)> References(JsonObject spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec["endpoint"] is JsonValue endpoint && endpoint.TryGetValue<string>(out var name) && name.Length > 0)
        {
            yield return ($"endpoint '{name}'", $"/api/v1/endpoints/{Uri.EscapeDataString(name)}");
        }
    }

    /// <summary>The control must be one of the endpoint's variants, and the endpoint needs two or more, as the server checks.</summary>
    public override string? CheckReference(JsonObject spec, string path, JsonObject referenced)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(referenced);
        var endpoint = spec["endpoint"] is JsonValue value && value.TryGetValue<string>(out var name) ? name : "";
        var variants = (referenced["variants"] as JsonArray ?? []).Select(variant => variant?["name"] is JsonValue text && text.TryGetValue<string>(out var variantName) ? variantName : null)
            .OfType<string>().ToList();
        var problems = new List<string>();
        if (spec["control"] is JsonValue given && given.TryGetValue<string>(out var control) && !variants.Contains(control))
        {
            problems.Add($"control '{control}' is not a variant of endpoint '{endpoint}' ({string.Join(", ", variants)})");
        }

        if (variants.Count < 2)
        {
            problems.Add($"endpoint '{endpoint}' has one variant; an experiment compares two or more");
        }

        return problems.Count == 0 ? null : ProblemList.Join(problems);
    }

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
