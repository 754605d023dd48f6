using System.Globalization;
using System.Text.Json;
using Ballast.Tracking;
using Microsoft.AspNetCore.Http;

namespace Ballast.Server.Tracking;

/// <summary>
/// The parameters of an MLflow REST call: the JSON body of a POST or the query string of a GET, read with MLflow's
/// validation messages ("Missing value for required parameter 'name'…"). Malformed JSON is BAD_REQUEST.
/// </summary>
internal sealed class MlflowRequest
{
    private const string DocsHint = "See the API docs for more information about request parameters.";

    private readonly JsonElement? _body;
    private readonly IQueryCollection _query;

    private MlflowRequest(JsonElement? body, IQueryCollection query)
    {
        _body = body;
        _query = query;
    }

    public static async Task<MlflowRequest> ReadAsync(HttpRequest request)
    {
        if (HttpMethods.IsGet(request.Method) || request.ContentLength == 0)
        {
            return new MlflowRequest(null, request.Query);
        }

        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted).ConfigureAwait(false);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new TrackingException("BAD_REQUEST", $"The request body must be a JSON object, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
            }

            return new MlflowRequest(document.RootElement.Clone(), request.Query);
        }
        catch (JsonException exception)
        {
            throw new TrackingException("BAD_REQUEST", Serialization.JsonSyntax.IsEmpty(exception)
                ? "The request body is empty; send a JSON object (or no Content-Length)."
                : $"Malformed JSON in the request body{Serialization.JsonSyntax.Detail(exception)}.");
        }
    }

    public string RequiredString(string name) =>
        OptionalString(name) is { Length: > 0 } value ? value : throw Missing(name);

    public string? OptionalString(string name)
    {
        if (_body is not { } body)
        {
            return _query.TryGetValue(name, out var values) ? values.ToString() : null;
        }

        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return element.ValueKind == JsonValueKind.String ? element.GetString() : throw WrongType(name, element, "string");
    }

    public int? OptionalInt(string name)
    {
        if (_body is not { } body)
        {
            if (!_query.TryGetValue(name, out var values))
            {
                return null;
            }

            return int.TryParse(values.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw TrackingException.Invalid($"Invalid value '{values}' for parameter '{name}' supplied: it must be an integer. {DocsHint}");
        }

        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var number) ? number
            : element.ValueKind == JsonValueKind.String && int.TryParse(element.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var text) ? text
            : throw WrongType(name, element, "integer");
    }

    public IReadOnlyList<string> StringList(string name)
    {
        if (_body is not { } body)
        {
            return _query.TryGetValue(name, out var values) ? values.Where(value => value is not null).Select(value => value!).ToList() : [];
        }

        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            throw WrongType(name, element, "list of strings");
        }

        var strings = new List<string>();
        foreach (var item in element.EnumerateArray())
        {
            // A null (or any non-string) element names its place: experiment_ids[1].
            strings.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw WrongType($"{name}[{strings.Count}]", item, "string"));
        }

        return strings;
    }

    public IReadOnlyList<TrackingTag> Tags(string name)
    {
        if (_body is not { } body || !body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            throw WrongType(name, element, "list of {\"key\", \"value\"} objects");
        }

        var tags = new List<TrackingTag>();
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw WrongType($"{name}[{tags.Count}]", item, "{\"key\", \"value\"} object");
            }

            if (!item.TryGetProperty("key", out var key) || key.ValueKind != JsonValueKind.String)
            {
                throw key.ValueKind == JsonValueKind.Undefined ? Missing($"{name}[{tags.Count}].key") : WrongType($"{name}[{tags.Count}].key", key, "string");
            }

            // A value that is not a string is refused, as protobuf's JSON parser refuses it for MLflow's string field
            // (and as set-tag and log-parameter here refuse it), rather than stored as a tag without a value.
            var value = !item.TryGetProperty("value", out var v) || v.ValueKind == JsonValueKind.Null ? null
                : v.ValueKind == JsonValueKind.String ? v.GetString()
                : throw WrongType($"{name}[{tags.Count}].value", v, "string");
            tags.Add(new TrackingTag(key.GetString()!, value));
        }

        return tags;
    }

    /// <summary>The first of several accepted names that is present (MLflow keeps <c>run_uuid</c> beside <c>run_id</c>).</summary>
    public string RequiredString(string name, string alias) =>
        OptionalString(name) is { Length: > 0 } value ? value : OptionalString(alias) is { Length: > 0 } old ? old : throw Missing(name);

    public long? OptionalLong(string name)
    {
        var element = Element(name);
        if (element is null)
        {
            return _body is null && _query.TryGetValue(name, out var values)
                ? long.TryParse(values.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed
                    : throw TrackingException.Invalid($"Invalid value '{values}' for parameter '{name}' supplied: it must be an integer. {DocsHint}")
                : null;
        }

        var value = element.Value;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number
            : value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var text) ? text
            : throw WrongType(name, value, "integer");
    }

    public long RequiredLong(string name) => OptionalLong(name) ?? throw Missing(name);

    /// <summary>A number; also the strings "NaN", "Infinity" and "-Infinity", which JSON cannot spell as numbers.</summary>
    public double RequiredDouble(string name)
    {
        var value = Element(name) ?? throw Missing(name);
        if (value.ValueKind == JsonValueKind.Number)
        {
            return value.GetDouble();
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            switch (value.GetString())
            {
                case "NaN": return double.NaN;
                case "Infinity" or "inf": return double.PositiveInfinity;
                case "-Infinity" or "-inf": return double.NegativeInfinity;
            }

            if (double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
            {
                return parsed;
            }
        }

        throw WrongType(name, value, "number");
    }

    /// <summary>A list of JSON objects, each read as a request of its own (the entries of log-batch).</summary>
    public IReadOnlyList<MlflowRequest> Objects(string name)
    {
        if (Element(name) is not { } element)
        {
            return [];
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            throw WrongType(name, element, "list of objects");
        }

        var objects = new List<MlflowRequest>();
        foreach (var item in element.EnumerateArray())
        {
            objects.Add(item.ValueKind == JsonValueKind.Object ? new MlflowRequest(item, _query) : throw WrongType($"{name}[{objects.Count}]", item, "JSON object"));
        }

        return objects;
    }

    public bool OptionalBool(string name)
    {
        if (Element(name) is { } element)
        {
            return element.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.String when bool.TryParse(element.GetString(), out var parsed) => parsed,
                _ => throw WrongType(name, element, "boolean"),
            };
        }

        return _body is null && _query.TryGetValue(name, out var values) && bool.TryParse(values.ToString(), out var query) && query;
    }

    /// <summary>A boolean that is <paramref name="absent"/> when not given (protobuf's <c>[default = …]</c>).</summary>
    public bool Bool(string name, bool absent) => Element(name) is null && (_body is not null || !_query.ContainsKey(name)) ? absent : OptionalBool(name);

    /// <summary>
    /// A protobuf enum as its name or number (the raw text of either), as protobuf's JSON parser takes it; null when absent.
    /// The caller maps it to its names.
    /// </summary>
    public string? EnumValue(string name) => Element(name) is { ValueKind: JsonValueKind.Number } number ? number.GetRawText() : OptionalString(name);

    /// <summary>A nested JSON object, read as a request of its own.</summary>
    public MlflowRequest RequiredObject(string name)
    {
        var element = Element(name) ?? throw Missing(name);
        return element.ValueKind == JsonValueKind.Object ? new MlflowRequest(element, _query) : throw WrongType(name, element, "object");
    }

    private JsonElement? Element(string name) =>
        _body is { } body && body.TryGetProperty(name, out var element) && element.ValueKind != JsonValueKind.Null ? element : null;

    /// <summary>
    /// MLflow's <c>ViewType</c> enum, by name or by number (1 ACTIVE_ONLY, 2 DELETED_ONLY, 3 ALL): protobuf's JSON
    /// parser takes both, and MLflow's handlers check <c>view_type</c> with <c>_assert_intlike</c>.
    /// </summary>
    public ViewType ViewType(string name)
    {
        var value = Element(name) is { ValueKind: JsonValueKind.Number } number ? number.GetRawText() : OptionalString(name);
        return value?.ToUpperInvariant() switch
        {
            null or "" or "ACTIVE_ONLY" or "1" => global::Ballast.Tracking.ViewType.ActiveOnly,
            "DELETED_ONLY" or "2" => global::Ballast.Tracking.ViewType.DeletedOnly,
            "ALL" or "3" => global::Ballast.Tracking.ViewType.All,
            _ => throw TrackingException.Invalid($"Invalid value '{value}' for parameter '{name}' supplied: use ACTIVE_ONLY, DELETED_ONLY or ALL. {DocsHint}"),
        };
    }

    /// <summary>MLflow's <c>RunStatus</c> enum, by name or by number (1 RUNNING, 2 SCHEDULED, 3 FINISHED, 4 FAILED, 5 KILLED), as protobuf's JSON parser takes it.</summary>
    public string? RunStatus(string name) => Element(name) is { ValueKind: JsonValueKind.Number } number
        ? number.GetRawText() switch
        {
            "1" => "RUNNING",
            "2" => "SCHEDULED",
            "3" => "FINISHED",
            "4" => "FAILED",
            "5" => "KILLED",
            var other => throw TrackingException.Invalid($"Invalid value {other} for parameter '{name}' supplied: use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED (or 1-5). {DocsHint}"),
        }
        : OptionalString(name);

    private static TrackingException Missing(string name) =>
        TrackingException.Invalid($"Missing value for required parameter '{name}'. {DocsHint}");

    private static TrackingException WrongType(string name, JsonElement element, string expected) =>
        TrackingException.Invalid($"Invalid value {element.GetRawText()} for parameter '{name}' supplied: expected a {expected}, got {element.ValueKind.ToString().ToLowerInvariant()}. {DocsHint}");
}
