using Ballast.Statistics.Performance;

namespace Ballast.Tests.Statistics.Performance;

/// <summary>
/// NannyML's sampling errors (<c>nannyml/sampling_error/binary_classification.py</c> and
/// <c>multiclass_classification.py</c>), computed by hand on small references.
/// </summary>
public sealed class CbpeSamplingErrorTests
{
    /// <summary>
    /// Reference scores 0.9 … 0.1, labels [1, 1, 0, 1, 1, 0, 0, 0], predictions p ≥ 0.5 → TP 3, FP 1, FN 1, TN 3.
    /// <c>accuracy_sampling_error_components</c>: 6 of 8 correct, σ² = 0.75 × 0.25 = 0.1875, SE = √(σ²/n);
    /// precision (TP 1, FP 0): σ² = 0.1875 on the 4 predicted positives, f = 0.5, SE = √(σ²/(n·f))
    /// (<c>_universal_sampling_error</c>); recall (TP, FN) and specificity (TN, FP) likewise; F1
    /// (<c>f1_sampling_error_components</c>): 3 ones among 5 relevant rows, σ² = 0.24, times the correcting factor
    /// (5 / (3 + ½ × 2))² = 1.5625, f = 5/8; ROC AUC (<c>auroc_sampling_error_components</c>): ranked ascending, the
    /// positives sit at ranks 3, 4, 6, 7, so rank − index = 3, 3, 4, 4, over 4 negatives: 0.75, 0.75, 1, 1 with standard
    /// deviation 0.125, f = 0.5. For a chunk of 50 rows.
    /// </summary>
    [Fact]
    public void Binary_sampling_errors_follow_nannyml_components()
    {
        double[] scores = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1];
        bool[] actual = [true, true, false, true, true, false, false, false];

        var errors = CbpeSamplingError.FitBinary(scores, actual, scores.Select(s => s >= 0.5).ToArray()).For(50);

        errors.Accuracy.ShouldBe(Math.Sqrt(0.1875 / 50), 1e-12);
        errors.Precision.ShouldBe(Math.Sqrt(0.1875 / 25), 1e-12);
        errors.Recall.ShouldBe(Math.Sqrt(0.1875 / 25), 1e-12);
        errors.Specificity.ShouldBe(Math.Sqrt(0.1875 / 25), 1e-12);
        errors.F1.ShouldBe(Math.Sqrt(0.24 * 1.5625 / (50 * 5 / 8.0)), 1e-12);
        errors.RocAuc.ShouldBe(0.125 / Math.Sqrt(25), 1e-12);
    }

    /// <summary>
    /// NannyML's published <c>test_accuracy_sampling_error</c> (tests/sampling_error/test_binary_classification_sampling_error.py):
    /// labels and predictions independent fair coins over 10,000 rows, a chunk of 50 → 0.0707; precision 0.0989, recall
    /// 0.0998, specificity 0.1001, F1 0.1153. An exactly balanced reference (2,500 of each cell) gives σ = 0.5, so
    /// 0.5/√50 = 0.0707 for accuracy and 0.5/√25 = 0.1 for the others (the published values differ by the draw); F1:
    /// σ² = (1/3)(2/3) × 1.5² = 0.5 on f = 0.75, √(0.5/37.5) = 0.1155.
    /// </summary>
    [Fact]
    public void Balanced_coin_reference_gives_nannyml_published_values()
    {
        var actual = new bool[10_000];
        var predicted = new bool[10_000];
        for (var i = 0; i < actual.Length; i++)
        {
            actual[i] = i % 2 == 0;
            predicted[i] = i % 4 < 2;
        }

        var errors = CbpeSamplingError.FitBinary(Enumerable.Range(0, 10_000).Select(i => i / 10_000.0).ToArray(), actual, predicted).For(50);

        Math.Round(errors.Accuracy, 4).ShouldBe(0.0707);
        errors.Precision.ShouldBe(0.0989, 0.002);
        errors.Recall.ShouldBe(0.0998, 0.002);
        errors.Specificity.ShouldBe(0.1001, 0.002);
        errors.F1.ShouldBe(0.1153, 0.002);
        errors.F1.ShouldBe(Math.Sqrt(0.5 / 37.5), 1e-12);
    }

    /// <summary>
    /// <c>auroc_sampling_error_components</c> as written: <c>np.unique(positive_ranks)[1:]</c> drops rank 0, so a
    /// positive ranked lowest is left out and shifts the others' index: labels [1, 0, 1, 0, 1, 0, 0] on ascending scores
    /// keep ranks 2 and 4 → 2 − 0, 4 − 1 = 2, 3 over 4 negatives: 0.5, 0.75, σ = 0.125, f = 3/7. With more than half
    /// positive, labels and scores flip first: [1, 1, 0, 1, 1, 0] on descending scores become positives at ranks 2 and 5
    /// → 2, 4 over 4 negatives: σ = 0.25, f = 1/3.
    /// </summary>
    [Fact]
    public void Roc_auc_components_keep_nannyml_rank_and_flip_rules()
    {
        var quirk = CbpeSamplingError.FitBinary([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], [true, false, true, false, true, false, false], new bool[7]).For(30);
        quirk.RocAuc.ShouldBe(0.125 / Math.Sqrt(30 * 3 / 7.0), 1e-12);

        var flipped = CbpeSamplingError.FitBinary([0.9, 0.8, 0.7, 0.6, 0.5, 0.4], [true, true, false, true, true, false], new bool[6]).For(12);
        flipped.RocAuc.ShouldBe(0.25 / Math.Sqrt(12 / 3.0), 1e-12);
    }

    /// <summary>
    /// <c>multiclass_classification.py</c> on 6 reference rows, true classes [0, 0, 1, 1, 2, 2], predicted
    /// [0, 1, 1, 1, 2, 0], a chunk of 30. Accuracy: 4 of 6 correct, √((2/9)/30). The others combine per-class
    /// (σ², f) as √(Σ σ²/(n f)) / 3 (<c>_standard_deviation_of_variances</c>): precision (¼, 2/6), (2/9, 3/6), (0, 1/6);
    /// recall (¼, 2/6), (0, 2/6), (¼, 2/6); specificity (3/16, 4/6), (3/16, 4/6), (0, 4/6); F1 without the binary
    /// correcting factor: (2/9, 3/6), (2/9, 3/6), (¼, 2/6). ROC AUC on the scores below: class 0's positives rank 3 and 5
    /// → 3, 4 over 4 negatives, σ² = 0.015625, f = 2/6; classes 1 and 2 rank 4 and 5 → σ² = 0; times 1.2
    /// (<c>auroc_sampling_error</c>).
    /// </summary>
    [Fact]
    public void Multiclass_sampling_errors_combine_the_classes_as_nannyml()
    {
        IReadOnlyList<double>[] scores = [[0.7, 0.2, 0.1], [0.4, 0.5, 0.1], [0.1, 0.8, 0.1], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8], [0.5, 0.1, 0.4]];
        var predicted = MulticlassCbpe.PredictedClasses(scores);
        predicted.ShouldBe([0, 1, 1, 1, 2, 0]);

        var errors = CbpeSamplingError.FitMulticlass(scores, [0, 0, 1, 1, 2, 2], predicted, 3).For(30);

        errors.Accuracy.ShouldBe(Math.Sqrt(2 / 9.0 / 30), 1e-12);
        errors.Precision.ShouldBe(Math.Sqrt(((0.25 / (2 / 6.0)) + (2 / 9.0 / (3 / 6.0))) / 30) / 3, 1e-12);
        errors.Recall.ShouldBe(Math.Sqrt(2 * 0.25 / (2 / 6.0) / 30) / 3, 1e-12);
        errors.Specificity.ShouldBe(Math.Sqrt(2 * (3 / 16.0) / (4 / 6.0) / 30) / 3, 1e-12);
        errors.F1.ShouldBe(Math.Sqrt(((2 * (2 / 9.0) / (3 / 6.0)) + (0.25 / (2 / 6.0))) / 30) / 3, 1e-12);
        errors.RocAuc.ShouldBe(1.2 * Math.Sqrt(0.015625 / (2 / 6.0) / 30) / 3, 1e-12);
    }

    /// <summary>
    /// The expected confusion-matrix counts, not normalized (CBPE's default <c>normalize_confusion_matrix=None</c>):
    /// <c>true_positive_sampling_error_components</c> (and the other cells') take σ = <c>np.std</c> of the 0/1
    /// "row is in the cell" over the reference, and <c>true_positive_sampling_error</c> gives
    /// <c>(reference_std / np.sqrt(len(data))) * len(data)</c> = σ√n. The binary reference above (TP 3, FP 1, FN 1, TN 3
    /// of 8): TP and TN σ² = (3/8)(5/8) = 15/64, FP and FN σ² = (1/8)(7/8) = 7/64; on 50 rows √(50 · 15/64) = 3.4233 and
    /// √(50 · 7/64) = 2.3385. Multiclass (<c>multiclass_confusion_matrix_sampling_error_components</c> and
    /// <c>multiclass_confusion_matrix_sampling_error</c>, the same per cell of the sklearn confusion matrix): the
    /// reference above has counts [[1, 1, 0], [0, 2, 0], [1, 0, 1]] of 6, so a cell of 1 has σ² = (1/6)(5/6) = 5/36, of 2
    /// σ² = 2/9 and of 0 none; on 30 rows √(30 · 5/36) = 2.0412 and √(30 · 2/9) = 2.5820.
    /// </summary>
    [Fact]
    public void Confusion_matrix_counts_have_nannyml_unnormalized_sampling_errors()
    {
        double[] scores = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1];
        bool[] actual = [true, true, false, true, true, false, false, false];

        var binary = CbpeSamplingError.FitBinary(scores, actual, scores.Select(s => s >= 0.5).ToArray()).For(50).ConfusionMatrix;

        binary[1][1].ShouldBe(3.4233, 1e-4, "true positives");
        binary[0][0].ShouldBe(Math.Sqrt(50 * 15 / 64.0), 1e-12, "true negatives");
        binary[0][1].ShouldBe(2.3385, 1e-4, "false positives");
        binary[1][0].ShouldBe(Math.Sqrt(50 * 7 / 64.0), 1e-12, "false negatives");

        IReadOnlyList<double>[] multiclassScores = [[0.7, 0.2, 0.1], [0.4, 0.5, 0.1], [0.1, 0.8, 0.1], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8], [0.5, 0.1, 0.4]];
        var multiclass = CbpeSamplingError.FitMulticlass(multiclassScores, [0, 0, 1, 1, 2, 2], MulticlassCbpe.PredictedClasses(multiclassScores), 3).For(30).ConfusionMatrix;

        double[][] expected = [[2.0412, 2.0412, 0], [0, 2.5820, 0], [2.0412, 0, 2.0412]];
        for (var i = 0; i < 3; i++)
        {
            multiclass[i].ShouldBe(expected[i], 1e-4);
        }

        multiclass[1][1].ShouldBe(Math.Sqrt(30 * 2 / 9.0), 1e-12);
    }

    /// <summary>
    /// The normalized matrix's errors (<c>normalize_confusion_matrix</c> true, pred, all), by hand from NannyML's
    /// <c>multiclass_confusion_matrix_sampling_error_components</c> and <c>multiclass_confusion_matrix_sampling_error</c>
    /// (and the binary <c>true_positive_sampling_error_components</c>/<c>true_positive_sampling_error</c> and the other
    /// three cells', the same on the 2 × 2 matrix). The multiclass reference above, counts [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    /// of 6, on 30 rows. <c>all</c>: σ over all 6 rows, <c>reference_std / np.sqrt(len(data))</c>: a cell of 1 √((5/36)/30),
    /// of 2 √((2/9)/30). <c>true</c>: σ over the rows of the cell's true class (each class has 2), f = 2/6,
    /// <c>reference_std / np.sqrt(len(data) * relevant_proportion)</c>: a cell of 1 of 2 has σ² = ¼, √(¼/10); of 2 of 2 or
    /// 0 of 2, σ = 0. <c>pred</c>: over the rows of the cell's predicted class (columns of 2, 3 and 1 rows): cell [0][0]
    /// 1 of 2 → √(¼/10); [0][1] and [1][1], 1 and 2 of 3 → σ² = 2/9, f = 1/2, √((2/9)/15); [2][2] 1 of 1 → 0.
    /// The binary reference above (TP 3, FP 1, FN 1, TN 3 of 8) on 50 rows: <c>true</c> TP is 3 of the 4 real positives,
    /// σ² = 3/16, f = 1/2 (<c>proportion_of_real_positives</c>), √((3/16)/25); <c>pred</c> FP is 1 of the 4 predicted
    /// positives, the same; <c>all</c> TP √((15/64)/50).
    /// </summary>
    [Fact]
    public void Normalized_confusion_matrix_errors_follow_nannyml_per_normalization()
    {
        IReadOnlyList<double>[] scores = [[0.7, 0.2, 0.1], [0.4, 0.5, 0.1], [0.1, 0.8, 0.1], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8], [0.5, 0.1, 0.4]];
        var fitted = CbpeSamplingError.FitMulticlass(scores, [0, 0, 1, 1, 2, 2], MulticlassCbpe.PredictedClasses(scores), 3);

        double one = Math.Sqrt(5 / 36.0 / 30), two = Math.Sqrt(2 / 9.0 / 30), half = Math.Sqrt(0.25 / 10), third = Math.Sqrt(2 / 9.0 / 15);
        double[][] all = [[one, one, 0], [0, two, 0], [one, 0, one]];
        double[][] byTrue = [[half, half, 0], [0, 0, 0], [half, 0, half]];
        double[][] byPrediction = [[half, third, 0], [0, third, 0], [half, 0, 0]];
        foreach (var (normalization, expected) in new[] { (ConfusionNormalization.All, all), (ConfusionNormalization.True, byTrue), (ConfusionNormalization.Pred, byPrediction) })
        {
            var errors = fitted.For(30, normalization);
            for (var i = 0; i < 3; i++)
            {
                errors.ConfusionMatrix[i].ShouldBe(expected[i], 1e-12, $"{normalization}, true class {i}");
            }

            errors.Accuracy.ShouldBe(fitted.For(30).Accuracy, "the rates' errors do not depend on the normalization");
        }

        fitted.For(30).ConfusionMatrix[1][1].ShouldBe(Math.Sqrt(30 * 2 / 9.0), 1e-12, "the counts' error as before");

        double[] binaryScores = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1];
        var binary = CbpeSamplingError.FitBinary(binaryScores, [true, true, false, true, true, false, false, false], binaryScores.Select(s => s >= 0.5).ToArray());
        binary.For(50, ConfusionNormalization.True).ConfusionMatrix[1][1].ShouldBe(Math.Sqrt(3 / 16.0 / 25), 1e-12, "true positives among the real positives");
        binary.For(50, ConfusionNormalization.Pred).ConfusionMatrix[0][1].ShouldBe(Math.Sqrt(3 / 16.0 / 25), 1e-12, "false positives among the predicted positives");
        binary.For(50, ConfusionNormalization.All).ConfusionMatrix[1][1].ShouldBe(Math.Sqrt(15 / 64.0 / 50), 1e-12);
    }

    /// <summary>
    /// A reference without rows of a class (no real positives) has no error for that class's normalized cells: NannyML's
    /// <c>np.std</c> of an empty array is NaN. The other row still has one: 2 false positives of 4 real negatives, σ² = ¼, f = 1.
    /// </summary>
    [Fact]
    public void Normalized_errors_of_a_class_the_reference_lacks_are_nan()
    {
        var errors = CbpeSamplingError.FitBinary([0.1, 0.6, 0.3, 0.7], [false, false, false, false], [false, true, false, true]).For(10, ConfusionNormalization.True).ConfusionMatrix;

        (double.IsNaN(errors[1][1]), double.IsNaN(errors[1][0])).ShouldBe((true, true));
        (errors[0][1], errors[0][0]).ShouldBe((Math.Sqrt(0.25 / 10), Math.Sqrt(0.25 / 10)));
    }

    /// <summary>A metric with no relevant reference rows (no predicted positives for precision) has no sampling error, as NannyML returns NaN; the band clips to [0, 1].</summary>
    [Fact]
    public void Undefined_components_give_nan_and_the_band_clips()
    {
        var errors = CbpeSamplingError.FitBinary([0.1, 0.2, 0.3, 0.4], [true, false, true, false], new bool[4]).For(10);

        errors.Precision.ShouldBe(double.NaN);
        errors.Accuracy.ShouldBe(0.5 / Math.Sqrt(10), 1e-12);
        var (lower, upper) = CbpeSamplingError.Band(0.9, 0.05);
        (lower, upper).ShouldBe((0.9 - 0.15, 1.0));
        (lower, upper) = CbpeSamplingError.Band(0.1, 0.05);
        (lower, upper).ShouldBe((0.0, 0.1 + 0.15));
    }

    /// <summary>
    /// The expected counts' band is clipped only below, at 0: NannyML's confusion-matrix metrics
    /// (<c>nannyml/performance_estimation/confidence_based/metrics.py</c>) set <c>lower_threshold_value_limit=0</c> and
    /// leave <c>upper_threshold_value_limit</c> None unless <c>normalize_confusion_matrix</c> is given, then bound the band
    /// with <c>np.maximum(0, estimate − 3·se)</c> and <c>np.minimum(np.inf, estimate + 3·se)</c>.
    /// </summary>
    [Fact]
    public void The_counts_band_is_clipped_at_0_only()
    {
        CbpeSamplingError.Band(9488.96, 50, double.PositiveInfinity).ShouldBe((9488.96 - 150, 9488.96 + 150));
        CbpeSamplingError.Band(5, 2, double.PositiveInfinity).ShouldBe((0.0, 11.0));
    }
}
