using System.Text.Json.Nodes;

namespace Ballast.Pipelines.Steps;

/// <summary><c>kind: echo</c>: its outputs are its inputs (resolved); for wiring and trying pipelines out.</summary>
public sealed class EchoStep : IPipelineStep
{
    public string Kind => "echo";

    public IReadOnlyList<string> Validate(JsonObject inputs) => [];

    public async Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var outputs = context.With.ToDictionary(pair => pair.Key, pair => pair.Value?.DeepClone(), StringComparer.Ordinal);
        foreach (var (name, value) in outputs)
        {
            await context.Log.WriteLineAsync($"{name} = {StepOutputs.Describe(value)}").ConfigureAwait(false);
        }

        return outputs;
    }
}
