using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Ballast.Cli.Manifests;

/// <summary>
/// Finds fields a manifest holds that its kind does not have (a misspelt <c>wieght</c>), or only computes (what a GET
/// shows, such as <c>is_event_rule</c>). The server refuses them too, in the same words; here every one of every object
/// is listed before anything is sent. The known fields come from the kind's JSON contract, so they follow the server's types.
/// </summary>
internal static class ManifestFields
{
    /// <summary>The fields a manifest sets: a computed property (read-only, no constructor parameter) is not one.</summary>
    public static IEnumerable<JsonPropertyInfo> Settable(JsonTypeInfo type) =>
        (type ?? throw new ArgumentNullException(nameof(type))).Properties.Where(property => !property.IsExtensionData && (property.Set is not null || property.AssociatedParameter is not null));

    /// <summary>
    /// Adds a problem for every unknown field of <paramref name="node"/>, at any depth; with <paramref name="remove"/>
    /// also takes them out of it (so that what remains can be checked for its other problems).
    /// </summary>
    public static void FindUnknown(JsonNode? node, JsonTypeInfo type, string path, ICollection<string> problems, bool remove = false)
    {
        if (type.Kind == JsonTypeInfoKind.Object && node is JsonObject fields)
        {
            var known = Settable(type).ToDictionary(property => property.Name, StringComparer.Ordinal);
            foreach (var (key, value) in fields.ToList())
            {
                var where = path.Length == 0 ? key : $"{path}.{key}";
                if (known.TryGetValue(key, out var property))
                {
                    FindUnknown(value, type.Options.GetTypeInfo(property.PropertyType), where, problems, remove);
                }
                else
                {
                    problems.Add($"{where}: unknown field (known: {string.Join(", ", known.Keys)})");
                    if (remove)
                    {
                        fields.Remove(key);
                    }
                }
            }
        }
        else if (type.Kind == JsonTypeInfoKind.Enumerable && node is JsonArray items && type.ElementType is { } element)
        {
            var elementType = type.Options.GetTypeInfo(element);
            for (var i = 0; i < items.Count; i++)
            {
                FindUnknown(items[i], elementType, $"{path}[{i}]", problems, remove);
            }
        }
    }
}
