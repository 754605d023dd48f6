using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;

namespace Ballast.Server.Serialization;

/// <summary>
/// Makes the JSON bodies of every route as strict as their types, where System.Text.Json alone is lenient: a field the
/// type does not have is refused rather than dropped (a misspelt <c>wieght</c> would otherwise change nothing, silently),
/// and a null element of a list, or null value of a map, whose elements are not declared nullable
/// (<c>IReadOnlyList&lt;string&gt;</c>, unlike <c>IReadOnlyDictionary&lt;string, JsonNode?&gt;</c>) is refused naming it
/// (<c>features[1] must not be null</c>) rather than handed to validation and handlers that read every element. A contract
/// modifier on the server's JSON options, so it covers the body of every route and every type nested in one.
/// </summary>
public static partial class RequestJsonContract
{
    // The fields of each body type, by the name System.Text.Json gives the type in its messages; filled as the
    // contracts are made (before any body of the type is read), so an unknown field's answer can list the known ones.
    private static readonly ConcurrentDictionary<string, IReadOnlyList<string>> KnownFields = new(StringComparer.Ordinal);

    /// <summary>The modifier: applies to Ballast's own object types, leaves every other contract as it is.</summary>
    public static void Modify(JsonTypeInfo type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (type.Kind != JsonTypeInfoKind.Object || type.Type.Namespace?.StartsWith("Ballast", StringComparison.Ordinal) != true)
        {
            return;
        }

        type.UnmappedMemberHandling ??= JsonUnmappedMemberHandling.Disallow;
        KnownFields[type.Type.ToString()] = type.Properties.Select(property => property.Name).ToList();

        // Not thread-safe, and contracts may be made concurrently: one context per type.
        var nullability = new NullabilityInfoContext();
        var checks = new List<(JsonPropertyInfo Property, NullabilityInfo Nullability)>();
        foreach (var property in type.Properties)
        {
            var info = property.AttributeProvider switch
            {
                PropertyInfo member => nullability.Create(member),
                FieldInfo member => nullability.Create(member),
                _ => null,
            };
            // Only what the body sets: a computed property is not read from JSON (and may not expect a half-built object).
            if (property.Get is not null && (property.Set is not null || property.AssociatedParameter is not null) && info is not null && MayHoldNull(info))
            {
                checks.Add((property, info));
            }
        }

        if (checks.Count == 0)
        {
            return;
        }

        var then = type.OnDeserialized;
        type.OnDeserialized = value =>
        {
            var problems = new List<string>();
            foreach (var (property, info) in checks)
            {
                if (property.Get!(value) is { } collection)
                {
                    FindNulls(collection, info, property.Name, problems);
                }
            }

            if (problems.Count > 0)
            {
                throw new NullElementsException(problems);
            }

            then?.Invoke(value);
        };
    }

    /// <summary>
    /// What a refused body gets wrong, in the body's own terms (<c>steps[0].needs[1] must not be null</c>,
    /// <c>variants[0].wieght: unknown field (known: …)</c>); null for a JSON error this contract did not make.
    /// </summary>
    public static string? Describe(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var at = Relative(exception.Path);
        if (exception is NullElementsException nulls)
        {
            return string.Join("; ", nulls.Problems.Select(problem => at.Length == 0 ? problem : $"{at}.{problem}"));
        }

        if (UnmappedPattern().Match(exception.Message) is { Success: true } unmapped)
        {
            var field = at.Length > 0 ? at : unmapped.Groups["field"].Value;
            return KnownFields.TryGetValue(unmapped.Groups["type"].Value, out var known)
                ? $"{field}: unknown field (known: {string.Join(", ", known)})"
                : $"{field}: unknown field";
        }

        return null;
    }

    /// <summary>Whether a collection of this declared type can hold a null that the declaration refuses, at any depth.</summary>
    private static bool MayHoldNull(NullabilityInfo info) =>
        IsCollection(info.Type) && Element(info) is { } element && (RefusesNull(element) || MayHoldNull(element));

    /// <summary>
    /// Whether an element so declared refuses null: a reference type not declared nullable, or a <see cref="JsonElement"/>
    /// (any JSON value, such as an entity key that is a string or a number; a JSON null arrives as one of kind Null).
    /// </summary>
    private static bool RefusesNull(NullabilityInfo element) =>
        (!element.Type.IsValueType && element.ReadState != NullabilityState.Nullable) || element.Type == typeof(JsonElement);

    private static void FindNulls(object collection, NullabilityInfo info, string path, List<string> problems)
    {
        var element = Element(info)!;
        if (collection is IDictionary map)
        {
            foreach (DictionaryEntry entry in map)
            {
                Visit(entry.Value, element, $"{path}.{entry.Key}", problems);
            }
        }
        else if (collection is IEnumerable items)
        {
            var index = 0;
            foreach (var item in items)
            {
                Visit(item, element, $"{path}[{index++}]", problems);
            }
        }
    }

    private static void Visit(object? item, NullabilityInfo element, string path, List<string> problems)
    {
        if (item is null or JsonElement { ValueKind: JsonValueKind.Null })
        {
            if (RefusesNull(element))
            {
                problems.Add($"{path} must not be null");
            }
        }
        else if (MayHoldNull(element))
        {
            FindNulls(item, element, path, problems);
        }
    }

    private static bool IsCollection(Type type) => type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type);

    /// <summary>The elements of a list or array, the values of a map.</summary>
    private static NullabilityInfo? Element(NullabilityInfo info) =>
        info.ElementType ?? (info.GenericTypeArguments.Length > 0 ? info.GenericTypeArguments[^1] : null);

    /// <summary><c>$.steps[0]</c> as a body's field is written in messages: <c>steps[0]</c> (the root: empty).</summary>
    private static string Relative(string? path) =>
        path is null or "$" ? "" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    [GeneratedRegex(@"^The JSON property '(?<field>.*)' could not be mapped to any \.NET member contained in type '(?<type>[^']+)'")]
    private static partial Regex UnmappedPattern();
}
