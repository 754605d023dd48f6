using System.Net;
using System.Net.Http.Headers;

namespace Ballast.Tests.Serving;

internal static class ServingHelpers
{
    /// <summary>Registers the iris fixture <paramref name="times"/> times (versions 1..times) through the multipart API.</summary>
    public static async Task RegisterIrisAsync(HttpClient client, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            using var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture("logreg_iris.onnx"), TestContext.Current.CancellationToken));
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "file", "logreg_iris.onnx");
            (await client.PostAsync("/api/v1/models/iris/versions", form, TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.Created);
        }
    }
}
