using Ballast.Metadata;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ballast.Tests.Tracking;

/// <summary>MLflow's artifact proxy routes (mlflow/server/handlers.py: upload, download, list, delete) over the real artifact store.</summary>
public abstract class MlflowArtifactsApiTests(DatabaseEngine engine) : EngineServerTest(engine)
{
    private const string Proxy = "/api/2.0/mlflow-artifacts/artifacts";


    [Fact]
    public async Task A_run_s_artifacts_are_uploaded_listed_downloaded_and_deleted_through_the_proxy()
    {
        // Larger than the server's request limit: artifact uploads stream and are exempt from it.
        await using var server = await StartServerAsync(options => options with { MaxRequestBodyBytes = 64 * 1024 });
        using var client = server.Client();
        var run = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0" })).GetProperty("run").GetProperty("info");
        var runId = run.GetProperty("run_id").GetString();
        run.GetProperty("artifact_uri").GetString().ShouldBe($"mlflow-artifacts:/0/{runId}/artifacts");

        var model = new byte[3 * 1024 * 1024];
        new Random(11).NextBytes(model);
        using (var content = new ByteArrayContent(model))
        {
            (await client.PutAsync($"{Proxy}/0/{runId}/artifacts/model/model.onnx", content, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var content = new StringContent("flavors: {}\n"))
        {
            (await client.PutAsync($"{Proxy}/0/{runId}/artifacts/model/MLmodel", content, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var root = await client.GetFromJsonAsync<JsonElement>($"{Proxy}?path=0/{runId}/artifacts", Cancel);
        root.GetProperty("files").EnumerateArray().Select(f => (f.GetProperty("path").GetString(), f.GetProperty("is_dir").GetBoolean())).ShouldBe([("model", true)]);

        var listed = await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/artifacts/list?run_id={runId}&path=model", Cancel);
        listed.GetProperty("root_uri").GetString().ShouldBe($"mlflow-artifacts:/0/{runId}/artifacts");
        listed.GetProperty("files").EnumerateArray().Select(f => (f.GetProperty("path").GetString(), f.TryGetProperty("file_size", out var size) ? size.GetInt64() : -1))
            .ShouldBe([("model/MLmodel", 12L), ("model/model.onnx", model.LongLength)]);

        (await client.GetByteArrayAsync($"{Proxy}/0/{runId}/artifacts/model/model.onnx", Cancel)).ShouldBe(model);

        (await client.DeleteAsync($"{Proxy}/0/{runId}/artifacts/model", Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var gone = await client.GetAsync($"{Proxy}/0/{runId}/artifacts/model/model.onnx", Cancel);
        gone.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await gone.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error_code").GetString().ShouldBe("RESOURCE_DOES_NOT_EXIST");
        (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/artifacts/list?run_id={runId}", Cancel)).TryGetProperty("files", out _).ShouldBeFalse();
    }

    [Theory]
    [InlineData("?path=../etc")]
    [InlineData("?path=/etc")]
    public async Task Paths_that_escape_the_store_are_refused_in_mlflow_format(string query)
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        using var response = await client.GetAsync(Proxy + query, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        error.GetProperty("error_code").GetString().ShouldBe("INVALID_PARAMETER_VALUE");
        error.GetProperty("message").GetString()!.ShouldContain("Invalid artifact path");
    }

    // MLflow's local artifact repository fails on these with an OSError (a 500); they are the client's mistake.
    [Fact]
    public async Task Uploading_a_file_over_a_folder_or_below_a_file_is_invalid_parameter_value()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        using (var content = new StringContent("model"))
        {
            (await client.PutAsync($"{Proxy}/0/run/artifacts/model/f.txt", content, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        foreach (var (path, reason) in new[]
        {
            ("0/run/artifacts/model", "Invalid artifact path '0/run/artifacts/model': it is a folder of artifacts, which a file cannot replace; upload files below it instead."),
            ("0/run/artifacts/model/f.txt/sub", "Invalid artifact path '0/run/artifacts/model/f.txt/sub': 'f.txt' is a file, so nothing can be stored below it."),
        })
        {
            using var content = new StringContent("x");
            using var response = await client.PutAsync($"{Proxy}/{path}", content, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            var error = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            (error.GetProperty("error_code").GetString(), error.GetProperty("message").GetString()).ShouldBe(("INVALID_PARAMETER_VALUE", reason));
        }

        (await client.GetStringAsync($"{Proxy}/0/run/artifacts/model/f.txt", Cancel)).ShouldBe("model");
    }

    [Fact]
    public async Task Deleting_what_does_not_exist_is_404()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        using var response = await client.DeleteAsync($"{Proxy}/0/nothing/here", Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error_code").GetString().ShouldBe("RESOURCE_DOES_NOT_EXIST");
    }
}

public sealed class SqliteMlflowArtifactsApiTests() : MlflowArtifactsApiTests(DatabaseEngine.Sqlite);

public sealed class PostgresMlflowArtifactsApiTests() : MlflowArtifactsApiTests(DatabaseEngine.Postgres);
