using System.Text;
using System.Text.Json;

namespace Ballast.Tracking;

/// <summary>Opaque page tokens, as MLflow's: base64 of <c>{"offset": N}</c>.</summary>
public static class PageToken
{
    public static string Create(long offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"offset\": {offset}}}"));

    /// <summary>
    /// The offset a token carries. Anything else (not base64, not JSON, JSON that is not an object with a non-negative
    /// integer <c>offset</c>) is the client's mistake: INVALID_PARAMETER_VALUE, as MLflow's
    /// <c>SearchUtils.parse_start_offset_from_page_token</c>, never an internal error.
    /// </summary>
    public static long ParseOffset(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }

        try
        {
            using var document = JsonDocument.Parse(Convert.FromBase64String(token));
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("offset", out var offset)
                && offset.ValueKind == JsonValueKind.Number
                && offset.TryGetInt64(out var value)
                && value >= 0)
            {
                return value;
            }
        }
        catch (Exception exception) when (exception is FormatException or JsonException or ArgumentException)
        {
            // Reported below with the same message as any other malformed token.
        }

        throw TrackingException.Invalid($"Invalid page token '{token}': it was not issued by this server.");
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
}
