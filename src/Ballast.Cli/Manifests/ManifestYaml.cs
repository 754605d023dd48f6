using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Ballast.Cli.Manifests;

/// <summary>One document of a manifest file, as JSON, with the line it starts on (1-based) for messages.</summary>
public sealed record ManifestDocument(JsonNode? Content, long Line);

/// <summary>
/// YAML to JSON and back, for manifests. Reading follows the YAML 1.2 core schema: an unquoted scalar becomes a JSON
/// number, <c>true</c>/<c>false</c> or <c>null</c> only when it looks like one; quoted scalars (and <c>!!str</c>) stay
/// strings, so <c>"100"</c> is text and <c>yes</c> is the word yes. Anchors, aliases and <c>&lt;&lt;</c> merge keys
/// are expanded. Syntax errors are <see cref="YamlException"/>s carrying the line and column.
/// </summary>
public static partial class ManifestYaml
{
    // Aliases can make a small file expand enormously ("billion laughs"); a manifest is a few hundred nodes.
    private const int MaxNodes = 100_000;
    private const int MaxDepth = 64;
    private const string CoreTag = "tag:yaml.org,2002:";
    private const string MergeKey = "<<";

    /// <summary>Every document of a YAML stream, in order; an empty document (a stray <c>---</c>) has null content.</summary>
    public static IReadOnlyList<ManifestDocument> Read(string text)
    {
        var parser = new Parser(new StringReader(text));
        var documents = new List<ManifestDocument>();
        parser.Consume<StreamStart>();
        while (parser.TryConsume<DocumentStart>(out _))
        {
            var line = parser.Current?.Start.Line ?? 1;
            var content = new Reader(parser).ReadNode(0); // anchors belong to their document
            parser.Consume<DocumentEnd>();
            documents.Add(new ManifestDocument(content, line));
        }

        parser.Consume<StreamEnd>();
        return documents;
    }

    /// <summary>The JSON value of an unquoted scalar under the YAML 1.2 core schema (text when it is nothing else).</summary>
    public static JsonNode? Plain(string text)
    {
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
            // JSON has no such numbers; System.Text.Json reads these names into floating-point fields.
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF":
                return JsonValue.Create("Infinity");
            case "-.inf" or "-.Inf" or "-.INF":
                return JsonValue.Create("-Infinity");
            case ".nan" or ".NaN" or ".NAN":
                return JsonValue.Create("NaN");
        }

        if (JsonNumber().IsMatch(text))
        {
            return JsonNode.Parse(text); // keeps the exact digits
        }

        if (Hexadecimal().IsMatch(text) && long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex) && hex >= 0)
        {
            return JsonValue.Create(hex);
        }

        if (Octal().IsMatch(text))
        {
            try
            {
                return JsonValue.Create(Convert.ToInt64(text[2..], 8));
            }
            catch (OverflowException)
            {
                return JsonValue.Create(text);
            }
        }

        if (YamlFloat().IsMatch(text))
        {
            // +12, 012, .5, 1., 1e3: numbers in YAML but not written so in JSON.
            if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return JsonValue.Create(number);
            }

            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
            {
                return JsonValue.Create(real);
            }
        }

        return JsonValue.Create(text);
    }

    /// <summary>YAML documents (separated by <c>---</c>) that <see cref="Read"/> turns back into the same JSON.</summary>
    public static string Write(IEnumerable<JsonNode?> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(text, new EmitterSettings().WithIndentedSequences());
        emitter.Emit(new StreamStart());
        var first = true;
        foreach (var document in documents)
        {
            emitter.Emit(new DocumentStart(null, null, isImplicit: first));
            Emit(emitter, document);
            emitter.Emit(new DocumentEnd(isImplicit: true));
            first = false;
        }

        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static void Emit(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject mapping:
                emitter.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, true, MappingStyle.Block));
                foreach (var (key, value) in mapping)
                {
                    EmitText(emitter, key);
                    Emit(emitter, value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray sequence:
                emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, true, SequenceStyle.Block));
                foreach (var item in sequence)
                {
                    Emit(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                EmitText(emitter, value.GetValue<string>());
                break;
            case null:
                emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, "null", ScalarStyle.Plain, true, false));
                break;
            default:
                // Numbers keep their digits; true and false read back as booleans.
                emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, node.ToJsonString(), ScalarStyle.Plain, true, false));
                break;
        }
    }

    private static void EmitText(IEmitter emitter, string text)
    {
        // Text that would read back as something else ("100", "true", "null") is quoted; so are YAML 1.1's yes/no/on/off,
        // which older readers take for booleans. Everything else is left to the emitter (plain where YAML allows it).
        var quote = Plain(text) is not JsonValue value || value.GetValueKind() != JsonValueKind.String || value.GetValue<string>() != text || Yaml11Boolean().IsMatch(text);
        emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, text, quote ? ScalarStyle.DoubleQuoted : ScalarStyle.Any, true, true));
    }

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")]
    private static partial Regex JsonNumber();

    [GeneratedRegex("^0x[0-9a-fA-F]+$")]
    private static partial Regex Hexadecimal();

    [GeneratedRegex("^0o[0-7]+$")]
    private static partial Regex Octal();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex YamlFloat();

    [GeneratedRegex(@"^([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")]
    private static partial Regex SpecialFloat();

    [GeneratedRegex("^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$")]
    private static partial Regex Yaml11Boolean();

    /// <summary>Turns the events of one document into JSON, expanding aliases (each use gets its own copy).</summary>
    private sealed class Reader(IParser parser)
    {
        private readonly Dictionary<string, (JsonNode? Node, int Size)> _anchors = new(StringComparer.Ordinal);
        private int _nodes;

        public JsonNode? ReadNode(int depth)
        {
            var current = parser.Current ?? throw new YamlException("The YAML stream ended inside a document.");
            if (depth > MaxDepth)
            {
                throw new YamlException(current.Start, current.End, $"nesting is deeper than {MaxDepth} levels");
            }

            if (parser.TryConsume<AnchorAlias>(out var alias))
            {
                if (!_anchors.TryGetValue(alias.Value.Value, out var anchored))
                {
                    throw new YamlException(alias.Start, alias.End, $"alias *{alias.Value.Value} refers to no anchor before it");
                }

                Count(anchored.Size, alias);
                return anchored.Node?.DeepClone();
            }

            var before = _nodes;
            Count(1, current);
            JsonNode? node;
            AnchorName anchor;
            if (parser.TryConsume<Scalar>(out var scalar))
            {
                node = Scalar(scalar);
                anchor = scalar.Anchor;
            }
            else if (parser.TryConsume<SequenceStart>(out var sequence))
            {
                var array = new JsonArray();
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    array.Add(ReadNode(depth + 1));
                }

                node = array;
                anchor = sequence.Anchor;
            }
            else if (parser.TryConsume<MappingStart>(out var mapping))
            {
                var map = new JsonObject();
                var merged = new List<JsonObject>();
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var keyEvent = parser.Current!;
                    if (!parser.TryConsume<Scalar>(out var key))
                    {
                        throw new YamlException(keyEvent.Start, keyEvent.End, "a key must be a plain scalar, not a list or a mapping");
                    }

                    if (key.Value == MergeKey && key.Style == ScalarStyle.Plain)
                    {
                        merged.AddRange(ReadNode(depth + 1) switch
                        {
                            JsonObject one => [one],
                            JsonArray many when many.All(item => item is JsonObject) => many.Select(item => item!.AsObject()),
                            _ => throw new YamlException(key.Start, key.End, "<< merges a mapping (*anchor) or a list of them"),
                        });
                        continue;
                    }

                    if (map.ContainsKey(key.Value))
                    {
                        throw new YamlException(key.Start, key.End, $"duplicate key '{key.Value}'");
                    }

                    map[key.Value] = ReadNode(depth + 1);
                }

                // Keys written in the mapping win over merged ones; among merged mappings, the first wins.
                foreach (var (key, value) in merged.SelectMany(source => source.ToList()))
                {
                    if (!map.ContainsKey(key))
                    {
                        map[key] = value?.DeepClone();
                    }
                }

                node = map;
                anchor = mapping.Anchor;
            }
            else
            {
                throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
            }

            if (!anchor.IsEmpty)
            {
                _anchors[anchor.Value] = (node, _nodes - before);
            }

            return node;
        }

        private void Count(int nodes, ParsingEvent where)
        {
            _nodes += nodes;
            if (_nodes > MaxNodes)
            {
                throw new YamlException(where.Start, where.End, $"the document expands to more than {MaxNodes} values (aliases)");
            }
        }

        private static JsonNode? Scalar(Scalar scalar)
        {
            var tag = scalar.Tag;
            if (tag.IsEmpty)
            {
                return scalar.Style is ScalarStyle.Plain ? Plain(scalar.Value) : JsonValue.Create(scalar.Value);
            }

            var name = tag.IsNonSpecific ? "!" : tag.Value;
            if (name is "!" or CoreTag + "str")
            {
                return JsonValue.Create(scalar.Value);
            }

            var resolved = Plain(scalar.Value);
            var kind = resolved?.GetValueKind() ?? JsonValueKind.Null;
            var fits = name switch
            {
                CoreTag + "null" => kind == JsonValueKind.Null,
                CoreTag + "bool" => kind is JsonValueKind.True or JsonValueKind.False,
                CoreTag + "int" => kind == JsonValueKind.Number && resolved!.ToJsonString().All(c => c is '-' or (>= '0' and <= '9')),
                CoreTag + "float" => kind == JsonValueKind.Number || SpecialFloat().IsMatch(scalar.Value),
                _ => throw new YamlException(scalar.Start, scalar.End, $"tag {name} is not supported (use !!str, !!int, !!float, !!bool or !!null)"),
            };
            return fits ? resolved : throw new YamlException(scalar.Start, scalar.End, $"'{scalar.Value}' is not a !!{name[CoreTag.Length..]}");
        }
    }
}
