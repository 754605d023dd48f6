using System.Text.Json;
using Ballast.Runtime;

// The baseline of bench/serving.sh: a bare ASP.NET Core minimal API that parses a V2 request, runs the same ONNX
// Runtime session Ballast would, and writes the V2 answer. No routing, auth, prediction log or metrics: what a
// hand-written service does. Usage: ServingBaseline MODEL.onnx PORT
var runtime = OnnxModelRuntime.Load(args[0]);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://127.0.0.1:{args[1]}");
var app = builder.Build();
app.MapPost("/v2/models/{name}/infer", async (string name, HttpContext http) =>
{
    using var document = await JsonDocument.ParseAsync(http.Request.Body);
    var request = V2Codec.ReadRequest(document.RootElement);
    var outputs = runtime.Infer(request.Inputs, request.Outputs);
    http.Response.ContentType = "application/json";
    await using var writer = new Utf8JsonWriter(http.Response.BodyWriter.AsStream());
    writer.WriteStartObject();
    writer.WriteString("model_name", name);
    writer.WriteStartArray("outputs");
    foreach (var output in outputs)
    {
        TensorJson.WriteTensor(writer, output);
    }

    writer.WriteEndArray();
    writer.WriteEndObject();
});
app.Run();
