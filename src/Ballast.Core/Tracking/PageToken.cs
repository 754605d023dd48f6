using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ballast.Tracking;

/// <summary>
/// Opaque page tokens, as MLflow's: base64 of <c>{"offset": N}</c>, and for searches tied to their query
/// (<see cref="PageTokenQuery"/>) the query's parameters beside the offset, as MLflow's logged-model search token
/// (<c>SearchLoggedModelsPaginationToken</c>) carries them.
/// </summary>
public static class PageToken
{
    // Quotes and other characters as typed, not \u-escaped: the value is read in an error message.
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Create(long offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"offset\": {offset}}}"));

    /// <summary>A token for the next page of <paramref name="query"/>: its parameters, then the offset.</summary>
    public static string Create(long offset, PageTokenQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var token = new JsonObject();
        foreach (var part in query.Parts)
        {
            token[part.Key] = part.Value?.DeepClone();
        }

        token["offset"] = offset;
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(token.ToJsonString()));
    }

    /// <summary>
    /// The offset a token carries. Anything else (not base64, not JSON, JSON that is not an object with a non-negative
    /// integer <c>offset</c>) is the client's mistake: INVALID_PARAMETER_VALUE, as MLflow's
    /// <c>SearchUtils.parse_start_offset_from_page_token</c>, never an internal error.
    /// </summary>
    public static long ParseOffset(string? token) => string.IsNullOrEmpty(token) ? 0 : Parse(token).Offset;

    /// <summary>
    /// The offset of a token issued for <paramref name="query"/>. A token of another query (other experiment ids,
    /// filter, order...) would page through results it was not counted on: INVALID_PARAMETER_VALUE naming the first
    /// parameter that differs, with the request's value and the token's, as MLflow's
    /// <c>SearchLoggedModelsPaginationToken.validate</c>.
    /// </summary>
    public static long ParseOffset(string? token, PageTokenQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }

        var (offset, parsed) = Parse(token);
        foreach (var part in query.Parts)
        {
            var found = parsed.TryGetPropertyValue(part.Key, out var value) ? value : null;
            if (!JsonNode.DeepEquals(found, part.Value))
            {
                throw TrackingException.Invalid($"{part.Mismatch}. Expected: {Show(part.Value)}. Found: {Show(found)}");
            }
        }

        return offset;
    }

    public static int MaxResults(int? requested)
    {
        var value = requested ?? TrackingLimits.SearchMaxResultsDefault;
        if (value <= 0 || value > TrackingLimits.SearchMaxResultsThreshold)
        {
            throw TrackingException.Invalid($"Invalid value {value} for parameter 'max_results' supplied. It must be at most {TrackingLimits.SearchMaxResultsThreshold} and positive.");
        }

        return value;
    }

    private static (long Offset, JsonObject Token) Parse(string token)
    {
        try
        {
            if (JsonNode.Parse(Convert.FromBase64String(token)) is JsonObject root
                && root["offset"] is JsonValue offset
                && offset.GetValueKind() == JsonValueKind.Number
                && offset.TryGetValue<long>(out var value)
                && value >= 0)
            {
                return (value, root);
            }
        }
        catch (Exception exception) when (exception is FormatException or JsonException or ArgumentException or InvalidOperationException)
        {
            // Reported below with the same message as any other malformed token.
        }

        throw TrackingException.Invalid($"Invalid page token '{token}': it was not issued by this server.");
    }

    private static string Show(JsonNode? value) => value?.ToJsonString(Readable) ?? "null";
}

/// <summary>
/// The request parameters a search's page token is tied to (those that decide which results there are and their
/// order, not the page size), each with the sentence that reports a token of another query.
/// </summary>
public sealed class PageTokenQuery
{
    private readonly List<PageTokenPart> parts = [];

    internal IReadOnlyList<PageTokenPart> Parts => parts;

    /// <param name="key">The token's field.</param>
    /// <param name="mismatch">What a differing value is reported as, e.g. <c>Filter string in the page token does not match the requested filter string</c>.</param>
    /// <param name="value">This request's value, normalized (an empty filter is null) so that equal queries compare equal.</param>
    public PageTokenQuery With(string key, string mismatch, JsonNode? value)
    {
        parts.Add(new PageTokenPart(key, mismatch, value));
        return this;
    }
}

internal sealed record PageTokenPart(string Key, string Mismatch, JsonNode? Value);
