using Ballast.Statistics.Performance;

namespace Ballast.Tests.Statistics.Performance;

public sealed class FairnessTests
{
    // fairlearn 0.10 user guide, docs/user_guide/assessment/common_fairness_metrics.rst: the example arrays.
    private static readonly bool[] Actual = Labels.Of(0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1);
    private static readonly bool[] Predicted = Labels.Of(0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0);
    private static readonly string[] Groups = ["b", "b", "a", "b", "b", "c", "c", "c", "a", "a", "c", "a", "b", "c", "c", "b", "c", "c"];

    /// <summary>
    /// fairlearn's documented results on its example: demographic_parity_difference 0.25, demographic_parity_ratio
    /// 0.66666…, equalized_odds_difference 1.0, equalized_odds_ratio 0.0.
    /// </summary>
    [Fact]
    public void Disparities_match_fairlearns_documented_example()
    {
        var report = Fairness.Assess(Actual, Predicted, Groups);

        report.DemographicParityDifference.ShouldBe(0.25, 1e-12);
        report.DemographicParityRatio.ShouldBe(2.0 / 3, 1e-12);
        report.EqualizedOddsDifference.ShouldBe(1.0, 1e-12);
        report.EqualizedOddsRatio.ShouldBe(0.0, 1e-12);
    }

    /// <summary>
    /// The per-group rates behind those numbers, counted by hand from the same arrays (fairlearn's
    /// <c>MetricFrame(selection_rate / true_positive_rate / false_positive_rate).by_group</c>): a 3/4, 1/2, 2/2;
    /// b 3/6, 3/5, 0/1; c 4/8, 2/5, 2/3. Equal opportunity (TPR difference) is 0.6 − 0.4.
    /// </summary>
    [Fact]
    public void Group_rates_and_equal_opportunity_follow_fairlearn_definitions()
    {
        var report = Fairness.Assess(Actual, Predicted, Groups);

        report.Groups.Select(g => g.Group).ShouldBe(["a", "b", "c"]);
        report.Groups.Select(g => g.SelectionRate).ShouldBe([0.75, 0.5, 0.5], tolerance: 1e-12);
        report.Groups.Select(g => g.TruePositiveRate!.Value).ShouldBe([0.5, 0.6, 0.4], tolerance: 1e-12);
        report.Groups.Select(g => g.FalsePositiveRate!.Value).ShouldBe([1, 0, 2.0 / 3], tolerance: 1e-12);
        report.EqualOpportunityDifference.ShouldBe(0.2, 1e-12);
        Fairness.EqualOpportunityDifference(Actual, Predicted, Groups).ShouldBe(0.2, 1e-12);
    }

    [Fact]
    public void A_group_without_actual_negatives_has_no_false_positive_rate_and_is_left_out_of_that_disparity()
    {
        var report = Fairness.Assess(Labels.Of(1, 1, 0, 1), Labels.Of(1, 0, 1, 1), ["x", "x", "y", "y"]);

        report.Groups[0].FalsePositiveRate.ShouldBeNull();
        report.Groups[1].FalsePositiveRate.ShouldBe(1);
        report.EqualizedOddsDifference.ShouldBe(0.5, 1e-12); // TPR 0.5 vs 1; the FPR disparity has one group only
        Fairness.Assess(Labels.Of(0, 1), Labels.Of(0, 0), ["x", "y"]).DemographicParityRatio.ShouldBe(1);
    }

    [Fact]
    public void Bad_input_is_rejected_with_the_reason()
    {
        Should.Throw<ArgumentException>(() => Fairness.Assess(Labels.Of(0, 1), Labels.Of(0, 1), ["a"]))
            .Message.ShouldBe("give one actual label, one prediction and one group per row: there are 2 labels, 2 predictions and 1 groups.");
        Should.Throw<ArgumentException>(() => Fairness.Assess([], [], []))
            .Message.ShouldBe("there are no rows; fairness needs at least one prediction per group.");
        Should.Throw<ArgumentException>(() => Fairness.Assess(Labels.Of(0), Labels.Of(0), [null!]))
            .Message.ShouldBe("row 0 has no group; every row needs its sensitive group.");
    }
}
