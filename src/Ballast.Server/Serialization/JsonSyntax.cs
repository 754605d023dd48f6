using System.Text.Json;

namespace Ballast.Server.Serialization;

/// <summary>
/// What is wrong with a body that routes parse themselves (V2 scoring, MLflow invocations and tracking, feedback), said
/// in the body's terms: empty, or where (1-based line, byte) and why, without the reader's trailer
/// ("LineNumber: 0 | BytePositionInLine: 12.") and its zero-based line.
/// </summary>
public static class JsonSyntax
{
    /// <summary>Whether the body held no JSON at all (empty, or white space).</summary>
    public static bool IsEmpty(JsonException exception) =>
        (exception ?? throw new ArgumentNullException(nameof(exception))).Message.StartsWith("The input does not contain any JSON tokens", StringComparison.Ordinal);

    /// <summary>Where and why: " (line 1, byte 12): Expected a value…" (without the reason's full stop).</summary>
    public static string Detail(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var reason = JsonErrorText.WithoutPosition(exception.Message).TrimEnd('.');
        var at = exception.LineNumber is { } line ? $" (line {line + 1}, byte {exception.BytePositionInLine ?? 0})" : "";
        return $"{at}: {reason}";
    }

    /// <summary>The predicate after "the body": "is empty" or "is not valid JSON (line L, byte B): reason".</summary>
    public static string Problem(JsonException exception) => IsEmpty(exception) ? "is empty" : "is not valid JSON" + Detail(exception);
}
