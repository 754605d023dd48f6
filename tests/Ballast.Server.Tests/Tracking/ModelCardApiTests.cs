using Ballast.Metadata;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ballast.Tests.Tracking;

public abstract class ModelCardApiTests(DatabaseEngine engine) : EngineServerTest(engine)
{

    [Fact]
    public async Task A_model_card_gathers_purpose_data_params_metrics_history_and_edited_sections()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
        await MlflowHttp.PostAsync(client, "runs/log-batch", new
        {
            run_id = runId,
            metrics = new[] { new { key = "auc", value = 0.87, timestamp = 1L, step = 0L } },
            @params = new[] { new { key = "num_leaves", value = "31" } },
        });
        await MlflowHttp.PostAsync(client, "runs/log-inputs", new
        {
            run_id = runId,
            datasets = new[] { new { tags = new[] { new { key = "mlflow.data.context", value = "training" } }, dataset = new { name = "churn", digest = "abc", source_type = "local", source = "{}", profile = "{\"num_rows\": 200}" } } },
        });
        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "churn", tags = new[] { new { key = "purpose", value = "Flag customers likely to leave" }, new { key = "owner", value = "growth-ml" } } });
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "churn", source = $"runs:/{runId}/model", run_id = runId });
        await MlflowHttp.PostAsync(client, "model-versions/transition-stage", new { name = "churn", version = "1", stage = "Production" });
        await MlflowHttp.PostAsync(client, "registered-models/alias", new { name = "churn", alias = "champion", version = "1" });
        (await client.PutAsJsonAsync("/api/v1/models/churn/versions/1/card/sections/limitations", new { text = "Not validated on B2B accounts." }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var card = await client.GetFromJsonAsync<JsonElement>("/api/v1/models/churn/versions/1/card", Cancel);
        card.GetProperty("purpose").GetString().ShouldBe("Flag customers likely to leave");
        card.GetProperty("owner").GetString().ShouldBe("growth-ml");
        card.GetProperty("stage").GetString().ShouldBe("Production");
        card.GetProperty("params").GetProperty("num_leaves").GetString().ShouldBe("31");
        card.GetProperty("metrics").GetProperty("auc").GetDouble().ShouldBe(0.87);
        card.GetProperty("training_data")[0].GetProperty("profile").GetString().ShouldBe("{\"num_rows\": 200}");
        card.GetProperty("sections").GetProperty("limitations").GetString().ShouldBe("Not validated on B2B accounts.");
        card.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("action").GetString()).ShouldBe(["create", "transition_stage", "set_alias", "set_tag"]);
        card.GetProperty("lineage").GetProperty("nodes").GetArrayLength().ShouldBe(3);

        var markdown = await client.GetStringAsync("/api/v1/models/churn/versions/1/card?format=markdown", Cancel);
        markdown.ShouldStartWith("# churn v1");
        markdown.ShouldContain("| num_leaves | 31 |");
        markdown.ShouldContain("## limitations");

        var cli = await CliProcess.RunAsync("models", "card", "churn", "1", "--url", server.BaseAddress.ToString().TrimEnd('/'));
        cli.ExitCode.ShouldBe(0, cli.ToString());
        cli.Output.ShouldStartWith("# churn v1");
    }

    [Fact]
    public async Task Card_errors_are_problem_json()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        using var missing = await client.GetAsync("/api/v1/models/nope/versions/1/card", Cancel);
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        missing.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");

        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "m" });
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "m", source = "s3://x" });
        using var bad = await client.PutAsJsonAsync("/api/v1/models/m/versions/1/card/sections/notes", new { }, Cancel);
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await bad.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!.ShouldContain("{\"text\"");
        using var misspelt = await client.PutAsJsonAsync("/api/v1/models/m/versions/1/card/sections/notes", new { words = "x" }, Cancel);
        misspelt.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await misspelt.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
            .ShouldBe("The body is not the JSON this route takes: words: unknown field (known: text).");
        // An unknown format was answered as JSON.
        using var xml = await client.GetAsync("/api/v1/models/m/versions/1/card?format=xml", Cancel);
        xml.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await xml.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("format 'xml' is not one of json, markdown.");
        (await client.GetAsync("/api/v1/models/m/versions/1/card?format=JSON", Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}

public sealed class SqliteModelCardApiTests() : ModelCardApiTests(DatabaseEngine.Sqlite);

public sealed class PostgresModelCardApiTests() : ModelCardApiTests(DatabaseEngine.Postgres);
