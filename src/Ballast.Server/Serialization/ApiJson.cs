using System.Text.Encodings.Web;
using System.Text.Json;

namespace Ballast.Server.Serialization;

/// <summary>
/// How API responses are encoded: quotes, apostrophes, <c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c> and non-ASCII letters are
/// written as they are (<c>'</c>, not <c>\u0027</c>), so an error read with curl reads as written; quotes and control
/// characters are still escaped as JSON needs. The bodies are JSON, never embedded in HTML: the dashboard renders its
/// pages with the HTML encoder and inlines no JSON.
/// </summary>
public static class ApiJson
{
    public static JavaScriptEncoder Encoder => JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>The options of a response written with a <see cref="Utf8JsonWriter"/> of its own.</summary>
    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = Encoder };

    /// <summary>The source-generated metadata with the responses' encoder, for results written outside the minimal API's JSON options.</summary>
    public static ServerJsonContext Context { get; } = new(new JsonSerializerOptions(ServerJsonContext.Default.Options) { Encoder = Encoder });
}
