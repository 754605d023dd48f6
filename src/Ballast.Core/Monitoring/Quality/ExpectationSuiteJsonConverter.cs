using System.Text.Json;

namespace Ballast.Monitoring.Quality;

/// <summary>Reads and writes suites inside other JSON (an endpoint's spec) with <see cref="ExpectationSuiteReader"/>.</summary>
public sealed class ExpectationSuiteJsonConverter : System.Text.Json.Serialization.JsonConverter<ExpectationSuite>
{
    public override ExpectationSuite Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return ExpectationSuiteReader.Read(document.RootElement);
    }

    public override void Write(Utf8JsonWriter writer, ExpectationSuite value, JsonSerializerOptions options) => ExpectationSuiteReader.Write(writer, value);
}
