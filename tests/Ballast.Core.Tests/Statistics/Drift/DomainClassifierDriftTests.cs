using Ballast.Statistics.Drift;
using MathNet.Numerics.Distributions;

namespace Ballast.Tests.Statistics.Drift;

/// <summary>
/// The domain classifier on seeded data. There is no published number to match (the AUC depends on the trees), so the
/// checks are the method's defining behaviour: indistinguishable sets score ≈ 0.5 (no drift at Evidently's 0.55), a
/// shifted mean or a changed correlation scores well above it.
/// </summary>
public sealed class DomainClassifierDriftTests
{
    [Fact]
    public void Same_distribution_scores_about_one_half_and_is_not_drift()
    {
        var random = new Random(11);
        var result = DomainClassifierDrift.Detect(Rows(random, 1_000, shift: 0, correlation: 0.8), Rows(random, 1_000, shift: 0, correlation: 0.8));

        result.RocAuc.ShouldBe(0.5, 0.04);
        result.Drift.ShouldBeFalse();
        result.Threshold.ShouldBe(0.55);
        (result.ReferenceRows, result.CurrentRows, result.Folds).ShouldBe((1_000, 1_000, 5));
    }

    [Fact]
    public void A_shifted_mean_is_drift()
    {
        var random = new Random(12);
        var result = DomainClassifierDrift.Detect(Rows(random, 1_000, shift: 0, correlation: 0.8), Rows(random, 1_000, shift: 1, correlation: 0.8));

        result.RocAuc.ShouldBeGreaterThan(0.7);
        result.Drift.ShouldBeTrue();
    }

    /// <summary>The butterfly case again: the correlation flips, each feature's distribution does not.</summary>
    [Fact]
    public void A_changed_correlation_is_drift()
    {
        var random = new Random(13);
        var result = DomainClassifierDrift.Detect(Rows(random, 1_000, shift: 0, correlation: 0.8), Rows(random, 1_000, shift: 0, correlation: -0.8));

        result.RocAuc.ShouldBeGreaterThan(0.7);
        result.Drift.ShouldBeTrue();
    }

    [Fact]
    public void The_same_seed_gives_the_same_auc()
    {
        var reference = Rows(new Random(3), 300, 0, 0.5);
        var current = Rows(new Random(4), 300, 0.3, 0.5);

        DomainClassifierDrift.Detect(reference, current).RocAuc.ShouldBe(DomainClassifierDrift.Detect(reference, current).RocAuc);
    }

    /// <summary>
    /// Random classifiers' AUC on 1,000 + 1,000 labels is the Mann–Whitney null: mean ½, standard deviation
    /// √((n₁ + n₂ + 1)/(12 n₁ n₂)) = 0.012913 (Hanley &amp; McNeil 1982), so its 95th percentile is ½ + 1.6449 × 0.012913 =
    /// 0.52124; 1,000 draws estimate it within about 0.001 (one standard error).
    /// </summary>
    [Fact]
    public void Random_classifier_percentile_is_the_mann_whitney_null_quantile()
    {
        var labels = Enumerable.Range(0, 2_000).Select(i => i >= 1_000).ToArray();

        DomainClassifierDrift.RandomClassifierPercentile(labels, 0.95, 1_000, new Random(42)).ShouldBe(0.52124, 0.004);

        var random = new Random(14);
        var result = DomainClassifierDrift.Detect(
            Rows(random, 1_000, shift: 0, correlation: 0.8),
            Rows(random, 1_000, shift: 1, correlation: 0.8),
            new DomainClassifierOptions { RandomPercentile = 0.95 });
        result.Threshold.ShouldBe(0.52124, 0.004);
        result.Drift.ShouldBeTrue();
    }

    [Fact]
    public void Bad_input_is_rejected_with_every_problem()
    {
        Should.Throw<ArgumentException>(() => DomainClassifierDrift.Detect([[1.0], [2.0]], [[1.0], [2.0]], new DomainClassifierOptions { Folds = 1, Threshold = 2, RandomPercentile = 95 }))
            .Message.ShouldBe("Invalid domain classifier input: folds must be at least 2 (got 1); threshold must be between 0 and 1 (got 2); the random-classifier percentile must be between 0 and 1, exclusive (got 95).");
        Should.Throw<ArgumentException>(() => DomainClassifierDrift.Detect([[1.0], [2.0]], [[1.0], [2.0]]))
            .Message.ShouldBe("Invalid domain classifier input: each set needs at least one row per fold: reference has 2 rows, current 2, folds 5.");
        Should.Throw<ArgumentException>(() => DomainClassifierDrift.Detect([[1.0], [2.0]], [[1.0, 2.0], [double.NaN]], new DomainClassifierOptions { Folds = 2 }))
            .Message.ShouldBe("Invalid domain classifier input: current row 0 has 2 features but reference row 0 has 1.");
    }

    private static List<double[]> Rows(Random random, int count, double shift, double correlation)
    {
        var rows = new List<double[]>(count);
        var residual = Math.Sqrt(1 - correlation * correlation);
        for (var i = 0; i < count; i++)
        {
            var a = Normal.Sample(random, 0, 1);
            var b = correlation * a + residual * Normal.Sample(random, 0, 1);
            rows.Add([a + shift, b, Normal.Sample(random, 0, 1)]);
        }

        return rows;
    }
}
