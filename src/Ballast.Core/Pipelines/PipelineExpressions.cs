using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Ballast.Pipelines;

/// <summary>A reference inside a step's inputs: <c>${{ params.NAME }}</c> (<see cref="Step"/> null) or <c>${{ steps.STEP.outputs.NAME }}</c>.</summary>
public sealed record PipelineReference(string? Step, string Name)
{
    public override string ToString() => Step is null ? $"params.{Name}" : $"steps.{Step}.outputs.{Name}";
}

/// <summary>
/// The one expression syntax of step inputs (GitHub Actions' delimiters): a string that is exactly one reference takes
/// the referenced value as it is (a number, a file output object…); a reference inside longer text is replaced by the
/// value's text (a file output by what <c>fileText</c> says, such as its local path).
/// </summary>
public static partial class PipelineExpressions
{
    /// <summary>Every reference in the node, and the problems of malformed <c>${{ … }}</c> expressions.</summary>
    public static IReadOnlyList<PipelineReference> References(JsonNode? node, List<string> problems, string where)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var found = new List<PipelineReference>();
        foreach (var text in Strings(node))
        {
            foreach (Match match in Expression().Matches(text))
            {
                if (Parse(match.Groups["body"].Value) is { } reference)
                {
                    found.Add(reference);
                }
                else
                {
                    problems.Add($"{where}: '{match.Value}' is not ${{{{ params.NAME }}}} or ${{{{ steps.STEP.outputs.NAME }}}}");
                }
            }

            if (Expression().Replace(text, "").Contains("${{", StringComparison.Ordinal))
            {
                problems.Add($"{where}: '{text}' has a '${{{{' without its closing '}}}}'");
            }
        }

        return found;
    }

    /// <summary>A copy of the node with every reference replaced by its value from <paramref name="lookup"/>.</summary>
    public static JsonNode? Resolve(JsonNode? node, Func<PipelineReference, JsonNode?> lookup, Func<JsonNode, string> fileText)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        ArgumentNullException.ThrowIfNull(fileText);
        switch (node)
        {
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    copy[key] = Resolve(value, lookup, fileText);
                }

                return copy;
            case JsonArray array:
                return new JsonArray(array.Select(item => Resolve(item, lookup, fileText)).ToArray());
            case JsonValue value when value.TryGetValue<string>(out var text) && text.Contains("${{", StringComparison.Ordinal):
                var whole = Expression().Match(text);
                if (whole.Success && whole.Length == text.Length && Parse(whole.Groups["body"].Value) is { } single)
                {
                    return lookup(single)?.DeepClone();
                }

                return JsonValue.Create(Expression().Replace(text, match => Parse(match.Groups["body"].Value) is { } reference ? Text(lookup(reference), fileText) : match.Value));
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>A value as text: strings as they are, numbers and booleans in invariant JSON form, a file output by <paramref name="fileText"/>.</summary>
    public static string Text(JsonNode? value, Func<JsonNode, string> fileText)
    {
        ArgumentNullException.ThrowIfNull(fileText);
        return value switch
        {
            null => "",
            JsonValue scalar when scalar.TryGetValue<string>(out var text) => text,
            JsonObject obj when StepOutputs.IsFile(obj) => fileText(obj),
            JsonObject obj when obj["uri"] is JsonValue uri && uri.TryGetValue<string>(out var text) => text,
            _ => value.ToJsonString(),
        };
    }

    private static PipelineReference? Parse(string body)
    {
        var match = ReferenceBody().Match(body);
        return !match.Success ? null
            : match.Groups["param"].Success ? new PipelineReference(null, match.Groups["param"].Value)
            : new PipelineReference(match.Groups["step"].Value, match.Groups["output"].Value);
    }

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(pair => Strings(pair.Value)),
        JsonArray array => array.SelectMany(Strings),
        JsonValue value when value.TryGetValue<string>(out var text) => [text],
        _ => [],
    };

    [GeneratedRegex(@"\$\{\{(?<body>[^}]*)\}\}")]
    private static partial Regex Expression();

    [GeneratedRegex(@"^\s*(?:params\.(?<param>[A-Za-z_][A-Za-z0-9_-]*)|steps\.(?<step>[A-Za-z_][A-Za-z0-9_-]*)\.outputs\.(?<output>[A-Za-z_][A-Za-z0-9_-]*))\s*$")]
    private static partial Regex ReferenceBody();
}
