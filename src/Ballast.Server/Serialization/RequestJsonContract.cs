using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;

namespace Ballast.Server.Serialization;

/// <summary>
/// Makes the JSON bodies of every route as strict as their types, where System.Text.Json alone is lenient: a field the
/// type does not have is refused rather than dropped (a misspelt <c>wieght</c> would otherwise change nothing, silently),
/// and so is a field the type only computes (<c>is_event_rule</c>: shown by a GET, never set by a body); a null element
/// of a list, or null value of a map, whose elements are not declared nullable (<c>IReadOnlyList&lt;string&gt;</c>,
/// unlike <c>IReadOnlyDictionary&lt;string, JsonNode?&gt;</c>) is refused naming it (<c>features[1] must not be null</c>)
/// rather than handed to validation and handlers that read every element. A contract modifier on the server's JSON
/// options, so it covers the body of every route and every type nested in one. The serializer stops at the first unknown
/// field; <see cref="UnknownFieldsAsync"/> then reads the body again (kept by <see cref="UseRequestJsonContract"/>) to
/// name every one at once.
/// </summary>
public static partial class RequestJsonContract
{
    // The fields of each body type, by the name System.Text.Json gives the type in its messages; filled as the
    // contracts are made (before any body of the type is read), so an unknown field's answer can list the known ones.
    private static readonly ConcurrentDictionary<string, IReadOnlyList<string>> KnownFields = new(StringComparer.Ordinal);

    // The computed properties this contract gave a setter that refuses them.
    private static readonly ConditionalWeakTable<JsonPropertyInfo, string> Refusing = new();

    /// <summary>The modifier: applies to Ballast's own object types, leaves every other contract as it is.</summary>
    public static void Modify(JsonTypeInfo type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (type.Kind != JsonTypeInfoKind.Object || type.Type.Namespace?.StartsWith("Ballast", StringComparison.Ordinal) != true)
        {
            return;
        }

        type.UnmappedMemberHandling ??= JsonUnmappedMemberHandling.Disallow;
        KnownFields[type.Type.ToString()] = Known(type);
        foreach (var property in type.Properties.Where(property => property.Get is not null && !Settable(property)).ToList())
        {
            // Computed: written in answers, and refused in a body like a field the type does not have (the serializer
            // would read it and drop it, so a body saying is_event_rule: false would be taken without a word).
            var typeName = type.Type.ToString();
            var name = property.Name;
            Refusing.AddOrUpdate(property, name);
            property.Set = (_, _) => throw new UnknownFieldException(name, typeName);
        }

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
            if (property.Get is not null && Settable(property) && info is not null && MayHoldNull(info))
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
    /// What a refused body gets wrong, in the body's own terms, one problem an entry (<c>steps[0].needs[1] must not be
    /// null</c>, <c>variants[0].wieght: unknown field (known: …)</c>); null for a JSON error this contract did not make.
    /// An unknown field is the first the serializer met: <see cref="UnknownFieldsAsync"/> finds them all.
    /// </summary>
    public static IReadOnlyList<string>? Describe(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var at = JsonValueMismatch.Place(exception.Path);
        if (exception is NullElementsException nulls)
        {
            return nulls.Problems.Select(problem => at.Length == 0 ? problem : $"{at}.{problem}").ToList();
        }

        if (Unknown(exception) is { } unknown)
        {
            var field = at.Length > 0 ? at : unknown.Field;
            return [KnownFields.TryGetValue(unknown.TypeName, out var known) ? Problem(field, known) : $"{field}: unknown field"];
        }

        return null;
    }

    /// <summary>Whether the serializer refused the body for a field its type does not take (then the body may have more).</summary>
    public static bool IsUnknownField(JsonException exception) => Unknown(exception ?? throw new ArgumentNullException(nameof(exception))) is not null;

    /// <summary>
    /// Every field of <paramref name="body"/> that its type (<paramref name="root"/>) does not take, at any depth, in
    /// the order of the body, in the words of <see cref="Describe"/>; null when the body cannot be read again (not kept,
    /// or not JSON after the field the serializer stopped at), so the caller names the first one only.
    /// </summary>
    public static async Task<IReadOnlyList<string>?> UnknownFieldsAsync(Stream body, JsonTypeInfo root, CancellationToken cancellationToken) =>
        (await WithoutUnknownFieldsAsync(body, root, cancellationToken).ConfigureAwait(false))?.Problems;

    /// <summary>
    /// <see cref="UnknownFieldsAsync"/>, and the body read as its type with those fields left out (null when it cannot
    /// be, for a problem of another kind), so that the route's own validation can say what else is wrong with it.
    /// </summary>
    public static async Task<(IReadOnlyList<string> Problems, object? Remaining)?> WithoutUnknownFieldsAsync(Stream body, JsonTypeInfo root, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(root);
        if (!body.CanSeek)
        {
            return null;
        }

        body.Position = 0;
        JsonNode? node;
        try
        {
            node = await JsonNode.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }

        var problems = new List<string>();
        FindUnknown(node, root, "", problems);
        if (problems.Count == 0)
        {
            return null;
        }

        try
        {
            return (problems, node.Deserialize(root));
        }
        catch (JsonException)
        {
            return (problems, null);
        }
    }

    /// <summary>
    /// Keeps the JSON body of a route that binds one so that a refused body can be read again to name every unknown
    /// field; up to 1 MiB stays in memory, a larger one goes to a temporary file. Not for scoring routes, whose bodies
    /// are parsed by their own reader and never bound.
    /// </summary>
    public static IApplicationBuilder UseRequestJsonContract(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Use((context, next) =>
        {
            if (context.Request.HasJsonContentType()
                && context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is { RequestType: not null })
            {
                context.Request.EnableBuffering(KeptInMemory);
            }

            return next(context);
        });
    }

    private const int KeptInMemory = 1024 * 1024;

    /// <summary>Adds every unknown field of <paramref name="node"/> to <paramref name="problems"/> and takes it out of the node.</summary>
    private static void FindUnknown(JsonNode? node, JsonTypeInfo type, string path, List<string> problems)
    {
        var options = type.Options;
        switch (type.Kind)
        {
            case JsonTypeInfoKind.Object when node is JsonObject fields:
                var strict = type.UnmappedMemberHandling == JsonUnmappedMemberHandling.Disallow && !type.Properties.Any(property => property.IsExtensionData);
                var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                foreach (var (name, value) in fields.ToList())
                {
                    var where = path.Length == 0 ? name : $"{path}.{name}";
                    var property = type.Properties.FirstOrDefault(property => !property.IsExtensionData && string.Equals(property.Name, name, comparison));
                    if (property is not null && Settable(property))
                    {
                        // A property with a converter of its own reads its value its own way (and checks it so).
                        if (property.CustomConverter is null)
                        {
                            FindUnknown(value, options.GetTypeInfo(property.PropertyType), where, problems);
                        }
                    }
                    else if (strict)
                    {
                        problems.Add(Problem(where, Known(type)));
                        fields.Remove(name);
                    }
                }

                break;
            case JsonTypeInfoKind.Enumerable when node is JsonArray items && type.ElementType is { } element:
                var elementType = options.GetTypeInfo(element);
                for (var index = 0; index < items.Count; index++)
                {
                    FindUnknown(items[index], elementType, $"{path}[{index}]", problems);
                }

                break;
            case JsonTypeInfoKind.Dictionary when node is JsonObject entries && type.ElementType is { } value:
                var valueType = options.GetTypeInfo(value);
                foreach (var (name, entry) in entries)
                {
                    FindUnknown(entry, valueType, $"{path}.{name}", problems);
                }

                break;
            case JsonTypeInfoKind.None when Nullable.GetUnderlyingType(type.Type) is { } underlying:
                FindUnknown(node, options.GetTypeInfo(underlying), path, problems);
                break;
        }
    }

    private static string Problem(string field, IReadOnlyList<string> known) => $"{field}: unknown field (known: {string.Join(", ", known)})";

    /// <summary>The fields a body may set: what a GET only shows (a computed property) is not one.</summary>
    private static List<string> Known(JsonTypeInfo type) => type.Properties.Where(Settable).Select(property => property.Name).ToList();

    private static bool Settable(JsonPropertyInfo property) =>
        !property.IsExtensionData && (property.AssociatedParameter is not null || (property.Set is not null && !Refusing.TryGetValue(property, out _)));

    private static (string Field, string TypeName)? Unknown(JsonException exception) =>
        exception is UnknownFieldException computed ? (computed.Field, computed.TypeName)
        : UnmappedPattern().Match(exception.Message) is { Success: true } unmapped ? (unmapped.Groups["field"].Value, unmapped.Groups["type"].Value)
        : null;

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

    [GeneratedRegex(@"^The JSON property '(?<field>.*)' could not be mapped to any \.NET member contained in type '(?<type>[^']+)'")]
    private static partial Regex UnmappedPattern();
}
