using Ballast.Metadata;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Ballast.Tests.Tracking;

/// <summary>MLflow REST runs as the MLflow Python client drives them (request shapes from MLflow's REST API reference).</summary>
public abstract class MlflowRunsApiTests(DatabaseEngine engine) : EngineServerTest(engine)
{
    private const string Api = "/api/2.0/mlflow";


    [Fact]
    public async Task A_training_run_is_logged_and_read_back_as_an_mlflow_client_does()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var experimentId = (await MlflowHttp.PostAsync(client, "experiments/create", new { name = "churn" })).GetProperty("experiment_id").GetString();

        var run = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = experimentId, run_name = "lgbm-1", start_time = 1_700_000_000_000, tags = new[] { new { key = "mlflow.user", value = "ana" } } }))
            .GetProperty("run");
        var runId = run.GetProperty("info").GetProperty("run_id").GetString()!;
        run.GetProperty("info").GetProperty("run_uuid").GetString().ShouldBe(runId);
        run.GetProperty("info").GetProperty("status").GetString().ShouldBe("RUNNING");

        await MlflowHttp.PostAsync(client, "runs/log-parameter", new { run_id = runId, key = "num_leaves", value = "31" });
        await MlflowHttp.PostAsync(client, "runs/log-metric", new { run_id = runId, key = "auc", value = 0.81, timestamp = 1_700_000_001_000, step = 0 });
        await MlflowHttp.PostAsync(client, "runs/log-batch", new
        {
            run_id = runId,
            metrics = new object[] { new { key = "auc", value = 0.86, timestamp = 1_700_000_002_000, step = 1 }, new { key = "loss", value = "NaN", timestamp = 1_700_000_002_000, step = 1 } },
            @params = new[] { new { key = "model", value = "lgbm" } },
            tags = new[] { new { key = "team", value = "growth" } },
        });
        await MlflowHttp.PostAsync(client, "runs/set-tag", new { run_id = runId, key = "note", value = "first" });
        var finished = await MlflowHttp.PostAsync(client, "runs/update", new { run_id = runId, status = "FINISHED", end_time = 1_700_000_003_000 });
        finished.GetProperty("run_info").GetProperty("status").GetString().ShouldBe("FINISHED");

        var read = (await client.GetFromJsonAsync<JsonElement>($"{Api}/runs/get?run_id={runId}", Cancel)).GetProperty("run");
        var data = read.GetProperty("data");
        data.GetProperty("params").EnumerateArray().Select(p => (p.GetProperty("key").GetString(), p.GetProperty("value").GetString())).ShouldBe([("model", "lgbm"), ("num_leaves", "31")]);
        var metrics = data.GetProperty("metrics").EnumerateArray().ToDictionary(m => m.GetProperty("key").GetString()!, m => m.GetProperty("value"));
        metrics["auc"].GetDouble().ShouldBe(0.86);
        metrics["loss"].GetString().ShouldBe("NaN");
        data.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("key").GetString()).ShouldBe(["mlflow.runName", "mlflow.user", "note", "team"]);
        read.GetProperty("info").GetProperty("end_time").GetInt64().ShouldBe(1_700_000_003_000);

        var history = await client.GetFromJsonAsync<JsonElement>($"{Api}/metrics/get-history?run_id={runId}&metric_key=auc", Cancel);
        history.GetProperty("metrics").EnumerateArray().Select(m => m.GetProperty("value").GetDouble()).ShouldBe([0.81, 0.86]);
    }

    [Theory]
    [InlineData("runs/log-metric", "{\"run_id\": \"RUN\", \"key\": \"m\", \"timestamp\": 1}", 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'value'")]
    [InlineData("runs/log-metric", "{\"run_id\": \"RUN\", \"key\": \"m\", \"value\": \"high\", \"timestamp\": 1}", 400, "INVALID_PARAMETER_VALUE", "Invalid value \"high\" for parameter 'value'")]
    [InlineData("runs/log-parameter", "{\"run_id\": \"RUN\", \"key\": \"lr\", \"value\": \"0.2\"}", 400, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed")]
    [InlineData("runs/log-batch", "{\"run_id\": \"RUN\", \"metrics\": {\"key\": \"m\"}}", 400, "INVALID_PARAMETER_VALUE", "expected a list of objects")]
    [InlineData("runs/log-metric", "{\"run_id\": \"0123456789abcdef0123456789abcdef\", \"key\": \"m\", \"value\": 1, \"timestamp\": 1}", 404, "RESOURCE_DOES_NOT_EXIST", "Run with id=0123456789abcdef0123456789abcdef not found")]
    [InlineData("runs/update", "{\"run_id\": \"RUN\", \"status\": \"DONE\"}", 400, "INVALID_PARAMETER_VALUE", "Invalid value 'DONE' for parameter 'status'")]
    [InlineData("runs/delete-tag", "{\"run_id\": \"RUN\", \"key\": \"absent\"}", 404, "RESOURCE_DOES_NOT_EXIST", "No tag with name: absent")]
    // mlflow/store/tracking/sqlalchemy_store.py create_run refuses a run_name and a different mlflow.runName tag.
    [InlineData("runs/create", "{\"experiment_id\": \"0\", \"run_name\": \"a\", \"tags\": [{\"key\": \"mlflow.runName\", \"value\": \"b\"}]}", 400, "INVALID_PARAMETER_VALUE",
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='a', mlflow.runName='b').")]
    // Tag values must be strings (protobuf's JSON parsing of MLflow's string fields; handlers.py _set_tag: "value": [_assert_string]).
    [InlineData("runs/create", "{\"experiment_id\": \"0\", \"tags\": [{\"key\": \"k\", \"value\": 5}]}", 400, "INVALID_PARAMETER_VALUE", "Invalid value 5 for parameter 'tags[0].value'")]
    [InlineData("runs/set-tag", "{\"run_id\": \"RUN\", \"key\": \"k\", \"value\": 5}", 400, "INVALID_PARAMETER_VALUE", "Invalid value 5 for parameter 'value'")]
    [InlineData("runs/log-batch", "{\"run_id\": \"RUN\", \"tags\": [{\"key\": \"k\", \"value\": 5}]}", 400, "INVALID_PARAMETER_VALUE", "Invalid value 5 for parameter 'value'")]
    [InlineData("runs/log-inputs", "{\"run_id\": \"RUN\", \"datasets\": [{\"dataset\": {\"name\": \"d\", \"digest\": \"1\", \"source_type\": \"local\", \"source\": \"x\"}, \"tags\": [{\"key\": \"k\", \"value\": 1}]}]}", 400, "INVALID_PARAMETER_VALUE", "Invalid value 1 for parameter 'tags[0].value'")]
    // Crafted page tokens (base64 of [1] and of {"offset": "x"}) are the client's mistake, not a 500.
    [InlineData("runs/search", "{\"experiment_ids\": [\"0\"], \"page_token\": \"WzFd\"}", 400, "INVALID_PARAMETER_VALUE", "Invalid page token")]
    [InlineData("runs/search", "{\"experiment_ids\": [\"0\"], \"page_token\": \"eyJvZmZzZXQiOiAieCJ9\"}", 400, "INVALID_PARAMETER_VALUE", "Invalid page token")]
    [InlineData("runs/search", "{\"experiment_ids\": [\"0\"], \"run_view_type\": 7}", 400, "INVALID_PARAMETER_VALUE", "ACTIVE_ONLY, DELETED_ONLY or ALL")]
    // mlflow/server/handlers.py _log_model: model_json must be JSON holding the MLmodel's mandatory fields.
    [InlineData("runs/log-model", "{\"run_id\": \"RUN\", \"model_json\": \"{\\\"flavors\\\": {}}\"}", 400, "INVALID_PARAMETER_VALUE", "Model json is missing mandatory fields: ['artifact_path', 'utc_time_created', 'run_id']")]
    [InlineData("runs/log-model", "{\"run_id\": \"RUN\", \"model_json\": \"{\"}", 400, "INVALID_PARAMETER_VALUE", "is not a valid JSON")]
    public async Task Bad_logging_requests_get_mlflow_errors(string route, string body, int status, string code, string message)
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
        await MlflowHttp.PostAsync(client, "runs/log-parameter", new { run_id = runId, key = "lr", value = "0.1" });

        using var content = new StringContent(body.Replace("RUN", runId, StringComparison.Ordinal), Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"{Api}/{route}", content, Cancel);

        ((int)response.StatusCode).ShouldBe(status);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        error.GetProperty("error_code").GetString().ShouldBe(code);
        error.GetProperty("message").GetString()!.ShouldContain(message);
    }

    [Fact]
    public async Task A_run_name_equal_to_its_run_name_tag_is_accepted_and_run_view_types_are_taken_by_number()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var run = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0", run_name = "same", tags = new[] { new { key = "mlflow.runName", value = "same" } } })).GetProperty("run");
        run.GetProperty("info").GetProperty("run_name").GetString().ShouldBe("same");
        var runId = run.GetProperty("info").GetProperty("run_id").GetString();
        // And RunStatus: 3 FINISHED.
        (await MlflowHttp.PostAsync(client, "runs/update", new { run_id = runId, status = 3 })).GetProperty("run_info").GetProperty("status").GetString().ShouldBe("FINISHED");
        await MlflowHttp.PostAsync(client, "runs/delete", new { run_id = runId });

        // Protobuf's JSON parser takes ViewType by number: 1 ACTIVE_ONLY, 2 DELETED_ONLY, 3 ALL.
        (await MlflowHttp.PostAsync(client, "runs/search", new { experiment_ids = new[] { "0" }, run_view_type = 1 })).TryGetProperty("runs", out _).ShouldBeFalse();
        (await MlflowHttp.PostAsync(client, "runs/search", new { experiment_ids = new[] { "0" }, run_view_type = 2 })).GetProperty("runs").GetArrayLength().ShouldBe(1);
        (await MlflowHttp.PostAsync(client, "runs/search", new { experiment_ids = new[] { "0" }, run_view_type = 3 })).GetProperty("runs").GetArrayLength().ShouldBe(1);
    }

    // MLflow 2.x log_model() records the MLmodel metadata with runs/log-model; the stores append it to the run's
    // mlflow.log-model.history tag (mlflow/store/tracking/sqlalchemy_store.py record_logged_model).
    [Fact]
    public async Task Logged_models_are_appended_to_the_runs_log_model_history_tag()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;

        foreach (var path in new[] { "model", "scaler" })
        {
            var model = JsonSerializer.Serialize(new { artifact_path = path, flavors = new { sklearn = new { pickled_model = "model.pkl" } }, utc_time_created = "2026-12-06 11:00:00.000000", run_id = runId });
            await MlflowHttp.PostAsync(client, "runs/log-model", new { run_id = runId, model_json = model });
        }

        var run = await client.GetFromJsonAsync<JsonElement>($"{Api}/runs/get?run_id={runId}", Cancel);
        var history = run.GetProperty("run").GetProperty("data").GetProperty("tags").EnumerateArray().Single(tag => tag.GetProperty("key").GetString() == "mlflow.log-model.history").GetProperty("value").GetString()!;
        JsonDocument.Parse(history).RootElement.EnumerateArray().Select(model => model.GetProperty("artifact_path").GetString()).ShouldBe(["model", "scaler"]);
    }

    [Fact]
    public async Task Dataset_inputs_are_logged_and_returned_with_the_run()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();

        await MlflowHttp.PostAsync(client, "runs/log-inputs", new
        {
            run_id = runId,
            datasets = new[]
            {
                new
                {
                    tags = new[] { new { key = "mlflow.data.context", value = "training" } },
                    dataset = new { name = "churn", digest = "9d3f0a", source_type = "local", source = "{\"uri\": \"churn.parquet\"}", schema = "{}", profile = "{\"num_rows\": 200}" },
                },
            },
        });

        var inputs = (await client.GetFromJsonAsync<JsonElement>($"{Api}/runs/get?run_id={runId}", Cancel)).GetProperty("run").GetProperty("inputs").GetProperty("dataset_inputs");
        inputs[0].GetProperty("dataset").GetProperty("digest").GetString().ShouldBe("9d3f0a");
        inputs[0].GetProperty("tags")[0].GetProperty("value").GetString().ShouldBe("training");

        using var missing = await client.PostAsJsonAsync($"{Api}/runs/log-inputs", new { run_id = runId, datasets = new[] { new { tags = Array.Empty<object>() } } }, Cancel);
        missing.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await missing.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("message").GetString()!.ShouldContain("'dataset'");
    }

    [Fact]
    public async Task Runs_are_searched_with_mlflows_filter_and_order()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        foreach (var (name, auc) in new[] { ("a", 0.7), ("b", 0.9), ("c", 0.8) })
        {
            var id = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0", run_name = name })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
            await MlflowHttp.PostAsync(client, "runs/log-batch", new { run_id = id, metrics = new[] { new { key = "auc", value = auc, timestamp = 1L, step = 0L } }, @params = new[] { new { key = "model", value = "lgbm" } } });
        }

        var found = await MlflowHttp.PostAsync(client, "runs/search", new { experiment_ids = new[] { "0" }, filter = "metrics.auc > 0.75 and params.model = 'lgbm'", order_by = new[] { "metrics.auc DESC" }, max_results = 1 });
        found.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_name").GetString()).ShouldBe(["b"]);
        var token = found.GetProperty("next_page_token").GetString();
        var next = await MlflowHttp.PostAsync(client, "runs/search", new { experiment_ids = new[] { "0" }, filter = "metrics.auc > 0.75 and params.model = 'lgbm'", order_by = new[] { "metrics.auc DESC" }, max_results = 1, page_token = token });
        next.GetProperty("runs")[0].GetProperty("info").GetProperty("run_name").GetString().ShouldBe("c");

        // A token counts its offset through its own query's results: with another filter, order, experiments or view it is refused.
        foreach (var (body, message) in new (object, string)[]
        {
            (new { experiment_ids = new[] { "0" }, filter = "metrics.auc > 0.75", order_by = new[] { "metrics.auc DESC" }, page_token = token },
                "Filter string in the page token does not match the requested filter string. Expected: \"metrics.auc > 0.75\". Found: \"metrics.auc > 0.75 and params.model = 'lgbm'\""),
            (new { experiment_ids = new[] { "0" }, filter = "metrics.auc > 0.75 and params.model = 'lgbm'", order_by = new[] { "metrics.auc ASC" }, page_token = token },
                "Order by in the page token does not match the requested order by. Expected: [\"metrics.auc ASC\"]. Found: [\"metrics.auc DESC\"]"),
            (new { experiment_ids = new[] { "0", "1" }, filter = "metrics.auc > 0.75 and params.model = 'lgbm'", order_by = new[] { "metrics.auc DESC" }, page_token = token },
                "Experiment IDs in the page token do not match the requested experiment IDs. Expected: [\"0\",\"1\"]. Found: [\"0\"]"),
            (new { experiment_ids = new[] { "0" }, filter = "metrics.auc > 0.75 and params.model = 'lgbm'", order_by = new[] { "metrics.auc DESC" }, page_token = token, run_view_type = "ALL" },
                "Run view type in the page token does not match the requested run view type. Expected: \"ALL\". Found: \"ACTIVE_ONLY\""),
        })
        {
            using var refused = await client.PostAsJsonAsync($"{Api}/runs/search", body, Cancel);
            var text = await refused.Content.ReadAsStringAsync(Cancel);
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest, text);
            var error = JsonDocument.Parse(text).RootElement;
            error.GetProperty("error_code").GetString().ShouldBe("INVALID_PARAMETER_VALUE");
            error.GetProperty("message").GetString().ShouldBe(message);
        }

        (await SearchPaging.AllAsync(page => MlflowHttp.PostAsync(client, "runs/search", new { experiment_ids = new[] { "0" }, order_by = new[] { "attributes.run_name DESC" }, max_results = 1, page_token = page }),
                "runs", r => r.GetProperty("info").GetProperty("run_name").GetString()!))
            .ShouldBe(["c", "b", "a"]);
        // A client paging across the upgrade: the previous release's token is read as its offset.
        (await MlflowHttp.PostAsync(client, "runs/search", new { experiment_ids = new[] { "0" }, order_by = new[] { "attributes.run_name DESC" }, page_token = SearchPaging.PreviousReleaseToken(1) }))
            .GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_name").GetString()).ShouldBe(["b", "a"]);
        await SearchPaging.ShouldRefuseAsync(client, $"{Api}/runs/search", new { experiment_ids = new[] { "0" }, page_token = "garbage" }, "Invalid page token 'garbage': it was not issued by this server.");

        var none = await MlflowHttp.PostAsync(client, "runs/search", new { experiment_ids = new[] { "0" }, filter = "metrics.auc > 2" });
        none.TryGetProperty("runs", out _).ShouldBeFalse();

        using var bad = await client.PostAsJsonAsync($"{Api}/runs/search", new { experiment_ids = new[] { "0" }, filter = "metrics.auc ~ 1" }, Cancel);
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await bad.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("message").GetString()!.ShouldContain("expected a comparator");
    }

    [Fact]
    public async Task Logged_metrics_survive_a_server_restart()
    {
        var dataDir = Directory.CreateTempSubdirectory("ballast-restart-").FullName;
        string runId;
        await using (var first = await StartServerAsync(options => options with { DataDir = dataDir }))
        {
            using var client = first.Client();
            runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
            var batch = Enumerable.Range(0, 1000).Select(i => new { key = "loss", value = 1.0 / (i + 1), timestamp = 1_700_000_000_000L + i, step = i }).ToArray();
            await MlflowHttp.PostAsync(client, "runs/log-batch", new { run_id = runId, metrics = batch });
        }

        await using var second = await StartServerAsync(options => options with { DataDir = dataDir });
        using var again = second.Client();
        var history = await again.GetFromJsonAsync<JsonElement>($"{Api}/metrics/get-history?run_id={runId}&metric_key=loss", Cancel);
        history.GetProperty("metrics").GetArrayLength().ShouldBe(1000);
    }

    [Fact]
    public async Task A_long_history_comes_whole_without_max_results_and_in_pages_with_it()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
        const int Batches = 60;
        for (var b = 0; b < Batches; b++)
        {
            var batch = Enumerable.Range(b * 1000, 1000).Select(i => new { key = "loss", value = i == 7 ? (object)"NaN" : 1.0 / (i + 1), timestamp = 1_700_000_000_000L + i, step = i }).ToArray();
            await MlflowHttp.PostAsync(client, "runs/log-batch", new { run_id = runId, metrics = batch });
        }

        // Without max_results MLflow answers with the whole history; Ballast streams it from the database cursor.
        using (var response = await client.GetAsync($"{Api}/metrics/get-history?run_id={runId}&metric_key=loss", HttpCompletionOption.ResponseHeadersRead, Cancel))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
            using var whole = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(Cancel), cancellationToken: Cancel);
            var metrics = whole.RootElement.GetProperty("metrics");
            metrics.GetArrayLength().ShouldBe(Batches * 1000);
            metrics.EnumerateArray().Select(m => m.GetProperty("step").GetInt64()).ShouldBe(Enumerable.Range(0, Batches * 1000).Select(i => (long)i));
            metrics[7].GetProperty("value").GetString().ShouldBe("NaN");
            metrics[9].GetProperty("value").GetDouble().ShouldBe(0.1);
            whole.RootElement.TryGetProperty("next_page_token", out _).ShouldBeFalse();
        }

        var first = await client.GetFromJsonAsync<JsonElement>($"{Api}/metrics/get-history?run_id={runId}&metric_key=loss&max_results=25000", Cancel);
        first.GetProperty("metrics").GetArrayLength().ShouldBe(25000);
        var token = first.GetProperty("next_page_token").GetString();
        var second = await client.GetFromJsonAsync<JsonElement>($"{Api}/metrics/get-history?run_id={runId}&metric_key=loss&page_token={Uri.EscapeDataString(token!)}&max_results=25000", Cancel);
        second.GetProperty("metrics")[0].GetProperty("step").GetInt64().ShouldBe(25000);

        var none = await client.GetFromJsonAsync<JsonElement>($"{Api}/metrics/get-history?run_id={runId}&metric_key=acc", Cancel);
        none.GetProperty("metrics").GetArrayLength().ShouldBe(0);

        using var unknown = await client.GetAsync($"{Api}/metrics/get-history?run_id=0123456789abcdef0123456789abcdef&metric_key=loss", Cancel);
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await unknown.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error_code").GetString().ShouldBe("RESOURCE_DOES_NOT_EXIST");
    }
}

public sealed class SqliteMlflowRunsApiTests() : MlflowRunsApiTests(DatabaseEngine.Sqlite);

public sealed class PostgresMlflowRunsApiTests() : MlflowRunsApiTests(DatabaseEngine.Postgres);
