using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Client;
using Ballast.Tests.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Tests.Rollouts;

/// <summary>Canary rollouts on a real server with real requests: the controller (under its lease) promotes a good version and aborts one whose inputs do not fit the traffic.</summary>
public sealed class RolloutServerTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>
    /// The refusal check resolves a stable variant served by an alias once and judges both layouts (stable with the
    /// canary, stable alone) with that version, so the problem it blames on the new model names the version it checked.
    /// </summary>
    [Fact]
    public async Task A_canary_that_cannot_serve_beside_a_stable_variant_served_by_an_alias_is_refused()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 1);
        using (var form = new MultipartFormDataContent())
        {
            var titanic = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture("titanic_pipeline.onnx"), Cancel));
            titanic.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(titanic, "file", "titanic.onnx");
            (await client.PostAsync("/api/v1/models/iris/versions", form, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        (await client.PostAsJsonAsync("/api/2.0/mlflow/registered-models/alias", new { name = "iris", alias = "champion", version = "1" }, Cancel)).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris@champion" } } }, Cancel)).EnsureSuccessStatusCode();

        using var refused = await client.PostAsJsonAsync("/api/v1/rollouts", new
        {
            name = "iris-titanic", endpoint = "iris", model = "models:/iris/2", strategy = "canary", steps = new object[] { new { setWeight = 50 } },
            analysis = new { interval = "10s", count = 1, minRequests = 20, metrics = new[] { new { name = "errors", failureCondition = "error_rate > 0.01" } } },
        }, Cancel);
        var body = await refused.Content.ReadAsStringAsync(Cancel);
        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
        JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString().ShouldStartWith(
            "Invalid rollout 'iris-titanic': endpoint 'iris' could not serve 'models:/iris/2' beside its stable variant: every variant, shadow and fallback must take "
            + "the endpoint's inputs, those of variant 'main' (iris/1): float_input FP32 [-1,4]; variant 'canary' (iris/2) lacks float_input", Case.Sensitive);
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel)).GetProperty("variants").EnumerateArray().ShouldHaveSingleItem()
            .GetProperty("model").GetString().ShouldBe("models:/iris@champion", "the check changes nothing");
    }

    [Fact]
    public async Task A_good_canary_is_promoted_and_one_whose_schema_does_not_fit_the_traffic_is_refused_before_it_starts()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        using (var form = new MultipartFormDataContent())
        {
            var titanic = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture("titanic_pipeline.onnx"), Cancel));
            titanic.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(titanic, "file", "titanic.onnx");
            (await client.PostAsync("/api/v1/models/iris/versions", form, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();

        // Version 2 (the same iris model) is good; version 3 is a titanic pipeline: iris traffic does not fit its signature,
        // so the router would never route to it as the canary (the endpoint would not be served), and the rollout is
        // refused up front rather than waiting for traffic that cannot come.
        foreach (var (version, expected) in new[] { (2, "Succeeded"), (3, "Refused") })
        {
            var file = Path.Combine(server.DataDir, $"rollout-{version}.yaml");
            await File.WriteAllTextAsync(file, $"""
                name: iris-v{version}
                endpoint: iris
                model: "models:/iris/{version}"
                strategy: canary
                steps:
                  - setWeight: 50
                  - analysis: {"{}"}
                analysis:
                  interval: 10s
                  count: 1
                  minRequests: 20
                  metrics:
                    - {"{"}name: errors, failureCondition: "error_rate > 0.01"{"}"}
                    - {"{"}name: schema, failureCondition: "rejection_rate > 0.05"{"}"}
                """, Cancel);
            var started = await CliProcess.RunAsync("rollout", "start", "-f", file, "--url", url);
            if (expected == "Refused")
            {
                started.ExitCode.ShouldBe(1, started.ToString());
                started.Error.ShouldContain("Invalid rollout 'iris-v3': endpoint 'iris' could not serve 'models:/iris/3' beside its stable variant: every variant, shadow and fallback must take "
                    + "the endpoint's inputs, those of variant 'main' (iris/2): float_input FP32 [-1,4]; variant 'canary' (iris/3) lacks float_input and also takes age FP32 [-1,1], ", Case.Sensitive, started.ToString());
                break;
            }

            started.ExitCode.ShouldBe(0, started.ToString());

            JsonElement status = default;
            for (var i = 0; i < 400; i++)
            {
                using (await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel))
                {
                }

                await Task.Delay(50, Cancel);
                status = await client.GetFromJsonAsync<JsonElement>($"/api/v1/rollouts/iris-v{version}", Cancel);
                if (status.GetProperty("phase").GetString() is "Succeeded" or "Aborted" or "Paused")
                {
                    break;
                }
            }

            status.GetProperty("phase").GetString().ShouldBe(expected, status.ToString());
            var endpoint = await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel);
            endpoint.GetProperty("variants").EnumerateArray().Select(v => (v.GetProperty("name").GetString(), v.GetProperty("model").GetString(), v.GetProperty("weight").GetInt32()))
                .ShouldBe([("main", "models:/iris/2", 100)], "after the promotion, version 2 is stable; after the abort, it still is");
        }

        var after = await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel);
        after.GetProperty("variants").EnumerateArray().Select(v => (v.GetProperty("name").GetString(), v.GetProperty("model").GetString())).ShouldBe([("main", "models:/iris/2")]);
        after.GetProperty("status").GetProperty("ready").GetBoolean().ShouldBeTrue();
        (await client.GetAsync("/api/v1/rollouts/iris-v3", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_canary_whose_sticky_segment_sends_shifted_inputs_is_aborted_on_drift_share_and_an_unknown_monitor_is_refused()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } }, sticky = new { header = "Ballast-Routing-Key" } }, Cancel))
            .EnsureSuccessStatusCode();
        object Rollout(string? monitor) => new
        {
            name = "iris-v2", endpoint = "iris", model = "models:/iris/2", strategy = "canary",
            steps = new object[] { new { setWeight = 50 }, new { analysis = new { } } },
            analysis = new { interval = "3s", count = 1, minRequests = 30, metrics = new[] { new { name = "drift", failureCondition = "drift_share > 0.3", monitor } } },
        };
        using (var refused = await client.PostAsJsonAsync("/api/v1/rollouts", Rollout("nope"), Cancel))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("Invalid rollout 'iris-v2': analysis metric 'drift': monitor 'nope' does not exist.");
        }

        (await client.PostAsJsonAsync("/api/v1/rollouts", Rollout(null), Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);
        // Users whose key falls in the canary's buckets (50 to 99 at weight 50) send petals 3 cm longer; no monitor, so stable's traffic is the reference.
        var random = new Random(7);
        JsonElement status = default;
        for (var i = 0; i < 500; i++)
        {
            await Task.Delay(20, Cancel);
            for (var j = 0; j < 10; j++)
            {
                var key = $"user-{(i * 10) + j}";
                var shift = Ballast.Serving.RoutedEndpoint.Bucket(key) >= 50 ? 3.0 : 0;
                var row = new { name = "float_input", shape = new[] { 1, 4 }, datatype = "FP32", data = new[] { 5.8 + random.NextDouble(), 3.0 + random.NextDouble(), 1.4 + random.NextDouble() + shift, 0.2 + random.NextDouble() + shift } };
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/iris/infer") { Content = JsonContent.Create(new { inputs = new[] { row } }) };
                request.Headers.Add("Ballast-Routing-Key", key);
                using var scored = await client.SendAsync(request, Cancel);
                scored.EnsureSuccessStatusCode();
            }

            status = await client.GetFromJsonAsync<JsonElement>("/api/v1/rollouts/iris-v2", Cancel);
            if (status.GetProperty("phase").GetString() is "Succeeded" or "Aborted" or "Paused")
            {
                break;
            }
        }

        status.GetProperty("phase").GetString().ShouldBe("Aborted", status.ToString());
        status.GetProperty("message").GetString().ShouldStartWith("analysis failed: drift: drift_share > 0.3 (value ");
        // The two shifted petal columns drift (KS p-values near 0); how many rows an interval holds depends on real time,
        // so an unshifted column may also cross p < 0.05 by chance: at least half the columns drifted.
        var values = (await client.GetFromJsonAsync<JsonElement>("/api/v1/rollouts/iris-v2/history", Cancel)).GetProperty("history").EnumerateArray().Last().GetProperty("values");
        values.GetProperty("drift_share").GetDouble().ShouldBeGreaterThanOrEqualTo(0.5);
        (values.GetProperty("drift.float_input[2]").GetDouble(), values.GetProperty("drift.float_input[3]").GetDouble()).ShouldSatisfyAllConditions(
            pair => pair.Item1.ShouldBeLessThan(1e-6), pair => pair.Item2.ShouldBeLessThan(1e-6));
        values.GetProperty("logged_rows").GetDouble().ShouldBeGreaterThanOrEqualTo(30);
    }

    [Fact]
    public async Task Two_replicas_on_one_postgres_run_one_controller_and_record_each_transition_once()
    {
        var (location, drop) = await Ballast.Tests.Metadata.TestDatabases.CreateAsync(Ballast.Metadata.DatabaseEngine.Postgres);
        var artifacts = Directory.CreateTempSubdirectory("ballast-rollout-artifacts-").FullName;
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(location.ConnectionString);
            var database = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
            await using var first = await RunningServer.StartAsync(options => options with { Database = database, Artifacts = artifacts });
            await using var second = await RunningServer.StartAsync(options => options with { Database = database, Artifacts = artifacts });
            using var one = first.Client();
            using var two = second.Client();
            await ServingHelpers.RegisterIrisAsync(one, times: 2);
            (await one.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();
            (await one.PostAsJsonAsync("/api/v1/rollouts", new
            {
                name = "iris-v2", endpoint = "iris", model = "models:/iris/2", strategy = "canary",
                steps = new object[] { new { setWeight = 50 }, new { pause = "2s" }, new { setWeight = 100 } },
            }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);

            var status = await Eventually.UntilAsync(
                () => two.GetFromJsonAsync<JsonElement>("/api/v1/rollouts/iris-v2", Cancel), status => status.GetProperty("phase").GetString() == "Succeeded", TimeSpan.FromMilliseconds(100));

            status.GetProperty("phase").GetString().ShouldBe("Succeeded", status.ToString());
            var history = (await one.GetFromJsonAsync<JsonElement>("/api/v1/rollouts/iris-v2/history", Cancel)).GetProperty("history").EnumerateArray()
                .Select(e => e.GetProperty("message").GetString()).ToList();
            history.ShouldBe(["started: models:/iris/2 against stable variant 'main' (models:/iris/1)", "canary weight 50%", "pause of 00:00:02 done", "canary weight 100%",
                "promoted: models:/iris/2 is the stable variant 'main'"], "one controller, each transition once");
        }
        finally
        {
            await drop();
            Directory.Delete(artifacts, recursive: true);
        }
    }

    [Fact]
    public async Task Each_ended_analysis_is_listed_newest_first_with_paging_for_readers_and_in_the_cli()
    {
        await using var server = await RunningServer.StartAsync();
        var keys = server.App.Services.GetRequiredService<Ballast.Security.ApiKeyStore>();
        using var writer = server.Client((await keys.CreateAsync("ops", Ballast.Security.ApiKeyRole.Writer, Cancel)).Token);
        var readerKey = (await keys.CreateAsync("analyst", Ballast.Security.ApiKeyRole.Reader, Cancel)).Token;
        using var reader = server.Client(readerKey);
        var url = server.BaseAddress.ToString().TrimEnd('/');
        await ServingHelpers.RegisterIrisAsync(writer, times: 2);
        (await writer.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();
        // Two analyses of one 1 s measurement each; minRequests 0 lets them pass without traffic (the test is about keeping them).
        (await writer.PostAsJsonAsync("/api/v1/rollouts", new
        {
            name = "iris-v2", endpoint = "iris", model = "models:/iris/2", strategy = "canary",
            steps = new object[] { new { setWeight = 20 }, new { analysis = new { } }, new { setWeight = 50 }, new { analysis = new { } }, new { pause = new { } } },
            analysis = new { interval = "1s", count = 1, minRequests = 0, metrics = new[] { new { name = "errors", failureCondition = "error_rate > 0.5" } } },
        }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);

        var phase = await Eventually.UntilAsync(
            async () => (await reader.GetFromJsonAsync<JsonElement>("/api/v1/rollouts/iris-v2", Cancel)).GetProperty("phase").GetString(), phase => phase == "Paused", TimeSpan.FromMilliseconds(50));

        phase.ShouldBe("Paused");
        var status = await CliProcess.RunAsync("rollout", "status", "iris-v2", "--url", url, "--api-key", readerKey);
        status.Output.Split('\n')[0].ShouldBe("iris-v2: Paused, step 4, canary weight 50% (paused until promoted)", status.ToString());
        var analyses = await reader.GetFromJsonAsync<JsonElement>("/api/v1/rollouts/iris-v2/analyses", Cancel);
        analyses.GetProperty("analyses").EnumerateArray().Select(a => (a.GetProperty("id").GetInt64(), a.GetProperty("step").GetInt32(), a.GetProperty("outcome").GetString()))
            .ShouldBe([(2L, 3, "Successful"), (1L, 1, "Successful")]);
        analyses.TryGetProperty("next_before", out _).ShouldBeFalse("one page holds both");
        var metric = analyses.GetProperty("analyses")[0].GetProperty("measurements")[0].GetProperty("metrics")[0];
        (metric.GetProperty("name").GetString(), metric.GetProperty("condition").GetString(), metric.GetProperty("result").GetString()).ShouldBe(("errors", "error_rate > 0.5", "Successful"));

        var page = await reader.GetFromJsonAsync<JsonElement>("/api/v1/rollouts/iris-v2/analyses?limit=1", Cancel);
        (page.GetProperty("analyses").GetArrayLength(), page.GetProperty("next_before").GetInt64()).ShouldBe((1, 2L));
        (await reader.GetFromJsonAsync<JsonElement>("/api/v1/rollouts/iris-v2/analyses?limit=1&before=2", Cancel)).GetProperty("analyses")[0].GetProperty("id").GetInt64().ShouldBe(1);
        var paged = new List<long>();
        await foreach (var run in new BallastClient(reader).GetAllAsync("/api/v1/rollouts/iris-v2/analyses", "analyses", pageSize: 1, parameters: PageParameters.Before, cancellationToken: Cancel))
        {
            paged.Add(run.GetProperty("id").GetInt64());
        }

        paged.ShouldBe([2L, 1L], "pages of one, each before the last one's id (next_before)");
        using (var bad = await reader.GetAsync("/api/v1/rollouts/iris-v2/analyses?limit=501", Cancel))
        {
            bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            bad.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            (await bad.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("limit 501 must be between 1 and 500.");
        }

        (await reader.GetAsync("/api/v1/rollouts/nope/analyses", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await reader.PostAsync("/api/v1/rollouts/iris-v2/abort", null, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        var cli = await CliProcess.RunAsync("rollout", "analyses", "iris-v2", "--url", url, "--api-key", readerKey);
        cli.ExitCode.ShouldBe(0, cli.ToString());
        var lines = cli.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldStartWith("analysis 2 of step 3 (canary): Successful, ", Case.Sensitive, "steps count from 0, as in rollout status and the JSON");
        lines[0].ShouldEndWith(": analysis passed (1 of 1 measurements successful)");
        lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["MEASURED", "FROM", "METRIC", "CONDITION", "VALUE", "RESULT"]);
        lines[2].ShouldContain("errors  error_rate > 0.5  0");
        lines[2].ShouldEndWith("Successful");
        cli.Output.ShouldContain("analysis 1 of step 1 (canary): Successful");
        var newest = await CliProcess.RunAsync("rollout", "analyses", "iris-v2", "--limit", "1", "--json", "--url", url, "--api-key", readerKey);
        var newestJson = JsonDocument.Parse(newest.Output).RootElement;
        (newestJson.GetProperty("name").GetString(), newestJson.GetProperty("analyses").GetArrayLength(), newestJson.TryGetProperty("next_before", out _)).ShouldBe(("iris-v2", 1, false));
    }

    [Fact]
    public async Task Bad_rollouts_and_commands_get_clear_errors_and_change_nothing()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();

        using (var invalid = await client.PostAsJsonAsync("/api/v1/rollouts", new { name = "r", endpoint = "iris", model = "models:/iris/2", steps = new[] { new { setWeight = 120 } } }, Cancel))
        {
            invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await invalid.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("Invalid rollout 'r': step 0: setWeight 120 must be between 0 and 100.");
        }

        using (var noEndpoint = await client.PostAsJsonAsync("/api/v1/rollouts", new { name = "r", endpoint = "nope", model = "models:/iris/2", steps = new[] { new { setWeight = 10 } } }, Cancel))
        {
            noEndpoint.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        using (var noModel = await client.PostAsJsonAsync("/api/v1/rollouts", new { name = "r", endpoint = "iris", model = "models:/iris/99", steps = new[] { new { setWeight = 10 } } }, Cancel))
        {
            noModel.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await noModel.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
                .ShouldBe("Invalid rollout 'r': model 'models:/iris/99' does not resolve: Model Version (name=iris, version=99) not found.");
        }

        // A model that does not resolve is listed with the spec's own problems, not instead of them.
        using (var both = await client.PostAsJsonAsync("/api/v1/rollouts", new { name = "r", endpoint = "iris", model = "models:/iris/99", steps = new[] { new { setWeight = 120 } } }, Cancel))
        {
            both.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            var problem = await both.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            problem.GetProperty("errors").EnumerateArray().Select(error => error.GetString()).ShouldBe(
                ["step 0: setWeight 120 must be between 0 and 100", "model 'models:/iris/99' does not resolve: Model Version (name=iris, version=99) not found"]);
        }

        (await client.PostAsJsonAsync("/api/v1/rollouts/missing/promote", new { }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetAsync("/api/v1/endpoints/nope/traffic", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/rollouts", Cancel)).GetProperty("rollouts").GetArrayLength().ShouldBe(0);
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel)).GetProperty("variants").GetArrayLength().ShouldBe(1, "nothing was applied");

        var file = Path.Combine(server.DataDir, "broken.yaml");
        await File.WriteAllTextAsync(file, "name: [unclosed", Cancel);
        var broken = await CliProcess.RunAsync("rollout", "start", "-f", file, "--url", url);
        broken.ExitCode.ShouldBe(2, broken.ToString());
        broken.Error.ShouldStartWith($"error: {file}:");
        await File.WriteAllTextAsync(file, "name: r\nendpoint: iris\nmodel: models:/iris/2\nbogus: 1\nanalysis: {intervall: 5s}\n", Cancel);
        var misspelt = await CliProcess.RunAsync("rollout", "start", "-f", file, "--url", url);
        misspelt.ExitCode.ShouldBe(2, misspelt.ToString());
        misspelt.Error.ShouldContain($"{file}: bogus: unknown field (known: name, endpoint, model, strategy, steps, analysis, sla, blueGreen)");
        misspelt.Error.ShouldContain($"{file}: analysis.intervall: unknown field (known: ");

        // JSON as strict as apply reads a manifest (and the API a body): a file starting with '[' went through the lenient
        // YAML reader, which skipped a comment or a trailing comma.
        var json = Path.Combine(server.DataDir, "rollout.json");
        await File.WriteAllTextAsync(json, "{\"name\": \"r\", \"endpoint\": \"iris\",\n \"model\": \"models:/iris/2\",\n}", Cancel);
        var trailing = await CliProcess.RunAsync("rollout", "start", "-f", json, "--url", url);
        trailing.ExitCode.ShouldBe(2, trailing.ToString());
        trailing.Error.ShouldContain($"error: {json}: JSON error at line 3, column 1: a comma before a closing '}}' or ']' (a trailing comma) is not JSON; remove it");
        var bare = Path.Combine(server.DataDir, "rollout-list");
        await File.WriteAllTextAsync(bare, "[{\"name\": \"r\", // the canary\n \"endpoint\": \"iris\", \"model\": \"models:/iris/2\"}]", Cancel);
        var comment = await CliProcess.RunAsync("rollout", "start", "-f", bare, "--url", url);
        comment.ExitCode.ShouldBe(2, comment.ToString());
        comment.Error.ShouldContain($"error: {bare}: JSON error at line 1, column 16: a comment is not JSON; remove it, or write the manifest in YAML");
        await File.WriteAllTextAsync(bare, "[{\"name\": \"r\", \"endpoint\": \"iris\", \"model\": \"models:/iris/2\"}]", Cancel);
        var list = await CliProcess.RunAsync("rollout", "start", "-f", bare, "--url", url);
        list.ExitCode.ShouldBe(2, list.ToString());
        list.Error.ShouldContain($"{bare}: a rollout is one object (name, endpoint, model, strategy, steps, analysis)");
        var unknown = await CliProcess.RunAsync("rollout", "status", "missing", "--url", url);
        unknown.ExitCode.ShouldBe(1);
        unknown.Error.ShouldContain("Rollout 'missing' does not exist.");
    }
}
