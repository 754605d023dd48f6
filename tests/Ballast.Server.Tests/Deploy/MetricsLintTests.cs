using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ballast.Tests.Pipelines;
using Ballast.Tests.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Ballast.Tests.Deploy;

/// <summary>
/// The server's <c>/metrics</c>, after traffic through most of what it counts, read by Prometheus' own linter
/// (<c>promtool check metrics</c>): it parses, and names, help texts, units and counter suffixes raise no lint problem.
/// Every Ballast family it exposes is documented in docs/.
/// </summary>
public sealed partial class MetricsLintTests
{
    /// <summary>The Ballast families the traffic below makes appear (metrics with labels appear with their first series).</summary>
    private static readonly string[] Driven =
    [
        "ballast_inference_requests_total", "ballast_inference_duration_seconds", "ballast_inference_in_flight", "ballast_inference_fallbacks_total",
        "ballast_inference_batch_size", "ballast_shadow_requests_total", "ballast_prediction_class_total", "ballast_prediction_value",
        "ballast_prediction_log_records_total", "ballast_prediction_log_queue_depth", "ballast_model_load_seconds", "ballast_model_last_load_seconds",
        "ballast_remote_circuit_transitions_total", "ballast_expectation_rows_total", "ballast_expectation_violations_total", "ballast_expectation_requests_total",
        "ballast_monitor_metric", "ballast_monitor_drift_score", "ballast_monitor_dataset_drift_share", "ballast_monitor_last_window_end_seconds",
        "ballast_alerts", "ballast_alert_rule_error", "ballast_pipeline_runs_total", "ballast_pipeline_step_runs_total", "ballast_pipeline_step_duration_seconds",
        "ballast_controller_lease_held",
    ];

    /// <summary>The runtime's counts published under names Prometheus accepts (the meter adapter would end them in <c>_count</c>).</summary>
    private static readonly string[] RuntimeCounts =
    [
        "system_runtime_dotnet_thread_pool_threads", "system_runtime_dotnet_thread_pool_work_items_total", "system_runtime_dotnet_timers",
        "system_runtime_dotnet_assemblies", "system_runtime_dotnet_process_cpus",
    ];

    private static readonly object IrisRows = new { name = "float_input", shape = new[] { 3, 4 }, datatype = "FP32", data = new[] { 5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3, 5.9, 3.0, 4.2, 1.5 } };

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    // Npgsql's db.client.connection.count came out as npgsql_db_client_connection_count, a gauge promtool refuses.
    [Fact]
    public async Task A_server_on_postgres_publishes_npgsql_pool_connections_under_a_name_promtool_accepts()
    {
        var promtool = DeployFiles.Promtool();
        var (location, drop) = await Ballast.Tests.Metadata.TestDatabases.CreateAsync(Ballast.Metadata.DatabaseEngine.Postgres);
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(location.ConnectionString);
            await using var server = await RunningServer.StartAsync(options => options with { Database = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}" });
            using var client = server.Client();
            (await client.GetAsync("/api/v1/endpoints", Cancel)).EnsureSuccessStatusCode();
            var exposition = await MetricsExposition.UntilAsync(client, "npgsql_db_client_connections{", TimeSpan.FromMilliseconds(100));
            exposition.ShouldContain("# TYPE npgsql_db_client_connections gauge");
            Families(exposition).Where(name => name.EndsWith("_count", StringComparison.Ordinal)).ShouldBeEmpty("only histograms' series end in _count");
            var (exitCode, output) = await DeployFiles.RunAsync(promtool, ["check", "metrics"], input: exposition);
            output.Trim().ShouldBeEmpty("promtool check metrics reports no problem");
            exitCode.ShouldBe(0, output);
        }
        finally
        {
            await drop();
        }
    }

    [Fact]
    public async Task The_exposition_after_varied_traffic_passes_promtool_check_metrics_without_lint_problems()
    {
        var promtool = DeployFiles.Promtool();
        await using var server = await RunningServer.StartAsync(routes: FailingRemote);
        using var client = server.Client();
        var from = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await DriveAsync(server, client);
        var reference = new { from = from.ToString(CultureInfo.InvariantCulture), to = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1).ToString(CultureInfo.InvariantCulture) };
        await MonitorAndAlertAsync(client, reference);
        await RunPipelineAsync(client);

        // The controllers publish their leases and the alert gauges on their ticks (every second): poll, bounded.
        await MetricsExposition.UntilAsync(client, "ballast_controller_lease_held{lease=\"rollouts\"} 1", TimeSpan.FromMilliseconds(100));
        var exposition = await MetricsExposition.UntilAsync(client, "ballast_alerts{rule=\"lint-rows\"", TimeSpan.FromMilliseconds(100));

        var families = Families(exposition);
        Driven.Where(name => !families.Contains(name)).ShouldBeEmpty("families the traffic should have made appear");
        RuntimeCounts.Where(name => !families.Contains(name)).ShouldBeEmpty("the runtime's counts");
        families.ShouldNotContain(name => name.StartsWith("system_runtime_", StringComparison.Ordinal) && name.EndsWith("_count", StringComparison.Ordinal));
        families.ShouldNotContain(name => name.StartsWith("private_internaldiagnostics_", StringComparison.Ordinal), "the runtime's private diagnostics meters are left out");

        // promtool prints each lint problem (`counter metrics should have "_total" suffix`, `no help text`, …) on stderr
        // and exits 3; a parse error exits 1.
        var (exitCode, output) = await DeployFiles.RunAsync(promtool, ["check", "metrics"], input: exposition);
        output.Trim().ShouldBeEmpty("promtool check metrics reports no problem");
        exitCode.ShouldBe(0, output);

        var documented = DeployFiles.BallastMetricNames(string.Join('\n', Directory.GetFiles(DeployFiles.PathOf("docs"), "*.md").Select(File.ReadAllText)));
        families.Where(name => name.StartsWith("ballast_", StringComparison.Ordinal) && !documented.Contains(name)).ShouldBeEmpty("Ballast metrics docs/ does not name");
    }

    [Fact]
    public async Task The_exposition_is_served_as_openmetrics_when_asked_and_ends_with_eof()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client);
        // Metrics are process-wide: an endpoint name no other test scores.
        (await client.PutAsJsonAsync("/api/v1/endpoints/openmetrics", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/v2/models/openmetrics/infer", new { inputs = new[] { IrisRows } }, Cancel)).EnsureSuccessStatusCode();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/openmetrics-text"));
        using var response = await client.SendAsync(request, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/openmetrics-text");
        var exposition = await response.Content.ReadAsStringAsync(Cancel);
        exposition.ShouldEndWith("# EOF\n");
        exposition.ShouldContain("# TYPE ballast_inference_requests counter\n");
        // OpenMetrics names a counter's family without _total, writes values as floats and may follow one with an exemplar.
        exposition.ShouldContain("ballast_inference_requests_total{endpoint=\"openmetrics\",variant=\"main\",model_version=\"iris/1\",status=\"200\"} 1.0");
    }

    /// <summary>A remote V2 model on the test's own server that answers its metadata and fails every request.</summary>
    private static void FailingRemote(WebApplication app)
    {
        var metadata = new { name = "x", platform = "fake", inputs = new[] { new { name = "float_input", datatype = "FP32", shape = new[] { -1, 4 } } }, outputs = Array.Empty<object>() };
        app.MapGet("/fake/v2/models/flaky", () => Results.Json(metadata)).AllowAnonymous();
        app.MapPost("/fake/v2/models/flaky/infer", () => Results.Json(new { error = "model crashed" }, statusCode: 500)).AllowAnonymous();
    }

    /// <summary>
    /// A split endpoint (two versions of the iris fixture) with a shadow, scored over V2 and MLflow's invocations, with a
    /// bad request and feedback; a batching endpoint under concurrent requests; the titanic fixture (a score output)
    /// behind flagging expectations; a failing remote variant with a fallback. Endpoint names are the test's own:
    /// metrics are process-wide and other tests count theirs.
    /// </summary>
    private static async Task DriveAsync(RunningServer server, HttpClient client)
    {
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        await ServingHelpers.RegisterAsync(client, "titanic", "titanic_pipeline.onnx");
        var flaky = new Uri(server.BaseAddress, "/fake/v2/models/flaky").ToString();
        await PutEndpointAsync(client, "lint-split", new
        {
            variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } },
            shadows = new[] { new { name = "next", model = "models:/iris/2", percent = 100 } },
        });

        var predictions = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/lint-split/infer") { Content = JsonContent.Create(new { inputs = new[] { IrisRows } }) };
            request.Headers.Add("Ballast-Routing-Key", "user-" + i.ToString(CultureInfo.InvariantCulture));
            using var response = await client.SendAsync(request, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
            predictions.Add(response.Headers.GetValues("Ballast-Prediction-Id").Single());
        }

        for (var i = 0; i < 4; i++)
        {
            using var response = await client.PostAsJsonAsync("/endpoints/lint-split/invocations", new { instances = new[] { new[] { 6.7, 3.0, 5.2, 2.3 }, new[] { 5.0, 3.4, 1.5, 0.2 } } }, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        }

        using (var bad = await client.PostAsJsonAsync("/v2/models/lint-split/infer", new { inputs = new[] { new { name = "float_input", shape = new[] { 1, 3 }, datatype = "FP32", data = new[] { 5.1, 3.5, 1.4 } } } }, Cancel))
        {
            bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        }

        using (var feedback = await client.PostAsJsonAsync("/api/v1/feedback", new { feedback = predictions.Select(id => new { prediction_id = id, outcome = new[] { 0, 2, 1 } }) }, Cancel))
        {
            feedback.IsSuccessStatusCode.ShouldBeTrue(await feedback.Content.ReadAsStringAsync(Cancel));
        }

        await PutEndpointAsync(client, "lint-batched", new
        {
            variants = new[] { new { name = "a", model = "models:/iris/1" } },
            batching = new { max_batch_size = 8, max_delay_ms = 20 },
        });
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            using var response = await client.PostAsJsonAsync("/v2/models/lint-batched/infer", new { inputs = new[] { IrisRows } }, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }, Cancel)));

        using (var titanic = await client.PostAsJsonAsync("/api/v1/endpoints", JsonDocument.Parse("""
            {"name": "lint-titanic", "variants": [{"name": "main", "model": "models:/titanic/1"}],
             "expectations": {"mode": "flag", "suite": {"columns": {"age": {"type": "number", "min": 0, "max": 120}}}}}
            """).RootElement, Cancel))
        {
            titanic.StatusCode.ShouldBe(HttpStatusCode.Created, await titanic.Content.ReadAsStringAsync(Cancel));
        }

        foreach (var age in new[] { 29f, 150f })
        {
            using var response = await client.PostAsJsonAsync("/v2/models/lint-titanic/infer", new
            {
                inputs = new object[]
                {
                    new { name = "pclass", shape = new[] { 2, 1 }, datatype = "INT64", data = new[] { 1, 3 } },
                    new { name = "sex", shape = new[] { 2, 1 }, datatype = "BYTES", data = new[] { "female", "male" } },
                    new { name = "age", shape = new[] { 2, 1 }, datatype = "FP32", data = new[] { 29f, age } },
                    new { name = "fare", shape = new[] { 2, 1 }, datatype = "FP32", data = new[] { 211.3f, 7.9f } },
                    new { name = "embarked", shape = new[] { 2, 1 }, datatype = "BYTES", data = new[] { "S", "Q" } },
                },
            }, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        }

        await PutEndpointAsync(client, "lint-guarded", new
        {
            variants = new object[] { new { name = "r", url = flaky, weight = 100, retries = 0 }, new { name = "a", model = "models:/iris/1", weight = 0 } },
            fallback = "a",
        });
        for (var i = 0; i < 6; i++)
        {
            using var response = await client.PostAsJsonAsync("/v2/models/lint-guarded/infer", new { inputs = new[] { IrisRows } }, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, "the fallback answers");
        }

        // The shadow scores after the responses: wait (bounded) until it has counted them all.
        await MetricsExposition.UntilAsync(client, "ballast_shadow_requests_total{endpoint=\"lint-split\",shadow=\"next\"} 16", TimeSpan.FromMilliseconds(50));
    }

    /// <summary>A monitor over the split endpoint's traffic (its reference the same traffic), one window closed, and an alert rule on it.</summary>
    private static async Task MonitorAndAlertAsync(HttpClient client, object reference)
    {
        using (var created = await client.PostAsJsonAsync("/api/v1/monitors", new { name = "lint-watch", endpoint = "lint-split", window = new { rows = 1_000_000 }, reference, min_rows = 10 }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
        }

        using (var evaluated = await client.PostAsync("/api/v1/monitors/lint-watch/evaluate", null, Cancel))
        {
            evaluated.StatusCode.ShouldBe(HttpStatusCode.OK, await evaluated.Content.ReadAsStringAsync(Cancel));
        }

        using var rule = await client.PostAsJsonAsync("/api/v1/alert-rules", new { name = "lint-rows", source = "lint-watch", metric = "rows", @operator = "<", threshold = 1, severity = "info" }, Cancel);
        rule.StatusCode.ShouldBe(HttpStatusCode.Created, await rule.Content.ReadAsStringAsync(Cancel));
    }

    private static async Task RunPipelineAsync(HttpClient client)
    {
        (await client.PutAsJsonAsync("/api/v1/pipelines/lint", new { steps = new object[] { new { name = "a", kind = "echo", with = new { word = "hello" } } } }, Cancel)).EnsureSuccessStatusCode();
        using var started = await client.PostAsJsonAsync("/api/v1/pipelines/lint/runs", new { }, Cancel);
        started.StatusCode.ShouldBe(HttpStatusCode.Created, await started.Content.ReadAsStringAsync(Cancel));
        var runId = (await started.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("run_id").GetString()!;
        await PipelineServerTests.WaitForRunAsync(client, runId, "succeeded");
        await MetricsExposition.UntilAsync(client, "ballast_pipeline_runs_total{pipeline=\"lint\",status=\"succeeded\"}", TimeSpan.FromMilliseconds(20));
    }

    private static async Task PutEndpointAsync(HttpClient client, string name, object endpoint)
    {
        using var response = await client.PutAsJsonAsync("/api/v1/endpoints/" + name, endpoint, Cancel);
        response.IsSuccessStatusCode.ShouldBeTrue(await response.Content.ReadAsStringAsync(Cancel));
    }

    /// <summary>The family names of the exposition's <c># TYPE</c> lines.</summary>
    private static HashSet<string> Families(string exposition) => new(TypeLine().Matches(exposition).Select(match => match.Groups[1].Value), StringComparer.Ordinal);

    [GeneratedRegex(@"^# TYPE (\S+) ", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
