using Microsoft.AspNetCore.Http;

namespace Ballast.Server.Serialization;

/// <summary>
/// The media type of a body that a route reads itself (scoring, feedback), checked the same way everywhere: JSON is
/// <c>application/json</c> or a <c>+json</c> type (RFC 6839), with any parameters (a charset).
/// </summary>
public static class RequestMediaType
{
    /// <summary>The request's media type without its parameters, in lowercase; null when it names none.</summary>
    public static string? Of(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var type = request.ContentType;
        if (string.IsNullOrWhiteSpace(type))
        {
            return null;
        }

        var parameters = type.IndexOf(';', StringComparison.Ordinal);
        return (parameters < 0 ? type : type[..parameters]).Trim().ToLowerInvariant();
    }

    public static bool IsJson(string? mediaType) => mediaType is not null && IsJson(mediaType.AsSpan());

    /// <summary>Refuses (415) a body whose Content-Type is given and is not JSON; a body without one is read as JSON. Allocates nothing (scoring calls it on every request).</summary>
    public static void RequireJson(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var type = request.ContentType;
        if (string.IsNullOrWhiteSpace(type))
        {
            return;
        }

        var parameters = type.IndexOf(';', StringComparison.Ordinal);
        if (!IsJson((parameters < 0 ? type.AsSpan() : type.AsSpan(0, parameters)).Trim()))
        {
            throw new UnsupportedMediaTypeException(NotJson(type));
        }
    }

    private static bool IsJson(ReadOnlySpan<char> mediaType) =>
        mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    /// <summary>What a route that takes JSON says to a body of another type (curl -d sends a form unless told otherwise).</summary>
    public static string NotJson(string? contentType) =>
        $"Send the body as JSON with Content-Type: application/json{(contentType is { Length: > 0 } ? $", not {contentType}" : "")}.";
}

/// <summary>A body of a media type its route does not read (answered 415 in the route's error format).</summary>
public sealed class UnsupportedMediaTypeException(string message) : Exception(message);
