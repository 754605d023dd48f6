using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ballast.Tracking;

/// <summary>
/// Opaque page tokens, as MLflow's: base64 of <c>{"offset": N}</c>, and for searches tied to their query
/// (<see cref="PageTokenQuery"/>) the search's name and its query's parameters beside the offset, as MLflow's
/// logged-model search token (<c>SearchLoggedModelsPaginationToken</c>) carries them; a search that pages by key
/// (the audit trail) adds the last key of the page (<see cref="PageCursor"/>).
/// </summary>
public static class PageToken
{
    // Quotes and other characters as typed, not \u-escaped: the value is read in an error message.
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// MLflow's plain token, byte for byte as <c>base64(json.dumps({"offset": N}))</c>: the metric history's, and the one
    /// every search issued before its tokens were tied to their query (accepted by those searches for compatibility).
    /// </summary>
    public static string Create(long offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"offset\": {offset}}}"));

    /// <summary>A token for the next page of <paramref name="query"/>: its search, its parameters, then the offset.</summary>
    public static string Create(long offset, PageTokenQuery query) => Encode(Tied(offset, query));

    /// <summary>
    /// The token of the page after one read at <paramref name="offset"/>: null when the search, asked for one row more
    /// than <paramref name="pageSize"/>, <paramref name="fetched"/> no more than a page (this was the last).
    /// </summary>
    public static string? Next(long offset, int pageSize, int fetched, PageTokenQuery query) =>
        fetched > pageSize ? Create(offset + pageSize, query) : null;

    /// <summary>
    /// The offset a token carries. Anything else (not base64, not JSON, JSON that is not an object with a non-negative
    /// integer <c>offset</c>) is the client's mistake: INVALID_PARAMETER_VALUE, as MLflow's
    /// <c>SearchUtils.parse_start_offset_from_page_token</c>, never an internal error.
    /// </summary>
    public static long ParseOffset(string? token) => string.IsNullOrEmpty(token) ? 0 : Parse(token).Offset;

    /// <summary>
    /// The offset of a token issued for <paramref name="query"/>. A token of another search, or of another query of this
    /// one (other experiment ids, filter, order...), would page through results it was not counted on:
    /// INVALID_PARAMETER_VALUE naming the first parameter that differs, with the request's value and the token's, as
    /// MLflow's <c>SearchLoggedModelsPaginationToken.validate</c>.
    /// </summary>
    /// <remarks>
    /// A plain token exactly as <see cref="Create(long)"/> writes it, which is what these searches issued before their
    /// tokens were tied to their query, is read as its offset unchecked, so that a client paging across an upgrade
    /// carries on. A tied token never has that form (it always holds its search's name), so none slips through as one
    /// by mistake; any other token without a search's name is refused as not this server's.
    /// </remarks>
    public static long ParseOffset(string? token, PageTokenQuery query) => ParseChecked(token, query).Offset;

    /// <summary>
    /// A keyset token for the next page of <paramref name="query"/>: the offset, as every token has (what a reader of
    /// offsets alone, such as the previous release, pages by), and the sort key of the last result of this page, which
    /// the next page starts below (or above), so that results added between two pages neither shift it nor repeat.
    /// </summary>
    public static string Create(long offset, PageTokenQuery query, long lastKey)
    {
        var token = Tied(offset, query);
        token[PageTokenQuery.LastKeyKey] = lastKey;
        return Encode(token);
    }

    /// <summary>
    /// Where the page of a token issued for <paramref name="query"/> starts, checked as <see cref="ParseOffset(string?, PageTokenQuery)"/>
    /// checks it: below (or above) <see cref="PageCursor.LastKey"/> when the token is a keyset one, else at
    /// <see cref="PageCursor.Offset"/> (no token, a plain token of the previous releases, or a tied token issued before
    /// the search paged by key).
    /// </summary>
    public static PageCursor ParseCursor(string? token, PageTokenQuery query)
    {
        var (offset, parsed) = ParseChecked(token, query);
        if (parsed is null || !parsed.TryGetPropertyValue(PageTokenQuery.LastKeyKey, out var lastKey))
        {
            return new PageCursor(offset, null);
        }

        if (lastKey is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out var key))
        {
            return new PageCursor(offset, key);
        }

        throw NotIssuedHere(token!);
    }

    // The offset and, for a tied token, its fields; a plain {"offset": N} token has none to read further (null).
    private static (long Offset, JsonObject? Token) ParseChecked(string? token, PageTokenQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (string.IsNullOrEmpty(token))
        {
            return (0, null);
        }

        var (offset, parsed) = Parse(token);
        if (string.Equals(token, Create(offset), StringComparison.Ordinal))
        {
            return (offset, null);
        }

        if (!parsed.TryGetPropertyValue(PageTokenQuery.SearchKey, out var search))
        {
            throw NotIssuedHere(token);
        }

        Compare(PageTokenQuery.SearchMismatch, query.Search, search);
        foreach (var part in query.Parts)
        {
            Compare(part.Mismatch, part.Value, parsed.TryGetPropertyValue(part.Key, out var value) ? value : null);
        }

        return (offset, parsed);
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

    private static JsonObject Tied(long offset, PageTokenQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var token = new JsonObject { [PageTokenQuery.SearchKey] = query.Search.DeepClone() };
        foreach (var part in query.Parts)
        {
            token[part.Key] = part.Value?.DeepClone();
        }

        token["offset"] = offset;
        return token;
    }

    private static string Encode(JsonObject token) => Convert.ToBase64String(Encoding.UTF8.GetBytes(token.ToJsonString()));

    private static void Compare(string mismatch, JsonNode? expected, JsonNode? found)
    {
        if (!JsonNode.DeepEquals(found, expected))
        {
            throw TrackingException.Invalid($"{mismatch}. Expected: {Show(expected)}. Found: {Show(found)}");
        }
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

        throw NotIssuedHere(token);
    }

    private static TrackingException NotIssuedHere(string token) => TrackingException.Invalid($"Invalid page token '{token}': it was not issued by this server.");

    private static string Show(JsonNode? value) => value?.ToJsonString(Readable) ?? "null";
}
