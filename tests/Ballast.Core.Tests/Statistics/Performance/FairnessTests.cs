using Ballast.Monitoring;
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

    /// <summary>
    /// Intersectional groups, as fairlearn's <c>MetricFrame</c> forms them from several sensitive features (user guide,
    /// "Intersecting groups": one group per combination of values): the example's groups crossed with a second feature
    /// (the first nine rows "f", the rest "m"), rates counted by hand. a,f 1/2 (rows 2, 8); a,m 2/2 (9, 11); b,f 1/4
    /// (0, 1, 3, 4); b,m 2/2 (12, 15); c,f 2/3 (5, 6, 7); c,m 2/5 (10, 13, 14, 16, 17). Demographic parity: 1 − 1/4, and 1/4.
    /// </summary>
    [Fact]
    public void Intersectional_groups_are_the_combinations_of_the_sensitive_features()
    {
        var second = Enumerable.Range(0, Groups.Length).Select(row => row < 9 ? "f" : "m").ToArray();
        var groups = Groups.Select((group, row) => FairnessWindowEstimator.GroupOf([group, second[row]])).ToList();

        var report = Fairness.Assess(Actual, Predicted, groups);

        report.Groups.Select(g => (g.Group, g.Count)).ShouldBe([("a,f", 2), ("a,m", 2), ("b,f", 4), ("b,m", 2), ("c,f", 3), ("c,m", 5)]);
        report.Groups.Select(g => g.SelectionRate).ShouldBe([0.5, 1, 0.25, 1, 2.0 / 3, 0.4], tolerance: 1e-12);
        report.DemographicParityDifference.ShouldBe(0.75, 1e-12);
        report.DemographicParityRatio.ShouldBe(0.25, 1e-12);

        // Stored selection rates of the 3 largest: c,m (5), b,f (4), then c,f (3), in name order.
        FairnessWindowEstimator.Largest(report.Groups, 3).Select(g => g.Group).ShouldBe(["b,f", "c,f", "c,m"]);
        FairnessWindowEstimator.Largest(report.Groups, 6).Count().ShouldBe(6);
    }
}
