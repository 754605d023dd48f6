using System.Globalization;
using System.Text.Json.Nodes;

namespace Ballast.Pipelines;

/// <summary>
/// The shapes of step outputs as stored (JSON): scalars as themselves; a file as
/// <c>{"type": "file", "name", "path" (in the artifact store), "uri" (mlflow-artifacts:/…), "sha256", "size"}</c>;
/// a model version as <c>{"type": "model", "name", "version", "uri": "models:/NAME/VERSION"}</c>.
/// </summary>
public static class StepOutputs
{
    public const string FileType = "file";
    public const string ModelType = "model";

    public static bool IsFile(JsonNode? node) => node is JsonObject obj && obj["type"]?.GetValue<string>() == FileType;

    public static bool IsModel(JsonNode? node) => node is JsonObject obj && obj["type"]?.GetValue<string>() == ModelType;

    public static JsonObject File(string fileName, string storePath, string uri, string sha256, long size) => new()
    {
        ["type"] = FileType,
        ["name"] = fileName,
        ["path"] = storePath,
        ["uri"] = uri,
        ["sha256"] = sha256,
        ["size"] = size,
    };

    public static JsonObject Model(string name, string version) => new()
    {
        ["type"] = ModelType,
        ["name"] = name,
        ["version"] = version,
        ["uri"] = $"models:/{name}/{version}",
    };

    /// <summary>A numeric output's value (numbers and numeric strings), for MLflow metrics; null for anything else.</summary>
    public static double? Number(JsonNode? node) => node is JsonValue value
        ? value.TryGetValue<double>(out var number) ? number
        : value.TryGetValue<long>(out var integer) ? integer
        : null
        : null;

    public static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject obj when IsFile(obj) => $"file {obj["name"]} ({obj["size"]} bytes, sha256 {obj["sha256"]?.GetValue<string>()[..12]})",
        JsonObject obj when obj["uri"] is { } uri => uri.GetValue<string>(),
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonValue value when Number(value) is { } number => number.ToString(CultureInfo.InvariantCulture),
        _ => node.ToJsonString(),
    };
}
