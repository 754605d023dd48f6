using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;

namespace Ballast.Tests.Serving;

internal static class ServingHelpers
{
    /// <summary>One iris row as a V2 input tensor (a setosa: the model answers class 0).</summary>
    public static readonly object IrisRow = new { name = "float_input", shape = new[] { 1, 4 }, datatype = "FP32", data = new[] { 5.1, 3.5, 1.4, 0.2 } };

    /// <summary>Adds a version of dataset <paramref name="name"/> holding one CSV file (<paramref name="path"/>) through the datasets API.</summary>
    public static async Task AddDatasetAsync(HttpClient client, string name, string csv, string path = "passengers.csv")
    {
        var cancel = TestContext.Current.CancellationToken;
        var bytes = Encoding.UTF8.GetBytes(csv.ReplaceLineEndings("\n"));
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using (var put = await client.PutAsync($"/api/v1/datasets/blobs/{sha}", new ByteArrayContent(bytes), cancel))
        {
            put.StatusCode.ShouldBeOneOf(HttpStatusCode.OK, HttpStatusCode.Created, HttpStatusCode.NoContent);
        }

        using var added = await client.PostAsJsonAsync($"/api/v1/datasets/{name}/versions", new { files = new[] { new { path, size = bytes.Length, sha256 = sha } } }, cancel);
        added.StatusCode.ShouldBe(HttpStatusCode.Created, await added.Content.ReadAsStringAsync(cancel));
    }

    /// <summary>Registers the iris fixture <paramref name="times"/> times (versions 1..times) through the multipart API.</summary>
    public static Task RegisterIrisAsync(HttpClient client, int times = 1) => RegisterAsync(client, "iris", "logreg_iris.onnx", times);

    /// <summary>Registers a fixture under <paramref name="name"/> <paramref name="times"/> times (versions 1..times) through the multipart API.</summary>
    public static async Task RegisterAsync(HttpClient client, string name, string fixture, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            using var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture(fixture), TestContext.Current.CancellationToken));
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "file", fixture);
            using var response = await client.PostAsync($"/api/v1/models/{name}/versions", form, TestContext.Current.CancellationToken);
            response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
    }
}
