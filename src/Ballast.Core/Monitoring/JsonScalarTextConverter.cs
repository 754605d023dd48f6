using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ballast.Monitoring;

/// <summary>
/// Reads a spec field that is text but may be written as another JSON scalar (YAML's unquoted <c>true</c> is a
/// boolean): a string as it is, <c>true</c>/<c>false</c> and numbers as their JSON text, so that validation can name
/// what was given; objects and arrays are refused. Writes the text as a string.
/// </summary>
public sealed class JsonScalarTextConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan),
        _ => throw new JsonException($"expected text, true or a number, not {reader.TokenType}"),
    };

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value);
    }
}
