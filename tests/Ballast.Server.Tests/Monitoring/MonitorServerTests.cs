using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Alerts;
using Ballast.Client;
using Ballast.Tests.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Tests.Monitoring;

/// <summary>Monitors on a real server: served iris traffic, a window with shifted petals, the reports, the metrics and the alert observations.</summary>
public sealed class MonitorServerTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static readonly string[] Features = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

    /// <summary>
    /// Scores <paramref name="requests"/> batches of 10 iris-like rows (seeded), the petals shifted by <paramref name="shift"/>;
    /// with <paramref name="feedback"/>, posts as each row's outcome the model's label, one in eight replaced by the next
    /// class (labels for CBPE's reference, which refuses a reference without any).
    /// </summary>
    private static async Task<List<string>> ScoreAsync(HttpClient client, int requests, double shift, int seed, bool feedback = false)
    {
        var predictions = new List<string>();
        var outcomes = new List<object>();
        var random = new Random(seed);
        var flips = new Random(seed + 1);
        double Normal(double mean, double deviation) => mean + (deviation * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        for (var i = 0; i < requests; i++)
        {
            var data = Enumerable.Range(0, 10).SelectMany(_ => new[] { Normal(5.8, 0.8), Normal(3.0, 0.4), Normal(3.8, 1.7) + shift, Normal(1.2, 0.7) + (shift / 2) }).ToArray();
            using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { new { name = "float_input", shape = new[] { 10, 4 }, datatype = "FP32", data } } }, Cancel);
            response.EnsureSuccessStatusCode();
            predictions.Add(response.Headers.GetValues("Ballast-Prediction-Id").Single());
            if (feedback)
            {
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
                var labels = body.RootElement.GetProperty("outputs").EnumerateArray().Single(output => output.GetProperty("name").GetString() == "output_label")
                    .GetProperty("data").EnumerateArray().Select(label => flips.Next(8) == 0 ? (label.GetInt64() + 1) % 3 : label.GetInt64()).ToArray();
                outcomes.Add(new { prediction_id = predictions[^1], outcome = labels });
            }
        }

        if (feedback)
        {
            (await client.PostAsJsonAsync("/api/v1/feedback", new { feedback = outcomes }, Cancel)).EnsureSuccessStatusCode();
        }

        return predictions;
    }

    /// <summary>Where the log has <paramref name="predictions"/> (their timestamps), for a failure's message.</summary>
    private static async Task<string> WhereLoggedAsync(RunningServer server, List<string> predictions, JsonElement window)
    {
        var logged = await server.App.Services.GetRequiredService<Ballast.Serving.PredictionExport>().QueryAsync("iris", null, null, connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT prediction_id, timestamp FROM predictions";
            using var reader = command.ExecuteReader();
            var found = new Dictionary<string, long>();
            while (reader.Read())
            {
                found[reader.GetString(0)] = reader.GetInt64(1);
            }

            return found;
        }, Cancel);
        return $"window [{window.GetProperty("start")}, {window.GetProperty("end")}); of the {predictions.Count} requests: " +
            string.Join(", ", predictions.Select(id => logged.TryGetValue(id, out var at) ? at.ToString(CultureInfo.InvariantCulture) : "missing"));
    }

    [Fact]
    public async Task A_monitor_flags_exactly_the_shifted_features_and_observers_get_each_window_in_order()
    {
        var recorder = new ObservationRecorder();
        await using var server = await RunningServer.StartAsync(services: services => services.AddSingleton<IAlertObserver>(recorder));
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();

        // Row windows of a million rows never close by themselves here: the test closes them with evaluate, so no
        // scheduled window (an hour boundary during the test, say) comes between.
        var from = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var monitor = new Dictionary<string, object>
        {
            ["name"] = "iris-watch",
            ["endpoint"] = "iris",
            ["window"] = new { rows = 1_000_000 },
            ["reference"] = new { from = from.ToString(CultureInfo.InvariantCulture), to = (from + 1).ToString(CultureInfo.InvariantCulture) },
            ["feature_names"] = new Dictionary<string, string[]> { ["float_input"] = Features },
        };
        using (var created = await client.PostAsJsonAsync("/api/v1/monitors", monitor, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
            created.Headers.Location!.ToString().ShouldBe("/api/v1/monitors/iris-watch");
            (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("min_rows").GetInt64().ShouldBe(30, "defaults filled");
        }

        // Reference-like traffic, then the reference set to exactly that traffic.
        await ScoreAsync(client, 20, shift: 0, seed: 11);
        monitor["reference"] = new { from = from.ToString(CultureInfo.InvariantCulture), to = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1).ToString(CultureInfo.InvariantCulture) };
        (await client.PutAsJsonAsync("/api/v1/monitors/iris-watch", monitor, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);

        // The window so far holds the reference traffic; the next one the shifted traffic only.
        var baseline = await (await client.PostAsync("/api/v1/monitors/iris-watch/evaluate", null, Cancel)).Content.ReadFromJsonAsync<JsonElement>(Cancel);
        baseline.GetProperty("status").GetString().ShouldBe("ok", baseline.ToString());
        (baseline.GetProperty("metrics").GetProperty("rows").GetDouble(), baseline.GetProperty("metrics").GetProperty("drift.share").GetDouble()).ShouldBe((200.0, 0.0), "the window is the reference");
        var shifted = await ScoreAsync(client, 20, shift: 2, seed: 12);
        using var evaluated = await client.PostAsync("/api/v1/monitors/iris-watch/evaluate", null, Cancel);
        evaluated.StatusCode.ShouldBe(HttpStatusCode.OK, await evaluated.Content.ReadAsStringAsync(Cancel));
        var window = await evaluated.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var metrics = window.GetProperty("metrics");
        if (metrics.GetProperty("rows").GetDouble() != 200)
        {
            metrics.GetProperty("rows").GetDouble().ShouldBe(200, await WhereLoggedAsync(server, shifted, window));
        }
        Features.Where(feature => metrics.GetProperty($"drift.{feature}.drifted").GetDouble() == 1).ShouldBe(["petal_length", "petal_width"]);
        metrics.GetProperty("prediction.drift.drifted").GetDouble().ShouldBe(1, "larger petals: other classes predicted");
        metrics.GetProperty("errors.rate").GetDouble().ShouldBe(0);
        metrics.GetProperty("latency.p99_ms").GetDouble().ShouldBeGreaterThan(0);
        var id = window.GetProperty("id").GetInt64();
        window.GetProperty("report").GetString().ShouldBe($"/api/v1/monitors/iris-watch/windows/{id}/report");
        // A row window's bounds in the log: the first starts at the monitor's creation, the next right after the last record of the one before.
        baseline.TryGetProperty("after", out _).ShouldBeFalse();
        window.GetProperty("after").GetProperty("prediction_id").GetString().ShouldBe(baseline.GetProperty("last").GetProperty("prediction_id").GetString());
        window.GetProperty("last").GetProperty("instance").GetString().ShouldNotBeNullOrEmpty();
        window.GetProperty("start").GetInt64().ShouldBe(baseline.GetProperty("last").GetProperty("timestamp").GetInt64());

        recorder.Observations.Select(observation => observation.Window).ShouldBe([baseline.GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture), id.ToString(CultureInfo.InvariantCulture)]);
        var observed = recorder.Observations[1];
        (observed.Source, observed.Context["endpoint"], observed.Values["drift.petal_length.drifted"]).ShouldBe(("iris-watch", "iris", 1.0));

        var page = await client.GetFromJsonAsync<JsonElement>("/api/v1/monitors/iris-watch/windows?limit=1", Cancel);
        page.GetProperty("windows").EnumerateArray().Single().GetProperty("id").GetInt64().ShouldBe(id, "newest first");
        var older = await client.GetFromJsonAsync<JsonElement>($"/api/v1/monitors/iris-watch/windows?limit=1&before={page.GetProperty("next_before").GetInt64()}", Cancel);
        older.GetProperty("windows").EnumerateArray().Single().GetProperty("id").GetInt64().ShouldBe(baseline.GetProperty("id").GetInt64());
        var paged = new List<long>();
        await foreach (var closed in new BallastClient(client).GetAllAsync("/api/v1/monitors/iris-watch/windows", "windows", pageSize: 1, parameters: PageParameters.Before, cancellationToken: Cancel))
        {
            paged.Add(closed.GetProperty("id").GetInt64());
        }

        paged.ShouldBe([id, baseline.GetProperty("id").GetInt64()], "pages of one, each before the last one's id (next_before)");
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/monitors/iris-watch/windows/{id}", Cancel)).GetProperty("status").GetString().ShouldBe("ok");

        var json = await client.GetFromJsonAsync<JsonElement>($"/api/v1/monitors/iris-watch/windows/{id}/report", Cancel);
        json.GetProperty("features").EnumerateArray().Where(feature => feature.GetProperty("drifted").GetBoolean()).Select(feature => feature.GetProperty("name").GetString())
            .ShouldBe(["petal_length", "petal_width"]);
        using (var html = await client.GetAsync($"/api/v1/monitors/iris-watch/windows/{id}/report?format=html", Cancel))
        {
            html.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
            (await html.Content.ReadAsStringAsync(Cancel)).ShouldContain("petal_length");
        }

        (await client.GetStringAsync($"/api/v1/monitors/iris-watch/windows/{id}/report?format=md", Cancel)).ShouldContain("| petal_length | numerical | ks |");
        var exposition = await client.GetStringAsync("/metrics", Cancel);
        exposition.ShouldContain("ballast_monitor_drift_detected{monitor=\"iris-watch\",column=\"petal_length\"} 1");
        exposition.ShouldContain("ballast_monitor_drift_score{monitor=\"iris-watch\",column=\"sepal_length\",method=\"ks\"}");
        exposition.ShouldContain("ballast_monitor_dataset_drift_share{monitor=\"iris-watch\"} 0.5");
        exposition.ShouldContain("ballast_monitor_metric{monitor=\"iris-watch\",metric=\"rows\"} 200");

        // feature_names that do not fit the logged inputs: the window says so (its columns are float_input[0]… instead of the names).
        var misnamed = new Dictionary<string, object>(monitor) { ["name"] = "iris-misnamed", ["feature_names"] = new Dictionary<string, string[]> { ["float_input"] = Features[..3] } };
        (await client.PostAsJsonAsync("/api/v1/monitors", misnamed, Cancel)).EnsureSuccessStatusCode();
        await ScoreAsync(client, 20, shift: 0, seed: 13);
        var noted = await (await client.PostAsync("/api/v1/monitors/iris-misnamed/evaluate", null, Cancel)).Content.ReadFromJsonAsync<JsonElement>(Cancel);
        noted.GetProperty("message").GetString()!.ShouldStartWith(
            "feature_names does not fit the logged inputs, whose columns are named NAME[i] instead: 'float_input' has 4 value(s) a row, but feature_names gives it 3 name(s)", customMessage: noted.ToString());
    }

    [Fact]
    public async Task Bad_monitors_get_precise_problems_and_change_nothing()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();

        async Task ProblemAsync(object body, string detail)
        {
            using var response = await client.PostAsJsonAsync("/api/v1/monitors", body, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(detail);
        }

        var reference = new { from = "2026-12-01T00:00:00Z", to = "2026-12-02T00:00:00Z" };
        await ProblemAsync(new { name = "m", endpoint = "nope", window = new { duration = "10m" }, reference }, "Invalid monitor 'm': endpoint 'nope' does not exist.");
        await ProblemAsync(new { name = "m", endpoint = "iris", window = new { duration = "10m", rows = 100 }, reference },
            "Invalid monitor 'm': window: give exactly one of duration (such as {\"duration\": \"10m\"}) or rows (such as {\"rows\": 5000}).");
        await ProblemAsync(new { name = "m", endpoint = "iris", window = new { duration = "ten minutes" }, reference = new { from = "yesterday", to = "2026-12-02T00:00:00Z" } },
            "Invalid monitor 'm': window.duration 'ten minutes' is not a duration of at least 10s such as 10m or 1h; reference.from 'yesterday' is not a time such as 2026-12-01T00:00:00Z (or Unix milliseconds).");
        await ProblemAsync(new { name = "m", endpoint = "iris", window = new { rows = 100 }, reference = new { dataset = "train", version = 2 } },
            "Invalid monitor 'm': reference: Dataset 'train' does not exist; `ballast data list` shows the datasets there are.");
        await ProblemAsync(new { name = "m", endpoint = "iris", window = new { rows = 100 }, reference, drift = new { method = "kolmogorov" }, performance = new { task = "ranking" } },
            "Invalid monitor 'm': drift: unknown drift method 'kolmogorov' (known: ks, chisquare, z, g_test, fisher_exact, t_test, welch_t_test, anderson, cramer_von_mises, psi, jensenshannon, wasserstein, ed, hellinger, l_infinity); performance.task 'ranking' is not classification or regression.");
        // The spec's own problems do not hide what it names: an unknown endpoint and dataset are reported with them.
        await ProblemAsync(new { name = "m", endpoint = "nope", window = new { rows = 5 }, reference = new { dataset = "train" }, drift = new { method = "kolmogorov" } },
            "Invalid monitor 'm': window.rows 5 must be between 10 and 1000000; drift: unknown drift method 'kolmogorov' (known: ks, chisquare, z, g_test, fisher_exact, t_test, welch_t_test, anderson, cramer_von_mises, psi, jensenshannon, wasserstein, ed, hellinger, l_infinity); " +
            "endpoint 'nope' does not exist; reference: Dataset 'train' does not exist; `ballast data list` shows the datasets there are.");

        // A dataset version's profile lacks what the monitor needs: every problem at once, on POST and on PUT (`ballast apply`).
        var csv = System.Text.Encoding.UTF8.GetBytes("sepal_length,petal_length,probability[0],probability[1],probability[2]\n5.1,1.4,0.9,0.05,0.05\n");
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(csv));
        (await client.PutAsync($"/api/v1/datasets/blobs/{sha}", new ByteArrayContent(csv), Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.PostAsJsonAsync("/api/v1/datasets/iris-probs/versions", new { files = new[] { new { path = "train.csv", size = csv.Length, sha256 = sha } } }, Cancel))
            .StatusCode.ShouldBe(HttpStatusCode.Created);
        var lacking = new Dictionary<string, object>
        {
            ["name"] = "m",
            ["endpoint"] = "iris",
            ["window"] = new { rows = 100 },
            ["reference"] = new { dataset = "iris-probs" },
            ["columns"] = new { include = new[] { "sepal_length", "sepal_width" } },
            ["estimated"] = new { probability_output = "probability", classes = new[] { "0", "1", "2" } },
        };
        const string Lacking = "Invalid monitor 'm': columns.include: iris-probs@1 train.csv has no column 'sepal_width' to compare with; " +
            "it has sepal_length, petal_length, probability[0], probability[1], probability[2]; " +
            "estimated.label: iris-probs@1 train.csv has the model's probabilities but no column 'label' with the true label, and CBPE (as NannyML's, which refuses " +
            "a reference without its y_true column) calibrates on the reference's probabilities and labels; it has sepal_length, petal_length, probability[0], probability[1], probability[2].";
        await ProblemAsync(lacking, Lacking);
        using (var put = await client.PutAsJsonAsync("/api/v1/monitors/m", lacking, Cancel))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            put.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            (await put.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(Lacking);
        }

        (await client.GetFromJsonAsync<JsonElement>("/api/v1/monitors", Cancel)).GetProperty("monitors").GetArrayLength().ShouldBe(0);

        var good = new { name = "m", endpoint = "iris", window = new { rows = 100 }, reference };
        (await client.PostAsJsonAsync("/api/v1/monitors", good, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);
        using (var again = await client.PostAsJsonAsync("/api/v1/monitors", good, Cancel))
        {
            // As every /api/v1 resource (MLflow's routes answer 400 for an existing name, as MLflow does).
            again.StatusCode.ShouldBe(HttpStatusCode.Conflict);
            (await again.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
                .ShouldBe("Monitor 'm' already exists; PUT /api/v1/monitors/m (or `ballast apply`) changes it.");
        }
        using (var renamed = await client.PutAsJsonAsync("/api/v1/monitors/other", good, Cancel))
        {
            renamed.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await renamed.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("The body names monitor 'm' but the path names 'other'.");
        }

        (await client.PutAsJsonAsync("/api/v1/monitors/m", new { endpoint = "iris", window = new { rows = 500 }, reference }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/monitors/m", Cancel)).GetProperty("window").GetProperty("rows").GetInt64().ShouldBe(500);
        (await client.GetAsync("/api/v1/monitors/missing", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetAsync("/api/v1/monitors/m/windows/1", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetAsync("/api/v1/monitors/m/windows?limit=0", Cancel)).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var empty = await (await client.PostAsync("/api/v1/monitors/m/evaluate", null, Cancel)).Content.ReadFromJsonAsync<JsonElement>(Cancel);
        (empty.GetProperty("status").GetString(), empty.GetProperty("rows").GetInt64()).ShouldBe(("insufficient_data", 0L));
        using (var noReport = await client.GetAsync($"/api/v1/monitors/m/windows/{empty.GetProperty("id").GetInt64()}/report?format=pdf", Cancel))
        {
            noReport.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await noReport.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("format 'pdf' is not one of json, html, md.");
        }

        (await client.GetAsync($"/api/v1/monitors/m/windows/{empty.GetProperty("id").GetInt64()}/report", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.DeleteAsync("/api/v1/monitors/m", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await client.DeleteAsync("/api/v1/monitors/m", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Monitor_manifests_apply_and_the_cli_lists_windows_and_prints_reports()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        await ServingHelpers.RegisterIrisAsync(client);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).EnsureSuccessStatusCode();
        var from = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await ScoreAsync(client, 10, shift: 0, seed: 21, feedback: true);
        var to = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1;
        var file = Path.Combine(server.DataDir, "monitor.yaml");
        await File.WriteAllTextAsync(file, $$"""
            kind: Monitor
            name: iris-applied
            endpoint: iris
            window: {duration: 1h}
            reference: {from: "{{from}}", to: "{{to}}"}
            drift: {method: ks}
            feature_names: {float_input: [sepal_length, sepal_width, petal_length, petal_width]}
            quality:
              suite:
                columns:
                  petal_length: {min: -100, max: 100}
            multivariate: {method: reconstruction}
            estimated: {probability_output: output_probability, classes: ["0", "1", "2"], normalize_confusion_matrix: true}
            """, Cancel);

        var applied = await RunAsync("apply", "-f", file, "--url", url);
        applied.Code.ShouldBe(0, applied.Error);
        applied.Output.ShouldEndWith("monitor/iris-applied: created (windows of 1h)\n");
        var again = await RunAsync("apply", "-f", file, "--url", url);
        again.Output.ShouldBe("monitor/iris-applied: unchanged (windows of 1h)\n", again.Error);
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/monitors/iris-applied", Cancel)).GetProperty("estimated").GetProperty("normalize_confusion_matrix").GetString()
            .ShouldBe("true", "YAML's unquoted true is NannyML's 'true', and applying it again changes nothing");
        (await RunAsync("get", "monitors", "--url", url)).Output.ShouldContain("iris-applied  iris");
        (await RunAsync("monitors", "list", "--url", url)).Output.ShouldContain("1h");

        var evaluated = await RunAsync("monitors", "evaluate", "iris-applied", "--json", "--url", url);
        evaluated.Code.ShouldBe(0, evaluated.Error);
        var id = JsonDocument.Parse(evaluated.Output).RootElement.GetProperty("id").GetInt64();
        var hooks = JsonDocument.Parse(evaluated.Output).RootElement.GetProperty("metrics");
        (hooks.GetProperty("quality.petal_length.max").GetDouble(), hooks.GetProperty("quality.failed").GetDouble()).ShouldBe((0.0, 0.0), "the manifest's suite");
        hooks.GetProperty("multivariate.drifted").GetDouble().ShouldBe(0, "the window is the reference");
        foreach (var truth in new[] { "0", "1", "2" })
        {
            new[] { "0", "1", "2" }.Sum(predicted => hooks.GetProperty($"estimated.true_{truth}_pred_{predicted}").GetDouble())
                .ShouldBe(1, 1e-12, "normalize_confusion_matrix: true, each true class's expected rows over its row");
        }

        var windows = await RunAsync("monitors", "windows", "iris-applied", "--url", url);
        windows.Output.ShouldContain(" ok ");
        var windowsJson = JsonDocument.Parse((await RunAsync("monitors", "windows", "iris-applied", "--json", "--url", url)).Output).RootElement;
        (windowsJson.GetProperty("monitor").GetString(), windowsJson.GetProperty("windows").EnumerateArray().Single().GetProperty("id").GetInt64()).ShouldBe(("iris-applied", id));
        var report = await RunAsync("monitors", "report", "iris-applied", id.ToString(CultureInfo.InvariantCulture), "--format", "md", "--url", url);
        report.Code.ShouldBe(0, report.Error);
        report.Output.ShouldContain("| petal_length | numerical | ks |");
        (await RunAsync("monitors", "report", "iris-applied", "999", "--url", url)).Code.ShouldBe(1);
        (await client.GetStringAsync("/metrics", Cancel)).ShouldContain("ballast_monitor_drift_score{monitor=\"iris-applied\"");
        (await RunAsync("delete", "monitor", "iris-applied", "--url", url)).Code.ShouldBe(0);
        (await client.GetAsync("/api/v1/monitors/iris-applied", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetStringAsync("/metrics", Cancel)).ShouldNotContain("monitor=\"iris-applied\"", Case.Sensitive, "a deleted monitor's series go with it");
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await Ballast.Cli.BallastCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
