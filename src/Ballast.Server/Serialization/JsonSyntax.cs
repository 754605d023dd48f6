using System.Text.Json;

namespace Ballast.Server.Serialization;

/// <summary>
/// What is wrong with a body that routes parse themselves (V2 scoring, MLflow invocations, feedback), said in the
/// body's terms: "is empty", or "is not valid JSON (line 1, byte 12): …" without the reader's trailer
/// ("LineNumber: 0 | BytePositionInLine: 12.") and its zero-based line.
/// </summary>
public static class JsonSyntax
{
    /// <summary>The predicate after "the body": "is empty" or "is not valid JSON (line L, byte B): reason".</summary>
    public static string Problem(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var reason = exception.Message.Split(" LineNumber:", 2, StringSplitOptions.None)[0].Trim().TrimEnd('.');
        if (reason.StartsWith("The input does not contain any JSON tokens", StringComparison.Ordinal))
        {
            return "is empty";
        }

        var at = exception.LineNumber is { } line ? $" (line {line + 1}, byte {exception.BytePositionInLine ?? 0})" : "";
        return $"is not valid JSON{at}: {reason}";
    }
}
