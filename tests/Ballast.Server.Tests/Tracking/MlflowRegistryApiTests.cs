using Ballast.Metadata;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Ballast.Tests.Tracking;

/// <summary>The MLflow REST model registry as MlflowClient calls it (GET with query strings, POST/PATCH/DELETE with JSON bodies).</summary>
public abstract class MlflowRegistryApiTests(DatabaseEngine engine) : EngineServerTest(engine)
{
    [Fact]
    public async Task A_runs_source_whose_run_does_not_exist_is_refused_at_creation_with_mlflows_404()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "churn" });

        // MLflow resolves runs:/ through the run (its tracking store's get_run): unknown, it is RESOURCE_DOES_NOT_EXIST.
        using var refused = await client.PostAsJsonAsync($"{MlflowHttp.Api}/model-versions/create", new { name = "churn", source = "runs:/0123456789abcdef0123456789abcdef/model" }, Cancel);

        refused.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var error = await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        (error.GetProperty("error_code").GetString(), error.GetProperty("message").GetString()).ShouldBe(("RESOURCE_DOES_NOT_EXIST",
            "Run with id=0123456789abcdef0123456789abcdef not found (the model version source 'runs:/0123456789abcdef0123456789abcdef/model' names it)."));
        var none = await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/model-versions/search?filter={Uri.EscapeDataString("name = 'churn'")}", Cancel);
        none.TryGetProperty("model_versions", out _).ShouldBeFalse("nothing was registered");
        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
        (await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "churn", source = $"runs:/{runId}/model" })).GetProperty("model_version").GetProperty("version").GetString().ShouldBe("1");
        (await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "churn", source = "s3://bucket/elsewhere/model" })).GetProperty("model_version").GetProperty("version").GetString().ShouldBe("2");
    }

    [Fact]
    public async Task A_model_is_registered_versioned_promoted_and_aliased_over_http()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "0" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();

        var model = (await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "churn", description = "predicts churn", tags = new[] { new { key = "team", value = "growth" } } }))
            .GetProperty("registered_model");
        model.GetProperty("name").GetString().ShouldBe("churn");
        model.GetProperty("creation_timestamp").GetInt64().ShouldBeGreaterThan(0);

        var v1 = (await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "churn", source = $"runs:/{runId}/model", run_id = runId })).GetProperty("model_version");
        v1.GetProperty("version").GetString().ShouldBe("1");
        v1.GetProperty("current_stage").GetString().ShouldBe("None");
        v1.GetProperty("status").GetString().ShouldBe("READY");
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "churn", source = "mlflow-artifacts:/0/x/artifacts/model" });

        var promoted = (await MlflowHttp.PostAsync(client, "model-versions/transition-stage", new { name = "churn", version = "2", stage = "Production", archive_existing_versions = true }))
            .GetProperty("model_version");
        promoted.GetProperty("current_stage").GetString().ShouldBe("Production");
        await MlflowHttp.PostAsync(client, "registered-models/alias", new { name = "churn", alias = "champion", version = "2" });

        var byAlias = await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/registered-models/alias?name=churn&alias=champion", Cancel);
        byAlias.GetProperty("model_version").GetProperty("aliases")[0].GetString().ShouldBe("champion");
        var latest = await MlflowHttp.PostAsync(client, "registered-models/get-latest-versions", new { name = "churn", stages = new[] { "Production" } });
        latest.GetProperty("model_versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()).ShouldBe(["2"]);
        var uri = await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/model-versions/get-download-uri?name=churn&version=2", Cancel);
        uri.GetProperty("artifact_uri").GetString().ShouldBe("mlflow-artifacts:/0/x/artifacts/model");

        using (var update = new HttpRequestMessage(HttpMethod.Patch, $"{MlflowHttp.Api}/registered-models/update") { Content = JsonContent.Create(new { name = "churn", description = "v2" }) })
        {
            (await client.SendAsync(update, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var read = (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/registered-models/get?name=churn", Cancel)).GetProperty("registered_model");
        read.GetProperty("description").GetString().ShouldBe("v2");
        read.GetProperty("aliases")[0].GetProperty("alias").GetString().ShouldBe("champion");
        read.GetProperty("latest_versions").EnumerateArray().Select(v => v.GetProperty("current_stage").GetString()).ShouldBe(["None", "Production"]);

        var searched = await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/model-versions/search?filter={Uri.EscapeDataString($"run_id = '{runId}'")}", Cancel);
        searched.GetProperty("model_versions").GetArrayLength().ShouldBe(1);
        var models = await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/registered-models/search?filter={Uri.EscapeDataString("name LIKE 'ch%'")}", Cancel);
        models.GetProperty("registered_models").GetArrayLength().ShouldBe(1);

        using (var delete = new HttpRequestMessage(HttpMethod.Delete, $"{MlflowHttp.Api}/registered-models/delete-tag") { Content = JsonContent.Create(new { name = "churn", key = "team" }) })
        {
            (await client.SendAsync(delete, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var delete = new HttpRequestMessage(HttpMethod.Delete, $"{MlflowHttp.Api}/registered-models/delete") { Content = JsonContent.Create(new { name = "churn" }) })
        {
            (await client.SendAsync(delete, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using var gone = await client.GetAsync($"{MlflowHttp.Api}/registered-models/get?name=churn", Cancel);
        gone.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await gone.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("message").GetString().ShouldBe("Registered Model with name=churn not found");
    }

    [Fact]
    public async Task Registry_changes_are_audited_under_the_api_key_that_made_them()
    {
        await using var server = await StartServerAsync();
        using var anonymous = server.Client();
        using var adminKey = await anonymous.PostAsJsonAsync("/api/v1/keys", new { name = "root", role = "admin" }, Cancel);
        using var admin = server.Client((await adminKey.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("token").GetString());
        using var ciKey = await admin.PostAsJsonAsync("/api/v1/keys", new { name = "ci", role = "writer" }, Cancel);
        using var ci = server.Client((await ciKey.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("token").GetString());

        await MlflowHttp.PostAsync(ci, "registered-models/create", new { name = "churn" });
        await MlflowHttp.PostAsync(ci, "model-versions/create", new { name = "churn", source = "s3://m" });
        await MlflowHttp.PostAsync(admin, "registered-models/alias", new { name = "churn", alias = "champion", version = "1" });

        var audit = await admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?resource=churn", Cancel);
        audit.GetProperty("events").EnumerateArray().Select(e => (e.GetProperty("actor").GetString(), e.GetProperty("action").GetString()))
            .ShouldBe([("root", "set_alias"), ("ci", "create")]);

        using var bad = await admin.GetAsync("/api/v1/audit?maxResults=0", Cancel);
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        bad.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    [Fact]
    public async Task Registry_search_page_tokens_page_through_their_own_query_only()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        foreach (var name in new[] { "m1", "m2", "m3", "m4", "m5", "x" })
        {
            await MlflowHttp.PostAsync(client, "registered-models/create", new { name });
        }

        for (var i = 0; i < 5; i++)
        {
            await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "m1", source = $"s3://m1/{i}" });
        }

        var models = $"{MlflowHttp.Api}/registered-models/search?filter={Uri.EscapeDataString("name LIKE 'm%'")}&order_by={Uri.EscapeDataString("name DESC")}&max_results=2";
        var versions = $"{MlflowHttp.Api}/model-versions/search?filter={Uri.EscapeDataString("name = 'm1'")}&order_by={Uri.EscapeDataString("version_number ASC")}&max_results=2";
        static string At(string url, string? token) => token is null ? url : $"{url}&page_token={Uri.EscapeDataString(token)}";
        (await SearchPaging.AllAsync(token => SearchPaging.GetAsync(client, At(models, token)), "registered_models", m => m.GetProperty("name").GetString()!))
            .ShouldBe(["m5", "m4", "m3", "m2", "m1"]);
        (await SearchPaging.AllAsync(token => SearchPaging.GetAsync(client, At(versions, token)), "model_versions", v => v.GetProperty("version").GetString()!))
            .ShouldBe(["1", "2", "3", "4", "5"]);

        var modelToken = (await SearchPaging.GetAsync(client, models)).GetProperty("next_page_token").GetString();
        var versionToken = (await SearchPaging.GetAsync(client, versions)).GetProperty("next_page_token").GetString();
        await SearchPaging.ShouldRefuseAsync(client, At(models.Replace("m%25", "x%25", StringComparison.Ordinal), modelToken), null,
            "Filter string in the page token does not match the requested filter string. Expected: \"name LIKE 'x%'\". Found: \"name LIKE 'm%'\"");
        await SearchPaging.ShouldRefuseAsync(client, At(versions.Replace("ASC", "DESC", StringComparison.Ordinal), versionToken), null,
            "Order by in the page token does not match the requested order by. Expected: [\"version_number DESC\"]. Found: [\"version_number ASC\"]");
        await SearchPaging.ShouldRefuseAsync(client, At($"{MlflowHttp.Api}/model-versions/search?filter={Uri.EscapeDataString("name LIKE 'm%'")}&order_by={Uri.EscapeDataString("name DESC")}", modelToken), null,
            "Search in the page token does not match the requested search. Expected: \"model_versions\". Found: \"registered_models\"");
        await SearchPaging.ShouldRefuseAsync(client, At(models, "garbage"), null, "Invalid page token 'garbage': it was not issued by this server.");
        await SearchPaging.ShouldRefuseAsync(client, At(versions, "garbage"), null, "Invalid page token 'garbage': it was not issued by this server.");
        // A client paging across the upgrade: the previous release's token is read as its offset.
        (await SearchPaging.GetAsync(client, At(models, SearchPaging.PreviousReleaseToken(3)))).GetProperty("registered_models").EnumerateArray()
            .Select(m => m.GetProperty("name").GetString()).ShouldBe(["m2", "m1"]);
        (await SearchPaging.GetAsync(client, At(versions, SearchPaging.PreviousReleaseToken(3)))).GetProperty("model_versions").EnumerateArray()
            .Select(v => v.GetProperty("version").GetString()).ShouldBe(["4", "5"]);
    }

    [Fact]
    public async Task Audit_page_tokens_page_through_their_own_query_only_and_are_refused_as_problems()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        foreach (var name in new[] { "a1", "a2", "a3", "a4", "a5" })
        {
            await MlflowHttp.PostAsync(client, "registered-models/create", new { name });
        }

        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "a1", source = "s3://a1" });
        const string Models = "/api/v1/audit?resourceType=registered_model&maxResults=2";
        static string At(string url, string? token) => token is null ? url : $"{url}&pageToken={Uri.EscapeDataString(token)}";
        (await SearchPaging.AllAsync(token => SearchPaging.GetAsync(client, At(Models, token)), "events", e => e.GetProperty("resource").GetString()!))
            .ShouldBe(["a5", "a4", "a3", "a2", "a1"]);

        var token = (await SearchPaging.GetAsync(client, Models)).GetProperty("next_page_token").GetString();
        foreach (var (url, detail) in new[]
        {
            (At("/api/v1/audit?resourceType=model_version&maxResults=2", token),
                "Resource type in the page token does not match the requested resource type. Expected: \"model_version\". Found: \"registered_model\""),
            (At(Models + "&resource=a1", token), "Resource in the page token does not match the requested resource. Expected: \"a1\". Found: null"),
            (At(Models, "garbage"), "Invalid page token 'garbage': it was not issued by this server."),
        })
        {
            var (mediaType, problem) = await SearchPaging.RefusedAsync(client, url);
            mediaType.ShouldBe("application/problem+json");
            problem.GetProperty("status").GetInt32().ShouldBe(400);
            problem.GetProperty("detail").GetString().ShouldBe(detail);
        }

        var registryToken = (await SearchPaging.GetAsync(client, $"{MlflowHttp.Api}/registered-models/search?max_results=1")).GetProperty("next_page_token").GetString();
        (await SearchPaging.RefusedAsync(client, At(Models, registryToken))).Error.GetProperty("detail").GetString()
            .ShouldBe("Search in the page token does not match the requested search. Expected: \"audit_events\". Found: \"registered_models\"");
        // A client paging across the upgrade: the previous release's token is read as its offset.
        (await SearchPaging.GetAsync(client, At(Models, SearchPaging.PreviousReleaseToken(3)))).GetProperty("events").EnumerateArray()
            .Select(e => e.GetProperty("resource").GetString()).ShouldBe(["a2", "a1"]);
    }

    [Fact]
    public async Task Audit_takes_snake_case_parameters_and_the_camelCase_ones_as_aliases_that_must_agree()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        foreach (var name in new[] { "s1", "s2", "s3" })
        {
            await MlflowHttp.PostAsync(client, "registered-models/create", new { name });
        }

        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "s1", source = "s3://s1" });
        static string At(string url, string name, string? token) => token is null ? url : $"{url}&{name}={Uri.EscapeDataString(token)}";
        static string Resource(JsonElement e) => e.GetProperty("resource").GetString()!;

        // The documented form, and the first release's aliases, and both at once when they agree: the same pages.
        const string Snake = "/api/v1/audit?resource_type=registered_model&max_results=2";
        (await SearchPaging.AllAsync(token => SearchPaging.GetAsync(client, At(Snake, "page_token", token)), "events", Resource)).ShouldBe(["s3", "s2", "s1"]);
        const string Camel = "/api/v1/audit?resourceType=registered_model&maxResults=2";
        (await SearchPaging.AllAsync(token => SearchPaging.GetAsync(client, At(Camel, "pageToken", token)), "events", Resource)).ShouldBe(["s3", "s2", "s1"]);
        const string Both = Snake + "&resourceType=registered_model&maxResults=2";
        (await SearchPaging.AllAsync(token => SearchPaging.GetAsync(client, At(At(Both, "page_token", token), "pageToken", token)), "events", Resource))
            .ShouldBe(["s3", "s2", "s1"]);
        // A token issued to a snake_case request pages the camelCase one: the names are the same parameters.
        var token = (await SearchPaging.GetAsync(client, Snake)).GetProperty("next_page_token").GetString();
        (await SearchPaging.GetAsync(client, At(Camel, "pageToken", token))).GetProperty("events").EnumerateArray().Select(Resource).ShouldBe(["s1"]);
        (await SearchPaging.GetAsync(client, "/api/v1/audit?resource_type=model_version")).GetProperty("events").EnumerateArray().Select(Resource).ShouldBe(["s1/1"]);

        foreach (var (url, errors) in new[]
        {
            ("/api/v1/audit?resource_type=registered_model&resourceType=model_version",
                new[] { "resource_type is 'registered_model' but its alias resourceType is 'model_version': give one of them" }),
            ($"/api/v1/audit?max_results=2&maxResults=3&page_token={Uri.EscapeDataString(token!)}&pageToken=other",
                new[] { "max_results is '2' but its alias maxResults is '3': give one of them", $"page_token is '{token}' but its alias pageToken is 'other': give one of them" }),
            ("/api/v1/audit?maxResults=many", new[] { "maxResults must be an integer, not 'many'" }),
        })
        {
            var (mediaType, problem) = await SearchPaging.RefusedAsync(client, url);
            mediaType.ShouldBe("application/problem+json");
            problem.GetProperty("status").GetInt32().ShouldBe(400);
            problem.GetProperty("code").GetString().ShouldBe("INVALID_PARAMETER_VALUE");
            problem.GetProperty("detail").GetString().ShouldBe(string.Join("; ", errors) + ".");
        }

        // Out of range under either name: the store's one message, in the documented name.
        foreach (var url in new[] { "/api/v1/audit?max_results=0", "/api/v1/audit?maxResults=0" })
        {
            (await SearchPaging.RefusedAsync(client, url)).Error.GetProperty("detail").GetString().ShouldBe("max_results must be between 1 and 1000, not 0.");
        }
    }

    // mlflow/utils/search_utils.py SearchModelVersionUtils: version_number is a valid search attribute and a numeric one
    // (NUMERIC_ATTRIBUTES), compared with =, !=, <, <=, > and >=.
    [Fact]
    public async Task Model_versions_are_searched_by_version_number()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        foreach (var name in new[] { "a", "b" })
        {
            await MlflowHttp.PostAsync(client, "registered-models/create", new { name });
            for (var i = 0; i < 4; i++)
            {
                await MlflowHttp.PostAsync(client, "model-versions/create", new { name, source = $"s3://models/{name}/{i}" });
            }
        }

        async Task<IEnumerable<string>> FoundAsync(string filter) =>
            (await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/model-versions/search?filter={Uri.EscapeDataString(filter)}", Cancel))
            .GetProperty("model_versions").EnumerateArray().Select(v => $"{v.GetProperty("name").GetString()}{v.GetProperty("version").GetString()}").ToList();

        (await FoundAsync("version_number=2")).ShouldBe(["a2", "b2"]);
        (await FoundAsync("name = 'a' and version_number > 2")).ShouldBe(["a4", "a3"]);
        (await FoundAsync("name = 'b' and version_number <= 2 and version_number != 1")).ShouldBe(["b2"]);
        (await FoundAsync("version_number >= 4")).ShouldBe(["a4", "b4"]);
        (await FoundAsync("name = 'a' and version_number < 2")).ShouldBe(["a1"]);

        foreach (var (filter, reason) in new[] { ("version_number LIKE '1'", "'version_number' takes =, !=, <, <=, > or >="), ("version_number = 'one'", "compared with a whole number") })
        {
            using var refused = await client.GetAsync($"{MlflowHttp.Api}/model-versions/search?filter={Uri.EscapeDataString(filter)}", Cancel);
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            var error = await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            error.GetProperty("error_code").GetString().ShouldBe("INVALID_PARAMETER_VALUE");
            error.GetProperty("message").GetString()!.ShouldContain(reason);
        }
    }

    [Fact]
    public async Task Archiving_existing_versions_on_promotion_still_archives_the_stage_holder()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "m" });
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "m", source = "s3://m/1" });
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "m", source = "s3://m/2" });
        await MlflowHttp.PostAsync(client, "model-versions/transition-stage", new { name = "m", version = "1", stage = "Staging", archive_existing_versions = false });
        await MlflowHttp.PostAsync(client, "model-versions/transition-stage", new { name = "m", version = "2", stage = "staging", archive_existing_versions = true });
        await MlflowHttp.PostAsync(client, "model-versions/transition-stage", new { name = "m", version = "2", stage = "Archived", archive_existing_versions = false });

        var stages = await client.GetFromJsonAsync<JsonElement>($"{MlflowHttp.Api}/model-versions/search?filter={Uri.EscapeDataString("name = 'm'")}", Cancel);
        stages.GetProperty("model_versions").EnumerateArray().Select(v => v.GetProperty("current_stage").GetString()).ShouldBe(["Archived", "Archived"]);
    }

    [Theory]
    [InlineData("registered-models/create", "{}", 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'")]
    [InlineData("registered-models/create", "{\"name\": \"taken\"}", 400, "RESOURCE_ALREADY_EXISTS", "Registered Model (name=taken) already exists.")]
    [InlineData("model-versions/create", "{\"name\": \"taken\"}", 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'source'")]
    [InlineData("model-versions/create", "{\"name\": \"nope\", \"source\": \"s3://x\"}", 404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=nope not found")]
    [InlineData("model-versions/transition-stage", "{\"name\": \"taken\", \"version\": \"1\", \"stage\": \"Live\"}", 400, "INVALID_PARAMETER_VALUE", "Invalid Model Version stage: Live")]
    [InlineData("registered-models/alias", "{\"name\": \"taken\", \"alias\": \"latest\", \"version\": \"1\"}", 400, "INVALID_PARAMETER_VALUE", "reserved")]
    // MLflow's registry stores (transition_model_version_stage): "Model version transition cannot archive existing model
    // versions because '<stage>' is not an Active stage. Valid stages are ['Staging', 'Production']".
    [InlineData("model-versions/transition-stage", "{\"name\": \"taken\", \"version\": \"1\", \"stage\": \"Archived\", \"archive_existing_versions\": true}", 400, "INVALID_PARAMETER_VALUE",
        "Model version transition cannot archive existing model versions because 'Archived' is not an Active stage. Valid stages are ['Staging', 'Production']")]
    [InlineData("model-versions/transition-stage", "{\"name\": \"taken\", \"version\": \"1\", \"stage\": \"none\", \"archive_existing_versions\": true}", 400, "INVALID_PARAMETER_VALUE", "'none' is not an Active stage")]
    // A tag value must be a string, as protobuf's JSON parser requires of MLflow's string fields.
    [InlineData("registered-models/create", "{\"name\": \"typed\", \"tags\": [{\"key\": \"k\", \"value\": 5}]}", 400, "INVALID_PARAMETER_VALUE", "Invalid value 5 for parameter 'tags[0].value'")]
    [InlineData("model-versions/create", "{\"name\": \"taken\", \"source\": \"s3://b\", \"tags\": [{\"key\": \"k\", \"value\": true}]}", 400, "INVALID_PARAMETER_VALUE", "Invalid value true for parameter 'tags[0].value'")]
    public async Task Bad_registry_requests_get_mlflow_errors(string route, string body, int status, string code, string message)
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "taken" });
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "taken", source = "s3://a" });

        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"{MlflowHttp.Api}/{route}", content, Cancel);

        ((int)response.StatusCode).ShouldBe(status);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        error.GetProperty("error_code").GetString().ShouldBe(code);
        error.GetProperty("message").GetString()!.ShouldContain(message);
    }
}

public sealed class SqliteMlflowRegistryApiTests() : MlflowRegistryApiTests(DatabaseEngine.Sqlite);

public sealed class PostgresMlflowRegistryApiTests() : MlflowRegistryApiTests(DatabaseEngine.Postgres);
