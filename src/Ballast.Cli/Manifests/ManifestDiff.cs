using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ballast.Cli.Manifests;

/// <summary>
/// What applying a manifest changes in the stored object, one line a field: <c>+ path: value</c> (added),
/// <c>- path: value</c> (removed), <c>~ path: old -> new</c>. List items that have names are matched by name
/// (<c>variants[b].weight</c>), so reordering or inserting one does not show every later item as changed.
/// </summary>
internal static class ManifestDiff
{
    /// <summary>The changes from <paramref name="current"/> (null: the object does not exist) to <paramref name="desired"/>; none when equal.</summary>
    public static IReadOnlyList<string> Compare(JsonObject? current, JsonObject desired)
    {
        var lines = new List<string>();
        // The name is the object's identity, shown in the header.
        Walk("", Without(current ?? [], "name"), Without(desired, "name"), lines);
        return lines;
    }

    private static void Walk(string path, JsonNode? old, JsonNode? now, List<string> lines)
    {
        if (JsonNode.DeepEquals(old, now))
        {
            return;
        }

        switch (old, now)
        {
            case (JsonObject before, JsonObject after):
                foreach (var key in Keys(before, after))
                {
                    Walk(Field(path, key), before[key], after[key], lines);
                }

                break;
            case (JsonArray before, JsonArray after) when Names(before) is { } oldNames && Names(after) is { } newNames:
                foreach (var (name, index) in oldNames.Select((name, index) => (name, index)).Where(pair => !newNames.Contains(pair.name)))
                {
                    Leaves('-', $"{path}[{name}]", Without(before[index]!.AsObject(), "name"), lines);
                }

                for (var i = 0; i < after.Count; i++)
                {
                    var at = oldNames.IndexOf(newNames[i]);
                    var item = Without(after[i]!.AsObject(), "name");
                    if (at < 0)
                    {
                        Leaves('+', $"{path}[{newNames[i]}]", item, lines);
                    }
                    else
                    {
                        Walk($"{path}[{newNames[i]}]", Without(before[at]!.AsObject(), "name"), item, lines);
                    }
                }

                var keptBefore = oldNames.Where(newNames.Contains).ToList();
                var keptAfter = newNames.Where(oldNames.Contains).ToList();
                if (!keptBefore.SequenceEqual(keptAfter))
                {
                    lines.Add($"  ~ {path}: order {string.Join(", ", keptBefore)} -> {string.Join(", ", keptAfter)}");
                }

                break;
            case (JsonArray before, JsonArray after) when before.Count == after.Count:
                for (var i = 0; i < after.Count; i++)
                {
                    Walk($"{path}[{i}]", before[i], after[i], lines);
                }

                break;
            case (null, _):
                Leaves('+', path, now, lines);
                break;
            case (_, null):
                Leaves('-', path, old, lines);
                break;
            default:
                lines.Add($"  ~ {path}: {Render(old)} -> {Render(now)}");
                break;
        }
    }

    private static void Leaves(char sign, string path, JsonNode? node, List<string> lines)
    {
        switch (node)
        {
            case JsonObject { Count: > 0 } fields:
                foreach (var (key, value) in fields)
                {
                    Leaves(sign, Field(path, key), value, lines);
                }

                break;
            case JsonArray { Count: > 0 } items when Names(items) is { } names:
                for (var i = 0; i < items.Count; i++)
                {
                    var item = Without(items[i]!.AsObject(), "name");
                    Leaves(sign, $"{path}[{names[i]}]", item.Count > 0 ? item : null, lines);
                }

                break;
            case JsonArray { Count: > 0 } items:
                for (var i = 0; i < items.Count; i++)
                {
                    Leaves(sign, $"{path}[{i}]", items[i], lines);
                }

                break;
            default:
                lines.Add(node is null ? $"  {sign} {path}" : $"  {sign} {path}: {Render(node)}");
                break;
        }
    }

    /// <summary>The keys of both, in the new order, a removed key placed after the key that preceded it before.</summary>
    private static List<string> Keys(JsonObject before, JsonObject after)
    {
        var keys = after.Select(pair => pair.Key).ToList();
        var previous = -1;
        foreach (var (key, _) in before)
        {
            var at = keys.IndexOf(key);
            if (at < 0)
            {
                keys.Insert(at = previous + 1, key);
            }

            previous = at;
        }

        return keys;
    }

    /// <summary>The items' names when every item is a mapping with a distinct text name; otherwise null (compared by position).</summary>
    private static List<string>? Names(JsonArray items)
    {
        var names = new List<string>();
        foreach (var item in items)
        {
            if (item is not JsonObject fields || fields["name"] is not JsonValue name || name.GetValueKind() != JsonValueKind.String || names.Contains(name.GetValue<string>()))
            {
                return null;
            }

            names.Add(name.GetValue<string>());
        }

        return names;
    }

    private static JsonObject Without(JsonObject fields, string key)
    {
        var copy = new JsonObject();
        foreach (var (name, value) in fields)
        {
            if (name != key)
            {
                copy[name] = value?.DeepClone();
            }
        }

        return copy;
    }

    private static string Field(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    /// <summary>Text as it is (quoted only when it would read as a number, boolean or null); everything else as JSON.</summary>
    private static string Render(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String && ManifestYaml.Plain(value.GetValue<string>()) is JsonValue plain
            && plain.GetValueKind() == JsonValueKind.String && plain.GetValue<string>() == value.GetValue<string>()
            ? value.GetValue<string>()
            : node?.ToJsonString() ?? "null";
}
