using Ballast.Metadata;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Ballast.Tests.Tracking;

/// <summary>The MLflow REST experiments API as an MLflow client calls it (request and response shapes from MLflow's REST API reference).</summary>
public abstract class MlflowExperimentsApiTests(DatabaseEngine engine) : EngineServerTest(engine)
{
    private const string Api = "/api/2.0/mlflow/experiments";


    [Fact]
    public async Task An_experiment_goes_through_its_whole_life_over_http()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();

        var created = await MlflowHttp.PostAsync(client, "experiments/create", new { name = "churn", tags = new[] { new { key = "team", value = "growth" } } });
        var id = created.GetProperty("experiment_id").GetString();
        id.ShouldBe("1");

        var experiment = (await client.GetFromJsonAsync<JsonElement>($"{Api}/get?experiment_id={id}", Cancel)).GetProperty("experiment");
        experiment.GetProperty("name").GetString().ShouldBe("churn");
        experiment.GetProperty("artifact_location").GetString().ShouldBe("mlflow-artifacts:/1");
        experiment.GetProperty("lifecycle_stage").GetString().ShouldBe("active");
        experiment.GetProperty("creation_time").GetInt64().ShouldBeGreaterThan(0);
        experiment.GetProperty("tags")[0].GetProperty("value").GetString().ShouldBe("growth");

        (await client.GetFromJsonAsync<JsonElement>($"{Api}/get-by-name?experiment_name=churn", Cancel)).GetProperty("experiment").GetProperty("experiment_id").GetString().ShouldBe(id);

        await MlflowHttp.PostAsync(client, "experiments/update", new { experiment_id = id, new_name = "churn-v2" });
        await MlflowHttp.PostAsync(client, "experiments/set-experiment-tag", new { experiment_id = id, key = "owner", value = "ml" });
        var search = await MlflowHttp.PostAsync(client, "experiments/search", new { filter = "name LIKE 'churn%' AND tags.owner = 'ml'", max_results = 10 });
        search.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ShouldBe(["churn-v2"]);

        await MlflowHttp.PostAsync(client, "experiments/delete", new { experiment_id = id });
        var active = await client.GetFromJsonAsync<JsonElement>($"{Api}/search?max_results=100", Cancel);
        active.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ShouldBe(["Default"]);
        var deleted = await client.GetFromJsonAsync<JsonElement>($"{Api}/list?view_type=DELETED_ONLY", Cancel);
        deleted.GetProperty("experiments").GetArrayLength().ShouldBe(1);

        await MlflowHttp.PostAsync(client, "experiments/restore", new { experiment_id = id });
        var all = await MlflowHttp.PostAsync(client, "experiments/search", new { view_type = "ALL", order_by = new[] { "name ASC" } });
        all.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ShouldBe(["Default", "churn-v2"]);
    }

    [Fact]
    public async Task Search_pages_with_an_opaque_token()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        for (var i = 0; i < 3; i++)
        {
            await MlflowHttp.PostAsync(client, "experiments/create", new { name = $"e{i}" });
        }

        var first = await MlflowHttp.PostAsync(client, "experiments/search", new { max_results = 2, order_by = new[] { "name" } });
        first.GetProperty("experiments").GetArrayLength().ShouldBe(2);
        var token = first.GetProperty("next_page_token").GetString();
        var second = await MlflowHttp.PostAsync(client, "experiments/search", new { max_results = 2, order_by = new[] { "name" }, page_token = token });
        second.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ShouldBe(["e1", "e2"], "Default and e0 were on the first page");
        second.TryGetProperty("next_page_token", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task A_search_page_token_pages_through_its_own_query_only()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        foreach (var name in new[] { "p1", "p2", "p3", "p4", "p5", "other" })
        {
            await MlflowHttp.PostAsync(client, "experiments/create", new { name });
        }

        var query = new Dictionary<string, object?> { ["filter"] = "name LIKE 'p%'", ["order_by"] = new[] { "name DESC" }, ["max_results"] = 2 };
        Dictionary<string, object?> With(string key, object? value) => new(query) { [key] = value };
        (await SearchPaging.AllAsync(token => MlflowHttp.PostAsync(client, "experiments/search", With("page_token", token)), "experiments", e => e.GetProperty("name").GetString()!))
            .ShouldBe(["p5", "p4", "p3", "p2", "p1"]);

        var token = (await MlflowHttp.PostAsync(client, "experiments/search", query)).GetProperty("next_page_token").GetString();
        await SearchPaging.ShouldRefuseAsync(client, $"{Api}/search", new Dictionary<string, object?>(query) { ["filter"] = "name LIKE 'o%'", ["page_token"] = token },
            "Filter string in the page token does not match the requested filter string. Expected: \"name LIKE 'o%'\". Found: \"name LIKE 'p%'\"");
        await SearchPaging.ShouldRefuseAsync(client, $"{Api}/search", new Dictionary<string, object?>(query) { ["order_by"] = new[] { "name" }, ["page_token"] = token },
            "Order by in the page token does not match the requested order by. Expected: [\"name\"]. Found: [\"name DESC\"]");
        await SearchPaging.ShouldRefuseAsync(client, $"{Api}/search", new Dictionary<string, object?>(query) { ["view_type"] = "ALL", ["page_token"] = token },
            "View type in the page token does not match the requested view type. Expected: \"ALL\". Found: \"ACTIVE_ONLY\"");
        await SearchPaging.ShouldRefuseAsync(client, $"{Api}/search", With("page_token", "garbage"), "Invalid page token 'garbage': it was not issued by this server.");
        // A client paging across the upgrade: the previous release's token is read as its offset.
        (await MlflowHttp.PostAsync(client, "experiments/search", With("page_token", SearchPaging.PreviousReleaseToken(3))))
            .GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ShouldBe(["p2", "p1"]);
    }

    [Theory]
    [InlineData("create", "{}", 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'. See the API docs for more information about request parameters.")]
    [InlineData("create", "{\"name\": 42}", 400, "INVALID_PARAMETER_VALUE", "Invalid value 42 for parameter 'name' supplied")]
    [InlineData("create", "{\"name\": ", 400, "BAD_REQUEST", "Malformed JSON in the request body (line 1, byte 9): ")]
    [InlineData("create", "  ", 400, "BAD_REQUEST", "The request body is empty; send a JSON object")]
    [InlineData("create", "[1]", 400, "BAD_REQUEST", "must be a JSON object")]
    [InlineData("delete", "{\"experiment_id\": \"99\"}", 404, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=99 exists")]
    [InlineData("delete", "{\"experiment_id\": \"0\"}", 400, "INVALID_PARAMETER_VALUE", "Cannot delete the default experiment")]
    [InlineData("search", "{\"filter\": \"name = 'a' OR name = 'b'\"}", 400, "INVALID_PARAMETER_VALUE", "expected AND")]
    [InlineData("search", "{\"max_results\": 50001}", 400, "INVALID_PARAMETER_VALUE", "max_results")]
    [InlineData("search", "{\"view_type\": \"SOME\"}", 400, "INVALID_PARAMETER_VALUE", "ACTIVE_ONLY, DELETED_ONLY or ALL")]
    [InlineData("set-experiment-tag", "{\"experiment_id\": \"0\"}", 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'key'")]
    // mlflow/server/handlers.py _update_experiment: "new_name": [_assert_string, _assert_required].
    [InlineData("update", "{\"experiment_id\": \"0\"}", 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'new_name'")]
    [InlineData("update", "{\"experiment_id\": \"0\", \"new_name\": \"\"}", 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'new_name'")]
    // Base64 of {"offset": "x"} and of [1]: INVALID_PARAMETER_VALUE, as MLflow's SearchUtils.parse_start_offset_from_page_token.
    [InlineData("search", "{\"page_token\": \"eyJvZmZzZXQiOiAieCJ9\"}", 400, "INVALID_PARAMETER_VALUE", "Invalid page token")]
    [InlineData("search", "{\"page_token\": \"WzFd\"}", 400, "INVALID_PARAMETER_VALUE", "Invalid page token")]
    [InlineData("search", "{\"view_type\": 4}", 400, "INVALID_PARAMETER_VALUE", "ACTIVE_ONLY, DELETED_ONLY or ALL")]
    // A tag value must be a string, as protobuf's JSON parser requires of MLflow's string fields (it was stored as null).
    [InlineData("create", "{\"name\": \"typed\", \"tags\": [{\"key\": \"k\", \"value\": 5}]}", 400, "INVALID_PARAMETER_VALUE", "Invalid value 5 for parameter 'tags[0].value'")]
    [InlineData("set-experiment-tag", "{\"experiment_id\": \"0\", \"key\": \"k\", \"value\": 5}", 400, "INVALID_PARAMETER_VALUE", "Invalid value 5 for parameter 'value'")]
    public async Task Bad_requests_get_mlflow_errors_with_an_actionable_message(string route, string body, int status, string code, string message)
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"{Api}/{route}", content, Cancel);

        ((int)response.StatusCode).ShouldBe(status);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        error.GetProperty("error_code").GetString().ShouldBe(code);
        error.GetProperty("message").GetString()!.ShouldContain(message);
    }

    // mlflow/store/tracking/sqlalchemy_store.py: delete_experiment marks the experiment's runs deleted, and looks the
    // experiment up with ViewType.ACTIVE_ONLY, so deleting it again is 404 "No Experiment with id=… exists".
    [Fact]
    public async Task Deleting_an_experiment_deletes_its_runs_and_a_second_delete_is_404()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var id = (await MlflowHttp.PostAsync(client, "experiments/create", new { name = "delexp" })).GetProperty("experiment_id").GetString();
        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = id })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();

        await MlflowHttp.PostAsync(client, "experiments/delete", new { experiment_id = id });
        (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/runs/get?run_id={runId}", Cancel)).GetProperty("run").GetProperty("info").GetProperty("lifecycle_stage").GetString().ShouldBe("deleted");
        (await MlflowHttp.PostAsync(client, "runs/search", new { experiment_ids = new[] { id } })).TryGetProperty("runs", out _).ShouldBeFalse();
        using (var log = await client.PostAsJsonAsync($"{MlflowHttp.Api}/runs/log-metric", new { run_id = runId, key = "m", value = 1, timestamp = 1 }, Cancel))
        {
            log.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await log.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("message").GetString().ShouldBe($"The run {runId} must be in the 'active' state. Current state is deleted.");
        }

        using (var again = await client.PostAsJsonAsync($"{Api}/delete", new { experiment_id = id }, Cancel))
        {
            again.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            var error = await again.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            (error.GetProperty("error_code").GetString(), error.GetProperty("message").GetString()).ShouldBe(("RESOURCE_DOES_NOT_EXIST", $"No Experiment with id={id} exists"));
        }

        await MlflowHttp.PostAsync(client, "experiments/restore", new { experiment_id = id });
        (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/runs/get?run_id={runId}", Cancel)).GetProperty("run").GetProperty("info").GetProperty("lifecycle_stage").GetString().ShouldBe("active");
    }

    // Protobuf's JSON parser takes an enum by name or number, and MLflow's _search_experiments checks view_type with _assert_intlike.
    [Theory]
    [InlineData("1", new[] { "Default", "live" })]
    [InlineData("2", new[] { "gone" })]
    [InlineData("3", new[] { "Default", "gone", "live" })]
    [InlineData("\"3\"", new[] { "Default", "gone", "live" })]
    public async Task View_types_are_taken_by_number_as_by_name(string viewType, string[] names)
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        await MlflowHttp.PostAsync(client, "experiments/create", new { name = "live" });
        var gone = (await MlflowHttp.PostAsync(client, "experiments/create", new { name = "gone" })).GetProperty("experiment_id").GetString();
        await MlflowHttp.PostAsync(client, "experiments/delete", new { experiment_id = gone });

        using var content = new StringContent($"{{\"view_type\": {viewType}, \"order_by\": [\"name\"]}}", Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"{Api}/search", content, Cancel);
        var text = await response.Content.ReadAsStringAsync(Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        JsonDocument.Parse(text).RootElement.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ShouldBe(names);
        var query = viewType.Trim('"');
        (await client.GetFromJsonAsync<JsonElement>($"{Api}/search?view_type={query}&order_by=name", Cancel))
            .GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ShouldBe(names);
    }

    // mlflow/exceptions.py maps a bare HTTP 404 to ENDPOINT_NOT_FOUND, and the client's fallbacks (rest_utils.call_endpoints,
    // older trace APIs) fire only on that code; a missing resource stays RESOURCE_DOES_NOT_EXIST.
    [Theory]
    [InlineData("GET", "/api/2.0/mlflow/experiments/nonexistent", 404, "ENDPOINT_NOT_FOUND")]
    [InlineData("POST", "/api/2.0/mlflow/traces/search", 404, "ENDPOINT_NOT_FOUND")]
    [InlineData("POST", "/ajax-api/2.0/mlflow/experiments/nonexistent", 404, "ENDPOINT_NOT_FOUND")]
    [InlineData("GET", "/api/2.0/mlflow-artifacts/nonexistent", 404, "ENDPOINT_NOT_FOUND")]
    [InlineData("GET", "/api/2.0/mlflow/experiments/get?experiment_id=99", 404, "RESOURCE_DOES_NOT_EXIST")]
    [InlineData("GET", "/api/2.0/mlflow/experiments/create", 405, "ENDPOINT_NOT_FOUND")]
    public async Task Unknown_routes_are_endpoint_not_found_and_unknown_resources_resource_does_not_exist(string method, string path, int status, string code)
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "GET" ? null : new StringContent("{}", Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request, Cancel);

        ((int)response.StatusCode).ShouldBe(status);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        error.GetProperty("error_code").GetString().ShouldBe(code);
        error.GetProperty("message").GetString().ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task A_duplicate_name_is_resource_already_exists_and_an_unknown_name_is_404()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        await MlflowHttp.PostAsync(client, "experiments/create", new { name = "twice" });

        using var again = await client.PostAsJsonAsync($"{Api}/create", new { name = "twice" }, Cancel);
        again.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await again.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error_code").GetString().ShouldBe("RESOURCE_ALREADY_EXISTS");

        using var missing = await client.GetAsync($"{Api}/get-by-name?experiment_name=nope", Cancel);
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await missing.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error_code").GetString().ShouldBe("RESOURCE_DOES_NOT_EXIST");
    }

    [Fact]
    public async Task A_reader_key_may_search_but_not_create_and_is_told_so_in_mlflow_format()
    {
        await using var server = await StartServerAsync();
        using var anonymous = server.Client();
        using var adminKey = await anonymous.PostAsJsonAsync("/api/v1/keys", new { name = "root", role = "admin" }, Cancel);
        using var admin = server.Client((await adminKey.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("token").GetString());
        using var readerKey = await admin.PostAsJsonAsync("/api/v1/keys", new { name = "viewer", role = "reader" }, Cancel);
        using var reader = server.Client((await readerKey.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("token").GetString());

        (await reader.PostAsJsonAsync($"{Api}/search", new { }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var denied = await reader.PostAsJsonAsync($"{Api}/create", new { name = "x" }, Cancel);
        denied.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var error = await denied.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        error.GetProperty("error_code").GetString().ShouldBe("PERMISSION_DENIED");
        error.GetProperty("message").GetString()!.ShouldContain("needs 'writer'");

        using var unauthenticated = await anonymous.PostAsJsonAsync($"{Api}/search", new { }, Cancel);
        unauthenticated.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await unauthenticated.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error_code").GetString().ShouldBe("UNAUTHENTICATED");
    }
}

public sealed class SqliteMlflowExperimentsApiTests() : MlflowExperimentsApiTests(DatabaseEngine.Sqlite);

public sealed class PostgresMlflowExperimentsApiTests() : MlflowExperimentsApiTests(DatabaseEngine.Postgres);
