using Ballast.Experiments;
using Ballast.Statistics;
using Ballast.Tracking;

namespace Ballast.Tests.Experiments;

public sealed class AbExperimentAnalysisTests
{
    private static AbExperimentSpec Spec(string engine, long? planned = null) =>
        AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"), "a", engine, PlannedSamples: planned));

    private static VariantData Binomial(string name, long successes, long units) => new(name, units, SampleSummary.FromProportion(successes, units));

    private static VariantData Mean(string name, long count, double sum, double squares) => new(name, count, SampleSummary.FromSums(count, sum, squares));

    /// <summary>
    /// Secondary metrics are analysed like the primary one and their p-values adjusted together. GrowthBook's t-test
    /// known answer (relative, sums 1396.87 / 52377.9767 / 3407 vs 2422.7 / 134698.29 / 3461) gives p 0.06191 for
    /// two identical revenue metrics; with a third, clearly significant one, Benjamini–Hochberg keeps them at
    /// min(3p/3, 3p/2) = 0.06191 while Holm raises them to 2p = 0.12382 (the adjustments by hand, as in
    /// statsmodels' multipletests).
    /// </summary>
    [Theory]
    [InlineData(null, 0.06191)]
    [InlineData("holm", 0.12382)]
    public void Secondary_metrics_are_reported_per_metric_with_p_values_adjusted_across_metrics(string? correction, double adjustedRevenue)
    {
        var spec = AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"), "a", "frequentist", PlannedSamples: 100,
            SecondaryMetrics: [new MetricSpec("revenue", "mean", "kpi"), new MetricSpec("revenue-again", "mean", "kpi"), new MetricSpec("clicks")], Correction: correction));
        IReadOnlyList<VariantData> revenue = [Mean("a", 3407, 1396.87, 52377.9767), Mean("b", 3461, 2422.7, 134698.29)];
        var results = AbExperimentAnalysis.Analyze(spec, [Binomial("a", 300, 1000), Binomial("b", 310, 1000)], [50, 50],
            [(spec.SecondaryMetrics![0], revenue), (spec.SecondaryMetrics[1], revenue), (spec.SecondaryMetrics[2], [Binomial("a", 1396, 3000), Binomial("b", 2422, 3461)])]);

        results.Correction.ShouldBe(correction ?? "benjamini_hochberg");
        results.SecondaryMetrics!.Select(metric => metric.Metric).ShouldBe(["revenue", "revenue-again", "clicks"]);
        var b = results.SecondaryMetrics![0].Variants.Single(variant => variant.Variant == "b");
        b.PValue!.Value.ShouldBe(0.06191, 5e-5);
        b.AdjustedPValue!.Value.ShouldBe(adjustedRevenue, 1e-4);
        b.Verdict!.ShouldBe("inconclusive");
        results.SecondaryMetrics![2].Variants.Single(variant => variant.Variant == "b").Verdict.ShouldBe("better");
        results.Decision.ShouldBe("keep a", "the primary metric decides; secondary metrics are reported");
    }

    /// <summary>
    /// CUPED on the results: the eight units of CupedTests (numpy 1.24: θ = 1.0516129032258064, adjusted variance
    /// 0.25622 against 12.5 raw) split into two variants; the reported means and lifts are the adjusted ones.
    /// </summary>
    [Fact]
    public void Cuped_adjusts_each_variant_with_the_pooled_theta_and_reports_the_variance_reduction()
    {
        double[] y = [12, 15, 9, 20, 17, 11, 14, 16];
        double[] x = [10, 14, 8, 18, 15, 10, 12, 15];
        static CupedSums Sums(double[] y, double[] x) => new(y.Length, y.Sum(), y.Sum(v => v * v), x.Sum(), x.Sum(v => v * v), y.Zip(x, (a, b) => a * b).Sum());
        var spec = AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("spend", "mean", "kpi"), "a", "frequentist", PlannedSamples: 2,
            Cuped: new CupedSpec("kpi", "spend", "7d")));
        VariantData Variant(string name, Range units) => new(name, 4, SampleSummary.FromValues(y[units]), Covariate: Sums(y[units], x[units]), WithCovariate: 4);

        var results = AbExperimentAnalysis.Analyze(spec, [Variant("a", ..4), Variant("b", 4..)], [50, 50]);

        var expected = Cuped.Analyze(y.AsSpan(0, 4), x.AsSpan(0, 4), y.AsSpan(4), x.AsSpan(4));
        results.Cuped.ShouldBe(new CupedReport("kpi:spend", "7d", expected.Theta, expected.VarianceReduction, 8));
        results.Cuped!.Theta!.Value.ShouldBe(1.0516129032258064, 1e-12);
        results.Cuped.VarianceReduction.ShouldBe(1 - 0.25622119815668193 / 12.5, 1e-12);
        var (a, b) = (results.Variants[0], results.Variants[1]);
        a.Mean.ShouldBe(expected.Control.Mean, 1e-12);
        b.Mean.ShouldBe(expected.Treatment.Mean, 1e-12);
        (a.UnadjustedMean, b.UnadjustedMean).ShouldBe((14, 14.5));
        b.AbsoluteLift!.Value.ShouldBe(FrequentistTest.TwoSided(expected.Control, expected.Treatment, DifferenceType.Absolute).Estimate, 1e-9);
    }

    [Fact]
    public void Secondary_metrics_correction_and_cuped_are_checked_with_every_problem() =>
        Should.Throw<TrackingException>(() => AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"), Engine: "bayesian",
            SecondaryMetrics: [new MetricSpec("conversion"), new MetricSpec(null, "median")], Correction: "bonferroni", Cuped: new CupedSpec("kpi", null, "1y"))))
        .Message.ShouldBe("Invalid experiment 'ab': secondary_metrics[1] type 'median' is not binomial or mean; " +
            "secondary_metrics: the metric name 'conversion' is used 2 times; give each metric its own name; correction 'bonferroni' is not holm or benjamini_hochberg; " +
            "cuped: a kpi covariate needs the KPI's name as name; cuped.lookback '1y' must be a duration such as 14d or 36h, at most 90d; " +
            "cuped needs the frequentist or sequential engine (the Bayesian engine works on raw counts).");

    [Fact]
    public void A_dataset_covariate_needs_a_dataset_key_and_column_and_a_timestamp_for_its_lookback()
    {
        Should.Throw<TrackingException>(() => AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"),
            Cuped: new CupedSpec("dataset", "customers@x", "7d"))))
            .Message.ShouldBe("Invalid experiment 'ab': cuped.name: 'x' in 'customers@x' is not a version: use a positive number or 'latest'; " +
                "cuped: a dataset covariate needs key, the column that holds the routing key; cuped: a dataset covariate needs column, the numeric column summed per key; " +
                "cuped.lookback needs cuped.timestamp with source dataset (without a timestamp every row of the table is the pre-period).");
        Should.Throw<TrackingException>(() => AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"),
            Cuped: new CupedSpec("kpi", "spend", Column: "spend"))))
            .Message.ShouldBe("Invalid experiment 'ab': cuped: key, column and timestamp are for source dataset.");

        // Read whole: no lookback; with a timestamp: the default 14 days, as for the other sources.
        AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"), Cuped: new CupedSpec("dataset", "customers", Key: "id", Column: "spend")))
            .Cuped!.Lookback.ShouldBeNull();
        var timed = AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"), Cuped: new CupedSpec("dataset", "orders@2", Key: "id", Column: "amount", Timestamp: "at"))).Cuped!;
        (timed.Lookback, timed.Covariate()).ShouldBe(("14d", "dataset:orders@2:amount"));
    }

    [Fact]
    public void A_model_covariate_needs_a_model_a_dataset_a_key_and_an_output_and_no_column_or_lookback()
    {
        Should.Throw<TrackingException>(() => AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"),
            Cuped: new CupedSpec("model", Lookback: "7d", Column: "spend"))))
            .Message.ShouldBe("Invalid experiment 'ab': cuped: a model covariate needs model, the model that predicts the metric (models:/ltv/3 or models:/ltv@champion); " +
                "cuped: a model covariate needs output, the model's output summed per key (NAME, or NAME[k] for a column of an [N, k] output); " +
                "cuped: a model covariate needs the dataset as name (customers or customers@3); cuped: a model covariate needs key, the column that holds the routing key; " +
                "cuped: column and timestamp are for source dataset (a model covariate sums its output over every row of the table); " +
                "cuped.lookback: a model covariate scores every row of the table (the table is the pre-period); leave lookback out.");
        Should.Throw<TrackingException>(() => AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"),
            Cuped: new CupedSpec(Covariates: [new CupedSpec("model", "customers", Key: "id", Model: "ltv/3", Output: "p[x]"), new CupedSpec("kpi", "spend", Output: "p")]))))
            .Message.ShouldBe("Invalid experiment 'ab': cuped.covariates[0].model: model 'ltv/3' is not models:/NAME/VERSION or models:/NAME@ALIAS; " +
                "cuped.covariates[0].output 'p[x]' must be an output's name, or NAME[k] for a column of an [N, k] output; " +
                "cuped.covariates[1]: model, output and feature_names are for source model.");

        var model = AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"),
            Cuped: new CupedSpec("model", "customers@1", Key: "id", Model: "models:/ltv/3", Output: "probabilities[1]"))).Cuped!;
        (model.Lookback, model.HasLookback(), model.Covariate()).ShouldBe(((string?)null, false, "model:ltv/3@customers@1:probabilities[1]"));
        CupedSpec.ParseOutput("probabilities[12]").ShouldBe(("probabilities", 12));
        CupedSpec.ParseOutput("score").ShouldBe(("score", (int?)null));
        CupedSpec.ParseOutput("p[-1]").ShouldBeNull();
    }

    [Fact]
    public void A_sample_ratio_mismatch_invalidates_whatever_the_lift()
    {
        // 1000 vs 1200 units on a 50/50 split: p = 0.000020079 (GrowthBook's SRM known answer), below 0.001.
        var results = AbExperimentAnalysis.Analyze(Spec("frequentist", planned: 100), [Binomial("a", 300, 1000), Binomial("b", 600, 1200)], [50, 50]);
        results.Srm!.PValue.ShouldBe(0.000020079, 1e-8);
        results.Decision.ShouldBe("invalid: sample ratio mismatch");
    }

    [Fact]
    public void A_variant_at_weight_zero_is_left_out_of_the_sample_ratio_check()
    {
        // A loser set to 0 by `conclude --apply` (or a blue/green preview): the check once failed with a 500. The same
        // GrowthBook known answer as above, with a third variant at weight 0.
        var results = AbExperimentAnalysis.Analyze(Spec("frequentist", planned: 100), [Binomial("a", 300, 1000), Binomial("b", 600, 1200), Binomial("c", 10, 40)], [50, 50, 0]);
        results.Srm!.PValue.ShouldBe(0.000020079, 1e-8);
        AbExperimentAnalysis.Analyze(Spec("frequentist", planned: 100), [Binomial("a", 300, 1000), Binomial("b", 10, 40)], [100, 0]).Srm.ShouldBeNull("one variant with traffic has nothing to compare");
    }

    private static AbExperimentSpec MeanSpec(string engine) =>
        AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("profit", "mean"), "a", engine, PlannedSamples: 100));

    [Theory]
    [InlineData("frequentist")]
    [InlineData("sequential")]
    [InlineData("bayesian")]
    public void A_negative_control_mean_is_compared_by_the_difference_not_a_relative_lift_of_the_wrong_sign(string engine)
    {
        // Profit -10.1 against -5.0 (sd 1, 200 each) is +5.1: better, whatever the sign of the control's mean. The Welch
        // test on the difference: t = 5.1 / sqrt(2/200) = 51, far beyond any threshold (scipy.stats.ttest_ind_from_stats).
        var results = AbExperimentAnalysis.Analyze(MeanSpec(engine), [Mean("a", 200, -10.1 * 200, (1 + (10.1 * 10.1)) * 200), Mean("b", 200, -5.0 * 200, (1 + 25) * 200)], [50, 50]);

        var b = results.Variants[1];
        (b.Verdict, b.RelativeLift).ShouldBe(("better", null));
        b.AbsoluteLift!.Value.ShouldBe(5.1, 1e-9);
        results.Decision.ShouldBe("ship b");
    }

    [Fact]
    public void A_control_mean_of_zero_and_samples_without_variance_are_still_compared()
    {
        // 0 of 148 against 152 of 152 converted: no variance on either side, and the difference is certain.
        var certain = AbExperimentAnalysis.Analyze(Spec("frequentist", planned: 100), [Binomial("a", 0, 148), Binomial("b", 152, 152)], [50, 50]).Variants[1];
        (certain.Verdict, certain.PValue, certain.AbsoluteLift, certain.RelativeLift).ShouldBe(("better", (double?)0, (double?)1, (double?)null));
        var same = AbExperimentAnalysis.Analyze(Spec("frequentist", planned: 100), [Binomial("a", 100, 100), Binomial("b", 100, 100)], [50, 50]).Variants[1];
        (same.Verdict, same.PValue).ShouldBe(("inconclusive", (double?)1));
        // A zero control mean with some variance on the treatment: tested on the absolute difference.
        var zero = AbExperimentAnalysis.Analyze(Spec("frequentist", planned: 100), [Binomial("a", 0, 500), Binomial("b", 60, 500)], [50, 50]).Variants[1];
        (zero.Verdict, zero.RelativeLift).ShouldBe(("better", null));
    }

    [Fact]
    public void A_mean_metric_reads_outcomes_unless_told_to_read_rewards()
    {
        AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("revenue", "mean"), "a")).Metric!.Source.ShouldBe("outcome");
        AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("score", "mean", "reward"), "a")).Metric!.Source.ShouldBe("reward");
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

    /// <summary>
    /// A metric guardrail is analysed like the primary metric and broken by a significantly worse treatment. Its data is
    /// GrowthBook's t-test known answer above (means 0.41 and 0.70 a unit, relative lift +70.7%, p 0.06191), here refunds,
    /// where lower is better: at α 0.1 b's increase is significant and blocks the ship; at α 0.05 it is not.
    /// </summary>
    [Theory]
    [InlineData(0.1, true)]
    [InlineData(0.05, false)]
    public void A_metric_guardrail_is_broken_by_a_significantly_worse_treatment(double alpha, bool broken)
    {
        var spec = AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"), "a", "frequentist", alpha, PlannedSamples: 100,
            Guardrails: [new GuardrailSpec("refunds", Source: "kpi", Type: "mean", Inverse: true)]));
        var results = AbExperimentAnalysis.Analyze(spec, [Binomial("a", 300, 1000), Binomial("b", 400, 1000)], [50, 50], [],
            [[Mean("a", 3407, 1396.87, 52377.9767), Mean("b", 3461, 2422.7, 134698.29)]]);

        results.Variants[1].Verdict.ShouldBe("better", "conversion 30% against 40%");
        var refunds = results.GuardrailMetrics.ShouldHaveSingleItem();
        (refunds.Metric, refunds.Type, refunds.Source, refunds.Inverse).ShouldBe(("refunds", "mean", "kpi", (bool?)true));
        refunds.Variants[1].PValue!.Value.ShouldBe(0.06191, 5e-5);
        // Lower is better for refunds: b's significant increase is worse, whatever the sign of its lift (+70.7%).
        refunds.Variants[1].RelativeLift!.Value.ShouldBe(0.7073, 5e-4);
        refunds.Variants[1].Verdict.ShouldBe(broken ? "worse" : "inconclusive");
        if (broken)
        {
            results.Variants[1].GuardrailsBroken.ShouldBe(["kpi:refunds +70.73% against the control, significantly higher (lower is better)"]);
            results.Decision.ShouldBe("keep a");
        }
        else
        {
            results.Variants[1].GuardrailsBroken.ShouldBeNull();
            results.Decision.ShouldBe("ship b");
        }
    }

    /// <summary>
    /// An inverse guardrail's results read lower-is-better: the Bayesian known answer above (49/100 against 51/100,
    /// chance of being higher 0.61077 by Beta-binomial) is b's chance to win 1 - 0.61077 on complaints; and with
    /// 100/1000 against 300/1000 (certainly higher) b is worse and breaks it, where a higher-is-better guardrail
    /// reads the same data as better and lets b ship.
    /// </summary>
    [Fact]
    public void An_inverse_metric_guardrail_that_got_higher_is_reported_worse_not_better()
    {
        AbExperimentSpec Guarded(bool inverse) => AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", new MetricSpec("conversion"), "a", "bayesian", PlannedSamples: 100,
            Guardrails: [new GuardrailSpec("complaints", Source: "kpi", Inverse: inverse)]));
        VariantData[] conversion = [Binomial("a", 300, 1000), Binomial("b", 400, 1000)];

        var close = AbExperimentAnalysis.Analyze(Guarded(true), conversion, [50, 50], [], [[Binomial("a", 49, 100), Binomial("b", 51, 100)]]);
        var complaints = close.GuardrailMetrics.ShouldHaveSingleItem().Variants[1];
        complaints.ChanceToWin!.Value.ShouldBe(1 - 0.61077, 1e-4);
        complaints.Verdict.ShouldBe("inconclusive");

        var higher = AbExperimentAnalysis.Analyze(Guarded(true), conversion, [50, 50], [], [[Binomial("a", 100, 1000), Binomial("b", 300, 1000)]]);
        higher.GuardrailMetrics![0].Variants[1].Verdict.ShouldBe("worse");
        higher.GuardrailMetrics[0].Variants[1].AbsoluteLift!.Value.ShouldBe(0.2, 1e-6);
        higher.GuardrailMetrics[0].Variants[1].ChanceToWin!.Value.ShouldBeLessThan(0.001);
        var broken = higher.Variants[1].GuardrailsBroken.ShouldNotBeNull().ShouldHaveSingleItem();
        broken.ShouldStartWith("kpi:complaints +");
        broken.ShouldEndWith("% against the control, significantly higher (lower is better)");
        higher.Decision.ShouldBe("keep a");

        var notInverse = AbExperimentAnalysis.Analyze(Guarded(false), conversion, [50, 50], [], [[Binomial("a", 100, 1000), Binomial("b", 300, 1000)]]);
        notInverse.GuardrailMetrics![0].Inverse.ShouldBeNull();
        notInverse.GuardrailMetrics[0].Variants[1].Verdict.ShouldBe("better");
        notInverse.Variants[1].GuardrailsBroken.ShouldBeNull();
        notInverse.Decision.ShouldBe("ship b");
    }

    [Fact]
    public void A_metric_guardrail_needs_a_known_source_and_no_max()
    {
        Should.Throw<TrackingException>(() => AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", null,
                Guardrails: [new GuardrailSpec("refunds", 5, "kpi", "mean"), new GuardrailSpec("x", Source: "clicks"), new GuardrailSpec(null, Source: "kpi")])))
            .Message.ShouldBe("Invalid experiment 'ab': guardrails[0] 'refunds': a metric guardrail is broken by a significantly worse treatment, not by a max (max is for latency_p99_ms, latency_mean_ms, error_rate); "
                + "guardrails[1] source 'clicks' must be outcome, reward or kpi (a binomial metric counts outcomes or KPI values); a kpi guardrails[2] needs the KPI's name as its name.");
        AbExperimentValidation.Validate(new AbExperimentSpec("ab", "iris", null, Guardrails: [new GuardrailSpec("complaints", Source: "kpi")])).Guardrails
            .ShouldBe([new GuardrailSpec("complaints", null, "kpi", "binomial", false)]);
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
