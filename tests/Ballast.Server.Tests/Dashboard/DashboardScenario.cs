using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Ballast.Security;
using Ballast.Tests.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Tests.Dashboard;

/// <summary>
/// One real server seeded through its API with a small production story, and Chromium: an endpoint <c>iris</c> split
/// 80/20 between two versions with a shadow, scored traffic (seeded), a monitor with a reference window and two drifted
/// windows (a falling revenue KPI beside them, segments by sepal width), a firing drift alert, an endpoint <c>fraud</c> with a canary rollout paused for promotion
/// (and <c>ledger</c>, whose canary passed two analyses before its pause), A/B tests on <c>checkout</c> and <c>signup</c>, and API keys for a reader and a writer. Tracking holds an experiment of three runs; iris v1 came from the first (with its dataset), is in
/// Production and has the alias champion. The pipeline retrain ran twice, the second time from its cache.
/// </summary>
public sealed class DashboardScenario : IAsyncLifetime
{
    private static readonly string[] Features = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

    private RunningServer? _server;
    private DashboardBrowser? _browser;

    public RunningServer Server => _server!;

    public DashboardBrowser Browser => _browser!;

    public string ReaderKey { get; private set; } = "";

    public string WriterKey { get; private set; } = "";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        DashboardBrowser.ChromiumPath();
        _server = await RunningServer.StartAsync();
        var keys = Server.App.Services.GetRequiredService<ApiKeyStore>();
        WriterKey = (await keys.CreateAsync("ops-writer", ApiKeyRole.Writer, Cancel)).Token;
        ReaderKey = (await keys.CreateAsync("analyst", ApiKeyRole.Reader, Cancel)).Token;
        var admin = (await keys.CreateAsync("seed-admin", ApiKeyRole.Admin, Cancel)).Token;
        using var client = Server.Client(admin);

        // Tracking: an experiment with three training runs (params, a metric history each, the first with its dataset);
        // the first run's model becomes iris v1, in Production with the alias champion.
        var tracking = (await MlflowAsync(client, "experiments/create", new { name = "iris-training" })).GetProperty("experiment_id").GetString();
        var runs = new List<string>();
        foreach (var (c, accuracy) in new[] { ("0.1", 0.81), ("1.0", 0.93), ("10", 0.9) })
        {
            var run = (await MlflowAsync(client, "runs/create", new { experiment_id = tracking, run_name = $"lr-C{c}" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
            await MlflowAsync(client, "runs/log-batch", new
            {
                run_id = run,
                @params = new[] { new { key = "C", value = c }, new { key = "penalty", value = "l2" } },
                metrics = Enumerable.Range(0, 5).Select(step => new { key = "accuracy", value = accuracy - ((4 - step) * 0.05), timestamp = 1_700_000_000_000 + step, step }).ToArray(),
            });
            runs.Add(run);
        }

        await MlflowAsync(client, "runs/log-inputs", new
        {
            run_id = runs[0],
            datasets = new[] { new { tags = new[] { new { key = "mlflow.data.context", value = "training" } }, dataset = new { name = "iris-train", digest = "d1g35t", source_type = "local", source = "{}" } } },
        });
        using (var form = new MultipartFormDataContent())
        {
            var file = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture("logreg_iris.onnx"), Cancel));
            file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "file", "logreg_iris.onnx");
            form.Add(new StringContent(runs[0]), "run_id");
            (await client.PostAsync("/api/v1/models/iris/versions", form, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        await MlflowAsync(client, "model-versions/transition-stage", new { name = "iris", version = "1", stage = "Production", archive_existing_versions = false });
        await MlflowAsync(client, "registered-models/alias", new { name = "iris", alias = "champion", version = "1" });
        await PutAsync(client, "/api/v1/endpoints/iris", new
        {
            variants = new[] { new { name = "main", model = "models:/iris/1", weight = 80 }, new { name = "challenger", model = "models:/iris/2", weight = 20 } },
            shadows = new[] { new { name = "shadow", model = "models:/iris/3" } },
        });
        await PutAsync(client, "/api/v1/endpoints/ranker", new
        {
            policy = "bandit", bandit = new { algorithm = "epsilon_greedy" },
            variants = new[] { new { name = "a", model = "models:/iris/1" }, new { name = "b", model = "models:/iris/2" } },
        });
        for (var i = 0; i < 10; i++)
        {
            using var scored = await client.PostAsJsonAsync("/v2/models/ranker/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel);
            scored.EnsureSuccessStatusCode();
        }

        await PutAsync(client, "/api/v1/endpoints/blend", new
        {
            policy = "ensemble", ensemble = new { adapt = new { min_feedback = 5 } },
            variants = new[] { new { name = "a", model = "models:/iris/1" }, new { name = "b", model = "models:/iris/2" } },
        });
        using (var blended = await client.PostAsJsonAsync("/v2/models/blend/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel))
        {
            blended.EnsureSuccessStatusCode();
        }

        await Server.App.Services.GetRequiredService<Ballast.Serving.AssignmentStore>().FlushAsync(Cancel);

        // Reference traffic, a monitor whose reference is exactly that traffic, then a window of it and one with shifted petals.
        var from = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await ScoreAsync(client, 20, shift: 0, seed: 11, feedback: true);
        using (var created = await client.PostAsJsonAsync("/api/v1/monitors", new Dictionary<string, object>
        {
            ["name"] = "iris-watch",
            ["endpoint"] = "iris",
            ["window"] = new { rows = 1_000_000 },
            ["reference"] = new { from = from.ToString(CultureInfo.InvariantCulture), to = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1).ToString(CultureInfo.InvariantCulture) },
            ["feature_names"] = new Dictionary<string, string[]> { ["float_input"] = Features },
            ["segments"] = new[] { "sepal_width" },
            ["kpis"] = new[] { "revenue" },
            ["estimated"] = new { probability_output = "output_probability", classes = new[] { "0", "1", "2" }, normalize_confusion_matrix = "true" },
        }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
        }

        using (var rule = await client.PostAsJsonAsync("/api/v1/alert-rules", new
        {
            name = "iris-drift-high", source = "iris-watch", metric = "drift.share", @operator = ">", threshold = 0.3, @for = 1, severity = "critical",
        }, Cancel))
        {
            rule.StatusCode.ShouldBe(HttpStatusCode.Created, await rule.Content.ReadAsStringAsync(Cancel));
        }

        // Three windows, the petals shifting further each time while the revenue KPI falls.
        foreach (var (shift, revenue, seed) in new[] { (0.0, 100.0, 21), (1.0, 80.0, 12), (2.0, 55.0, 13) })
        {
            // The KPI first: a row window ends just after its last logged prediction.
            using (var kpi = await client.PostAsJsonAsync("/api/v1/kpis", new { name = "revenue", value = revenue, routing_key = "user-" + seed }, Cancel))
            {
                kpi.IsSuccessStatusCode.ShouldBeTrue(await kpi.Content.ReadAsStringAsync(Cancel));
            }

            await ScoreAsync(client, 20, shift, seed);
            await EvaluateAsync(client);
        }

        // A canary with two analyses (one 1 s measurement each; minRequests 0, as no traffic is needed to keep them) before its pause.
        await PutAsync(client, "/api/v1/endpoints/ledger", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } });
        using (var analysed = await client.PostAsJsonAsync("/api/v1/rollouts", new
        {
            name = "ledger-v2", endpoint = "ledger", model = "models:/iris/2", strategy = "canary",
            steps = new object[] { new { setWeight = 20 }, new { analysis = new { } }, new { setWeight = 50 }, new { analysis = new { } }, new { pause = new { } } },
            analysis = new { interval = "1s", count = 1, minRequests = 0, metrics = new[] { new { name = "errors", failureCondition = "error_rate > 0.5" } } },
        }, Cancel))
        {
            analysed.StatusCode.ShouldBe(HttpStatusCode.Created, await analysed.Content.ReadAsStringAsync(Cancel));
        }

        // Two canaries that wait for promotion: fraud-v2 stays so, payments-v2 is for the writer to promote.
        foreach (var endpoint in new[] { "fraud", "payments" })
        {
            await PutAsync(client, $"/api/v1/endpoints/{endpoint}", new { variants = new[] { new { name = "main", model = "models:/iris/1" } } });
            using var rollout = await client.PostAsJsonAsync("/api/v1/rollouts", new
            {
                name = endpoint + "-v2", endpoint, model = "models:/iris/2", strategy = "canary",
                steps = new object[] { new { setWeight = 25 }, new { pause = new { } }, new { setWeight = 100 } },
            }, Cancel);
            rollout.StatusCode.ShouldBe(HttpStatusCode.Created, await rollout.Content.ReadAsStringAsync(Cancel));
        }

        // An A/B test on checkout: seeded users convert 60% of the time on b, 30% on a. Users are sticky (a routing key
        // each), so which variant each gets is fixed as well as whether it converts: the results are the same every run.
        var sticky = new { header = "Ballast-Routing-Key" };
        await PutAsync(client, "/api/v1/endpoints/checkout", new { variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } }, sticky });
        using (var experiment = await client.PostAsJsonAsync("/api/v1/experiments", new { name = "checkout-ab", endpoint = "checkout", metric = new { name = "conversion", type = "binomial" }, engine = "frequentist", planned_samples = 100 }, Cancel))
        {
            experiment.StatusCode.ShouldBe(HttpStatusCode.Created, await experiment.Content.ReadAsStringAsync(Cancel));
        }

        var random = new Random(5);
        var feedback = new List<object>();
        for (var i = 0; i < 300; i++)
        {
            using var response = await InferAsUserAsync(client, "checkout", $"user-{i}");
            var variant = response.Headers.GetValues("Ballast-Variant").Single();
            feedback.Add(new { prediction_id = response.Headers.GetValues("Ballast-Prediction-Id").Single(), outcome = random.NextDouble() < (variant == "b" ? 0.6 : 0.3) ? 1 : 0 });
        }

        (await client.PostAsJsonAsync("/api/v1/feedback", new { feedback }, Cancel)).EnsureSuccessStatusCode();

        // A second A/B test, on signup, for the writer to conclude from its page.
        await PutAsync(client, "/api/v1/endpoints/signup", new { variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } }, sticky });
        using (var experiment = await client.PostAsJsonAsync("/api/v1/experiments", new { name = "signup-ab", endpoint = "signup", metric = new { name = "signup", type = "binomial" }, engine = "frequentist", planned_samples = 20 }, Cancel))
        {
            experiment.StatusCode.ShouldBe(HttpStatusCode.Created, await experiment.Content.ReadAsStringAsync(Cancel));
        }

        feedback.Clear();
        for (var i = 0; i < 60; i++)
        {
            using var response = await InferAsUserAsync(client, "signup", $"user-{i}");
            var variant = response.Headers.GetValues("Ballast-Variant").Single();
            feedback.Add(new { prediction_id = response.Headers.GetValues("Ballast-Prediction-Id").Single(), outcome = random.NextDouble() < (variant == "b" ? 0.7 : 0.3) ? 1 : 0 });
        }

        (await client.PostAsJsonAsync("/api/v1/feedback", new { feedback }, Cancel)).EnsureSuccessStatusCode();
        await Server.App.Services.GetRequiredService<Ballast.Serving.TrafficStats>().FlushAsync(Cancel);

        // The controller (under its lease, every second) takes the canaries to their pause (ledger-v2 after its two analyses).
        foreach (var rollout in new[] { "fraud-v2", "payments-v2", "ledger-v2" })
        {
            var phase = await Eventually.UntilAsync(
                async () => (await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/rollouts/{rollout}", Cancel)).GetProperty("phase").GetString(), phase => phase == "Paused", TimeSpan.FromMilliseconds(50));

            phase.ShouldBe("Paused", $"{rollout} reaches its pause");
        }
        // A regime endpoint: calm until the posted volatility crosses 0.5, then stressed.
        await PutAsync(client, "/api/v1/endpoints/pricing", new
        {
            policy = "regime",
            variants = new[] { new { name = "calm", model = "models:/iris/1" }, new { name = "stressed", model = "models:/iris/2" } },
            regime = new { signal = "volatility", thresholds = new[] { 0.5 }, variants = new[] { "calm", "stressed" }, hysteresis = 0.0, min_dwell_seconds = 0.0 },
        });
        foreach (var volatility in new[] { 0.1, 0.9 })
        {
            using (var signal = await client.PostAsJsonAsync("/api/v1/endpoints/pricing/signals", new { value = volatility }, Cancel))
            {
                signal.IsSuccessStatusCode.ShouldBeTrue(await signal.Content.ReadAsStringAsync(Cancel));
            }

            for (var i = 0; i < 5; i++)
            {
                using var scored = await client.PostAsJsonAsync("/v2/models/pricing/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel);
                scored.EnsureSuccessStatusCode();
            }
        }

        await Server.App.Services.GetRequiredService<Ballast.Serving.TrafficStats>().FlushAsync(Cancel);

        // A two-step pipeline run twice: the second run reuses both steps' outputs (cached).
        await PutAsync(client, "/api/v1/pipelines/retrain", new
        {
            steps = new object[]
            {
                new { name = "prepare", kind = "command", cache = true, with = new { command = "sh", args = new[] { "-c", "echo preparing features; echo rows=150" } } },
                new { name = "train", kind = "command", cache = true, needs = new[] { "prepare" }, with = new { command = "sh", args = new[] { "-c", "echo training the model" } } },
            },
        });
        foreach (var _ in new[] { 1, 2 })
        {
            using var started = await client.PostAsJsonAsync("/api/v1/pipelines/retrain/runs", new { }, Cancel);
            started.StatusCode.ShouldBe(HttpStatusCode.Created, await started.Content.ReadAsStringAsync(Cancel));
            var run = (await started.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Cancel)).GetProperty("run_id").GetString()!;
            await Pipelines.PipelineServerTests.WaitForRunAsync(client, run, "succeeded");
        }

        _browser = await DashboardBrowser.LaunchAsync();
    }

    /// <summary>Scores <paramref name="requests"/> requests on <c>iris</c> now and writes the traffic counters, so "live" numbers have something to show.</summary>
    public async Task ScoreLiveAsync(int requests)
    {
        using var client = Server.Client(WriterKey);
        for (var i = 0; i < requests; i++)
        {
            using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel);
            response.EnsureSuccessStatusCode();
        }

        await Server.App.Services.GetRequiredService<Ballast.Serving.TrafficStats>().FlushAsync(Cancel);
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private static async Task<System.Text.Json.JsonElement> MlflowAsync(HttpClient client, string route, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/2.0/mlflow/" + route, body, Cancel);
        var text = await response.Content.ReadAsStringAsync(Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, $"{route}: {text}");
        return System.Text.Json.JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Scores the iris row on <paramref name="endpoint"/> as <paramref name="user"/> (its routing key, which keeps the user on one variant).</summary>
    private static async Task<HttpResponseMessage> InferAsUserAsync(HttpClient client, string endpoint, string user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{endpoint}/infer") { Content = JsonContent.Create(new { inputs = new[] { ServingHelpers.IrisRow } }) };
        request.Headers.Add("Ballast-Routing-Key", user);
        var response = await client.SendAsync(request, Cancel);
        response.EnsureSuccessStatusCode();
        return response;
    }

    private static async Task PutAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PutAsJsonAsync(path, body, Cancel);
        response.IsSuccessStatusCode.ShouldBeTrue(await response.Content.ReadAsStringAsync(Cancel));
    }

    private static async Task EvaluateAsync(HttpClient client)
    {
        using var evaluated = await client.PostAsync("/api/v1/monitors/iris-watch/evaluate", null, Cancel);
        evaluated.StatusCode.ShouldBe(HttpStatusCode.OK, await evaluated.Content.ReadAsStringAsync(Cancel));
    }

    /// <summary>Scores <paramref name="requests"/> batches of 10 iris-like rows (seeded; sepal width whole, a segment column), the petals shifted by <paramref name="shift"/>.</summary>
    /// <summary>
    /// Scores <paramref name="requests"/> batches of 10 seeded rows; with <paramref name="feedback"/>, posts as each
    /// row's outcome the model's label, one in eight replaced by the next class (labels for CBPE's reference).
    /// </summary>
    private static async Task ScoreAsync(HttpClient client, int requests, double shift, int seed, bool feedback = false)
    {
        var random = new Random(seed);
        double Normal(double mean, double deviation) => mean + (deviation * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        var outcomes = new List<object>();
        var flips = new Random(seed + 1);
        for (var i = 0; i < requests; i++)
        {
            var data = Enumerable.Range(0, 10).SelectMany(_ => new[] { Normal(5.8, 0.8), Math.Round(Normal(3.0, 0.4)), Normal(3.8, 1.7) + shift, Normal(1.2, 0.7) + (shift / 2) }).ToArray();
            using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { new { name = "float_input", shape = new[] { 10, 4 }, datatype = "FP32", data } } }, Cancel);
            response.EnsureSuccessStatusCode();
            if (feedback)
            {
                using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
                var labels = body.RootElement.GetProperty("outputs").EnumerateArray().Single(output => output.GetProperty("name").GetString() == "output_label")
                    .GetProperty("data").EnumerateArray().Select(label => flips.Next(8) == 0 ? (label.GetInt64() + 1) % 3 : label.GetInt64()).ToArray();
                outcomes.Add(new { prediction_id = response.Headers.GetValues("Ballast-Prediction-Id").Single(), outcome = labels });
            }
        }

        if (feedback)
        {
            (await client.PostAsJsonAsync("/api/v1/feedback", new { feedback = outcomes }, Cancel)).EnsureSuccessStatusCode();
        }
    }
}
