using System.Text.Json;

namespace Ballast;

/// <summary>
/// A System.Text.Json syntax error in the words Ballast's messages use: its reason without the reader's position
/// trailer ("Path: $.a | LineNumber: 0 | BytePositionInLine: 12.", which callers give in their own form) and, for files
/// read strictly (manifests, expectation suites), a plain sentence for a trailing comma or a comment instead of the
/// reader's advice to change its options.
/// </summary>
public static class JsonErrorText
{
    private static readonly string[] PositionMarkers = [" Path:", " LineNumber:"];

    /// <summary><paramref name="message"/> up to the reader's position trailer.</summary>
    public static string WithoutPosition(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var cut = message.Length;
        foreach (var marker in PositionMarkers)
        {
            var at = message.IndexOf(marker, StringComparison.Ordinal);
            cut = at >= 0 && at < cut ? at : cut;
        }

        return message[..cut].TrimEnd();
    }

    /// <summary>
    /// The reason of a strict file's syntax error: a trailing comma or a comment said plainly (YAML, named as
    /// <paramref name="yamlAlternative"/>, is the format with comments), else the reader's reason without its position.
    /// </summary>
    public static string Reason(JsonException exception, string yamlAlternative)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var message = exception.Message;
        return message.Contains("trailing comma", StringComparison.Ordinal) ? "a comma before a closing '}' or ']' (a trailing comma) is not JSON; remove it"
            : message.StartsWith("'/' is ", StringComparison.Ordinal) ? $"a comment is not JSON; remove it, or write {yamlAlternative} in YAML"
            : WithoutPosition(message);
    }
}
