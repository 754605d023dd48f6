using System.Text.Json.Nodes;
using Ballast.Metadata;
using Ballast.Rollouts;
using Ballast.Serving;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Rollouts;

/// <summary>Canary rollouts simulated with a fake clock and synthetic traffic counted the way the serving path counts it.</summary>
public abstract class RolloutControllerTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    private static readonly RolloutSpec Canary = new("iris-v2", "iris", "models:/iris/2", "canary",
        [new RolloutStep(SetWeight: 20), new RolloutStep(Analysis: new AnalysisStep()), new RolloutStep(SetWeight: 50), new RolloutStep(Pause: JsonValue.Create("30s"))],
        new AnalysisSpec("10s", 2, 0, 0, 20, [new AnalysisMetric("errors", "error_rate > 0.05"), new AnalysisMetric("latency", "latency_p99_ms > 50")]));

    private EndpointStore Endpoints => new(Database, Time);

    [Fact]
    public async Task A_good_version_goes_through_every_step_and_becomes_stable()
    {
        var (controller, traffic) = await StartAsync();
        await RunAsync(controller, traffic, seconds: 80, errorRate: 0, latencyMs: 5);

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        rollout.State.Phase.ShouldBe(RolloutPhases.Succeeded, rollout.State.Message);
        rollout.State.History.Select(e => e.Message).ShouldBe([
            "started: models:/iris/2 against stable main=models:/iris/1", "canary weight 20%", "analysis passed (2 of 2 measurements successful)",
            "canary weight 50%", "pause of 00:00:30 done", "promoted: models:/iris/2 is the stable variant 'main'"]);
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/2", 100)]);
    }

    [Theory]
    [InlineData(0.2, 5, "analysis failed: errors: error_rate > 0.05 (value 0.2)")]
    [InlineData(0, 80, "analysis failed: latency: latency_p99_ms > 50 (value 80.7794)")]
    public async Task A_failing_or_slow_version_is_aborted_at_its_first_analysis_and_traffic_returns_to_stable(double errorRate, double latencyMs, string reason)
    {
        var (controller, traffic) = await StartAsync();
        await RunAsync(controller, traffic, seconds: 40, errorRate, latencyMs);

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        (rollout.State.Phase, rollout.State.Step, rollout.State.Message).ShouldBe((RolloutPhases.Aborted, 1, reason));
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/1", 100)]);
    }

    [Fact]
    public async Task No_traffic_is_inconclusive_and_pauses_never_promotes()
    {
        var (controller, traffic) = await StartAsync();
        await RunAsync(controller, traffic, seconds: 120, errorRate: 0, latencyMs: 5, requestsPerSecond: 0);

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        (rollout.State.Phase, rollout.State.Weight).ShouldBe((RolloutPhases.Paused, 20));
        rollout.State.Message.ShouldBe("analysis inconclusive: 0 requests < minRequests 20; promote or abort");

        // A human looks and promotes past the analysis; the rollout carries on from the next step.
        await controller.PromoteAsync("iris-v2", Cancel);
        await RunAsync(controller, traffic, seconds: 40, errorRate: 0, latencyMs: 5);
        (await controller.GetAsync("iris-v2", Cancel)).State.Phase.ShouldBe(RolloutPhases.Succeeded);
    }

    [Fact]
    public async Task A_rollout_survives_a_restart_mid_way_and_a_hand_abort_returns_traffic_to_stable()
    {
        var (first, traffic) = await StartAsync();
        await RunAsync(first, traffic, seconds: 25, errorRate: 0, latencyMs: 5);
        var before = await first.GetAsync("iris-v2", Cancel);
        (before.State.Step, before.State.Weight).ShouldBe((3, 50), before.State.Message);

        // A new process (or another replica taking over the lease) reads the state and goes on: still in the 30 s pause.
        var second = new RolloutController(Database, Endpoints, traffic, Time);
        await RunAsync(second, traffic, seconds: 5, errorRate: 0, latencyMs: 5);
        (await second.GetAsync("iris-v2", Cancel)).State.ShouldSatisfyAllConditions(state => state.Step.ShouldBe(3), state => state.Phase.ShouldBe(RolloutPhases.Progressing));
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants!.Select(v => (v.Name, v.Weight)).ShouldBe([("main", (int?)50), ("canary", 50)]);

        var aborted = await second.AbortAsync("iris-v2", cancellationToken: Cancel);
        (aborted.State.Phase, aborted.State.Message).ShouldBe((RolloutPhases.Aborted, "aborted by hand"));
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/1", 100)]);
        (await Should.ThrowAsync<TrackingException>(() => second.PromoteAsync("iris-v2", Cancel))).Message.ShouldBe("Rollout 'iris-v2' has ended (Aborted): aborted by hand.");
    }

    [Fact]
    public async Task A_slow_canary_breaks_its_sla_and_is_rolled_back_before_any_analysis()
    {
        var (controller, traffic) = await StartAsync(Canary with
        {
            Steps = [new RolloutStep(SetWeight: 20), new RolloutStep(Pause: JsonValue.Create("5m"))],
            Sla = new SlaSpec(["latency_p99_ms > 50"], "20s", MinRequests: 50),
        });
        await RunAsync(controller, traffic, seconds: 40, errorRate: 0, latencyMs: 80);

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        (rollout.State.Phase, rollout.State.Message).ShouldBe((RolloutPhases.Aborted, "SLA breach over the last 00:00:20: latency_p99_ms > 50 (value 80.7794)"));
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/1", 100)]);
    }

    [Fact]
    public async Task A_promoted_model_that_slows_down_within_the_watch_is_rolled_back_to_the_old_one()
    {
        var (controller, traffic) = await StartAsync(Canary with
        {
            Steps = [new RolloutStep(SetWeight: 100)],
            Sla = new SlaSpec(["latency_p99_ms > 50"], "20s", "5m", MinRequests: 50),
        });
        await RunAsync(controller, traffic, seconds: 30, errorRate: 0, latencyMs: 5);
        (await controller.GetAsync("iris-v2", Cancel)).State.Phase.ShouldBe(RolloutPhases.Succeeded);

        // The new model is now the stable variant 'main'; it slows down under real load.
        await RunAsync(controller, traffic, seconds: 40, errorRate: 0, latencyMs: 5, stableLatencyMs: 80);
        var rollout = await controller.GetAsync("iris-v2", Cancel);
        rollout.State.Phase.ShouldBe(RolloutPhases.Aborted);
        rollout.State.Message.ShouldStartWith("rolled back after promotion: SLA breach over the last 00:00:20: latency_p99_ms > 50");
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/1", 100)]);
    }

    private static readonly RolloutSpec BlueGreen = new("iris-bg", "iris", "models:/iris/2", null, null,
        new AnalysisSpec("10s", 1, 0, 0, 10, [new AnalysisMetric("errors", "error_rate > 0.05")]), BlueGreen: new BlueGreenSpec(false, true, true, "20s"));

    [Fact]
    public async Task Blue_green_previews_waits_for_promotion_switches_at_once_and_scales_the_old_model_down_after_the_delay()
    {
        var (controller, traffic) = await StartAsync(BlueGreen);
        await RunAsync(controller, traffic, seconds: 15, errorRate: 0, latencyMs: 5, pinnedPerSecond: 5);
        var waiting = await controller.GetAsync("iris-bg", Cancel);
        (waiting.State.Phase, waiting.State.Message).ShouldBe((RolloutPhases.Paused, "paused until promoted"));
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/1", 100), new VariantSpec("preview", "models:/iris/2", 0)]);

        await controller.PromoteAsync("iris-bg", Cancel);
        await RunAsync(controller, traffic, seconds: 5, errorRate: 0, latencyMs: 5);
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/2", 100), new VariantSpec("previous", "models:/iris/1", 0)]);

        await RunAsync(controller, traffic, seconds: 40, errorRate: 0, latencyMs: 5);
        var done = await controller.GetAsync("iris-bg", Cancel);
        done.State.Phase.ShouldBe(RolloutPhases.Succeeded, done.State.Message);
        done.State.History.Select(e => e.Message).ShouldBe([
            "started: models:/iris/2 against stable main=models:/iris/1", "preview: models:/iris/2 loaded as variant 'preview' (pinned route only, no production traffic)",
            "analysis passed (1 of 1 measurements successful)", "paused until promoted", "promoted by hand",
            "switched: models:/iris/2 serves all traffic; the old model stays loaded as 'previous'", "analysis passed (1 of 1 measurements successful)",
            "pause of 00:00:20 done", "promoted: models:/iris/2 is the stable variant 'main'"]);
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/2", 100)]);
    }

    [Fact]
    public async Task A_blue_green_preview_that_fails_its_analysis_is_removed_and_production_never_saw_it()
    {
        var (controller, traffic) = await StartAsync(BlueGreen);
        await RunAsync(controller, traffic, seconds: 15, errorRate: 0.5, latencyMs: 5, pinnedPerSecond: 5);

        var rollout = await controller.GetAsync("iris-bg", Cancel);
        (rollout.State.Phase, rollout.State.Message).ShouldBe((RolloutPhases.Aborted, "analysis failed: errors: error_rate > 0.05 (value 0.6)"));
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/1", 100)]);
    }

    [Theory]
    [InlineData(0.0, 0.0, "Progressing", "shadow passed: 500 mirrored, error rate 0, disagreement rate 0")]
    [InlineData(0.0, 0.5, "Aborted", "shadow failed: disagreement rate 0.45 > 0.2")]
    [InlineData(0.1, 0.0, "Aborted", "shadow failed: error rate 0.09 > 0.05")]
    public async Task A_shadow_step_mirrors_traffic_and_judges_its_errors_and_disagreement(double errorRate, double disagreeRate, string phase, string message)
    {
        var (controller, traffic) = await StartAsync(Canary with
        {
            Steps = [new RolloutStep(Shadow: new ShadowStep(100, "10s", 0.05, 0.2, 20)), new RolloutStep(Pause: JsonValue.Create("5m"))],
        });
        await RunAsync(controller, traffic, seconds: 2, errorRate: 0, latencyMs: 5);
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Shadows.ShouldBe([new ShadowSpec("shadow", "models:/iris/2", 100)]);

        // The mirror's first second was clean: over the step's window, 0.5 disagreement reads 0.45, 0.1 errors 0.09.
        await RunAsync(controller, traffic, seconds: 12, errorRate, latencyMs: 5, disagreeRate: disagreeRate);
        var rollout = await controller.GetAsync("iris-v2", Cancel);
        (rollout.State.Phase, rollout.State.History[^1].Message).ShouldBe((phase, message));
        var endpoint = (await Endpoints.GetAsync("iris", Cancel)).Spec;
        endpoint.Shadows.ShouldBeEmpty("the mirror stops with the step");
        endpoint.Variants.ShouldBe([new VariantSpec("main", "models:/iris/1", 100)]);
    }

    [Theory]
    [InlineData(5.0, "Succeeded")]
    [InlineData(80.0, "Aborted")]
    public async Task Conditions_may_compare_the_canary_with_stable_over_the_same_window(double canaryLatencyMs, string phase)
    {
        var (controller, traffic) = await StartAsync(Canary with
        {
            Steps = [new RolloutStep(SetWeight: 20), new RolloutStep(Analysis: new AnalysisStep())],
            Analysis = new AnalysisSpec("10s", 1, 0, 0, 20, [new AnalysisMetric("slower", "latency_p99_ms > stable * 2")]),
        });
        await RunAsync(controller, traffic, seconds: 20, errorRate: 0, latencyMs: canaryLatencyMs);

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        rollout.State.Phase.ShouldBe(phase, rollout.State.Message);
        if (phase == "Aborted")
        {
            rollout.State.Message.ShouldBe("analysis failed: slower: latency_p99_ms > stable * 2 (value 80.7794)");
        }

        Condition.Parse("error_rate > stable + 0.01", "x").Holds(0.03, 0.01).ShouldBeTrue();
        Condition.Parse("error_rate > stable + 0.01", "x").Holds(0.015, 0.01).ShouldBeFalse();
        Condition.Parse("error_rate > stable", "x").Holds(1, stable: null).ShouldBeFalse("no stable traffic: nothing to compare with");
    }

    [Fact]
    public void Bad_rollouts_are_refused_with_every_problem() =>
        Should.Throw<TrackingException>(() => RolloutValidation.Validate(new RolloutSpec("r", "iris", "iris/2", "bluegreen",
            [new RolloutStep(SetWeight: 120), new RolloutStep(Pause: JsonValue.Create("soon")), new RolloutStep(Analysis: new AnalysisStep())],
            new AnalysisSpec(Metrics: [new AnalysisMetric("e", "errors above 1%")]))))
        .Message.ShouldBe("Invalid rollout 'r': model: model 'iris/2' is not models:/NAME/VERSION or models:/NAME@ALIAS; strategy 'bluegreen' is not one of canary, blueGreen; " +
            "step 0: setWeight 120 must be between 0 and 100; step 1: pause 'soon' is not a duration such as 30s, 5m or 1h; " +
            "analysis metric 'e': condition 'errors above 1%' is not METRIC OP NUMBER (or OP stable, stable + N, stable - N, stable * N) with METRIC one of error_rate, rejection_rate, latency_p99_ms, latency_p50_ms, latency_mean_ms, requests and OP one of > >= < <=.");

    private async Task<(RolloutController Controller, TrafficStats Traffic)> StartAsync(RolloutSpec? spec = null)
    {
        await Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        var traffic = new TrafficStats(Database, Time);
        var controller = new RolloutController(Database, Endpoints, traffic, Time);
        await controller.StartAsync(spec ?? Canary, Cancel);
        return (controller, traffic);
    }

    /// <summary>Each simulated second: requests split by the endpoint's current weights, counted and written as serving does, then a controller tick.</summary>
    private async Task RunAsync(RolloutController controller, TrafficStats traffic, int seconds, double errorRate, double latencyMs, int requestsPerSecond = 50, double stableLatencyMs = 5, int pinnedPerSecond = 0, double disagreeRate = 0)
    {
        for (var second = 0; second < seconds; second++)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            var endpoint = (await Endpoints.GetAsync("iris", Cancel)).Spec;
            var variants = endpoint.Variants!;
            // Mirrored copies, as ShadowTraffic counts them after each response.
            foreach (var shadow in endpoint.Shadows ?? [])
            {
                var copies = requestsPerSecond * (shadow.Percent ?? 100) / 100;
                for (var i = 0; i < copies; i++)
                {
                    traffic.Record("iris", shadow.Name, latencyMs, error: i < copies * errorRate, disagreed: i < copies * disagreeRate);
                }
            }

            foreach (var variant in variants)
            {
                // A preview gets no production traffic, only what testers send to its pinned route.
                var requests = variant.Name == RolloutController.PreviewVariant ? pinnedPerSecond : requestsPerSecond * (variant.Weight ?? 0) / 100;
                for (var i = 0; i < requests; i++)
                {
                    var canary = variant.Name is RolloutController.CanaryVariant or RolloutController.PreviewVariant;
                    traffic.Record("iris", variant.Name, canary ? latencyMs : stableLatencyMs, error: canary && i < requests * errorRate);
                }
            }

            await traffic.FlushAsync(Cancel);
            await controller.TickAsync(Cancel);
        }
    }
}

public sealed class SqliteRolloutControllerTests() : RolloutControllerTests(DatabaseEngine.Sqlite);

public sealed class PostgresRolloutControllerTests() : RolloutControllerTests(DatabaseEngine.Postgres);
