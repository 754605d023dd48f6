using Ballast.Datasets;
using Ballast.Experiments;
using Ballast.Metadata;
using Ballast.Monitoring;
using Ballast.Rollouts;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Storage;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Rollouts;

/// <summary>
/// Drift conditions in rollout analysis, simulated with a fake clock and seeded traffic written to a real prediction
/// log (local artifact store, DuckDB): the endpoint is sticky by a routing key, and the users of one segment (the
/// top routing buckets, the ones a canary takes) send shifted inputs, so the canary's traffic drifts from stable's.
/// </summary>
public abstract class RolloutDriftTests(DatabaseEngine engine) : FolderDatabaseTest(engine, "ballast-rollout-drift-")
{
    private static readonly string[] Features = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

    private readonly Random _random = new(42);
    private PredictionLog? _log;
    private MonitorStore? _monitors;
    private TrafficStats? _traffic;

    private EndpointStore Endpoints => new(Database, Time);

    /// <summary>20% canary, then one analysis of two 10-second measurements (about 100 canary requests each).</summary>
    private static RolloutSpec Canary(params AnalysisMetric[] metrics) => new("iris-v2", "iris", "models:/iris/2", "canary",
        [new RolloutStep(SetWeight: 20), new RolloutStep(Analysis: new AnalysisStep())],
        new AnalysisSpec("10s", 2, 0, 0, 20, metrics));

    [Fact]
    public async Task A_canary_whose_traffic_drifted_from_stables_is_aborted_with_the_drift_values_in_its_history()
    {
        var controller = await StartAsync(Canary(new AnalysisMetric("drift", "drift_share > 0.3"), new AnalysisMetric("petal", "drifted.float_input[2] > 0")));
        await RunAsync(controller, seconds: 25, shift: 3);

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        (rollout.State.Phase, rollout.State.Message).ShouldBe((RolloutPhases.Aborted, "analysis failed: drift: drift_share > 0.3 (value 0.5); petal: drifted.float_input[2] > 0 (value 1)"));
        var values = rollout.State.History[^1].Values!;
        // The shifted segment moved the two petal columns: 2 of the 4 inputs drifted from stable's traffic.
        values["drift_share"].ShouldBe(0.5);
        values.Keys.Where(key => key.StartsWith("drift.", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .ShouldBe(["drift.float_input[0]", "drift.float_input[1]", "drift.float_input[2]", "drift.float_input[3]"]);
        // The verdicts beside the scores, 1 or 0 whatever the method.
        Enumerable.Range(0, 4).Select(i => values[$"drifted.float_input[{i}]"]).ShouldBe([0.0, 0.0, 1.0, 1.0]);
        values["logged_rows"].ShouldBeGreaterThanOrEqualTo(30);
        values["reference_rows"].ShouldBe(values["stable_logged_rows"], "without a monitor, stable's traffic is the reference");
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/1", 100)]);
    }

    [Fact]
    public async Task A_canary_whose_traffic_looks_like_stables_passes_its_drift_analysis()
    {
        var controller = await StartAsync(Canary(new AnalysisMetric("drift", "drift_share > 0.3"), new AnalysisMetric("petal", "drift.float_input[2] < 0.001")));
        await RunAsync(controller, seconds: 25, shift: 0);

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        rollout.State.Phase.ShouldBe(RolloutPhases.Succeeded, rollout.State.Message);
        rollout.State.History.Select(e => e.Message).ShouldContain("analysis passed (2 of 2 measurements successful)");
    }

    [Fact]
    public async Task Too_little_logged_traffic_for_a_drift_test_is_inconclusive_never_a_pass()
    {
        // minRequests 5 lets the traffic counters pass; 20 canary rows a measurement are fewer than a drift test's 30.
        var controller = await StartAsync(Canary(new AnalysisMetric("drift", "drift_share > 0.3")) with
        {
            Analysis = new AnalysisSpec("10s", 2, 0, 0, 5, [new AnalysisMetric("drift", "drift_share > 0.3")]),
        });
        await RunAsync(controller, seconds: 15, shift: 0, requestsPerSecond: 10);

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        (rollout.State.Phase, rollout.State.Weight).ShouldBe((RolloutPhases.Paused, 20));
        rollout.State.Message.ShouldMatch(@"^analysis inconclusive: drift: \d+ logged rows < 30 \(minRequests, and at least 30 for a drift test\); promote or abort$");
        rollout.State.History[^1].Values!.ShouldNotContainKey("drift_share");
    }

    [Fact]
    public async Task With_a_monitor_on_the_endpoint_the_drift_is_against_its_reference_and_may_be_compared_with_stables()
    {
        // The monitor's reference is the first minute of stable-only traffic; its feature names name the columns, and its
        // drift options apply (KS for every column: Evidently's default for 3,000 reference rows would be Wasserstein).
        var stack = await MonitoredAsync(seconds: 60, monitor => monitor with
        {
            Drift = new MonitorDrift(Method: "ks"), MinRows = 50, FeatureNames = new Dictionary<string, IReadOnlyList<string>> { ["float_input"] = Features },
        });

        var started = await stack.Controller.StartAsync(Canary(new AnalysisMetric("drift", "drift_share > stable + 0.2")), Cancel);
        started.Spec.Analysis!.Metrics!.Single().Monitor.ShouldBe("iris-drift", "the endpoint's only monitor, fixed for the whole rollout");
        await RunAsync(stack.Controller, seconds: 25, shift: 3);

        var rollout = await stack.Controller.GetAsync("iris-v2", Cancel);
        (rollout.State.Phase, rollout.State.Message).ShouldBe((RolloutPhases.Aborted, "analysis failed: drift: drift_share > stable + 0.2 (value 0.5)"));
        var values = rollout.State.History[^1].Values!;
        (values["stable_drift_share"], values["reference_rows"]).ShouldBe((0.0, 3000.0));
        values.ShouldContainKey("drift.petal_length");
    }

    [Fact]
    public async Task A_monitor_min_rows_above_the_variants_logged_rows_makes_the_measurement_inconclusive()
    {
        var stack = await MonitoredAsync(seconds: 20, monitor => monitor with { MinRows = 500 });

        await stack.Controller.StartAsync(Canary(new AnalysisMetric("drift", "drift_share > 0.3", "iris-drift")), Cancel);
        await RunAsync(stack.Controller, seconds: 15, shift: 3);

        var rollout = await stack.Controller.GetAsync("iris-v2", Cancel);
        rollout.State.Phase.ShouldBe(RolloutPhases.Paused);
        rollout.State.Message.ShouldMatch(@"^analysis inconclusive: drift: \d+ logged rows < 500 \(minRequests or monitor 'iris-drift' min_rows\); promote or abort$");
    }

    [Fact]
    public async Task A_canary_predicting_differently_from_stable_fails_a_prediction_drift_condition()
    {
        // Same inputs, but the canary answers class 2 for everything; with about 100 rows, the default test is chi-square: its p-value.
        var controller = await StartAsync(Canary(new AnalysisMetric("drift", "drift_share > 0.3"), new AnalysisMetric("answers", "prediction_drift < 0.05")));
        await RunAsync(controller, seconds: 25, shift: 0, canaryLabel: 2);

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        rollout.State.Phase.ShouldBe(RolloutPhases.Aborted);
        rollout.State.Message.ShouldStartWith("analysis failed: answers: prediction_drift < 0.05 (value ");
        var values = rollout.State.History[^1].Values!;
        values["prediction_drift"].ShouldBeLessThan(1e-6);
        values["prediction_drifted"].ShouldBe(1);
        values["drift_share"].ShouldBeLessThan(0.3);
    }

    [Fact]
    public async Task A_blue_green_previews_mirrored_copies_of_production_requests_count_in_its_drift_analysis()
    {
        // Nobody pins requests to the preview: the mirror of every production request is all it answers, class 2 for everything.
        var controller = await StartAsync(new RolloutSpec("iris-bg", "iris", "models:/iris/2", null, null,
            new AnalysisSpec("10s", 2, 0, 0, 20, [new AnalysisMetric("answers", "prediction_drift < 0.05")]), BlueGreen: new BlueGreenSpec(false, true, false, null, 100)));
        await RunAsync(controller, seconds: 25, shift: 0, canaryLabel: 2);

        var rollout = await controller.GetAsync("iris-bg", Cancel);
        (rollout.State.Phase, rollout.State.Message).ShouldSatisfyAllConditions(
            state => state.Phase.ShouldBe(RolloutPhases.Aborted),
            state => state.Message.ShouldStartWith("analysis failed: answers: prediction_drift < 0.05 (value "));
        var values = rollout.State.History[^1].Values!;
        values["prediction_drift"].ShouldBeLessThan(1e-6);
        values["logged_rows"].ShouldBe(values["stable_logged_rows"], "the preview answered a copy of every production request");
    }

    [Fact]
    public async Task Drift_conditions_that_cannot_be_measured_are_refused_at_start_with_every_problem()
    {
        await Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        await Endpoints.CreateAsync(new EndpointSpec("other", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        var stack = await StackAsync();
        var reference = new MonitorReference(From: "2026-11-25T11:00:00Z", To: "2026-11-25T12:00:00Z");
        await stack.Monitors.CreateAsync(new MonitorSpec("elsewhere", "other", new MonitorWindow(Duration: "10m"), reference), Cancel);

        (await Should.ThrowAsync<TrackingException>(() => stack.Controller.StartAsync(Canary(new AnalysisMetric("drift", "drift_share > 0.3", "nope")), Cancel)))
            .Message.ShouldBe("Invalid rollout 'iris-v2': analysis metric 'drift': monitor 'nope' does not exist.");
        (await Should.ThrowAsync<TrackingException>(() => stack.Controller.StartAsync(Canary(new AnalysisMetric("drift", "drift_share > 0.3", "elsewhere")), Cancel)))
            .Message.ShouldBe("Invalid rollout 'iris-v2': analysis metric 'drift': monitor 'elsewhere' watches endpoint 'other', not 'iris'.");

        // No monitor on the endpoint: the reference is stable's traffic, which an analysis at weight 100 or of stable itself does not have.
        (await Should.ThrowAsync<TrackingException>(() => stack.Controller.StartAsync(Canary(new AnalysisMetric("drift", "drift_share > 0.3")) with
        {
            Steps = [new RolloutStep(SetWeight: 100), new RolloutStep(Analysis: new AnalysisStep())],
        }, Cancel))).Message.ShouldBe("Invalid rollout 'iris-v2': step 1 analyses the canary at weight 100, when the stable variant has no traffic: 'drift' compares with the stable variant's traffic " +
            "(no monitor watches endpoint 'iris' to give a reference).");
        (await Should.ThrowAsync<TrackingException>(() => stack.Controller.StartAsync(new RolloutSpec("iris-bg", "iris", "models:/iris/2", null, null,
            new AnalysisSpec(Metrics: [new AnalysisMetric("drift", "drift_share > 0.3")]), BlueGreen: new BlueGreenSpec(true, true, true)), Cancel)))
            .Message.ShouldBe("Invalid rollout 'iris-bg': step 3 analyses the stable variant itself: 'drift' compares with the stable variant's traffic (no monitor watches endpoint 'iris' to give a reference).");

        // Two monitors on the endpoint: the analysis names one.
        await stack.Monitors.CreateAsync(new MonitorSpec("first", "iris", new MonitorWindow(Duration: "10m"), reference), Cancel);
        await stack.Monitors.CreateAsync(new MonitorSpec("second", "iris", new MonitorWindow(Duration: "10m"), reference), Cancel);
        (await Should.ThrowAsync<TrackingException>(() => stack.Controller.StartAsync(Canary(new AnalysisMetric("drift", "drift_share > 0.3")), Cancel)))
            .Message.ShouldBe("Invalid rollout 'iris-v2': analysis: several monitors watch endpoint 'iris' (first, second); name the one whose reference the drift metrics use with \"monitor\": NAME.");
        var named = await stack.Controller.StartAsync(Canary(new AnalysisMetric("drift", "drift_share > 0.3", "second"), new AnalysisMetric("errors", "error_rate > 0.01")), Cancel);
        named.Spec.Analysis!.Metrics!.Select(metric => metric.Monitor).ShouldBe(["second", null]);
    }

    [Fact]
    public void Drift_metrics_are_checked_with_the_rest_of_the_spec() =>
        Should.Throw<TrackingException>(() => RolloutValidation.Validate(Canary(
                new AnalysisMetric("errors", "error_rate > 0.01", "iris-drift"), new AnalysisMetric("answers", "prediction_drift > stable + 0.1"),
                new AnalysisMetric("a", "drift_share > 0.3", "one"), new AnalysisMetric("b", "drift.petal_length > 0.1", "two"), new AnalysisMetric("c", "drift. > 0.1")) with
            {
                Sla = new SlaSpec(["drift_share > 0.3", "accuracy < 0.9"]),
            }))
        .Message.ShouldBe("Invalid rollout 'iris-v2': analysis metric 'errors': monitor goes with drift conditions (drift_share, drift.COLUMN, drifted.COLUMN, prediction_drift, prediction_drifted), not error_rate; " +
            "analysis metric 'answers': prediction_drift already compares the variant's predictions with stable's; compare it with a number (such as prediction_drift > 0.1); " +
            "analysis metric 'c': condition 'drift. > 0.1' is not METRIC OP NUMBER (or OP stable, stable + N, stable - N, stable * N) with METRIC one of error_rate, rejection_rate, latency_p99_ms, latency_p50_ms, " +
            "latency_mean_ms, requests, disagreement_rate, accuracy, mean_reward, feedback_count, drift_share, drift.COLUMN, drifted.COLUMN, prediction_drift, prediction_drifted and OP one of > >= < <=; " +
            "analysis: the drift metrics name different monitors (iris-drift, one, two); an analysis compares with one reference, so name one; " +
            "sla: condition 'drift_share > 0.3' names drift_share, which is measured by analysis only; an SLA watches traffic metrics (error_rate, rejection_rate, latency_p99_ms, latency_p50_ms, latency_mean_ms, requests, disagreement_rate); " +
            "sla: condition 'accuracy < 0.9' names accuracy, which is measured by analysis only; an SLA watches traffic metrics (error_rate, rejection_rate, latency_p99_ms, latency_p50_ms, latency_mean_ms, requests, disagreement_rate).");

    private sealed record Stack(RolloutController Controller, MonitorStore Monitors);

    private async Task<Stack> StackAsync()
    {
        var artifacts = LocalArtifacts();
        _log = await OpenLogAsync(artifacts);
        var feedback = new FeedbackStore(Database, Time);
        var export = new PredictionExport(_log, artifacts, feedback);
        var datasets = new DatasetStore(Database, artifacts, Time, new DatasetProfiler(256));
        _traffic = new TrafficStats(Database, Time);
        _monitors = new MonitorStore(Database, Endpoints, datasets, Time);
        var evaluator = new MonitorEvaluator(export, datasets, new KpiStore(Database, Time), _traffic);
        var controller = new RolloutController(Database, Endpoints, _traffic, Time, drift: new RolloutDrift(export, evaluator, _monitors));
        return new Stack(controller, _monitors);
    }

    /// <summary>The endpoint with stable-only traffic for <paramref name="seconds"/>, and the monitor <c>iris-drift</c> whose reference is that traffic.</summary>
    private async Task<Stack> MonitoredAsync(int seconds, Func<MonitorSpec, MonitorSpec> settings)
    {
        await Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        var stack = await StackAsync();
        var start = Time.GetUtcNow();
        await RunAsync(stack.Controller, seconds, shift: 0);
        await stack.Monitors.CreateAsync(settings(new MonitorSpec("iris-drift", "iris", new MonitorWindow(Duration: "10m"),
            new MonitorReference(From: start.ToString("O"), To: Time.GetUtcNow().ToString("O")))), Cancel);
        return stack;
    }

    private async Task<RolloutController> StartAsync(RolloutSpec spec)
    {
        await Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        var stack = await StackAsync();
        await stack.Controller.StartAsync(spec, Cancel);
        return stack.Controller;
    }

    /// <summary>
    /// Each simulated second: requests from seeded users, each routed by its key's bucket as the router does (stable
    /// takes the low buckets, the canary the top ones), counted and logged as serving does, then a controller tick.
    /// Users in buckets 80 and up send petal measurements shifted by <paramref name="shift"/> (a segment the canary gets
    /// at weight 20); the canary answers <paramref name="canaryLabel"/> when given, else the class the petal length implies.
    /// </summary>
    private async Task RunAsync(RolloutController controller, int seconds, double shift, int requestsPerSecond = 50, long? canaryLabel = null)
    {
        double Normal(double mean, double deviation) => mean + (deviation * Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble()));
        for (var second = 0; second < seconds; second++)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            var now = Time.GetUtcNow().ToUnixTimeMilliseconds();
            var endpoint = (await Endpoints.GetAsync("iris", Cancel)).Spec;
            var variants = endpoint.Variants!;
            var shadows = endpoint.Shadows ?? [];
            for (var i = 0; i < requestsPerSecond; i++)
            {
                var key = $"user-{_random.Next(100_000)}";
                var bucket = RoutedEndpoint.Bucket(key);
                var variant = variants[0];
                for (int v = 0, from = 0; v < variants.Count; from += variants[v].Weight ?? 0, v++)
                {
                    if (bucket >= from && bucket < from + (variants[v].Weight ?? 0))
                    {
                        variant = variants[v];
                    }
                }

                var moved = bucket >= 80 ? shift : 0;
                var petal = Normal(3.8, 1.7) + moved;
                float[] inputs = [(float)Normal(5.8, 0.8), (float)Normal(3.0, 0.4), (float)petal, (float)(Normal(1.2, 0.7) + (moved / 2))];
                var canary = variant.Name == RolloutController.CanaryVariant;
                var label = canary && canaryLabel is { } fixedLabel ? fixedLabel : petal < 2.5 ? 0L : petal < 4.8 ? 1L : 2L;
                _traffic!.Record("iris", variant.Name, 5, error: false);
                var id = $"{variant.Name}-{now}-{i}";
                var at = now - 1000 + (i * 1000 / requestsPerSecond);
                (await _log!.AppendAsync(new PredictionRecord(id, "iris", variant.Name, variant.Model!, at, 5, key,
                    [new Tensor("float_input", TensorDatatypes.Fp32, [1, 4], inputs)], [new Tensor("label", TensorDatatypes.Int64, [1], new[] { label })]), Cancel)).ShouldBeTrue();
                foreach (var shadow in shadows.Where(shadow => _random.Next(100) < shadow.Percent))
                {
                    // A shadow copy (a blue/green preview's mirror serves the new model): answered as the canary would, logged as serving does.
                    var answer = canaryLabel ?? (petal < 2.5 ? 0L : petal < 4.8 ? 1L : 2L);
                    _traffic.Record("iris", shadow.Name, 5, error: false);
                    (await _log.AppendAsync(new PredictionRecord(id, "iris", shadow.Name, shadow.Model!, at, 5, key, [new Tensor("float_input", TensorDatatypes.Fp32, [1, 4], inputs)],
                        [new Tensor("label", TensorDatatypes.Int64, [1], new[] { answer })], PredictionRecord.Shadow), Cancel)).ShouldBeTrue();
                }
            }

            await _traffic!.FlushAsync(Cancel);
            await controller.TickAsync(Cancel);
        }
    }
}

public sealed class SqliteRolloutDriftTests() : RolloutDriftTests(DatabaseEngine.Sqlite);

public sealed class PostgresRolloutDriftTests() : RolloutDriftTests(DatabaseEngine.Postgres);
