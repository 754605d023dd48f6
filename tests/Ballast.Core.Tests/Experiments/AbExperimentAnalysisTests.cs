using Ballast.Experiments;
using Ballast.Statistics;
using Ballast.Tracking;

namespace Ballast.Tests.Experiments;

public sealed class AbExperimentAnalysisTests
{
    private static AbExperimentSpec Spec(string engine, long? planned = null) =>
        AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"), "a", engine, PlannedSamples: planned));

    private static VariantData Binomial(string name, long successes, long units) => new(name, units, SampleSummary.FromProportion(successes, units));

    [Fact]
    public void A_sample_ratio_mismatch_invalidates_whatever_the_lift()
    {
        // 1000 vs 1200 units on a 50/50 split: p = 0.000020079 (GrowthBook's SRM known answer), below 0.001.
        var results = AbExperimentAnalysis.Analyze(Spec("frequentist", planned: 100), [Binomial("a", 300, 1000), Binomial("b", 600, 1200)], [50, 50]);
        results.Srm!.PValue.ShouldBe(0.000020079, 1e-8);
        results.Decision.ShouldBe("invalid: sample ratio mismatch");
    }

    [Fact]
    public void The_sequential_engine_decides_before_the_plan_and_the_fixed_horizon_one_does_not()
    {
        VariantData[] data = [Binomial("a", 1396, 3000), Binomial("b", 2422, 3461)];
        var sequential = AbExperimentAnalysis.Analyze(Spec("sequential", planned: 10_000), data, null);
        sequential.Decision.ShouldBe("ship b");
        sequential.Provisional.ShouldBeFalse();
        // GrowthBook's sequential known answer for these counts (N* = 5000): relative lift 0.50386, CI (0.40098, 0.60675).
        var b = sequential.Variants.Single(variant => variant.Variant == "b");
        b.RelativeLift!.Value.ShouldBe(0.50386, 5e-5);
        b.RelativeLower!.Value.ShouldBe(0.40098, 5e-5);
        b.RelativeUpper!.Value.ShouldBe(0.60675, 5e-5);

        var fixedHorizon = AbExperimentAnalysis.Analyze(Spec("frequentist", planned: 10_000), data, null);
        fixedHorizon.Decision.ShouldBe("keep running (3000 of 10000)");
        fixedHorizon.Provisional.ShouldBeTrue();
    }

    [Fact]
    public void The_bayesian_engine_reports_chance_to_win_and_keeps_the_control_when_the_plan_is_reached_without_a_winner()
    {
        // GrowthBook's Bayesian known answer: 49/100 vs 51/100 → chance to win 0.60918 (Beta-binomial here: 0.61077).
        var results = AbExperimentAnalysis.Analyze(Spec("bayesian", planned: 100), [Binomial("a", 49, 100), Binomial("b", 51, 100)], [50, 50]);
        results.Variants[1].ChanceToWin!.Value.ShouldBe(0.61077, 1e-4);
        results.Variants[1].Verdict.ShouldBe("inconclusive");
        results.Decision.ShouldBe("keep a");
    }

    [Fact]
    public void A_variant_breaking_a_guardrail_is_not_shipped_however_much_better()
    {
        var spec = AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", null, Engine: "sequential",
            Guardrails: [new GuardrailSpec(GuardrailSpec.LatencyP99, 50), new GuardrailSpec(GuardrailSpec.ErrorRate, 0.01)]));
        VariantData[] data = [new("a", 3000, SampleSummary.FromProportion(1396, 3000), 4, 20, 0.001), new("b", 3461, SampleSummary.FromProportion(2422, 3461), 9, 63.5, 0.0125)];
        var results = AbExperimentAnalysis.Analyze(spec, data, null);
        results.Variants[1].Verdict.ShouldBe("better");
        results.Variants[1].GuardrailsBroken.ShouldBe(["latency_p99_ms 63.5 > 50", "error_rate 0.0125 > 0.01"]);
        results.Variants[0].GuardrailsBroken.ShouldBeNull();
        results.Decision.ShouldBe("keep a");
        results.Variants.Select(variant => variant.Share).ShouldBe([3000.0 / 6461, 3461.0 / 6461], tolerance: 1e-12);
    }

    [Fact]
    public void A_bandits_regret_is_what_its_pulls_lost_against_the_best_arm()
    {
        // Arm means 0.2 (100 rewarded pulls) and 0.8 (400): regret 100 × (0.8 − 0.2) = 60.
        AbExperimentAnalysis.Regret([new VariantData("a", 120, SampleSummary.FromProportion(20, 100)), new VariantData("b", 420, SampleSummary.FromProportion(320, 400))]).ShouldBe(60, 1e-9);
        var results = AbExperimentAnalysis.Analyze(Spec("sequential"), [Binomial("a", 20, 100), Binomial("b", 320, 400)], weights: null);
        results.Srm.ShouldBeNull("a bandit moves traffic on purpose");
        results.Regret!.Value.ShouldBe(60, 1e-9);
    }

    [Fact]
    public void With_several_treatments_verdicts_follow_holm_adjusted_p_values()
    {
        var results = AbExperimentAnalysis.Analyze(Spec("frequentist", planned: 100), [Binomial("a", 100, 1000), Binomial("b", 133, 1000), Binomial("c", 105, 1000)], [1, 1, 1]);
        var (b, c) = (results.Variants[1], results.Variants[2]);
        var holm = MultipleTesting.Holm([b.PValue!.Value, c.PValue!.Value]);
        (b.AdjustedPValue, c.AdjustedPValue).ShouldBe((holm[0], holm[1]));
        b.PValue.Value.ShouldBeLessThan(0.05, "alone, b would look better");
        b.AdjustedPValue!.Value.ShouldBeGreaterThanOrEqualTo(0.05, "but two comparisons double its p-value");
        b.Verdict.ShouldBe("inconclusive");
        results.Decision.ShouldBe("keep a");
    }

    [Fact]
    public void The_plan_comes_from_the_minimum_detectable_effect_and_the_controls_rate()
    {
        // 10% → 11% (relative MDE 10%), α 0.05, power 0.8: the two-proportion formula (R's power.prop.test) as SampleSize computes it.
        AbExperimentAnalysis.Plan(Spec("frequentist"), Binomial("a", 100, 1000)).ShouldBe(SampleSize.TwoProportions(0.1, 0.1, relative: true).PerVariant);
        Should.Throw<TrackingException>(() => AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec(Type: "binomial", Source: "reward"))))
            .Message.ShouldBe("Invalid experiment 'ab': metric source 'reward' must be outcome, reward or kpi (a binomial metric counts outcomes or KPI values).");
    }
}
