using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Tests.Runtime;
using Microsoft.ML;

namespace Ballast.Tests.Serving;

/// <summary>
/// ML.NET zips trained in the test, registered over the control API, and scored over V2 and MLflow's protocol on a
/// real Kestrel port; expected answers from ML.NET's own PredictionEngine on the same file.
/// </summary>
public sealed class MlNetServingTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_registered_mlnet_regression_is_served_over_v2_and_mlflow_dataframe_split_by_column_name()
    {
        var folder = Directory.CreateTempSubdirectory("ballast-mlnet-").FullName;
        try
        {
            var path = MlNetTestModels.SaveRegression(folder);
            var rows = MlNetTestModels.Houses(3, seed: 21);
            var ml = new MLContext(seed: 1);
            var engine = ml.Model.CreatePredictionEngine<House, HousePrediction>(ml.Model.Load(path, out _));
            var expected = rows.Select(row => (double)engine.Predict(row).Score).ToList();
            await using var server = await RunningServer.StartAsync();
            using var client = server.Client();

            var registered = await RegisterAsync(client, "houses", path);
            registered.GetProperty("flavor").GetString().ShouldBe("mlnet");
            registered.GetProperty("source").GetString()!.ShouldEndWith("/model.zip");
            registered.GetProperty("signature").GetProperty("inputs").EnumerateArray().Select(input => input.GetProperty("name").GetString()).ShouldBe(["Rooms", "Age", "Distance", "District"]);
            await CreateEndpointAsync(client, "houses");

            var metadata = await client.GetFromJsonAsync<JsonElement>("/v2/models/houses", Cancel);
            metadata.GetProperty("platform").GetString().ShouldBe("mlnet");
            metadata.GetProperty("outputs")[0].GetProperty("name").GetString().ShouldBe("Score");
            using var response = await client.PostAsJsonAsync("/v2/models/houses/infer", new
            {
                inputs = new object[]
                {
                    new { name = "Rooms", datatype = "FP32", shape = new[] { 3 }, data = rows.Select(row => row.Rooms) },
                    new { name = "Age", datatype = "FP32", shape = new[] { 3 }, data = rows.Select(row => row.Age) },
                    new { name = "Distance", datatype = "FP32", shape = new[] { 3 }, data = rows.Select(row => row.Distance) },
                    new { name = "District", datatype = "BYTES", shape = new[] { 3 }, data = rows.Select(row => row.District) },
                },
            }, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
            response.Headers.GetValues("Ballast-Model-Version").Single().ShouldBe("houses/1");
            var score = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("outputs").EnumerateArray().ShouldHaveSingleItem();
            score.GetProperty("name").GetString().ShouldBe("Score");
            score.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ShouldBe([3L]);
            score.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).Zip(expected).ShouldAllBe(pair => Math.Abs(pair.First - pair.Second) < 1e-5 * Math.Max(1, Math.Abs(pair.Second)));

            // MLflow's dataframe_split: the columns name the model's inputs, in any order; one output is a flat list.
            using var invoked = await client.PostAsJsonAsync("/endpoints/houses/invocations", new
            {
                dataframe_split = new
                {
                    columns = new[] { "District", "Rooms", "Age", "Distance" },
                    data = rows.Select(row => new object[] { row.District, row.Rooms, row.Age, row.Distance }),
                },
            }, Cancel);
            invoked.StatusCode.ShouldBe(HttpStatusCode.OK, await invoked.Content.ReadAsStringAsync(Cancel));
            var predictions = (await invoked.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("predictions");
            predictions.EnumerateArray().Select(v => v.GetDouble()).Zip(expected).ShouldAllBe(pair => Math.Abs(pair.First - pair.Second) < 1e-5 * Math.Max(1, Math.Abs(pair.Second)));

            using var bad = await client.PostAsJsonAsync("/v2/models/houses/infer", new { inputs = new[] { new { name = "Rooms", datatype = "INT64", shape = new[] { 1 }, data = new[] { 3 } } } }, Cancel);
            bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await bad.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe("input 'Rooms': expected FP32 [-1], got INT64 [1]");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_multiclass_mlnet_model_answers_v2_with_class_labels_and_mlflow_with_each_output()
    {
        var folder = Directory.CreateTempSubdirectory("ballast-mlnet-").FullName;
        try
        {
            var path = MlNetTestModels.SaveMulticlass(folder);
            var rows = MlNetTestModels.Flowers(2, seed: 3);
            await using var server = await RunningServer.StartAsync();
            using var client = server.Client();
            await RegisterAsync(client, "flowers", path);
            await CreateEndpointAsync(client, "flowers");

            using var response = await client.PostAsJsonAsync("/v2/models/flowers/infer", new
            {
                inputs = new[] { new { name = "Measurements", datatype = "FP32", shape = new[] { 2, 4 }, data = rows.SelectMany(row => row.Measurements) } },
            }, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
            var outputs = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("outputs").EnumerateArray().ToDictionary(output => output.GetProperty("name").GetString()!);
            outputs["PredictedLabel"].GetProperty("datatype").GetString().ShouldBe("BYTES");
            outputs["PredictedLabel"].GetProperty("data").EnumerateArray().Select(v => v.GetString()).ShouldBe(["setosa", "versicolor"]);
            outputs["Score"].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ShouldBe([2L, 3]);
            outputs["Score"].GetProperty("parameters").GetProperty("labels").EnumerateArray().Select(v => v.GetString()).ShouldBe(MlNetTestModels.Species);

            // Unnamed columns fill the one vector input in order; several outputs come back as an object.
            using var invoked = await client.PostAsJsonAsync("/endpoints/flowers/invocations", new { dataframe_split = new { data = rows.Select(row => row.Measurements) } }, Cancel);
            invoked.StatusCode.ShouldBe(HttpStatusCode.OK, await invoked.Content.ReadAsStringAsync(Cancel));
            var predictions = (await invoked.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("predictions");
            predictions.GetProperty("PredictedLabel").EnumerateArray().Select(v => v.GetString()).ShouldBe(["setosa", "versicolor"]);
            predictions.GetProperty("Score")[1].GetArrayLength().ShouldBe(3);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // A key output as a V2 client sees it: the class when the key has values (no parameters.labels to look it up in),
    // else the index from 0 a [KeyType(N)] field holds; never ML.NET's raw keys 1..N.
    [Fact]
    public async Task A_key_output_answers_v2_with_its_class_or_its_index_from_zero()
    {
        var folder = Directory.CreateTempSubdirectory("ballast-mlnet-").FullName;
        try
        {
            await using var server = await RunningServer.StartAsync();
            using var client = server.Client();
            await RegisterAsync(client, "flowers-keyed", MlNetTestModels.SaveMulticlassKeyed(folder));
            await CreateEndpointAsync(client, "flowers-keyed");
            await RegisterAsync(client, "segments", MlNetTestModels.SaveSegments(folder));
            await CreateEndpointAsync(client, "segments");

            var rows = MlNetTestModels.Flowers(2, seed: 3);
            var flowers = await InferAsync("flowers-keyed", new { name = "Measurements", datatype = "FP32", shape = new[] { 2, 4 }, data = rows.SelectMany(row => row.Measurements) });
            flowers.GetProperty("datatype").GetString().ShouldBe("BYTES");
            flowers.GetProperty("data").EnumerateArray().Select(v => v.GetString()).ShouldBe(["setosa", "versicolor"]);
            flowers.TryGetProperty("parameters", out _).ShouldBeFalse();

            var segments = await InferAsync("segments", new { name = "Spend", datatype = "FP32", shape = new[] { 3, 1 }, data = new[] { 25f, 125f, 225f } });
            segments.GetProperty("datatype").GetString().ShouldBe("INT64");
            segments.GetProperty("data").EnumerateArray().Select(v => v.GetInt64()).ShouldBe([0L, 1, 2]);

            async Task<JsonElement> InferAsync(string model, object input)
            {
                using var response = await client.PostAsJsonAsync($"/v2/models/{model}/infer", new { inputs = new[] { input } }, Cancel);
                response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
                return (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("outputs").EnumerateArray()
                    .Single(output => output.GetProperty("name").GetString() == "PredictedLabel");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_zip_that_is_not_an_mlnet_model_is_not_registered()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        using var form = new MultipartFormDataContent { { new ByteArrayContent("not a model"u8.ToArray()), "file", "broken.zip" } };

        using var response = await client.PostAsync("/api/v1/models/broken/versions", form, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!.ShouldStartWith("'broken.zip' was not registered: not a model ML.NET can load: ");
    }

    private static async Task<JsonElement> RegisterAsync(HttpClient client, string name, string path)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(path, Cancel));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        form.Add(file, "file", Path.GetFileName(path));
        using var response = await client.PostAsync($"/api/v1/models/{name}/versions", form, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
    }

    private static async Task CreateEndpointAsync(HttpClient client, string name)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/endpoints", new { name, variants = new[] { new { name = "main", model = $"models:/{name}/1" } } }, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
    }
}
