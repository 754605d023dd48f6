using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Metadata;
using Ballast.Tests.Serving;

namespace Ballast.Tests.Pipelines;

/// <summary>Pipelines over HTTP on a real server (the runner under its lease), on SQLite and PostgreSQL.</summary>
public abstract class PipelineServerTests(DatabaseEngine engine) : EngineServerTest(engine)
{
    /// <summary>Reads the run until its status is one of <paramref name="statuses"/> (bounded); fails with the run as last read.</summary>
    internal static async Task<JsonElement> WaitForRunAsync(HttpClient client, string runId, params string[] statuses)
    {
        var run = await Eventually.UntilAsync(
            () => client.GetFromJsonAsync<JsonElement>($"/api/v1/pipeline-runs/{runId}", Cancel), run => statuses.Contains(run.GetProperty("status").GetString()), TimeSpan.FromMilliseconds(50));
        statuses.ShouldContain(run.GetProperty("status").GetString(), $"The run did not reach {string.Join("/", statuses)}: {run}");
        return run;
    }

    [Fact]
    public async Task A_retraining_pipeline_trains_registers_rolls_out_and_promotes_and_mlflow_sees_its_runs()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();
        var fixture = TestServices.Fixture("logreg_iris.onnx");

        using var put = await client.PutAsJsonAsync("/api/v1/pipelines/retrain", new
        {
            parameters = new object[] { new { name = "alias", type = "string", @default = "challenger" } },
            steps = new object[]
            {
                new { name = "train", kind = "command", with = new { command = "sh", args = new[] { "-c", $"echo training; cp {fixture} model.onnx; echo '{{\"accuracy\": 0.97}}' > metrics.json" },
                    inputs = new[] { fixture }, outputs = new { model = "model.onnx" }, metrics = "metrics.json" } },
                new { name = "register", kind = "register", with = new { model = "${{ steps.train.outputs.model }}", name = "iris", alias = "${{ params.alias }}" } },
                new { name = "rollout", kind = "rollout", with = new { model = "${{ steps.register.outputs.model }}", poll_interval = "200ms",
                    template = new { endpoint = "iris", strategy = "canary", steps = new object[] { new { setWeight = 50 }, new { setWeight = 100 } } } }, timeout = "2m" },
                new { name = "promote", kind = "promote", with = new { model = "${{ steps.rollout.outputs.model }}" } },
            },
        }, Cancel);
        put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));

        using var started = await client.PostAsJsonAsync("/api/v1/pipelines/retrain/runs", new { }, Cancel);
        started.StatusCode.ShouldBe(HttpStatusCode.Created);
        var runId = (await started.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("run_id").GetString()!;
        var run = await WaitForRunAsync(client, runId, "succeeded", "failed");

        run.GetProperty("status").GetString().ShouldBe("succeeded", run.ToString());
        var steps = run.GetProperty("steps").EnumerateArray().ToDictionary(step => step.GetProperty("step").GetString()!);
        steps["register"].GetProperty("outputs").GetProperty("uri").GetString().ShouldBe("models:/iris/2");
        steps["rollout"].GetProperty("outputs").GetProperty("phase").GetString().ShouldBe("Succeeded");
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/iris", Cancel)).GetProperty("variants")[0].GetProperty("model").GetString().ShouldBe("models:/iris/2");

        // The registry: challenger and champion on version 2, which links to the register step's tracking run.
        var champion = await client.GetFromJsonAsync<JsonElement>("/api/2.0/mlflow/registered-models/alias?name=iris&alias=champion", Cancel);
        champion.GetProperty("model_version").GetProperty("version").GetString().ShouldBe("2");
        champion.GetProperty("model_version").GetProperty("run_id").GetString().ShouldBe(steps["register"].GetProperty("tracking_run_id").GetString());
        (await client.GetFromJsonAsync<JsonElement>("/api/2.0/mlflow/registered-models/alias?name=iris&alias=challenger", Cancel))
            .GetProperty("model_version").GetProperty("version").GetString().ShouldBe("2");

        // MLflow clients see one run per step in the experiment named after the pipeline.
        var experiment = await client.GetFromJsonAsync<JsonElement>("/api/2.0/mlflow/experiments/get-by-name?experiment_name=retrain", Cancel);
        var experimentId = experiment.GetProperty("experiment").GetProperty("experiment_id").GetString();
        using var search = await client.PostAsJsonAsync("/api/2.0/mlflow/runs/search", new { experiment_ids = new[] { experimentId } }, Cancel);
        var runs = (await search.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("runs").EnumerateArray().ToList();
        runs.Count.ShouldBe(4);
        var train = runs.Single(r => r.GetProperty("info").GetProperty("run_id").GetString() == steps["train"].GetProperty("tracking_run_id").GetString());
        train.GetProperty("data").GetProperty("metrics").EnumerateArray().Single().GetProperty("value").GetDouble().ShouldBe(0.97);
        train.GetProperty("info").GetProperty("status").GetString().ShouldBe("FINISHED");

        // Logs, all steps or one.
        var logs = await client.GetStringAsync($"/api/v1/pipeline-runs/{runId}/logs", Cancel);
        logs.ShouldContain("==> train (succeeded) <==");
        logs.ShouldContain("training");
        (await client.GetStringAsync($"/api/v1/pipeline-runs/{runId}/logs?step=rollout", Cancel)).ShouldContain("started rollout retrain-");

        // A second run reuses the training (same script, same input bytes) but registers again: registering is a side effect, not cached.
        using var again = await client.PostAsJsonAsync("/api/v1/pipelines/retrain/runs", new { parameters = new { alias = "candidate" } }, Cancel);
        var second = await WaitForRunAsync(client, (await again.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("run_id").GetString()!, "succeeded", "failed");
        second.GetProperty("steps").EnumerateArray().Select(step => (step.GetProperty("step").GetString(), step.GetProperty("status").GetString()))
            .ShouldBe([("train", "cached"), ("register", "succeeded"), ("rollout", "succeeded"), ("promote", "succeeded")], second.ToString());
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/retrain/runs", Cancel)).GetProperty("runs").GetArrayLength().ShouldBe(2);
    }

    [Fact]
    public async Task Bad_pipelines_and_requests_get_precise_problems_and_change_nothing()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();

        async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
        {
            using (response)
            {
                response.StatusCode.ShouldBe(status);
                response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
                (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(detail);
            }
        }

        await ExpectAsync(await client.PutAsJsonAsync("/api/v1/pipelines/p", new
        {
            steps = new object[]
            {
                new { name = "a", kind = "echo", with = new { x = "${{ steps.b.outputs.x }}" } },
                new { name = "b", kind = "echo", needs = new[] { "a" } },
                new { name = "c", kind = "teleport" },
            },
            schedule = new { cron = "every day" },
        }, Cancel), HttpStatusCode.BadRequest,
            "Invalid pipeline 'p': steps[2] (c): kind 'teleport' is not known; known kinds: command, echo, evaluate, fail, gate, ingest, promote, register, rollout, split, train, validate; " +
            "steps: there is a cycle: a -> b -> a; " +
            "schedule.cron 'every day' is not a cron expression (5 fields, or 6 with seconds): Minutes: Value must be a number between 0 and 59 (all inclusive).");
        await ExpectAsync(await client.PutAsJsonAsync("/api/v1/pipelines/p", new
        {
            steps = new object[] { new { name = "a", kind = "echo", needs = new[] { "b" } }, new { name = "b", kind = "echo", needs = new[] { "a" } } },
        }, Cancel), HttpStatusCode.BadRequest, "Invalid pipeline 'p': steps: there is a cycle: a -> b -> a.");
        using (var typo = await client.PutAsJsonAsync("/api/v1/pipelines/p", new { steps = new object[] { new { name = "a", kind = "echo", need = new[] { "b" } } } }, Cancel))
        {
            typo.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await typo.Content.ReadAsStringAsync(Cancel)).ShouldContain("need", customMessage: "an unknown field is refused, not dropped");
        }

        await ExpectAsync(await client.GetAsync("/api/v1/pipelines/p", Cancel), HttpStatusCode.NotFound, "Pipeline 'p' does not exist.");
        await ExpectAsync(await client.PostAsJsonAsync("/api/v1/pipelines/p/runs", new { }, Cancel), HttpStatusCode.NotFound, "Pipeline 'p' does not exist.");

        (await client.PutAsJsonAsync("/api/v1/pipelines/p", new
        {
            parameters = new object[] { new { name = "n", type = "int" } },
            steps = new object[] { new { name = "a", kind = "echo", with = new { n = "${{ params.n }}" } } },
        }, Cancel)).EnsureSuccessStatusCode();
        using (var refused = await client.PostAsJsonAsync("/api/v1/pipelines/p/runs", new { parameters = new { n = "many", m = 1 } }, Cancel))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            problem.GetProperty("detail").GetString().ShouldBe("Cannot run pipeline 'p': 'm' is not a parameter of the pipeline (declared: n); parameter 'n' (int): 'many' is not an integer.");
            problem.GetProperty("errors").EnumerateArray().Select(error => error.GetString()).ShouldBe(
                ["'m' is not a parameter of the pipeline (declared: n)", "parameter 'n' (int): 'many' is not an integer"]);
        }

        await ExpectAsync(await client.GetAsync("/api/v1/pipeline-runs/nope", Cancel), HttpStatusCode.NotFound, "Pipeline run 'nope' does not exist.");
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/p/runs", Cancel)).GetProperty("runs").GetArrayLength().ShouldBe(0, "no run was queued");

        using var ok = await client.PostAsJsonAsync("/api/v1/pipelines/p/runs", new { parameters = new { n = 7 } }, Cancel);
        var runId = (await ok.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("run_id").GetString()!;
        var run = await WaitForRunAsync(client, runId, "succeeded");
        run.GetProperty("steps")[0].GetProperty("outputs").GetProperty("n").GetInt64().ShouldBe(7);
        await ExpectAsync(await client.PostAsync($"/api/v1/pipeline-runs/{runId}/resume", null, Cancel), HttpStatusCode.BadRequest,
            $"Pipeline run '{runId}' is succeeded; only a failed or cancelled run can be resumed.");
        await ExpectAsync(await client.PostAsync($"/api/v1/pipeline-runs/{runId}/cancel", null, Cancel), HttpStatusCode.BadRequest,
            $"Pipeline run '{runId}' has already ended (succeeded).");
        await ExpectAsync(await client.GetAsync($"/api/v1/pipeline-runs/{runId}/logs?step=zzz", Cancel), HttpStatusCode.NotFound,
            $"Pipeline run '{runId}' has no step 'zzz'; its steps: a.");
    }

    [Fact]
    public async Task A_cycle_a_bad_schedule_and_bad_step_fields_are_refused_together_each_in_errors()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();

        using var response = await client.PutAsJsonAsync("/api/v1/pipelines/many", new
        {
            steps = new object[]
            {
                new { name = "train", kind = "echo", with = new { model = "${{ steps.deploy.outputs.model }}" }, timeout = "forever", retries = 11 },
                new { name = "deploy", kind = "rollout", with = new { model = "${{ steps.train.outputs.model }}", template = new { }, poll_interval = "5w" }, retry_backoff = "-1s" },
            },
            schedule = new { cron = "0 6 * * *", time_zone = "Mars/Olympus" },
        }, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        string[] errors =
        [
            "steps[0] (train): retries 11 must be between 0 and 10",
            "steps[0] (train): timeout 'forever' is not a positive duration such as 10s, 5m or 1h",
            "steps[1] (deploy): with.poll_interval '5w' is longer than 30d",
            "steps[1] (deploy): retry_backoff '-1s' is not a positive duration such as 10s, 5m or 1h",
            "steps: there is a cycle: train -> deploy -> train",
            "schedule.time_zone 'Mars/Olympus' is not a known time zone (an IANA id such as Europe/Paris)",
        ];
        problem.GetProperty("errors").EnumerateArray().Select(error => error.GetString()).ShouldBe(errors);
        problem.GetProperty("detail").GetString().ShouldBe($"Invalid pipeline 'many': {string.Join("; ", errors)}.");
        (problem.GetProperty("status").GetInt32(), problem.GetProperty("code").GetString()).ShouldBe((400, "INVALID_PARAMETER_VALUE"));
        (await client.GetAsync("/api/v1/pipelines/many", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound, "nothing was stored");

        // A refusal with one reason has no errors list: the detail says it.
        using var missing = await client.GetAsync("/api/v1/pipelines/many", Cancel);
        (await missing.Content.ReadFromJsonAsync<JsonElement>(Cancel)).TryGetProperty("errors", out _).ShouldBeFalse();

        // The durations of the common grammar: combinations, days, and each field's own bounds.
        using var stored = await client.PutAsJsonAsync("/api/v1/pipelines/durations", new
        {
            steps = new object[] { new { name = "a", kind = "echo", timeout = "4w2d", retry_backoff = "1m30s" } },
        }, Cancel);
        stored.StatusCode.ShouldBe(HttpStatusCode.OK, await stored.Content.ReadAsStringAsync(Cancel));
    }

    [Fact]
    public async Task Only_admins_may_store_pipelines_with_command_steps()
    {
        await using var server = await StartServerAsync();
        using var anonymous = server.Client();
        async Task<string> KeyAsync(string name, string role, HttpClient client)
        {
            using var created = await client.PostAsJsonAsync("/api/v1/keys", new { name, role }, Cancel);
            created.EnsureSuccessStatusCode();
            return (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("token").GetString()!;
        }

        using var admin = server.Client(await KeyAsync("admin", "admin", anonymous));
        using var writer = server.Client(await KeyAsync("ci", "writer", admin));
        var command = new { steps = new object[] { new { name = "a", kind = "command", with = new { command = "true" } } } };

        using (var refused = await writer.PutAsJsonAsync("/api/v1/pipelines/p", command, Cancel))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
                .ShouldBe("Pipeline 'p' has command steps, which run any executable on the server: storing it needs the admin role.");
        }

        using (var refused = await writer.PutAsJsonAsync("/api/v1/pipelines/r", new { steps = new object[] { new { name = "a", kind = "ingest", with = new { path = "/etc" } } } }, Cancel))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
                .ShouldBe("Pipeline 'r' has ingest steps with a local path, which read files on the server: storing it needs the admin role.");
        }

        (await writer.PutAsJsonAsync("/api/v1/pipelines/s", new { steps = new object[] { new { name = "a", kind = "ingest", with = new { dataset = "loans" } } } }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await writer.PutAsJsonAsync("/api/v1/pipelines/q", new { steps = new object[] { new { name = "a", kind = "echo" } } }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await admin.PutAsJsonAsync("/api/v1/pipelines/p", command, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await writer.PostAsJsonAsync("/api/v1/pipelines/p/runs", new { }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created, "running a stored pipeline is a writer's job");
    }

    [Fact]
    public async Task A_manual_run_or_resume_over_max_active_runs_is_refused_409_naming_the_runs_under_way()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        // A step that fails once and waits an hour to retry keeps its run under way.
        var spec = new Dictionary<string, object>
        {
            ["max_active_runs"] = 1,
            ["steps"] = new object[] { new { name = "wait", kind = "fail", retries = 1, retry_backoff = "1h", with = new { message = "not yet" } } },
        };
        using (var put = await client.PutAsJsonAsync("/api/v1/pipelines/one", spec, Cancel))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
            (await put.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("pipeline").GetProperty("max_active_runs").GetInt32().ShouldBe(1);
        }

        using var first = await client.PostAsJsonAsync("/api/v1/pipelines/one/runs", new { }, Cancel);
        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        var runId = (await first.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("run_id").GetString()!;
        await WaitForRunAsync(client, runId, "running");

        using var second = await client.PostAsJsonAsync("/api/v1/pipelines/one/runs", new { }, Cancel);
        second.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        second.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await second.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        (problem.GetProperty("status").GetInt32(), problem.GetProperty("code").GetString()).ShouldBe((409, "INVALID_STATE"));
        problem.GetProperty("detail").GetString().ShouldBe($"Pipeline 'one' has 1 run(s) under way, its max_active_runs is 1: {runId} (running).");
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/one/runs", Cancel)).GetProperty("runs").GetArrayLength().ShouldBe(1);

        // Cancelled, the run frees its slot; resumed while another run holds it, it is refused the same way.
        (await client.PostAsync($"/api/v1/pipeline-runs/{runId}/cancel", null, Cancel)).EnsureSuccessStatusCode();
        await WaitForRunAsync(client, runId, "cancelled");
        using var third = await client.PostAsJsonAsync("/api/v1/pipelines/one/runs", new { }, Cancel);
        third.StatusCode.ShouldBe(HttpStatusCode.Created);
        var thirdId = (await third.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("run_id").GetString()!;
        using var resume = await client.PostAsync($"/api/v1/pipeline-runs/{runId}/resume", null, Cancel);
        resume.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await resume.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldStartWith($"Pipeline 'one' has 1 run(s) under way, its max_active_runs is 1: {thirdId} (");

        using var invalid = await client.PutAsJsonAsync("/api/v1/pipelines/one", new Dictionary<string, object> { ["max_active_runs"] = 0, ["steps"] = spec["steps"] }, Cancel);
        invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await invalid.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
            .ShouldBe("Invalid pipeline 'one': max_active_runs 0 must be at least 1 (leave it out for no limit).");
        (await client.PostAsync($"/api/v1/pipeline-runs/{thirdId}/cancel", null, Cancel)).EnsureSuccessStatusCode();
        await WaitForRunAsync(client, thirdId, "cancelled");
    }

    [Fact]
    public async Task Schedule_occurrences_skipped_by_max_active_runs_are_listed_newest_first_and_counted()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var name = $"skippy-{Engine.ToString().ToLowerInvariant()}";

        // Every second (6-field cron); the first occurrence's run stays under way (its step waits an hour to retry), so the next ones are skipped.
        var steps = new object[] { new { name = "wait", kind = "fail", retries = 1, retry_backoff = "1h", with = new { message = "not yet" } } };
        (await client.PutAsJsonAsync($"/api/v1/pipelines/{name}", new Dictionary<string, object>
        {
            ["max_active_runs"] = 1, ["steps"] = steps, ["schedule"] = new { cron = "* * * * * *", time_zone = "UTC" },
        }, Cancel)).EnsureSuccessStatusCode();
        var skipped = await Eventually.UntilAsync(
            async () => (await client.GetFromJsonAsync<JsonElement>($"/api/v1/pipelines/{name}/skipped-starts", Cancel)).GetProperty("skipped_starts").EnumerateArray().ToList(),
            list => list.Count >= 2, TimeSpan.FromMilliseconds(100));
        skipped.Count.ShouldBeGreaterThanOrEqualTo(2, string.Join("\n", skipped));
        (await client.PutAsJsonAsync($"/api/v1/pipelines/{name}", new Dictionary<string, object> { ["max_active_runs"] = 1, ["steps"] = steps }, Cancel)).EnsureSuccessStatusCode();

        var run = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/pipelines/{name}/runs", Cancel)).GetProperty("runs").EnumerateArray().ShouldHaveSingleItem();
        var runId = run.GetProperty("run_id").GetString()!;
        var keys = skipped.Select(start => start.GetProperty("dedupe_key").GetString()!).ToList();
        keys.ShouldAllBe(key => key.StartsWith("schedule:", StringComparison.Ordinal));
        keys.ShouldBe(keys.OrderDescending(StringComparer.Ordinal).ToList(), "newest first");
        skipped.Select(start => start.GetProperty("at").GetInt64()).ShouldBeInOrder(SortDirection.Descending);
        skipped.ShouldAllBe(start => start.GetProperty("trigger").GetString() == "schedule");
        skipped[0].GetProperty("reason").GetString()!.ShouldStartWith($"Pipeline '{name}' has 1 run(s) under way, its max_active_runs is 1: {runId} (");

        var first = await client.GetFromJsonAsync<JsonElement>($"/api/v1/pipelines/{name}/skipped-starts?limit=1", Cancel);
        first.GetProperty("skipped_starts").GetArrayLength().ShouldBe(1);
        first.GetProperty("next_before").GetString().ShouldBe(keys[0]);
        var second = await client.GetFromJsonAsync<JsonElement>($"/api/v1/pipelines/{name}/skipped-starts?limit=1&before={Uri.EscapeDataString(keys[0])}", Cancel);
        second.GetProperty("skipped_starts").EnumerateArray().ShouldHaveSingleItem().GetProperty("dedupe_key").GetString().ShouldBe(keys[1]);
        using (var unknownKey = await client.GetAsync($"/api/v1/pipelines/{name}/skipped-starts?before=schedule%3Anever", Cancel))
        {
            unknownKey.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await unknownKey.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
                .ShouldBe($"before 'schedule:never' is not a skipped start of pipeline '{name}' (or its record was pruned).");
        }

        using (var unknown = await client.GetAsync("/api/v1/pipelines/nosuch/skipped-starts", Cancel))
        {
            unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            unknown.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            (await unknown.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("Pipeline 'nosuch' does not exist.");
        }

        (await client.GetAsync($"/api/v1/pipelines/{name}/skipped-starts?limit=0", Cancel)).StatusCode.ShouldBe(HttpStatusCode.BadRequest);

        // Counted once per skipped start, by trigger kind (the schedule is gone, so the count no longer moves).
        var listed = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/pipelines/{name}/skipped-starts?limit=200", Cancel)).GetProperty("skipped_starts").GetArrayLength();
        var series = $"ballast_pipeline_skipped_starts_total{{pipeline=\"{name}\",trigger_kind=\"schedule\"}} {listed}";
        var metrics = await MetricsExposition.UntilAsync(client, series, TimeSpan.FromMilliseconds(50));
        metrics.ShouldContain(series);

        (await client.PostAsync($"/api/v1/pipeline-runs/{runId}/cancel", null, Cancel)).EnsureSuccessStatusCode();
        await WaitForRunAsync(client, runId, "cancelled");
    }

    [Fact]
    public async Task Alert_rules_start_runs_through_the_registered_pipeline_launcher()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        (await client.PutAsJsonAsync("/api/v1/pipelines/retrain", new
        {
            parameters = new object[] { new { name = "window", type = "string" } },
            steps = new object[] { new { name = "a", kind = "echo", with = new { window = "${{ params.window }}" } } },
        }, Cancel)).EnsureSuccessStatusCode();
        var launcher = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Ballast.Pipelines.IPipelineLauncher>(server.App.Services);

        var runId = await launcher.StartAsync("retrain", new Dictionary<string, string> { ["window"] = "predictions/iris/2026-12-04-10" }, "alert:iris-drift", Cancel);
        var run = await WaitForRunAsync(client, runId, "succeeded");

        run.GetProperty("trigger").GetString().ShouldBe("alert:iris-drift");
        // The run's end is counted right after it is written.
        var metrics = await MetricsExposition.UntilAsync(client, "ballast_pipeline_runs_total{pipeline=\"retrain\",status=\"succeeded\"}", TimeSpan.FromMilliseconds(20));
        metrics.ShouldContain("ballast_pipeline_runs_total{pipeline=\"retrain\",status=\"succeeded\"}");
        metrics.ShouldContain("ballast_pipeline_step_runs_total{pipeline=\"retrain\",kind=\"echo\",status=\"succeeded\"}");
        run.GetProperty("steps")[0].GetProperty("outputs").GetProperty("window").GetString().ShouldBe("predictions/iris/2026-12-04-10");
        (await Should.ThrowAsync<Ballast.Tracking.TrackingException>(() => launcher.StartAsync("retrain", new Dictionary<string, string>(), "alert:x", Cancel)))
            .Message.ShouldBe("Cannot run pipeline 'retrain': parameter 'window' (string) is required: it has no default.");
    }

    [Fact]
    public async Task An_alert_pipeline_action_skipped_for_max_active_runs_counts_as_an_alert_skipped_start()
    {
        await using var server = await StartServerAsync();
        using var client = server.Client();
        var pipeline = $"alerted-{Engine.ToString().ToLowerInvariant()}";

        // What the alert dispatcher tells the server's observer when a pipeline action is skipped (AlertDispatcher is tested for when it does, in ActiveRunLimitTests).
        var observer = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Ballast.Server.Alerts.AlertMetrics>(server.App.Services);
        observer.PipelineStartSkipped("iris-drift", pipeline);
        observer.PipelineStartSkipped("iris-drift", pipeline);

        var series = $"ballast_pipeline_skipped_starts_total{{pipeline=\"{pipeline}\",trigger_kind=\"alert\"}} 2";
        (await MetricsExposition.UntilAsync(client, series, TimeSpan.FromMilliseconds(20))).ShouldContain(series);
    }
}

public sealed class SqlitePipelineServerTests() : PipelineServerTests(DatabaseEngine.Sqlite);

public sealed class PostgresPipelineServerTests() : PipelineServerTests(DatabaseEngine.Postgres);
