using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ballast.Metadata;

namespace Ballast.Tests.Tracking;

/// <summary>
/// MLflow 3's logged models over HTTP, in the order an MLflow 3.x client calls them (mlflow/models/model.py
/// <c>Model.log</c>, mlflow/tracking/_model_registry/fluent.py <c>_register_model</c>, mlflow/store/tracking/rest_store.py).
/// </summary>
public abstract class MlflowLoggedModelsApiTests(DatabaseEngine engine) : EngineServerTest(engine)
{
    private const string Proxy = "/api/2.0/mlflow-artifacts/artifacts";

    [Fact]
    public async Task Log_model_then_register_model_as_an_mlflow_3_client_does_and_the_version_is_served()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0", run_name = "train" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
        await MlflowHttp.PostAsync(client, "runs/log-batch", new { run_id = runId, @params = new[] { new { key = "C", value = "1.0" } }, metrics = new[] { new { key = "acc", value = 0.97, timestamp = 1000, step = 0 } } });

        // log_model(): the run's params become the model's; the model is created pending in the run's experiment.
        var created = (await MlflowHttp.PostAsync(client, "logged-models", new
        {
            experiment_id = "0",
            name = "iris",
            source_run_id = runId,
            @params = new[] { new { key = "C", value = "1.0" } },
            tags = new[] { new { key = "mlflow.source.type", value = "LOCAL" }, new { key = "mlflow.user", value = "ana" } },
        })).GetProperty("model");
        var modelId = created.GetProperty("info").GetProperty("model_id").GetString()!;
        var info = created.GetProperty("info");
        info.GetProperty("status").GetString().ShouldBe("LOGGED_MODEL_PENDING");
        info.GetProperty("experiment_id").GetString().ShouldBe("0");
        info.GetProperty("source_run_id").GetString().ShouldBe(runId);
        info.GetProperty("creation_timestamp_ms").GetInt64().ShouldBeGreaterThan(0);
        info.GetProperty("artifact_uri").GetString().ShouldBe($"mlflow-artifacts:/0/models/{modelId}/artifacts");
        info.GetProperty("tags").GetArrayLength().ShouldBe(2);
        created.GetProperty("data").GetProperty("params")[0].GetProperty("key").GetString().ShouldBe("C");

        // The run's output, then its metrics at that step linked to the model (log_batch with model_id on each metric).
        await MlflowHttp.PostAsync(client, "runs/outputs", new { run_id = runId, models = new[] { new { model_id = modelId, step = 0 } } });
        await MlflowHttp.PostAsync(client, "runs/log-batch", new { run_id = runId, metrics = new[] { new { key = "acc", value = 0.97, timestamp = 1000, step = 0, model_id = modelId, run_id = runId } } });

        // The model's files go through the artifact proxy to its artifact_uri; then it is finalized.
        await UploadAsync(client, $"0/models/{modelId}/artifacts/MLmodel", Encoding.UTF8.GetBytes($"flavors:\n  onnx: {{}}\nmodel_id: {modelId}\n"));
        await UploadAsync(client, $"0/models/{modelId}/artifacts/model.onnx", await File.ReadAllBytesAsync(TestServices.Fixture("logreg_iris.onnx"), Cancel));
        var finalized = await SendAsync(client, HttpMethod.Patch, $"logged-models/{modelId}", new { model_id = modelId, status = "LOGGED_MODEL_READY" });
        finalized.Status.ShouldBe(HttpStatusCode.OK, finalized.Body.ToString());
        finalized.Body.GetProperty("model").GetProperty("info").GetProperty("status").GetString().ShouldBe("LOGGED_MODEL_READY");

        // register_model("models:/<model_id>", "iris"): the registered model, the version with model_id; the server records the
        // version on the model (its mlflow.modelVersions tag, as MLflow's handler does, and its registrations).
        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "iris" });
        var version = (await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "iris", source = $"models:/{modelId}", model_id = modelId })).GetProperty("model_version");
        version.GetProperty("version").GetString().ShouldBe("1");
        version.GetProperty("source").GetString().ShouldBe($"models:/{modelId}");
        version.GetProperty("model_id").GetString().ShouldBe(modelId);
        version.GetProperty("run_id").GetString().ShouldBe(runId, "the logged model's source run, as MLflow's registry stores take it");

        var read = (await client.GetFromJsonAsync<JsonElement>($"/ajax-api/2.0/mlflow/logged-models/{modelId}", Cancel)).GetProperty("model");
        read.GetProperty("info").GetProperty("status").GetString().ShouldBe("LOGGED_MODEL_READY");
        read.GetProperty("info").GetProperty("tags").EnumerateArray().Select(tag => tag.GetProperty("key").GetString()).ShouldBe(["mlflow.modelVersions", "mlflow.source.type", "mlflow.user"]);
        read.GetProperty("info").GetProperty("tags")[0].GetProperty("value").GetString().ShouldBe("[{\"name\": \"iris\", \"version\": 1}]");
        var registration = read.GetProperty("info").GetProperty("registrations").EnumerateArray().Single();
        (registration.GetProperty("name").GetString(), registration.GetProperty("version").GetString()).ShouldBe(("iris", "1"));
        var metric = read.GetProperty("data").GetProperty("metrics").EnumerateArray().Single();
        (metric.GetProperty("key").GetString(), metric.GetProperty("value").GetDouble(), metric.GetProperty("run_id").GetString(), metric.GetProperty("model_id").GetString())
            .ShouldBe(("acc", 0.97, runId, modelId));

        // register_model("runs:/<run>/iris") finds the model this way: no files at the run's path, a search, the run's outputs.
        (await client.GetFromJsonAsync<JsonElement>($"{Proxy}?path=0/{runId}/artifacts/iris", Cancel)).TryGetProperty("files", out _).ShouldBeFalse();
        var found = (await MlflowHttp.PostAsync(client, "logged-models/search", new { experiment_ids = new[] { "0" } })).GetProperty("models").EnumerateArray().Single().GetProperty("info");
        (found.GetProperty("name").GetString(), found.GetProperty("source_run_id").GetString(), found.GetProperty("model_id").GetString()).ShouldBe(("iris", runId, modelId));

        // Where clients download the version from, the run's outputs (read when registering runs:/<run>/<name>), the model's files.
        (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/model-versions/get-download-uri?name=iris&version=1", Cancel))
            .GetProperty("artifact_uri").GetString().ShouldBe($"mlflow-artifacts:/0/models/{modelId}/artifacts");
        var run = (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/runs/get?run_id={runId}", Cancel)).GetProperty("run");
        var output = run.GetProperty("outputs").GetProperty("model_outputs").EnumerateArray().Single();
        (output.GetProperty("model_id").GetString(), output.GetProperty("step").GetInt64()).ShouldBe((modelId, 0L));
        var listed = await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/logged-models/{modelId}/artifacts/directories", Cancel);
        listed.GetProperty("root_uri").GetString().ShouldBe($"mlflow-artifacts:/0/models/{modelId}/artifacts");
        listed.GetProperty("files").EnumerateArray().Select(file => file.GetProperty("path").GetString()).ShouldBe(["MLmodel", "model.onnx"]);
        (await client.GetStringAsync($"{MlflowHttp.Api}/logged-models/{modelId}/artifacts/files?artifact_file_path=MLmodel", Cancel)).ShouldContain($"model_id: {modelId}");

        // Lineage follows the version to the run that logged the model.
        var lineage = await client.GetFromJsonAsync<JsonElement>("/api/v1/lineage/model-versions/iris/1", Cancel);
        lineage.GetProperty("nodes").EnumerateArray().Select(node => node.GetProperty("kind").GetString()).ShouldContain("run");

        // Serving reads the version's files at the logged model's artifact location.
        using var endpoint = await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel);
        endpoint.StatusCode.ShouldBe(HttpStatusCode.OK, await endpoint.Content.ReadAsStringAsync(Cancel));
        using var scored = await client.PostAsJsonAsync("/endpoints/iris/invocations", new { instances = new[] { new[] { 6.7, 3.0, 5.2, 2.3 } } }, Cancel);
        scored.StatusCode.ShouldBe(HttpStatusCode.OK, await scored.Content.ReadAsStringAsync(Cancel));
        (await scored.Content.ReadAsStringAsync(Cancel)).ShouldContain("\"output_label\":[2]");
    }

    [Fact]
    public async Task Logged_models_are_searched_tagged_given_params_and_deleted()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var experiment = (await MlflowHttp.PostAsync(client, "experiments/create", new { name = "models" })).GetProperty("experiment_id").GetString()!;
        var ids = new List<string>();
        foreach (var (name, type) in new[] { ("alpha", "classifier"), ("beta", "regressor"), ("gamma", "classifier") })
        {
            ids.Add((await MlflowHttp.PostAsync(client, "logged-models", new { experiment_id = experiment, name, model_type = type }))
                .GetProperty("model").GetProperty("info").GetProperty("model_id").GetString()!);
        }

        (await SendAsync(client, HttpMethod.Patch, $"logged-models/{ids[1]}", new { status = 2 })).Status.ShouldBe(HttpStatusCode.OK, "a status by its number");
        (await SendAsync(client, HttpMethod.Patch, $"logged-models/{ids[0]}/tags", new { tags = new[] { new { key = "team/owner", value = "growth" }, new { key = "stage", value = "dev" } } }))
            .Status.ShouldBe(HttpStatusCode.OK);
        (await SendAsync(client, HttpMethod.Delete, $"logged-models/{ids[0]}/tags/stage")).Status.ShouldBe(HttpStatusCode.OK);
        (await MlflowHttp.PostAsync(client, $"logged-models/{ids[0]}/params", new { model_id = ids[0], @params = new[] { new { key = "depth", value = "3" } } })).ToString().ShouldBe("{}");

        async Task<List<string>> NamesAsync(object body) =>
            (await MlflowHttp.PostAsync(client, "logged-models/search", body)).TryGetProperty("models", out var models)
                ? models.EnumerateArray().Select(m => m.GetProperty("info").GetProperty("name").GetString()!).ToList()
                : [];

        (await NamesAsync(new { experiment_ids = new[] { experiment } })).Count.ShouldBe(3);
        (await NamesAsync(new { experiment_ids = new[] { experiment }, filter = "model_type = 'classifier'", order_by = new[] { new { field_name = "name" } } })).ShouldBe(["alpha", "gamma"]);
        (await NamesAsync(new { experiment_ids = new[] { experiment }, order_by = new[] { new { field_name = "name", ascending = false } } })).ShouldBe(["gamma", "beta", "alpha"]);
        (await NamesAsync(new { experiment_ids = new[] { experiment }, filter = "status = 'LOGGED_MODEL_READY'" })).ShouldBe(["beta"]);
        (await NamesAsync(new { experiment_ids = new[] { experiment }, filter = "tags.`team/owner` = 'growth' AND params.depth = '3'" })).ShouldBe(["alpha"]);
        (await NamesAsync(new { experiment_ids = new[] { "0" } })).ShouldBeEmpty();

        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = experiment })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
        await MlflowHttp.PostAsync(client, "runs/log-batch", new
        {
            run_id = runId,
            metrics = new[]
            {
                new { key = "rmse", value = 0.4, timestamp = 1, step = 0, model_id = ids[1], dataset_name = "holdout", dataset_digest = "abc" },
                new { key = "rmse", value = 0.2, timestamp = 1, step = 0, model_id = ids[2], dataset_name = "train", dataset_digest = "def" },
            },
        });
        await MlflowHttp.PostAsync(client, "runs/log-metric", new { run_id = runId, key = "rmse", value = 0.3, timestamp = 2, model_id = ids[0], dataset_name = "holdout" });
        (await NamesAsync(new { experiment_ids = new[] { experiment }, filter = "metrics.rmse < 0.35" })).ShouldBe(["gamma", "alpha"]);
        (await NamesAsync(new { experiment_ids = new[] { experiment }, filter = "metrics.rmse < 0.35", datasets = new[] { new { dataset_name = "holdout" } } })).ShouldBe(["alpha"]);
        (await NamesAsync(new { experiment_ids = new[] { experiment }, order_by = new[] { new { field_name = "metrics.rmse", ascending = true, dataset_name = "holdout" } } }))
            .ShouldBe(["alpha", "beta", "gamma"], "gamma has no value on holdout");

        var first = await MlflowHttp.PostAsync(client, "logged-models/search", new { experiment_ids = new[] { experiment }, max_results = 2, order_by = new[] { new { field_name = "name" } } });
        first.GetProperty("models").GetArrayLength().ShouldBe(2);
        var token = first.GetProperty("next_page_token").GetString();
        var second = await MlflowHttp.PostAsync(client, "logged-models/search", new { experiment_ids = new[] { experiment }, max_results = 2, order_by = new[] { new { field_name = "name" } }, page_token = token });
        second.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("info").GetProperty("name").GetString()).ShouldBe(["gamma"]);
        second.TryGetProperty("next_page_token", out _).ShouldBeFalse();

        var alpha = (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/logged-models/{ids[0]}", Cancel)).GetProperty("model");
        alpha.GetProperty("info").GetProperty("tags").EnumerateArray().Select(tag => tag.GetProperty("key").GetString()).ShouldBe(["team/owner"]);
        alpha.GetProperty("data").GetProperty("params")[0].GetProperty("value").GetString().ShouldBe("3");

        (await SendAsync(client, HttpMethod.Delete, $"logged-models/{ids[2]}")).Status.ShouldBe(HttpStatusCode.OK);
        (await NamesAsync(new { experiment_ids = new[] { experiment } })).ShouldNotContain("gamma");
        (await SendAsync(client, HttpMethod.Get, $"logged-models/{ids[2]}")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await SendAsync(client, HttpMethod.Get, $"logged-models/{ids[2]}?allow_deleted=true")).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Registering_from_a_registered_models_uri_reads_that_versions_files_as_mlflow_does()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
        var modelId = (await MlflowHttp.PostAsync(client, "logged-models", new { experiment_id = "0", name = "iris", source_run_id = runId }))
            .GetProperty("model").GetProperty("info").GetProperty("model_id").GetString()!;
        await UploadAsync(client, $"0/models/{modelId}/artifacts/MLmodel", Encoding.UTF8.GetBytes($"flavors:\n  onnx: {{}}\nmodel_id: {modelId}\n"));
        await UploadAsync(client, $"0/models/{modelId}/artifacts/model.onnx", await File.ReadAllBytesAsync(TestServices.Fixture("logreg_iris.onnx"), Cancel));
        (await SendAsync(client, HttpMethod.Patch, $"logged-models/{modelId}", new { status = "LOGGED_MODEL_READY" })).Status.ShouldBe(HttpStatusCode.OK);
        var files = $"mlflow-artifacts:/0/models/{modelId}/artifacts";
        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "iris" });
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "iris", source = $"models:/{modelId}", model_id = modelId });
        await MlflowHttp.PostAsync(client, "registered-models/alias", new { name = "iris", alias = "champion", version = "1" });

        // register_model("models:/iris/1", "iris-prod"): the client sends the source version's model_id (_parse_model_id_if_present).
        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "iris-prod" });
        var copy = (await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "iris-prod", source = "models:/iris/1", model_id = modelId })).GetProperty("model_version");
        (copy.GetProperty("source").GetString(), copy.GetProperty("model_id").GetString(), copy.GetProperty("run_id").GetString()).ShouldBe(("models:/iris/1", modelId, runId));
        (await DownloadUriAsync(client, "iris-prod", "1")).ShouldBe(files);

        // register_model("models:/iris@champion", "iris-alias"): no model_id (an alias has no version to read it from).
        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "iris-alias" });
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "iris-alias", source = "models:/iris@champion" });
        (await DownloadUriAsync(client, "iris-alias", "1")).ShouldBe(files);

        // A version of files logged to a run, copied by its latest version and then copied again: each reads the first one's files.
        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "plain" });
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "plain", source = $"mlflow-artifacts:/0/{runId}/artifacts/model", run_id = runId });
        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "plain-copy" });
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "plain-copy", source = "models:/plain/latest" });
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "plain-copy", source = "models:/plain-copy/1" });
        (await DownloadUriAsync(client, "plain-copy", "2")).ShouldBe($"mlflow-artifacts:/0/{runId}/artifacts/model");

        // The logged model lists every version registered with its model_id, in its tag and its registrations.
        var info = (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/logged-models/{modelId}", Cancel)).GetProperty("model").GetProperty("info");
        info.GetProperty("tags").EnumerateArray().Single(tag => tag.GetProperty("key").GetString() == "mlflow.modelVersions").GetProperty("value").GetString()
            .ShouldBe("[{\"name\": \"iris\", \"version\": 1}, {\"name\": \"iris-prod\", \"version\": 1}]");
        info.GetProperty("registrations").EnumerateArray().Select(r => $"{r.GetProperty("name").GetString()}/{r.GetProperty("version").GetString()}").ShouldBe(["iris/1", "iris-prod/1"]);
        (await MlflowHttp.PostAsync(client, "logged-models/search", new { experiment_ids = new[] { "0" } })).GetProperty("models")[0].GetProperty("info").GetProperty("registrations")
            .GetArrayLength().ShouldBe(2);

        // The copy is served from the logged model's files.
        using var endpoint = await client.PutAsJsonAsync("/api/v1/endpoints/iris-prod", new { variants = new[] { new { name = "main", model = "models:/iris-prod/1" } } }, Cancel);
        endpoint.StatusCode.ShouldBe(HttpStatusCode.OK, await endpoint.Content.ReadAsStringAsync(Cancel));
        using var scored = await client.PostAsJsonAsync("/endpoints/iris-prod/invocations", new { instances = new[] { new[] { 6.7, 3.0, 5.2, 2.3 } } }, Cancel);
        scored.StatusCode.ShouldBe(HttpStatusCode.OK, await scored.Content.ReadAsStringAsync(Cancel));

        // A reference that does not resolve is refused with the reason, and no version is created.
        foreach (var (source, status, code, message) in new (string, HttpStatusCode, string, string)[]
        {
            ("models:/iris/9", HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST",
                "Unable to fetch model from model URI source artifact location 'models:/iris/9'. Error: Model Version (name=iris, version=9) not found"),
            ("models:/nope/1", HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "Error: Model Version (name=nope, version=1) not found"),
            ("models:/iris@ghost", HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "Error: Registered model alias ghost not found."),
            ("models:/iris/staging", HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "Error: No versions of model with name 'iris' and stage 'Staging' found"),
            ("models:/nope/latest", HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "Error: Registered Model with name=nope not found"),
            ("models:/iris/bogus", HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "Error: Invalid Model Version stage: bogus."),
            ("models:/iris/1/extra", HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "not a proper models:/ URI: 'models:/iris/1/extra'"),
            ("models:/iris@", HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "not a proper models:/ URI: 'models:/iris@'"),
        })
        {
            var (actual, error) = await SendAsync(client, HttpMethod.Post, "model-versions/create", new { name = "iris-prod", source });
            actual.ShouldBe(status, $"{source}: {error}");
            error.GetProperty("error_code").GetString().ShouldBe(code, source);
            error.GetProperty("message").GetString()!.ShouldContain(message, Case.Sensitive, source);
        }

        (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/model-versions/search?filter=name%3D'iris-prod'", Cancel)).GetProperty("model_versions").GetArrayLength().ShouldBe(1);
    }

    [Fact]
    public async Task A_search_page_token_is_refused_for_another_query_as_mlflows_logged_model_tokens_are()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var experiment = (await MlflowHttp.PostAsync(client, "experiments/create", new { name = "paged" })).GetProperty("experiment_id").GetString()!;
        foreach (var name in new[] { "a", "b", "c" })
        {
            await MlflowHttp.PostAsync(client, "logged-models", new { experiment_id = experiment, name, model_type = "classifier" });
        }

        var query = new Dictionary<string, object?>
        {
            ["experiment_ids"] = new[] { experiment },
            ["filter"] = "model_type = 'classifier'",
            ["order_by"] = new[] { new { field_name = "name", ascending = true } },
        };
        var token = (await MlflowHttp.PostAsync(client, "logged-models/search", new Dictionary<string, object?>(query) { ["max_results"] = 1 })).GetProperty("next_page_token").GetString()!;

        // The same query pages on, whatever the page size (ascending left out is its default, true).
        (await MlflowHttp.PostAsync(client, "logged-models/search", new Dictionary<string, object?>(query)
            {
                ["order_by"] = new[] { new { field_name = "name" } }, ["max_results"] = 5, ["page_token"] = token,
            }))
            .GetProperty("models").EnumerateArray().Select(m => m.GetProperty("info").GetProperty("name").GetString()).ShouldBe(["b", "c"]);
        (await SearchPaging.AllAsync(page => MlflowHttp.PostAsync(client, "logged-models/search", new Dictionary<string, object?>(query) { ["max_results"] = 1, ["page_token"] = page }),
                "models", m => m.GetProperty("info").GetProperty("name").GetString()!))
            .ShouldBe(["a", "b", "c"]);
        // A client paging across the upgrade: the previous release's token is read as its offset.
        (await MlflowHttp.PostAsync(client, "logged-models/search", new Dictionary<string, object?>(query) { ["page_token"] = SearchPaging.PreviousReleaseToken(2) }))
            .GetProperty("models").EnumerateArray().Select(m => m.GetProperty("info").GetProperty("name").GetString()).ShouldBe(["c"]);
        // A runs/search token, even for the same experiments and filter, counts through other results.
        await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = experiment });
        await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = experiment });
        var runsToken = (await MlflowHttp.PostAsync(client, "runs/search", new { experiment_ids = new[] { experiment }, max_results = 1 })).GetProperty("next_page_token").GetString();
        await SearchPaging.ShouldRefuseAsync(client, $"{MlflowHttp.Api}/logged-models/search", new Dictionary<string, object?>(query) { ["page_token"] = runsToken },
            "Search in the page token does not match the requested search. Expected: \"logged_models\". Found: \"runs\"");

        foreach (var (key, value, message) in new (string, object?, string)[]
        {
            ("experiment_ids", new[] { experiment, "0" },
                $"Experiment IDs in the page token do not match the requested experiment IDs. Expected: [\"{experiment}\",\"0\"]. Found: [\"{experiment}\"]"),
            ("filter", "name = 'a'", "Filter string in the page token does not match the requested filter string. Expected: \"name = 'a'\". Found: \"model_type = 'classifier'\""),
            ("filter", null, "Filter string in the page token does not match the requested filter string. Expected: null. Found:"),
            ("order_by", new[] { new { field_name = "name", ascending = false } }, "Order by in the page token does not match the requested order by."),
            ("datasets", new[] { new { dataset_name = "train" } },
                "Datasets in the page token do not match the requested datasets. Expected: [{\"dataset_name\":\"train\",\"dataset_digest\":null}]. Found: null"),
        })
        {
            var changed = new Dictionary<string, object?>(query) { ["page_token"] = token, [key] = value };
            var (status, error) = await SendAsync(client, HttpMethod.Post, "logged-models/search", changed);
            status.ShouldBe(HttpStatusCode.BadRequest, $"{key}: {error}");
            error.GetProperty("error_code").GetString().ShouldBe("INVALID_PARAMETER_VALUE");
            error.GetProperty("message").GetString()!.ShouldContain(message, Case.Sensitive, key);
        }
    }

    private static async Task<string?> DownloadUriAsync(HttpClient client, string name, string version) =>
        (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/model-versions/get-download-uri?name={name}&version={version}", Cancel)).GetProperty("artifact_uri").GetString();

    [Fact]
    public async Task Bad_logged_model_requests_get_mlflow_errors_with_the_reason()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var modelId = (await MlflowHttp.PostAsync(client, "logged-models", new { experiment_id = "0" })).GetProperty("model").GetProperty("info").GetProperty("model_id").GetString()!;
        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "m" });

        foreach (var (method, route, body, status, code, message) in new (HttpMethod, string, object?, HttpStatusCode, string, string)[]
        {
            (HttpMethod.Get, "logged-models/m-unknown", null, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "Logged model with ID 'm-unknown' not found."),
            (HttpMethod.Patch, "logged-models/m-unknown", new { status = "LOGGED_MODEL_READY" }, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "Logged model with ID 'm-unknown' not found."),
            (HttpMethod.Delete, "logged-models/m-unknown", null, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "Logged model with ID 'm-unknown' not found."),
            (HttpMethod.Post, "logged-models/m-unknown/params", new { @params = new[] { new { key = "a", value = "b" } } }, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "not found"),
            (HttpMethod.Patch, $"logged-models/{modelId}", new { status = "BOGUS" }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE",
                "Invalid value 'BOGUS' for parameter 'status': use LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED (or 2, 3)."),
            (HttpMethod.Patch, $"logged-models/{modelId}", new { status = "LOGGED_MODEL_PENDING" }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "a logged model is finalized LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED"),
            (HttpMethod.Patch, $"logged-models/{modelId}", new { model_id = modelId }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'status'"),
            (HttpMethod.Patch, $"logged-models/{modelId}", new { model_id = "m-other", status = "LOGGED_MODEL_READY" }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "the path names logged model"),
            (HttpMethod.Delete, $"logged-models/{modelId}/tags/nope", null, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", $"No tag with key 'nope' found for model with ID '{modelId}'."),
            (HttpMethod.Post, "logged-models", new { name = "x" }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'experiment_id'"),
            (HttpMethod.Post, "logged-models", new { experiment_id = "999" }, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=999 exists"),
            (HttpMethod.Post, "logged-models", new { experiment_id = "0", name = "a.b" }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "Invalid model name ('a.b') provided."),
            (HttpMethod.Post, "logged-models", new { experiment_id = "0", tags = new[] { new { key = "k", value = 1 } } }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "expected a string"),
            (HttpMethod.Post, "logged-models/search", new { filter = "name = 'x'" }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'experiment_ids'"),
            (HttpMethod.Post, "logged-models/search", new { experiment_ids = new[] { "0" }, filter = "metrics.acc > 'x'" }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "'metrics.acc' is compared as a number"),
            (HttpMethod.Post, "logged-models/search", new { experiment_ids = new[] { "0" }, page_token = "garbage" }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "it was not issued by this server"),
            (HttpMethod.Post, "logged-models/search", new { experiment_ids = new[] { "0" }, datasets = new[] { new { dataset_digest = "d" } } }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE",
                "`dataset_name` in the `datasets` clause must be specified."),
            (HttpMethod.Post, "runs/log-batch", new { run_id = runId, metrics = new[] { new { key = "acc", value = 1.0, timestamp = 1, model_id = "m-unknown" } } }, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST",
                "Logged model with ID 'm-unknown' not found."),
            (HttpMethod.Post, "runs/outputs", new { run_id = runId, models = new[] { new { model_id = "m-unknown", step = 0 } } }, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "Logged model with ID 'm-unknown' not found."),
            (HttpMethod.Post, "runs/outputs", new { run_id = runId, models = new[] { new { model_id = modelId } } }, HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'step'"),
            (HttpMethod.Post, "runs/log-inputs", new { run_id = runId, models = new[] { new { model_id = "m-unknown" } } }, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "Logged model with ID 'm-unknown' not found."),
            (HttpMethod.Post, "model-versions/create", new { name = "m", source = "models:/m-unknown", model_id = "m-unknown" }, HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST", "Logged model with ID 'm-unknown' not found."),
            // Databricks' upload credentials (databricks_artifacts.proto): an OSS server has no such route, so neither does this one.
            (HttpMethod.Post, $"logged-models/{modelId}/artifacts/credentials-for-upload", new { model_id = modelId, paths = new[] { "MLmodel" } }, HttpStatusCode.NotFound, "ENDPOINT_NOT_FOUND", ""),
        })
        {
            var (actual, error) = await SendAsync(client, method, route, body);
            actual.ShouldBe(status, $"{method} {route}: {error}");
            error.GetProperty("error_code").GetString().ShouldBe(code, $"{method} {route}");
            error.GetProperty("message").GetString()!.ShouldContain(message, Case.Sensitive, $"{method} {route}");
        }

        using var malformed = new HttpRequestMessage(HttpMethod.Patch, $"{MlflowHttp.Api}/logged-models/{modelId}") { Content = new StringContent("{\"status\": ", Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(malformed, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error_code").GetString().ShouldBe("BAD_REQUEST");
        (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/logged-models/{modelId}", Cancel)).GetProperty("model").GetProperty("info").GetProperty("status").GetString()
            .ShouldBe("LOGGED_MODEL_PENDING", "no refused request changed the model");
        (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/registered-models/get?name=m", Cancel)).GetProperty("registered_model").TryGetProperty("latest_versions", out _)
            .ShouldBeFalse("the refused version was not created");
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient client, HttpMethod method, string route, object? body = null)
    {
        using var request = new HttpRequestMessage(method, $"{MlflowHttp.Api}/{route}") { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await client.SendAsync(request, Cancel);
        var text = await response.Content.ReadAsStringAsync(Cancel);
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static async Task UploadAsync(HttpClient client, string path, byte[] bytes)
    {
        using var content = new ByteArrayContent(bytes);
        (await client.PutAsync($"{Proxy}/{path}", content, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}

public sealed class SqliteMlflowLoggedModelsApiTests() : MlflowLoggedModelsApiTests(DatabaseEngine.Sqlite);

public sealed class PostgresMlflowLoggedModelsApiTests() : MlflowLoggedModelsApiTests(DatabaseEngine.Postgres);
