using System.Text.Json;
using Ballast.Training;

namespace Ballast.Tests.Training;

public sealed class GateTests
{
    private static readonly GateSpec Spec = new()
    {
        Metrics =
        [
            new MetricGate { Metric = "auc", Min = 0.75, MinImprovement = 0.005, MinRelativeImprovement = 0.01 },
            new MetricGate { Metric = "log_loss", MustImprove = true },
        ],
        MaxLatencyMs = 50,
        MaxSizeBytes = 1_000_000,
    };

    private static readonly GuardrailMeasurement Fast = new(LatencyMs: 12.5, SizeBytes: 200_000, BatchRows: 100);

    [Fact]
    public void A_better_candidate_passes_every_check_with_its_numbers()
    {
        var decision = Gate.Decide(Spec, Metrics(auc: 0.82, logLoss: 0.40), Metrics(auc: 0.80, logLoss: 0.45), Fast);

        decision.Passed.ShouldBeTrue(decision.Summary);
        decision.Checks.Select(check => (check.Kind, check.Metric, check.Outcome)).ShouldBe(
        [
            ("min", "auc", GateCheck.Passed), ("change", "auc", GateCheck.Passed), ("change", "log_loss", GateCheck.Passed),
            ("guardrail", MetricNames.LatencyMs, GateCheck.Passed), ("guardrail", MetricNames.SizeBytes, GateCheck.Passed),
        ]);
        var auc = decision.Checks[1];
        auc.Candidate.ShouldBe(0.82);
        auc.Champion.ShouldBe(0.80);
        auc.Change!.Value.ShouldBe(0.02, 1e-12);
        auc.RelativeChange!.Value.ShouldBe(0.025, 1e-12);
        var logLoss = decision.Checks[2];
        logLoss.Direction.ShouldBe(MetricNames.LowerIsBetter);
        logLoss.Change!.Value.ShouldBe(0.05, 1e-12, "a lower log loss is an improvement");
        decision.Checks[3].Candidate.ShouldBe(12.5);
        decision.Checks[3].Bound.ShouldBe(50);
    }

    [Fact]
    public void A_worse_candidate_fails_and_says_why()
    {
        var decision = Gate.Decide(Spec, Metrics(auc: 0.79, logLoss: 0.50), Metrics(auc: 0.80, logLoss: 0.45), Fast);

        decision.Passed.ShouldBeFalse();
        decision.Checks.Where(check => check.Outcome == GateCheck.Failed).Select(check => check.Metric).ShouldBe(["auc", "log_loss"]);
        decision.Checks[1].Reason.ShouldBe("auc 0.8 → 0.79 (higher is better): change -0.01 (-1.25%) does not improve on the champion by at least 0.005 or by at least 1%");
        decision.Checks[2].Reason.ShouldBe("log_loss 0.45 → 0.5 (lower is better): change -0.05 (-11.111111%) does not improve on the champion");
    }

    [Fact]
    public void Equal_metrics_fail_a_must_improve_check()
    {
        var decision = Gate.Decide(Spec, Metrics(auc: 0.80, logLoss: 0.45), Metrics(auc: 0.80, logLoss: 0.45), Fast);

        decision.Passed.ShouldBeFalse();
        decision.Checks.Single(check => check is { Kind: "change", Metric: "log_loss" }).Outcome.ShouldBe(GateCheck.Failed);
        decision.Checks.Single(check => check is { Kind: "change", Metric: "log_loss" }).Change.ShouldBe(0);
    }

    [Fact]
    public void Either_the_absolute_or_the_relative_improvement_is_enough()
    {
        // 0.004 absolute is below 0.005, but 0.004 / 0.30 = 1.33% is above 1%.
        var spec = new GateSpec { Metrics = [new MetricGate { Metric = "auc", MinImprovement = 0.005, MinRelativeImprovement = 0.01 }] };

        Gate.Decide(spec, Metrics(auc: 0.304, logLoss: 1), Metrics(auc: 0.300, logLoss: 1)).Passed.ShouldBeTrue();
        Gate.Decide(spec, Metrics(auc: 0.904, logLoss: 1), Metrics(auc: 0.900, logLoss: 1)).Passed.ShouldBeFalse("0.004 is 0.44% of 0.9");
    }

    [Fact]
    public void A_missing_metric_fails_the_gate_with_a_reason()
    {
        var candidate = new Dictionary<string, double> { ["auc"] = 0.9 };

        var decision = Gate.Decide(Spec, candidate, Metrics(auc: 0.8, logLoss: 0.4), Fast);

        decision.Passed.ShouldBeFalse();
        var check = decision.Checks.Single(check => check.Metric == "log_loss");
        check.Outcome.ShouldBe(GateCheck.Failed);
        check.Reason.ShouldBe("log_loss is missing from the candidate's metrics (or NaN); it must improve on the champion");
        decision.Summary.ShouldBe("failed 1 of 5 checks: log_loss is missing from the candidate's metrics (or NaN); it must improve on the champion");
    }

    [Fact]
    public void A_metric_the_champion_lacks_or_a_NaN_fails_its_check()
    {
        var decision = Gate.Decide(Spec, Metrics(auc: double.NaN, logLoss: 0.4), new Dictionary<string, double> { ["auc"] = 0.8 }, Fast);

        decision.Checks.Where(check => check.Outcome == GateCheck.Failed).Select(check => check.Reason).ShouldBe(
        [
            "auc is missing from the candidate's metrics (or NaN); it must be >= 0.75",
            "auc is missing from the candidate's metrics (or NaN); it must improve on the champion by at least 0.005 or by at least 1%",
            "log_loss is missing from the champion's metrics (or NaN), so the candidate cannot be shown to improve on the champion",
        ]);
    }

    [Fact]
    public void Without_a_champion_only_absolute_bounds_apply()
    {
        var first = Gate.Decide(Spec, Metrics(auc: 0.76, logLoss: 0.6), champion: null, Fast);
        var tooWeak = Gate.Decide(Spec, Metrics(auc: 0.70, logLoss: 0.6), champion: null, Fast);

        first.Passed.ShouldBeTrue(first.Summary);
        first.Checks.Where(check => check.Kind == "change").ShouldAllBe(check => check.Outcome == GateCheck.Skipped);
        first.Summary.ShouldBe("passed: 3 checks passed, 2 skipped (no champion)");
        tooWeak.Passed.ShouldBeFalse();
        tooWeak.Summary.ShouldBe("failed 1 of 5 checks: auc = 0.7 is not >= 0.75");
    }

    [Fact]
    public void Guardrails_compare_the_measured_latency_and_size_with_their_bounds()
    {
        var slow = Gate.Decide(Spec, Metrics(auc: 0.9, logLoss: 0.1), null, new GuardrailMeasurement(80, 2_000_000, 100));
        var unmeasured = Gate.Decide(Spec, Metrics(auc: 0.9, logLoss: 0.1), null, guardrails: null);

        slow.Checks.Where(check => check.Kind == "guardrail").Select(check => check.Reason).ShouldBe(
            ["latency_ms = 80 is not <= 50 ms for a batch of 100 rows", "model_size_bytes = 2000000 is not <= 1000000 bytes"]);
        unmeasured.Passed.ShouldBeFalse();
        unmeasured.Checks.Where(check => check.Kind == "guardrail").ShouldAllBe(check => check.Outcome == GateCheck.Failed && check.Reason.Contains("was not measured"));
    }

    [Fact]
    public void A_declared_direction_overrides_the_default()
    {
        var spec = new GateSpec { Metrics = [new MetricGate { Metric = "false_alarms", MustImprove = true, Direction = MetricNames.LowerIsBetter }] };

        Gate.Decide(spec, new Dictionary<string, double> { ["false_alarms"] = 3 }, new Dictionary<string, double> { ["false_alarms"] = 5 }).Passed.ShouldBeTrue();
        MetricNames.DefaultDirection("rmse").ShouldBe(MetricNames.LowerIsBetter);
        MetricNames.DefaultDirection("r2").ShouldBe(MetricNames.HigherIsBetter);
    }

    [Fact]
    public void An_invalid_gate_lists_every_problem()
    {
        var spec = new GateSpec
        {
            Metrics = [new MetricGate { Metric = "auc" }, new MetricGate { Metric = "f1", Min = 0.9, Max = 0.5, Direction = "up", MinImprovement = -1 }],
            MaxLatencyMs = 0,
        };

        Should.Throw<TrainingInputException>(() => Gate.Decide(spec, Metrics(0.8, 0.4), null)).Message.ShouldBe(
            "Invalid gate: metrics[0] (auc) checks nothing: give min, max, must_improve, min_improvement or min_relative_improvement; "
            + "metrics[1] (f1).direction must be higher_is_better or lower_is_better, not 'up'; "
            + "metrics[1] (f1): min_improvement and min_relative_improvement must be at least 0 (a required improvement, not an allowed loss); "
            + "metrics[1] (f1).min (0.9) is above max (0.5); max_latency_ms must be a positive number.");
    }

    [Fact]
    public void The_decision_round_trips_through_json_with_every_number()
    {
        var decision = Gate.Decide(Spec, Metrics(auc: 0.82, logLoss: 0.40), Metrics(auc: 0.80, logLoss: 0.45), Fast);

        var json = JsonSerializer.Serialize(decision, TrainingJsonContext.Default.GateDecision);
        var back = JsonSerializer.Deserialize(json, TrainingJsonContext.Default.GateDecision)!;

        json.ShouldContain("\"relative_change\": 0.024999999999999883", Case.Sensitive, "the exact double, not a rounded text");
        back.Passed.ShouldBeTrue();
        back.Checks.ShouldBe(decision.Checks);
        back.Summary.ShouldBe(decision.Summary);
    }

    private static Dictionary<string, double> Metrics(double auc, double logLoss) => new() { ["auc"] = auc, ["log_loss"] = logLoss };
}
