using Ballast.Statistics.Performance;

namespace Ballast.Tests.Statistics.Performance;

/// <summary>Expected values from scikit-learn 1.3 <c>sklearn/tests/test_isotonic.py</c>, each test named after its source.</summary>
public sealed class IsotonicRegressionTests
{
    /// <summary>test_isotonic_regression: isotonic_regression([3, 7, 5, 9, 8, 7, 10]) and ([10, 0, 2]).</summary>
    [Fact]
    public void Pool_adjacent_violators_matches_scikit_learn()
    {
        IsotonicRegression.OfSequence([3, 7, 5, 9, 8, 7, 10]).ShouldBe([3, 6, 6, 8, 8, 8, 10]);
        IsotonicRegression.OfSequence([10, 0, 2]).ShouldBe([4, 4, 4]);
    }

    /// <summary>test_isotonic_regression_ties_min: x [1, 1, 2, 3, 4, 5], y [1..6] → [1.5, 1.5, 3, 4, 5, 6].</summary>
    [Fact]
    public void Tied_inputs_get_their_mean()
    {
        var fit = IsotonicRegression.Fit([1, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6]);
        fit.Predict([1, 1, 2, 3, 4, 5]).ShouldBe([1.5, 1.5, 3, 4, 5, 6], tolerance: 1e-12);
    }

    /// <summary>
    /// test_isotonic_regression_ties_secondary_ (the pituitary data, checked there against R isotone 1.0-2
    /// gpava(ties = "secondary")) and test_isotonic_regression_with_ties_in_differently_sized_groups (issue 9432).
    /// </summary>
    [Fact]
    public void Secondary_ties_match_R_isotone_as_scikit_learn_does()
    {
        double[] x = [8, 8, 8, 10, 10, 10, 12, 12, 12, 14, 14];
        double[] y = [21, 23.5, 23, 24, 21, 25, 21.5, 22, 19, 23.5, 25];
        IsotonicRegression.Fit(x, y).Predict(x)
            .ShouldBe([22.22222, 22.22222, 22.22222, 22.22222, 22.22222, 22.22222, 22.22222, 22.22222, 22.22222, 24.25, 24.25], tolerance: 1e-4);

        double[] x2 = [0, 1, 1, 2, 3, 4];
        IsotonicRegression.Fit(x2, [0, 0, 1, 0, 0, 1]).Predict(x2).ShouldBe([0, 0.25, 0.25, 0.25, 0.25, 1], tolerance: 1e-12);
    }

    /// <summary>test_isotonic_sample_weight: weights 1..7 pool 41, 51, 1, 2, 5 to 13.95.</summary>
    [Fact]
    public void Weights_count_in_the_pooled_means()
    {
        double[] x = [1, 2, 3, 4, 5, 6, 7];
        IsotonicRegression.Fit(x, [1, 41, 51, 1, 2, 5, 24], [1, 2, 3, 4, 5, 6, 7]).Predict(x)
            .ShouldBe([1, 13.95, 13.95, 13.95, 13.95, 13.95, 24], tolerance: 1e-12);
    }

    /// <summary>test_isotonic_min_max_boundaries: y_min 2, y_max 4 on 0..5 → [2, 2, 2, 3, 4, 4].</summary>
    [Fact]
    public void Fitted_values_are_clipped_to_the_bounds()
    {
        double[] x = [0, 1, 2, 3, 4, 5];
        IsotonicRegression.Fit(x, x, yMin: 2, yMax: 4).Predict(x).ShouldBe([2, 2, 2, 3, 4, 4]);
    }

    /// <summary>
    /// test_isotonic_make_unique_tolerance: X [0, 1, 1, 2], y [0, 1, 2, 3] predicts [0, 0.75, 1.5, 2.25, 3] at
    /// [0, 0.5, 1, 1.5, 2] (linear between thresholds); test_isotonic_regression_oob_clip: outside the range the
    /// prediction is the first or last fitted value.
    /// </summary>
    [Fact]
    public void Predictions_interpolate_between_thresholds_and_clip_outside()
    {
        var fit = IsotonicRegression.Fit([0, 1, 1, 2], [0, 1, 2, 3]);
        fit.Predict([0, 0.5, 1, 1.5, 2]).ShouldBe([0, 0.75, 1.5, 2.25, 3], tolerance: 1e-12);
        fit.Thresholds.ShouldBe([0, 1, 2]);

        var clipped = IsotonicRegression.Fit([0, 1, 2, 3, 4, 5, 6], [3, 7, 5, 9, 8, 7, 10]);
        clipped.Predict(-10).ShouldBe(3);
        clipped.Predict(16).ShouldBe(10);
    }

    [Fact]
    public void Bad_input_is_rejected_with_the_reason()
    {
        Should.Throw<ArgumentException>(() => IsotonicRegression.Fit([0, 1, 2], [5, 7]))
            .Message.ShouldBe("isotonic regression needs one y per x: there are 3 x and 2 y.");
        Should.Throw<ArgumentException>(() => IsotonicRegression.Fit([0, 1, 2], [5, 7, 3], [0.1, 0.6]))
            .Message.ShouldBe("there are 3 points but 2 weights; give one weight per point or none.");
        Should.Throw<ArgumentException>(() => IsotonicRegression.Fit([0, double.NaN], [1, 2]))
            .Message.ShouldBe("point 1 is (NaN, 2); x and y must be finite numbers.");
        Should.Throw<ArgumentException>(() => IsotonicRegression.Fit([0, 1], [1, 2], [0, 0]))
            .Message.ShouldBe("isotonic regression needs at least one point with a positive weight.");
    }
}
