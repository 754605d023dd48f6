using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;

namespace Ballast.Cli.Manifests;

/// <summary>
/// Reads a manifest file (YAML or JSON; <c>-</c> is standard input) into the objects it describes, in order. A file may
/// hold several documents (YAML <c>---</c>, a list, or a JSON array). Each document is <c>kind:</c> plus the fields of
/// the kind's API body (<c>name:</c>, …), or the Kubernetes shape <c>kind:</c>, <c>metadata: {name:}</c>, <c>spec:</c>.
/// Every problem of the file is reported at once, as a usage error, before anything is sent.
/// </summary>
internal static partial class ManifestReader
{
    private const string ApiVersion = "ballast/v1";

    public static async Task<IReadOnlyList<Manifest>> ReadAsync(string path, TextReader input, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = path == "-" ? await input.ReadToEndAsync(cancellationToken).ConfigureAwait(false) : await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CommandUsageException($"Cannot read {path}: {exception.Message}");
        }

        return Parse(text, path == "-" ? "stdin" : path, IsJson(path, text));
    }

    public static IReadOnlyList<Manifest> Parse(string text, string source, bool json)
    {
        var documents = json ? ReadJson(text, source) : ReadYaml(text, source);
        var problems = new List<string>();
        var manifests = new List<Manifest>();
        foreach (var (content, where) in documents)
        {
            if (Interpret(content, documents.Count == 1 ? source : $"{source} {where}", problems) is { } manifest)
            {
                if (manifests.Any(other => other.Kind == manifest.Kind && other.Name == manifest.Name))
                {
                    problems.Add($"{source}: {manifest.Label} appears more than once");
                }

                manifests.Add(manifest);
            }
        }

        if (documents.Count == 0)
        {
            problems.Add($"{source} holds no manifest (a document needs kind: and name:; known kinds: {ManifestKinds.Known})");
        }

        return problems.Count > 0 ? throw new CommandUsageException(ProblemList.Join(problems)) : manifests;
    }

    /// <summary>By extension; otherwise (standard input, say) JSON when it starts like JSON.</summary>
    internal static bool IsJson(string path, string text) =>
        Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".json" => true,
            ".yaml" or ".yml" => false,
            _ => text.AsSpan().TrimStart().TrimStart('\uFEFF') is [ '{' or '[', ..],
        };

    private static List<(JsonNode? Content, string Where)> ReadJson(string text, string source)
    {
        var root = ParseJson(text, source);
        return root is JsonArray items
            ? items.Select((item, index) => (item, $"item {index + 1}")).ToList()
            : [(root, "")];
    }

    /// <summary>
    /// A JSON file (a manifest, a rollout file) read as strictly as the server reads the same body: no comments, no
    /// trailing commas, no property twice (a file the API would refuse if sent with curl is refused here too; YAML is the
    /// format with comments). A syntax error is a usage error naming <paramref name="source"/>, its line and column.
    /// </summary>
    internal static JsonNode? ParseJson(string text, string source)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException exception)
        {
            var at = exception.LineNumber is { } line ? $" at line {line + 1}, column {exception.BytePositionInLine + 1}" : "";
            throw new CommandUsageException($"{source}: JSON error{at}: {JsonErrorText.Reason(exception, "the manifest")}");
        }
    }

    private static List<(JsonNode? Content, string Where)> ReadYaml(string text, string source)
    {
        IReadOnlyList<ManifestDocument> documents;
        try
        {
            documents = ManifestYaml.Read(text);
        }
        catch (YamlException exception)
        {
            var reason = YamlPosition().Replace(exception.Message, "");
            if (exception.InnerException is { } inner && !reason.Contains(inner.Message, StringComparison.Ordinal))
            {
                reason = $"{reason.TrimEnd('.')}: {inner.Message}";
            }

            throw new CommandUsageException($"{source}: YAML syntax error at line {exception.Start.Line}, column {exception.Start.Column}: {reason}");
        }

        // A document may also be a list of manifests; an empty document (a stray ---) holds none.
        var found = new List<(JsonNode? Content, string Where)>();
        for (var i = 0; i < documents.Count; i++)
        {
            var document = documents[i];
            if (document.Content is JsonArray items)
            {
                found.AddRange(items.Select((item, index) => (item, $"document {i + 1} (line {document.Line}) item {index + 1}")));
            }
            else if (document.Content is not null)
            {
                found.Add((document.Content, $"document {i + 1} (line {document.Line})"));
            }
        }

        return found;
    }

    private static Manifest? Interpret(JsonNode? content, string where, List<string> problems)
    {
        if (content is not JsonObject document)
        {
            problems.Add($"{where}: a manifest is a mapping with kind: and name:, not {Describe(content)}");
            return null;
        }

        var count = problems.Count;
        ManifestKind? kind = null;
        if (!document.TryGetPropertyValue("kind", out var kindNode))
        {
            problems.Add($"{where}: kind: is missing (known kinds: {ManifestKinds.Known})");
        }
        else if (Text(kindNode) is not { } kindName)
        {
            problems.Add($"{where}: kind: must be text (known kinds: {ManifestKinds.Known})");
        }
        else if ((kind = ManifestKinds.Find(kindName)) is null)
        {
            problems.Add($"{where}: kind '{kindName}' is not known (known kinds: {ManifestKinds.Known})");
        }

        if (document.TryGetPropertyValue("apiVersion", out var version) && Text(version) != ApiVersion)
        {
            problems.Add($"{where}: apiVersion {Describe(version)} is not {ApiVersion} (or leave it out)");
        }

        var spec = document.ContainsKey("metadata") || document.ContainsKey("spec") ? KubernetesShape(document, where, problems) : FlatShape(document);
        var name = Text(spec["name"]);
        if (string.IsNullOrEmpty(name))
        {
            problems.Add($"{where}: name: is missing");
        }

        if (kind is not null)
        {
            // The fields the kind does not have, and then what the server's validation says of the rest: both kinds of
            // problem in one answer, rather than the second only once the first is fixed.
            var unknown = new List<string>();
            var known = spec.DeepClone().AsObject();
            ManifestFields.FindUnknown(known, kind.Spec, "", unknown, remove: true);
            problems.AddRange(unknown.Select(problem => $"{where}: {problem}"));
            if (unknown.Count > 0 && !string.IsNullOrEmpty(name))
            {
                kind.Normalize(known, out var invalid);
                if (invalid is not null)
                {
                    problems.Add($"{where}: {invalid}");
                }
            }
        }

        return problems.Count == count ? new Manifest(kind!, name!, spec) : null;
    }

    /// <summary><c>kind: Endpoint</c>, <c>name: iris</c>, <c>variants: …</c>: everything but kind is the body.</summary>
    private static JsonObject FlatShape(JsonObject document)
    {
        var spec = new JsonObject();
        foreach (var (key, value) in document)
        {
            if (key is not "kind" and not "apiVersion")
            {
                spec[key] = value?.DeepClone();
            }
        }

        return spec;
    }

    /// <summary><c>metadata: {name: iris}</c> and <c>spec: {variants: …}</c>, as Kubernetes writes objects.</summary>
    private static JsonObject KubernetesShape(JsonObject document, string where, List<string> problems)
    {
        foreach (var (key, _) in document)
        {
            if (key is not "kind" and not "apiVersion" and not "metadata" and not "spec")
            {
                problems.Add($"{where}: {key}: belongs under spec: (or write every field at the top, without metadata: and spec:)");
            }
        }

        var spec = new JsonObject();
        if (document["metadata"] is not JsonObject metadata)
        {
            problems.Add($"{where}: metadata: must be a mapping holding name:");
        }
        else
        {
            foreach (var (key, value) in metadata)
            {
                if (key == "name")
                {
                    spec["name"] = value?.DeepClone();
                }
                else
                {
                    problems.Add($"{where}: metadata.{key}: is not used (only metadata.name)");
                }
            }
        }

        switch (document["spec"])
        {
            case null:
                break;
            case JsonObject body:
                foreach (var (key, value) in body)
                {
                    if (key != "name")
                    {
                        spec[key] = value?.DeepClone();
                    }
                    else if (Text(value) != Text(spec["name"]))
                    {
                        problems.Add($"{where}: spec.name {Describe(value)} differs from metadata.name {Describe(spec["name"])}");
                    }
                }

                break;
            default:
                problems.Add($"{where}: spec: must be a mapping of the object's fields");
                break;
        }

        return spec;
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray => "a list",
        JsonObject => "a mapping",
        _ => node.ToJsonString(),
    };


    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex YamlPosition();
}
