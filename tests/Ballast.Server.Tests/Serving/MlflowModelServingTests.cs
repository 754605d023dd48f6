using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Tests.Runtime;
using Ballast.Tests.Tracking;

namespace Ballast.Tests.Serving;

/// <summary>The MLflow way: a run logs a model folder through the artifact proxy, a version is registered from runs:/…, and Ballast serves it.</summary>
public sealed class MlflowModelServingTests
{
    private const string Proxy = "/api/2.0/mlflow-artifacts/artifacts";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Model_folders_logged_to_a_run_are_served_by_their_model_file_onnx_or_mlnet()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var folder = Directory.CreateTempSubdirectory("ballast-mlflow-model-").FullName;
        try
        {
            var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0", run_name = "train" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
            await UploadAsync(client, $"0/{runId}/artifacts/iris/MLmodel", "flavors:\n  onnx: {}\n"u8.ToArray());
            await UploadAsync(client, $"0/{runId}/artifacts/iris/model.onnx", await File.ReadAllBytesAsync(TestServices.Fixture("logreg_iris.onnx"), Cancel));
            await UploadAsync(client, $"0/{runId}/artifacts/houses/MLmodel", "flavors: {}\n"u8.ToArray());
            await UploadAsync(client, $"0/{runId}/artifacts/houses/model.zip", await File.ReadAllBytesAsync(MlNetTestModels.SaveRegression(folder), Cancel));
            foreach (var name in new[] { "iris", "houses" })
            {
                await MlflowHttp.PostAsync(client, "registered-models/create", new { name });
                await MlflowHttp.PostAsync(client, "model-versions/create", new { name, source = $"runs:/{runId}/{name}" });
                using var created = await client.PutAsJsonAsync($"/api/v1/endpoints/{name}", new { variants = new[] { new { name = "main", model = $"models:/{name}/1" } } }, Cancel);
                created.StatusCode.ShouldBe(HttpStatusCode.OK, await created.Content.ReadAsStringAsync(Cancel));
                (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("status").GetProperty("ready").GetBoolean().ShouldBeTrue();
            }

            using var iris = await client.PostAsJsonAsync("/endpoints/iris/invocations", new { instances = new[] { new[] { 6.7, 3.0, 5.2, 2.3 } } }, Cancel);
            iris.StatusCode.ShouldBe(HttpStatusCode.OK, await iris.Content.ReadAsStringAsync(Cancel));
            (await iris.Content.ReadAsStringAsync(Cancel)).ShouldContain("\"output_label\":[2]");

            using var houses = await client.PostAsJsonAsync("/endpoints/houses/invocations", new
            {
                dataframe_split = new { columns = new[] { "Rooms", "Age", "Distance", "District" }, data = new object[][] { [3.0, 10.0, 5.0, "north"] } },
            }, Cancel);
            houses.StatusCode.ShouldBe(HttpStatusCode.OK, await houses.Content.ReadAsStringAsync(Cancel));

            // A folder without a model file: either kind would have done, so the reason names both (it said ".zip").
            await UploadAsync(client, $"0/{runId}/artifacts/empty/MLmodel", "flavors: {}\n"u8.ToArray());
            await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "empty" });
            await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "empty", source = $"runs:/{runId}/empty" });
            using var empty = await client.PostAsJsonAsync("/api/v1/endpoints/empty/dry-run", new { variants = new[] { new { name = "main", model = "models:/empty/1" } } }, Cancel);
            empty.StatusCode.ShouldBe(HttpStatusCode.OK, await empty.Content.ReadAsStringAsync(Cancel));
            (await empty.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("problem").GetString().ShouldBe($"model empty/1: no .onnx or .zip model file at 'runs:/{runId}/empty'");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task UploadAsync(HttpClient client, string path, byte[] bytes)
    {
        using var content = new ByteArrayContent(bytes);
        (await client.PutAsync($"{Proxy}/{path}", content, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
