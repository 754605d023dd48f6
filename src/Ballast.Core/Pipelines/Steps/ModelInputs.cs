using System.Text.Json.Nodes;

namespace Ballast.Pipelines.Steps;

/// <summary>Reads a model version input: a <c>register</c> step's output object, or <c>models:/NAME/VERSION</c>.</summary>
internal static class ModelInputs
{
    public static (string Name, string Version) Read(JsonNode? node, string input) => node switch
    {
        JsonObject model when StepOutputs.IsModel(model) => (model["name"]!.GetValue<string>(), model["version"]!.GetValue<string>()),
        JsonValue value when value.TryGetValue<string>(out var uri) && uri.StartsWith("models:/", StringComparison.Ordinal) && uri[8..].Split('/') is [var name, var version]
            && name.Length > 0 && version.Length > 0 => (name, version),
        _ => throw new StepFailedException($"input '{input}' must be a model version (a register step's output or models:/NAME/VERSION), not {node?.ToJsonString() ?? "nothing"}"),
    };
}
