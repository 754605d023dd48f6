using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Alerts;
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

    private AssignmentStore? _assignments;

    private AssignmentStore Assignments => _assignments ??= new AssignmentStore(Database);

    private FeedbackStore Feedback => new(Database, Time);

    /// <summary>Outcomes posted for <see cref="Share"/> of each variant's predictions, right at the given rates.</summary>
    private sealed record FeedbackPlan(double Share, double CanaryAccuracy, double StableAccuracy);

    private static readonly RolloutSpec AccuracyCanary = Canary with
    {
        Steps = [new RolloutStep(SetWeight: 50), new RolloutStep(Analysis: new AnalysisStep())],
        Analysis = new AnalysisSpec("10s", 2, 0, 0, 20, [new AnalysisMetric("accuracy", "accuracy < stable - 0.02")], MinFeedback: 50),
    };

    [Theory]
    [InlineData(0.9, "Succeeded", "analysis passed (2 of 2 measurements successful)")]
    [InlineData(0.8, "Aborted", "analysis failed: accuracy: accuracy < stable - 0.02 (value 0.8)")]
    public async Task A_canary_less_accurate_than_stable_by_the_feedback_on_its_own_predictions_is_aborted(double canaryAccuracy, string phase, string message)
    {
        var (controller, traffic) = await StartAsync(AccuracyCanary);
        // 25 requests a second each; outcomes for 40% of them: about 100 outcomes per variant per 10 s measurement.
        await RunAsync(controller, traffic, seconds: 25, errorRate: 0, latencyMs: 5, feedback: new FeedbackPlan(0.4, canaryAccuracy, 0.9));

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        (rollout.State.Phase, rollout.State.History[^(phase == "Succeeded" ? 2 : 1)].Message).ShouldBe((phase, message));
        if (phase == "Aborted")
        {
            rollout.State.History[^1].Values!.ShouldContainKeyAndValue("accuracy", 0.8);
            rollout.State.History[^1].Values!.ShouldContainKeyAndValue("stable_accuracy", 0.9);
            (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/1", 100)]);
        }
    }

    [Fact]
    public async Task Too_little_feedback_is_inconclusive_and_pauses_even_when_the_canary_looks_worse()
    {
        var (controller, traffic) = await StartAsync(AccuracyCanary);
        // Outcomes for 4% of predictions: about 10 per variant per measurement, fewer than minFeedback 50 (for stable too).
        await RunAsync(controller, traffic, seconds: 25, errorRate: 0, latencyMs: 5, feedback: new FeedbackPlan(0.04, 0.0, 1.0));

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        (rollout.State.Phase, rollout.State.Message).ShouldBe((RolloutPhases.Paused, "analysis inconclusive: accuracy: 9 outcomes < minFeedback 50; accuracy: stable has 9 outcomes < minFeedback 50; promote or abort"));

        // No feedback at all is no better: never a pass.
        var (quiet, quietTraffic) = (new RolloutController(Database, Endpoints, traffic, Time, assignments: Assignments), traffic);
        await controller.AbortAsync("iris-v2", cancellationToken: Cancel);
        await quiet.StartAsync(AccuracyCanary with { Name = "iris-v3" }, Cancel);
        await RunAsync(quiet, quietTraffic, seconds: 25, errorRate: 0, latencyMs: 5);
        (await quiet.GetAsync("iris-v3", Cancel)).State.Message.ShouldBe("analysis inconclusive: accuracy: 0 outcomes < minFeedback 50; accuracy: stable has 0 outcomes < minFeedback 50; promote or abort");
    }

    [Fact]
    public async Task Mean_reward_and_feedback_count_conditions_read_the_variants_feedback()
    {
        var (controller, traffic) = await StartAsync(AccuracyCanary with
        {
            Analysis = new AnalysisSpec("10s", 1, 0, 0, 20, [new AnalysisMetric("reward", "mean_reward < 0.5"), new AnalysisMetric("labels", "feedback_count < 1000")], MinFeedback: 5),
        });
        await RunAsync(controller, traffic, seconds: 15, errorRate: 0, latencyMs: 5, feedback: new FeedbackPlan(0.4, 0.9, 0.9));

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        // Outcomes without rewards: the reward condition lacks feedback, but the feedback count is judged and fails.
        (rollout.State.Phase, rollout.State.Message).ShouldBe((RolloutPhases.Aborted, "analysis failed: labels: feedback_count < 1000 (value 90)"));
        // No reward was posted: the mean reward was not measured, so it is no value (not 0); the accuracy was.
        var values = rollout.State.History[^1].Values!;
        values.ShouldContainKeyAndValue("feedback_count", 90);
        values.ShouldContainKey("accuracy");
        values.ShouldContainKey("stable_accuracy");
        values.ShouldNotContainKey("mean_reward");
        values.ShouldNotContainKey("stable_mean_reward");
        var analysis = (await controller.AnalysesAsync("iris-v2", cancellationToken: Cancel)).ShouldHaveSingleItem().Analysis;
        var reward = analysis.Measurements[^1].Metrics!.Single(metric => metric.Name == "reward");
        (reward.Value, reward.Result).ShouldBe(((double?)null, "Inconclusive"));
    }

    [Fact]
    public async Task The_start_names_the_stable_variant_and_its_model_apart_even_when_the_variant_is_called_stable()
    {
        await Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("stable", "models:/iris/1")]), Cancel);
        var (controller, _) = await StartAsync(createEndpoint: false);

        (await controller.GetAsync("iris-v2", Cancel)).State.History.ShouldHaveSingleItem().Message
            .ShouldBe("started: models:/iris/2 against stable variant 'stable' (models:/iris/1)");
    }

    [Fact]
    public async Task Measurements_that_cannot_be_taken_are_errors_and_more_than_the_consecutive_error_limit_abort()
    {
        var (controller, traffic) = await StartAsync(AccuracyCanary with { Analysis = AccuracyCanary.Analysis! with { Count = 10, ConsecutiveErrorLimit = 2 } });
        await RunAsync(controller, traffic, seconds: 5, errorRate: 0, latencyMs: 5, feedback: new FeedbackPlan(0.4, 0.9, 0.9));

        // The feedback query fails (its table is gone): each measurement is an error, neither a pass nor a failure.
        await using (var connection = await Database.OpenAsync(Cancel))
        {
            await Dapper.SqlMapper.ExecuteAsync(connection, "ALTER TABLE prediction_assignments RENAME TO prediction_assignments_away");
        }

        await RunAsync(controller, traffic, seconds: 20, errorRate: 0, latencyMs: 5);
        var erring = await controller.GetAsync("iris-v2", Cancel);
        erring.State.Phase.ShouldBe(RolloutPhases.Progressing);
        erring.State.Analysis!.Measurements.Select(m => m.Outcome).ShouldBe(["Error", "Error"]);

        await RunAsync(controller, traffic, seconds: 10, errorRate: 0, latencyMs: 5);
        var rollout = await controller.GetAsync("iris-v2", Cancel);
        rollout.State.Phase.ShouldBe(RolloutPhases.Aborted);
        rollout.State.Message.ShouldStartWith("analysis errored: 3 measurements in a row could not be taken (consecutiveErrorLimit 2); last: the measurement could not be taken: ");
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/1", 100)]);
        RolloutValidation.Validate(Canary).Analysis!.ConsecutiveErrorLimit.ShouldBe(4, "Argo Rollouts' default");
    }

    [Fact]
    public async Task An_abort_is_sent_once_to_the_alert_rules_that_ask_for_rollout_events_with_its_reason_and_values()
    {
        var alerts = new AlertStore(Database, Time);
        await alerts.CreateAsync(new AlertRuleSpec("rollout-events", null, null, null, null, Actions: [new AlertAction("webhook", "http://127.0.0.1:9/hook")], Events: ["rollout.*"]), Cancel);
        var (controller, traffic) = await StartAsync(alerts: new AlertEvaluator(alerts, Time));
        await RunAsync(controller, traffic, seconds: 40, errorRate: 0.2, latencyMs: 5);

        (await controller.GetAsync("iris-v2", Cancel)).State.ShouldSatisfyAllConditions(state => state.Phase.ShouldBe(RolloutPhases.Aborted), state => state.AbortNotified.ShouldBe(true));
        var payload = JsonDocument.Parse((await alerts.NotificationsAsync("rollout-events", cancellationToken: Cancel)).ShouldHaveSingleItem().Payload).RootElement;
        (payload.GetProperty("event").GetString(), payload.GetProperty("id").GetString(), payload.GetProperty("severity").GetString()).ShouldBe(("rollout.aborted", "rollout/iris-v2/aborted", "critical"));
        payload.GetProperty("summary").GetString().ShouldBe("Rollout 'iris-v2' of models:/iris/2 on endpoint 'iris' aborted, all traffic back on models:/iris/1: analysis failed: errors: error_rate > 0.05 (value 0.2)");
        var labels = payload.GetProperty("labels");
        (labels.GetProperty("rollout").GetString(), labels.GetProperty("endpoint").GetString(), labels.GetProperty("weight").GetString(), labels.GetProperty("value_error_rate").GetString(), labels.GetProperty("value_requests").GetString())
            .ShouldBe(("iris-v2", "iris", "20", "0.2", "100"));
        payload.GetProperty("links").GetProperty("history").GetString().ShouldBe("/api/v1/rollouts/iris-v2/history");
    }

    [Fact]
    public async Task A_hand_abort_is_sent_too_on_the_next_tick()
    {
        var alerts = new AlertStore(Database, Time);
        await alerts.CreateAsync(new AlertRuleSpec("rollout-events", null, null, null, null, Actions: [new AlertAction("webhook", "http://127.0.0.1:9/hook")], Events: ["rollout.aborted"]), Cancel);
        var (controller, traffic) = await StartAsync(alerts: new AlertEvaluator(alerts, Time));
        await RunAsync(controller, traffic, seconds: 3, errorRate: 0, latencyMs: 5);
        await controller.AbortAsync("iris-v2", cancellationToken: Cancel);
        await RunAsync(controller, traffic, seconds: 3, errorRate: 0, latencyMs: 5);

        var notification = (await alerts.NotificationsAsync("rollout-events", cancellationToken: Cancel)).ShouldHaveSingleItem();
        JsonDocument.Parse(notification.Payload).RootElement.GetProperty("labels").GetProperty("reason").GetString().ShouldBe("aborted by hand");
    }

    [Fact]
    public async Task A_blue_green_preview_may_get_a_mirror_of_production_requests_that_its_analysis_counts()
    {
        var (controller, traffic) = await StartAsync(BlueGreen with { BlueGreen = BlueGreen.BlueGreen! with { PreviewMirrorPercent = 40 } });
        await RunAsync(controller, traffic, seconds: 2, errorRate: 0.5, latencyMs: 5);
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Shadows.ShouldBe([new ShadowSpec(RolloutController.PreviewMirrorShadow, "models:/iris/2", 40)]);

        // No pinned requests at all: the 20 mirrored copies a second are what the pre-promotion analysis judges.
        await RunAsync(controller, traffic, seconds: 13, errorRate: 0.5, latencyMs: 5);
        var rollout = await controller.GetAsync("iris-bg", Cancel);
        (rollout.State.Phase, rollout.State.Message).ShouldBe((RolloutPhases.Aborted, "analysis failed: errors: error_rate > 0.05 (value 0.5)"));
        rollout.State.History[^1].Values!["requests"].ShouldBe(200);
        (await Endpoints.GetAsync("iris", Cancel)).Spec.ShouldSatisfyAllConditions(
            endpoint => endpoint.Shadows.ShouldBeEmpty("the mirror goes with the preview"),
            endpoint => endpoint.Variants.ShouldBe([new VariantSpec("main", "models:/iris/1", 100)]));
    }

    [Fact]
    public void New_analysis_and_blue_green_settings_are_checked_with_every_problem() =>
        Should.Throw<TrackingException>(() => RolloutValidation.Validate(new RolloutSpec("r", "iris", "models:/iris/2", "canary", [new RolloutStep(Analysis: new AnalysisStep())],
            new AnalysisSpec(Metrics: [new AnalysisMetric("acc", "accuracy < stable - 0.02")], ConsecutiveErrorLimit: -1, MinFeedback: 0), BlueGreen: new BlueGreenSpec(PreviewMirrorPercent: 10))))
        .Message.ShouldBe("Invalid rollout 'r': blueGreen settings need strategy blueGreen, not canary; analysis.consecutiveErrorLimit -1 must be at least 0 (0: the first measurement error aborts); " +
            "analysis.minFeedback 0 must be at least 1 (feedback conditions on no feedback would pass on nothing).");

    // A zero interval measured the last tick's second count times in a row; a zero shadow ended before mirroring anything.
    [Fact]
    public void Zero_analysis_intervals_and_shadow_durations_are_refused() =>
        Should.Throw<TrackingException>(() => RolloutValidation.Validate(new RolloutSpec("r", "iris", "models:/iris/2", "canary",
            [new RolloutStep(Shadow: new ShadowStep(100, "0s")), new RolloutStep(Analysis: new AnalysisStep())],
            new AnalysisSpec(Interval: "0s", Metrics: [new AnalysisMetric("acc", "accuracy < stable - 0.02")]))))
        .Message.ShouldBe("Invalid rollout 'r': step 0: shadow needs a duration (such as 1m), percent 1 to 100, maxErrorRate and maxDisagreementRate between 0 and 1; " +
            "analysis.interval '0s' is not a positive duration such as 10s.");

    [Fact]
    public async Task An_endpoint_whose_own_shadow_has_a_name_the_rollout_mirrors_under_is_refused_not_overwritten()
    {
        await Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")], [new ShadowSpec("preview-mirror", "models:/iris/3", 10)]), Cancel);
        var controller = new RolloutController(Database, Endpoints, new TrafficStats(Database, Time), Time, assignments: Assignments);
        (await Should.ThrowAsync<TrackingException>(() => controller.StartAsync(BlueGreen, Cancel))).Message
            .ShouldBe("Endpoint 'iris' cannot take a rollout: its shadow 'preview-mirror' has a name the rollout uses for its own mirror; rename it first.");
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Shadows.ShouldBe([new ShadowSpec("preview-mirror", "models:/iris/3", 10)]);
    }

    [Fact]
    public void A_mirror_percent_outside_1_to_100_is_refused() =>
        Should.Throw<TrackingException>(() => RolloutValidation.Validate(BlueGreen with { BlueGreen = new BlueGreenSpec(PreviewMirrorPercent: 0) }))
        .Message.ShouldBe("Invalid rollout 'iris-bg': blueGreen.previewMirrorPercent 0 must be between 1 and 100.");

    [Fact]
    public async Task A_good_version_goes_through_every_step_and_becomes_stable()
    {
        var (controller, traffic) = await StartAsync();
        await RunAsync(controller, traffic, seconds: 80, errorRate: 0, latencyMs: 5);

        var rollout = await controller.GetAsync("iris-v2", Cancel);
        rollout.State.Phase.ShouldBe(RolloutPhases.Succeeded, rollout.State.Message);
        rollout.State.History.Select(e => e.Message).ShouldBe([
            "started: models:/iris/2 against stable variant 'main' (models:/iris/1)", "canary weight 20%", "analysis passed (2 of 2 measurements successful)",
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
            "started: models:/iris/2 against stable variant 'main' (models:/iris/1)", "preview: models:/iris/2 loaded as variant 'preview' (pinned route only, no production traffic)",
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
    public async Task Every_ended_analysis_is_kept_with_each_measurement_per_metric_newest_first()
    {
        var (controller, traffic) = await StartAsync(Canary with
        {
            Steps = [new RolloutStep(SetWeight: 20), new RolloutStep(Analysis: new AnalysisStep()), new RolloutStep(SetWeight: 50), new RolloutStep(Analysis: new AnalysisStep())],
        });
        await RunAsync(controller, traffic, seconds: 50, errorRate: 0, latencyMs: 5);
        (await controller.GetAsync("iris-v2", Cancel)).State.Phase.ShouldBe(RolloutPhases.Succeeded);

        var analyses = await controller.AnalysesAsync("iris-v2", cancellationToken: Cancel);
        analyses.Select(a => (a.Id, a.Analysis.Step, a.Analysis.Variant, a.Analysis.Outcome, a.Analysis.Message)).ShouldBe([
            (2L, 3, "canary", "Successful", "analysis passed (2 of 2 measurements successful)"),
            (1L, 1, "canary", "Successful", "analysis passed (2 of 2 measurements successful)")]);
        var first = analyses[1].Analysis;
        first.Measurements.Count.ShouldBe(2);
        first.EndedAt.ShouldBe(first.Measurements[^1].At);
        foreach (var measurement in first.Measurements)
        {
            (measurement.At - measurement.From).ShouldBe(10_000, "each measurement covers one 10 s interval");
            measurement.Metrics!.Select(m => (m.Name, m.Condition, m.Result)).ShouldBe([("errors", "error_rate > 0.05", "Successful"), ("latency", "latency_p99_ms > 50", "Successful")]);
            measurement.Metrics![0].Value.ShouldBe(0);
        }

        first.Measurements[0].From.ShouldBe(first.StartedAt, "the first interval starts with the analysis");
        var page = await controller.AnalysesAsync("iris-v2", limit: 1, before: 2, cancellationToken: Cancel);
        page.ShouldHaveSingleItem().Id.ShouldBe(1);
        (await Should.ThrowAsync<TrackingException>(() => controller.AnalysesAsync("iris-v2", limit: 0, cancellationToken: Cancel))).Message.ShouldBe("limit 0 must be between 1 and 500.");
        (await Should.ThrowAsync<TrackingException>(() => controller.AnalysesAsync("nope", cancellationToken: Cancel))).Code.ShouldBe(TrackingException.ResourceDoesNotExist);
    }

    [Fact]
    public async Task A_failed_analysis_is_kept_with_the_metric_that_failed_and_an_inconclusive_one_once_however_it_is_resolved()
    {
        var (controller, traffic) = await StartAsync();
        await RunAsync(controller, traffic, seconds: 40, errorRate: 0.2, latencyMs: 5);
        var failed = (await controller.AnalysesAsync("iris-v2", cancellationToken: Cancel)).ShouldHaveSingleItem().Analysis;
        (failed.Outcome, failed.Step, failed.Message).ShouldBe(("Failed", 1, "analysis failed: errors: error_rate > 0.05 (value 0.2)"));
        failed.Measurements[^1].Metrics!.Select(m => (m.Name, m.Result)).ShouldBe([("errors", "Failed"), ("latency", "Successful")]);
        failed.Measurements[^1].Metrics![0].Value.ShouldBe(0.2);

        var (quiet, quietTraffic) = await StartAsync(Canary with { Name = "iris-v3" }, createEndpoint: false);
        await RunAsync(quiet, quietTraffic, seconds: 40, errorRate: 0, latencyMs: 5, requestsPerSecond: 0);
        await quiet.PromoteAsync("iris-v3", Cancel);
        await RunAsync(quiet, quietTraffic, seconds: 5, errorRate: 0, latencyMs: 5, requestsPerSecond: 0);
        var inconclusive = (await quiet.AnalysesAsync("iris-v3", cancellationToken: Cancel)).ShouldHaveSingleItem().Analysis;
        (inconclusive.Outcome, inconclusive.Message).ShouldBe(("Inconclusive", "analysis inconclusive: 0 requests < minRequests 20; promote or abort"));
        inconclusive.Measurements.ShouldHaveSingleItem().Metrics!.Select(m => m.Result).ShouldBe(["Inconclusive", "Inconclusive"]);
    }

    [Fact]
    public async Task An_analysis_a_human_ends_early_is_kept_as_terminated_with_the_reason()
    {
        var (controller, traffic) = await StartAsync();
        // Weight 20 and the analysis start at the first second; it measures once at 11 s (of the 2 it needs).
        await RunAsync(controller, traffic, seconds: 15, errorRate: 0, latencyMs: 5);
        (await controller.GetAsync("iris-v2", Cancel)).State.Analysis!.Measurements.Count.ShouldBe(1);
        await controller.AbortAsync("iris-v2", cancellationToken: Cancel);
        await RunAsync(controller, traffic, seconds: 3, errorRate: 0, latencyMs: 5);

        var terminated = (await controller.AnalysesAsync("iris-v2", cancellationToken: Cancel)).ShouldHaveSingleItem().Analysis;
        (terminated.Outcome, terminated.Message, terminated.Measurements.Count).ShouldBe(("Terminated", "aborted by hand", 1));
    }

    [Fact]
    public void Bad_rollouts_are_refused_with_every_problem() =>
        Should.Throw<TrackingException>(() => RolloutValidation.Validate(new RolloutSpec("r", "iris", "iris/2", "bluegreen",
            [new RolloutStep(SetWeight: 120), new RolloutStep(Pause: JsonValue.Create("soon")), new RolloutStep(Analysis: new AnalysisStep())],
            new AnalysisSpec(Metrics: [new AnalysisMetric("e", "errors above 1%")]))))
        .Message.ShouldBe("Invalid rollout 'r': model: model 'iris/2' is not models:/NAME/VERSION or models:/NAME@ALIAS; strategy 'bluegreen' is not one of canary, blueGreen; " +
            "step 0: setWeight 120 must be between 0 and 100; step 1: pause 'soon' is not a duration such as 30s, 5m or 1h; " +
            "analysis metric 'e': condition 'errors above 1%' is not METRIC OP NUMBER (or OP stable, stable + N, stable - N, stable * N) with METRIC one of error_rate, rejection_rate, latency_p99_ms, latency_p50_ms, latency_mean_ms, requests, " +
            "disagreement_rate, accuracy, mean_reward, feedback_count, drift_share, drift.COLUMN, drifted.COLUMN, prediction_drift, prediction_drifted and OP one of > >= < <=.");

    // A deleted endpoint once failed every tick (every rollout stalled) and the abort command with it; recreated, it
    // took the dead rollout's model.
    [Fact]
    public async Task A_rollout_whose_endpoint_is_deleted_is_aborted_and_holds_up_no_other()
    {
        var (controller, _) = await StartAsync();
        await Endpoints.CreateAsync(new EndpointSpec("news", null, [new VariantSpec("main", "models:/news/1")]), Cancel);
        await controller.StartAsync(Canary with { Name = "news-v2", Endpoint = "news", Model = "models:/news/2" }, Cancel);
        await Endpoints.DeleteAsync("iris", Cancel);

        Time.Advance(TimeSpan.FromSeconds(1));
        await controller.TickAsync(Cancel);

        var dead = await controller.GetAsync("iris-v2", Cancel);
        (dead.State.Phase, dead.State.Message).ShouldBe((RolloutPhases.Aborted, "endpoint 'iris' was deleted"));
        (await controller.GetAsync("news-v2", Cancel)).State.Weight.ShouldBe(20, "the other rollout moved on");
        await Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        await controller.TickAsync(Cancel);
        (await Endpoints.GetAsync("iris", Cancel)).Spec.Variants!.ShouldHaveSingleItem().Model.ShouldBe("models:/iris/1");
    }

    private async Task<(RolloutController Controller, TrafficStats Traffic)> StartAsync(RolloutSpec? spec = null, IAlertNotifier? alerts = null, bool createEndpoint = true)
    {
        if (createEndpoint)
        {
            await Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        }

        var traffic = new TrafficStats(Database, Time);
        var controller = new RolloutController(Database, Endpoints, traffic, Time, assignments: Assignments, alerts: alerts);
        await controller.StartAsync(spec ?? Canary, Cancel);
        return (controller, traffic);
    }

    /// <summary>Each simulated second: requests split by the endpoint's current weights, counted and written as serving does, then a controller tick.</summary>
    private async Task RunAsync(RolloutController controller, TrafficStats traffic, int seconds, double errorRate, double latencyMs, int requestsPerSecond = 50, double stableLatencyMs = 5, int pinnedPerSecond = 0, double disagreeRate = 0,
        FeedbackPlan? feedback = null)
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
                var labelled = new List<Feedback>();
                for (var i = 0; i < requests; i++)
                {
                    var canary = variant.Name is RolloutController.CanaryVariant or RolloutController.PreviewVariant;
                    traffic.Record("iris", variant.Name, canary ? latencyMs : stableLatencyMs, error: canary && i < requests * errorRate);
                    if (feedback is not null && variants.Count > 1)
                    {
                        // As serving records it for an endpoint comparing variants; the model predicted class 1.
                        var id = $"{variant.Name}-{Time.GetUtcNow().ToUnixTimeMilliseconds()}-{i}";
                        Assignments.Enqueue(new PredictionAssignment(id, "iris", variant.Name, Time.GetUtcNow().ToUnixTimeMilliseconds(), "1"));
                        var share = canary ? feedback.CanaryAccuracy : feedback.StableAccuracy;
                        if (i < requests * feedback.Share)
                        {
                            // Outcomes arrive for a share of predictions; the first ones of each second are right.
                            labelled.Add(new Feedback(id, i < requests * feedback.Share * share ? "1" : "0", null));
                        }
                    }
                }

                if (labelled.Count > 0)
                {
                    await Assignments.FlushAsync(Cancel);
                    await Feedback.AddAsync(labelled, Cancel);
                }
            }

            await Assignments.FlushAsync(Cancel);
            await traffic.FlushAsync(Cancel);
            await controller.TickAsync(Cancel);
        }
    }
}

public sealed class SqliteRolloutControllerTests() : RolloutControllerTests(DatabaseEngine.Sqlite);

public sealed class PostgresRolloutControllerTests() : RolloutControllerTests(DatabaseEngine.Postgres);
