using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Ballast.Server.Serialization;

/// <summary>
/// A body value the serializer could not convert, in the body's own terms: where it is, what its field takes and what
/// was sent (<c>variants[0].weight: expected an integer, got a string ("ten")</c>), where System.Text.Json says only
/// "could not be converted to System.Int32". What the field takes comes from the route's body type, followed along the
/// exception's path; what was sent, from the body read again (kept by <see cref="RequestJsonContract.UseRequestJsonContract"/>).
/// </summary>
public static class JsonValueMismatch
{
    private const string ConversionFailure = "The JSON value could not be converted";

    /// <summary>
    /// The problem, one line; null when <paramref name="exception"/> is not a value of the wrong type (malformed JSON,
    /// or a converter's own words, which say what they want). Either half is left out when it cannot be known (a body
    /// not kept, a field with a converter of its own), never guessed.
    /// </summary>
    public static async Task<string?> DescribeAsync(JsonException exception, Stream body, JsonTypeInfo? root, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(body);
        return IsConversionFailure(exception)
            ? Describe(exception, await SentAsync(body, [], cancellationToken).ConfigureAwait(false), root)
            : null;
    }

    /// <summary><see cref="DescribeAsync"/> for a body already read (<c>ballast apply</c>'s manifest, say); null as there.</summary>
    public static string? Describe(JsonException exception, JsonElement? body, JsonTypeInfo? root)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (!IsConversionFailure(exception) || Segments(exception.Path) is not { } segments)
        {
            return null;
        }

        var target = root is null ? null : Target(root, segments);
        var sent = body is { } document ? At(document, segments) : null;
        var expected = target is null ? null : Expected(target, sent);
        var at = Place(segments);
        var what = (expected, sent) switch
        {
            (not null, { } value) => $"expected {expected}, got {Describe(value)}",
            (not null, null) => $"expected {expected}",
            (null, { } value) => $"the value has the wrong type ({Describe(value)})",
            _ => "the value has the wrong type",
        };
        return at.Length == 0 ? $"the body: {what}" : $"{at}: {what}";
    }

    private static bool IsConversionFailure(JsonException exception) => exception.Message.StartsWith(ConversionFailure, StringComparison.Ordinal);

    /// <summary>Whether the kept body is the JSON literal <c>null</c> (a body ASP.NET Core reports as not provided).</summary>
    public static async Task<bool> IsNullAsync(Stream body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        return await SentAsync(body, [], cancellationToken).ConfigureAwait(false) is { ValueKind: JsonValueKind.Null };
    }

    /// <summary>What a value of the body's type is, in a sentence: "a JSON object", "a JSON array".</summary>
    public static string Kind(JsonTypeInfo? root) => root?.Kind == JsonTypeInfoKind.Enumerable ? "a JSON array" : "a JSON object";

    /// <summary>The type the serializer was reading at <paramref name="segments"/>; null where a converter of a field's own reads it.</summary>
    private static Type? Target(JsonTypeInfo root, IReadOnlyList<object> segments)
    {
        var type = root;
        foreach (var segment in segments)
        {
            type = Unwrapped(type);
            switch (type.Kind, segment)
            {
                case (JsonTypeInfoKind.Object, string name):
                    var comparison = type.Options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                    var property = type.Properties.FirstOrDefault(property => !property.IsExtensionData && string.Equals(property.Name, name, comparison));
                    if (property is null || property.CustomConverter is not null)
                    {
                        return null;
                    }

                    type = type.Options.GetTypeInfo(property.PropertyType);
                    break;
                case (JsonTypeInfoKind.Enumerable, int) or (JsonTypeInfoKind.Dictionary, string) when type.ElementType is { } element:
                    type = type.Options.GetTypeInfo(element);
                    break;
                default:
                    return null;
            }
        }

        return type.Type;
    }

    private static JsonTypeInfo Unwrapped(JsonTypeInfo type) =>
        type.Kind == JsonTypeInfoKind.None && Nullable.GetUnderlyingType(type.Type) is { } underlying ? type.Options.GetTypeInfo(underlying) : type;

    /// <summary>What a value of <paramref name="type"/> is; an integer's range is named when a number outside it was sent.</summary>
    private static string? Expected(Type type, JsonElement? sent)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (Integer(type) is { } range)
        {
            return sent is { ValueKind: JsonValueKind.Number } number && IsWhole(number.GetRawText())
                ? $"an integer from {range.Min} to {range.Max}"
                : "an integer";
        }

        return type switch
        {
            _ when type == typeof(string) => "a string",
            _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(Guid) => "a UUID string",
            _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => "an ISO 8601 time string",
            _ when type == typeof(DateOnly) => "an ISO 8601 date string",
            _ when type == typeof(TimeSpan) => "a duration string (hh:mm:ss)",
            { IsEnum: true } => $"one of {string.Join(", ", Enum.GetNames(type))}",
            _ when type == typeof(JsonElement) || type == typeof(object) => null,
            _ when typeof(System.Collections.IDictionary).IsAssignableFrom(type) || IsGeneric(type, typeof(IDictionary<,>), typeof(IReadOnlyDictionary<,>)) => "an object",
            _ when type.IsArray || typeof(System.Collections.IEnumerable).IsAssignableFrom(type) => "an array",
            { IsPrimitive: false } => "an object",
            _ => null,
        };
    }

    private static (string Min, string Max)? Integer(Type type) => Type.GetTypeCode(type) switch
    {
        _ when type.IsEnum => null,
        TypeCode.Byte => ("0", byte.MaxValue.ToString(CultureInfo.InvariantCulture)),
        TypeCode.SByte => (sbyte.MinValue.ToString(CultureInfo.InvariantCulture), sbyte.MaxValue.ToString(CultureInfo.InvariantCulture)),
        TypeCode.Int16 => (short.MinValue.ToString(CultureInfo.InvariantCulture), short.MaxValue.ToString(CultureInfo.InvariantCulture)),
        TypeCode.UInt16 => ("0", ushort.MaxValue.ToString(CultureInfo.InvariantCulture)),
        TypeCode.Int32 => (int.MinValue.ToString(CultureInfo.InvariantCulture), int.MaxValue.ToString(CultureInfo.InvariantCulture)),
        TypeCode.UInt32 => ("0", uint.MaxValue.ToString(CultureInfo.InvariantCulture)),
        TypeCode.Int64 => (long.MinValue.ToString(CultureInfo.InvariantCulture), long.MaxValue.ToString(CultureInfo.InvariantCulture)),
        TypeCode.UInt64 => ("0", ulong.MaxValue.ToString(CultureInfo.InvariantCulture)),
        _ => null,
    };

    /// <summary>A number written without a fraction or exponent (so a failure to read it as an integer is its range).</summary>
    private static bool IsWhole(string raw) => raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0;

    private static bool IsGeneric(Type type, params Type[] definitions) =>
        (type.IsGenericType && definitions.Contains(type.GetGenericTypeDefinition()))
        || type.GetInterfaces().Any(face => face.IsGenericType && definitions.Contains(face.GetGenericTypeDefinition()));

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"a string ({Short(value.GetRawText())})",
        JsonValueKind.Number => $"a number ({Short(value.GetRawText())})",
        JsonValueKind.True or JsonValueKind.False => $"a boolean ({value.GetRawText()})",
        JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        _ => "an array",
    };

    private static string Short(string raw) => raw.Length <= 40 ? raw : $"{raw[..37]}...";

    /// <summary>The value at <paramref name="segments"/> of the kept body; null when the body is not kept or not there.</summary>
    private static async Task<JsonElement?> SentAsync(Stream body, IReadOnlyList<object> segments, CancellationToken cancellationToken)
    {
        if (!body.CanSeek || body.Length == 0)
        {
            return null;
        }

        body.Position = 0;
        try
        {
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
            return At(document.RootElement, segments)?.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The value at <paramref name="segments"/> of <paramref name="node"/>; null when it is not there.</summary>
    private static JsonElement? At(JsonElement node, IReadOnlyList<object> segments)
    {
        foreach (var segment in segments)
        {
            var found = (segment, node.ValueKind) switch
            {
                (string name, JsonValueKind.Object) => node.TryGetProperty(name, out var field) ? field : (JsonElement?)null,
                (int index, JsonValueKind.Array) => index < node.GetArrayLength() ? node[index] : null,
                _ => null,
            };
            if (found is not { } next)
            {
                return null;
            }

            node = next;
        }

        return node;
    }

    /// <summary>
    /// The steps of a path as System.Text.Json writes it (<c>$.variants[0].weight</c>, <c>$['a.b']</c>): a field's name
    /// or an element's index; null for a path it does not write.
    /// </summary>
    internal static IReadOnlyList<object>? Segments(string? path)
    {
        if (path is null || !path.StartsWith('$'))
        {
            return null;
        }

        var segments = new List<object>();
        var i = 1;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                segments.Add(path[(i + 1)..end]);
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['"))
            {
                // A quote inside the name is written \'.
                var name = new System.Text.StringBuilder();
                var j = i + 2;
                for (; j < path.Length && !(path[j] == '\'' && j + 1 < path.Length && path[j + 1] == ']'); j++)
                {
                    if (path[j] == '\\' && j + 1 < path.Length && path[j + 1] == '\'')
                    {
                        j++;
                    }

                    name.Append(path[j]);
                }

                if (j >= path.Length)
                {
                    return null;
                }

                segments.Add(name.ToString());
                i = j + 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                if (end < 0 || !int.TryParse(path.AsSpan(i + 1, end - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    return null;
                }

                segments.Add(index);
                i = end + 1;
            }
            else
            {
                return null;
            }
        }

        return segments;
    }

    /// <summary>
    /// A serializer's path (<c>$.variants[0]['a.b']</c>) as messages write a body's field (<c>variants[0].a.b</c>); empty
    /// for the body itself (or no path), the path without its <c>$</c> when it is not one the serializer writes.
    /// </summary>
    internal static string Place(string? path) =>
        Segments(path) is { } segments ? Place(segments) : path is null ? "" : path.TrimStart('$');

    /// <summary>The place as messages write a body's field: <c>variants[0].weight</c>; empty for the body itself.</summary>
    private static string Place(IReadOnlyList<object> segments)
    {
        var place = new System.Text.StringBuilder();
        foreach (var segment in segments)
        {
            _ = segment is int index
                ? place.Append('[').Append(index.ToString(CultureInfo.InvariantCulture)).Append(']')
                : (place.Length > 0 ? place.Append('.') : place).Append((string)segment);
        }

        return place.ToString();
    }
}
