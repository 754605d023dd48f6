using Ballast.Metadata;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ballast.Tests.Tracking;

public abstract class LineageApiTests(DatabaseEngine engine) : EngineServerTest(engine)
{

    [Fact]
    public async Task A_model_version_s_lineage_runs_back_through_its_run_to_the_datasets_it_used()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0", run_name = "train" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
        await MlflowHttp.PostAsync(client, "runs/log-inputs", new
        {
            run_id = runId,
            datasets = new[]
            {
                new { tags = new[] { new { key = "mlflow.data.context", value = "training" } }, dataset = new { name = "churn", digest = "aaa111", source_type = "local", source = "{}" } },
                new { tags = new[] { new { key = "mlflow.data.context", value = "validation" } }, dataset = new { name = "churn-holdout", digest = "bbb222", source_type = "local", source = "{}" } },
            },
        });
        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "churn" });
        // No run_id: the run is found from the runs:/ source, as MLflow clients register it.
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "churn", source = $"runs:/{runId}/model" });

        var graph = await client.GetFromJsonAsync<JsonElement>("/api/v1/lineage/model-versions/churn/1", Cancel);

        graph.GetProperty("nodes").EnumerateArray().Select(n => (n.GetProperty("id").GetString(), n.GetProperty("kind").GetString())).ShouldBe([
            ("model_version:churn/1", "model_version"),
            ($"run:{runId}", "run"),
            ("dataset:churn@aaa111", "dataset_version"),
            ("dataset:churn-holdout@bbb222", "dataset_version"),
        ]);
        graph.GetProperty("edges").EnumerateArray().Select(e => (e.GetProperty("from").GetString(), e.GetProperty("to").GetString(), e.GetProperty("relation").GetString()))
            .ShouldBe([
                ($"run:{runId}", "model_version:churn/1", "produced"),
                ("dataset:churn@aaa111", $"run:{runId}", "input_to"),
                ("dataset:churn-holdout@bbb222", $"run:{runId}", "input_to"),
            ]);
        graph.GetProperty("edges")[2].GetProperty("context").GetString().ShouldBe("validation");
    }

    [Fact]
    public async Task An_unknown_model_version_is_404_problem_json()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        using var response = await client.GetAsync("/api/v1/lineage/model-versions/nope/1", Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("Model Version (name=nope, version=1) not found");
    }
}

public sealed class SqliteLineageApiTests() : LineageApiTests(DatabaseEngine.Sqlite);

public sealed class PostgresLineageApiTests() : LineageApiTests(DatabaseEngine.Postgres);
