using Ballast.Statistics.Performance;

namespace Ballast.Tests.Statistics.Performance;

public sealed class CalibrationTests
{
    /// <summary>
    /// scikit-learn 1.3 <c>calibration_curve</c> docstring example: n_bins=3 gives prob_true [0, 0.5, 1] and
    /// prob_pred [0.2, 0.525, 0.85].
    /// </summary>
    [Fact]
    public void Reliability_bins_match_scikit_learn_calibration_curve()
    {
        var actual = Labels.Of(0, 0, 0, 0, 1, 1, 1, 1, 1);
        double[] predicted = [0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1.0];

        var bins = Calibration.ReliabilityBins(actual, predicted, bins: 3);

        bins.Select(b => b.FractionPositive).ShouldBe([0, 0.5, 1], tolerance: 1e-12);
        bins.Select(b => b.MeanPredicted).ShouldBe([0.2, 0.525, 0.85], tolerance: 1e-12);
        bins.Select(b => b.Count).ShouldBe([3, 2, 4]);
    }

    /// <summary>
    /// ECE on the same example, by hand from its bins (Guo et al. 2017, eq. 3):
    /// 3/9·|0.2 − 0| + 2/9·|0.525 − 0.5| + 4/9·|0.85 − 1| = 1.25/9.
    /// </summary>
    [Fact]
    public void Expected_calibration_error_weights_each_bin_gap_by_its_share()
    {
        var actual = Labels.Of(0, 0, 0, 0, 1, 1, 1, 1, 1);
        double[] predicted = [0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1.0];

        Calibration.ExpectedCalibrationError(actual, predicted, bins: 3).ShouldBe(1.25 / 9, 1e-12);
        Calibration.ExpectedCalibrationError(Labels.Of(0, 1), [0, 1]).ShouldBe(0);
    }

    /// <summary>
    /// scikit-learn 1.3 <c>brier_score_loss</c> docstring: y_true [0, 1, 1, 0], y_prob [0.1, 0.9, 0.8, 0.3] → 0.037…
    /// (exactly 0.0375), and predictions thresholded at 0.5 → 0.0.
    /// </summary>
    [Fact]
    public void Brier_score_matches_scikit_learn()
    {
        var actual = Labels.Of(0, 1, 1, 0);
        Calibration.BrierScore(actual, [0.1, 0.9, 0.8, 0.3]).ShouldBe(0.0375, 1e-12);
        Calibration.BrierScore(actual, [0, 1, 1, 0]).ShouldBe(0);
    }

    [Fact]
    public void Bad_input_is_rejected_with_the_reason()
    {
        Should.Throw<ArgumentException>(() => Calibration.BrierScore(Labels.Of(0, 1), [0.5]))
            .Message.ShouldBe("there are 2 labels but 1 probabilities; give one label per prediction.");
        Should.Throw<ArgumentException>(() => Calibration.BrierScore(Labels.Of(0), [1.5]))
            .Message.ShouldBe("probabilities[0] is 1.5; a probability must be a number between 0 and 1.");
        Should.Throw<ArgumentException>(() => Calibration.ReliabilityBins(Labels.Of(0), [0.5], bins: 0))
            .Message.ShouldBe("the number of bins must be at least 1 (got 0).");
        Should.Throw<ArgumentException>(() => Calibration.ExpectedCalibrationError([], []))
            .Message.ShouldBe("there are no probabilities; give at least one prediction.");
    }
}
