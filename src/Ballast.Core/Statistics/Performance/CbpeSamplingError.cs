namespace Ballast.Statistics.Performance;

/// <summary>
/// The sampling error (standard error) of each CBPE estimate for a set of a given size; NaN where the reference cannot
/// give one. <see cref="ConfusionMatrix"/>[i][j] is the error of the expected count of rows of true class i predicted
/// as j (binary: 0 the negative class, 1 the positive, so [1][1] is the true positives' and [0][1] the false positives').
/// </summary>
public sealed record CbpeSamplingErrors(double Accuracy, double Precision, double Recall, double Specificity, double F1, double RocAuc, IReadOnlyList<IReadOnlyList<double>> ConfusionMatrix);

/// <summary>
/// NannyML's sampling error of CBPE's estimates (<c>nannyml/sampling_error/binary_classification.py</c> and
/// <c>multiclass_classification.py</c>, docs/how_it_works/estimation_of_standard_error.rst): components fitted once on
/// the reference's labels and predictions, then scaled to a chunk of n rows. Per metric the reference gives a
/// population variance σ² of an observation-level 0/1 variable and the fraction f of rows it is defined on, and the
/// sampling error is √(σ² / (n·f)) — the standard error of a mean over the n·f relevant rows:
/// accuracy: every row correct or not (f = 1); precision: the predicted positives, 1 when correct (f = their share);
/// recall: the actual positives, 1 when predicted (f = their share); specificity: true negatives (1) and false
/// positives (0), f = their share; F1: true positives (1), false negatives and false positives (0) — in the binary case
/// scaled by n_rel / (TP + ½(FN + FP)) (<c>f1_sampling_error_components</c>), not in the multiclass one; ROC AUC: the
/// Mann–Whitney form (<c>auroc_sampling_error_components</c>: for each positive, ranked by score from the lowest,
/// its rank minus its index among the positives, over the number of negatives; labels flipped first when more than half
/// are positive; f = the positive share). Multiclass metrics are macro averages of one-vs-rest classes, so their error
/// combines the classes' components: √(Σ_c σ_c² / (n·f_c)) / C (<c>_standard_deviation_of_variances</c>), and ROC AUC's
/// is 1.2 times that (<c>auroc_sampling_error</c>: "experiments showed that std of class variances underestimated
/// sampling error by 20%"); multiclass accuracy is one component over all rows. NannyML draws the estimate
/// ± 3 sampling errors (<c>SAMPLING_ERROR_RANGE</c>), clipped to [0, 1], as its confidence band.
/// The expected confusion-matrix counts (not normalized, CBPE's default <c>normalize_confusion_matrix=None</c>) have
/// √n · σ, σ the standard deviation over the reference rows of "this row is in the cell" (share s: σ² = s(1 − s)):
/// <c>true_positive_sampling_error</c> (and the other three cells) as <c>(reference_std / np.sqrt(len(data))) * len(data)</c>,
/// and <c>multiclass_confusion_matrix_sampling_error</c> likewise per cell. Normalized (<see cref="ConfusionNormalization"/>):
/// <c>all</c>, σ / √n with the same σ; <c>true</c>, σ over the reference rows of the cell's true class only (1 in the
/// cell, 0 elsewhere in its row) and f their share, √(σ² / (n·f)); <c>pred</c> likewise over the rows of the cell's
/// predicted class (<c>true_positive_sampling_error_components</c> … with <c>normalize_confusion_matrix</c>, and
/// <c>multiclass_confusion_matrix_sampling_error_components</c>); NaN when the reference has no rows of that class.
/// </summary>
public sealed class CbpeSamplingError
{
    /// <summary>NannyML's <c>SAMPLING_ERROR_RANGE</c>: the band is the estimate ± this many sampling errors.</summary>
    public const double BandWidth = 3;

    /// <summary>NannyML's correction of the multiclass ROC AUC sampling error.</summary>
    public const double MulticlassRocAucFactor = 1.2;

    private readonly Component[] _accuracy;
    private readonly Component[] _precision;
    private readonly Component[] _recall;
    private readonly Component[] _specificity;
    private readonly Component[] _f1;
    private readonly Component[] _rocAuc;
    private readonly double _rocAucFactor;
    private readonly int[][] _cells;

    private CbpeSamplingError(Component[] accuracy, Component[] precision, Component[] recall, Component[] specificity, Component[] f1, Component[] rocAuc, double rocAucFactor, int[][] cells)
    {
        _cells = cells;
        _accuracy = accuracy;
        _precision = precision;
        _recall = recall;
        _specificity = specificity;
        _f1 = f1;
        _rocAuc = rocAuc;
        _rocAucFactor = rocAucFactor;
    }

    /// <summary>A population variance σ² and the fraction f of rows the metric is defined on.</summary>
    private readonly record struct Component(double Variance, double Fraction);

    /// <summary>
    /// Components of a binary classifier from its reference: the model's scores (for ROC AUC), the true labels and the
    /// predicted labels (NannyML fits them on the uncalibrated scores, before calibration).
    /// </summary>
    public static CbpeSamplingError FitBinary(ReadOnlySpan<double> referenceScores, ReadOnlySpan<bool> referenceActual, ReadOnlySpan<bool> referencePredicted)
    {
        Check(referenceScores.Length, referenceActual.Length, referencePredicted.Length);
        var correct = 0;
        for (var i = 0; i < referenceActual.Length; i++)
        {
            correct += referenceActual[i] == referencePredicted[i] ? 1 : 0;
        }

        var counts = Counts(referenceActual, referencePredicted);
        return new CbpeSamplingError(
            [new(Bernoulli(correct, referenceActual.Length), 1)],
            [Precision(counts)],
            [Recall(counts)],
            [Specificity(counts)],
            [F1(counts, correcting: true)],
            [RocAuc(referenceScores, referenceActual)],
            rocAucFactor: 1,
            [[counts.TrueNegatives, counts.FalsePositives], [counts.FalseNegatives, counts.TruePositives]]);
    }

    /// <summary>
    /// Components of a multiclass classifier from its reference: per row the model's score of each class (for ROC AUC),
    /// the index of the true class and of the predicted one (0 to C − 1).
    /// </summary>
    public static CbpeSamplingError FitMulticlass(IReadOnlyList<IReadOnlyList<double>> referenceScores, ReadOnlySpan<int> referenceActual, ReadOnlySpan<int> referencePredicted, int classes)
    {
        ArgumentNullException.ThrowIfNull(referenceScores);
        Check(referenceScores.Count, referenceActual.Length, referencePredicted.Length);
        if (classes < 2)
        {
            throw new ArgumentException($"a multiclass model has at least 2 classes (got {classes}).");
        }

        var correct = 0;
        var cells = new int[classes][];
        for (var c = 0; c < classes; c++)
        {
            cells[c] = new int[classes];
        }

        for (var i = 0; i < referenceActual.Length; i++)
        {
            if (referenceActual[i] < 0 || referenceActual[i] >= classes || referencePredicted[i] < 0 || referencePredicted[i] >= classes)
            {
                throw new ArgumentException($"row {i} has class {referenceActual[i]} and prediction {referencePredicted[i]}; classes are 0 to {classes - 1}.");
            }

            if (referenceScores[i].Count != classes)
            {
                throw new ArgumentException($"row {i} has {referenceScores[i].Count} scores; give one per class ({classes}).");
            }

            correct += referenceActual[i] == referencePredicted[i] ? 1 : 0;
            cells[referenceActual[i]][referencePredicted[i]]++;
        }

        var precision = new Component[classes];
        var recall = new Component[classes];
        var specificity = new Component[classes];
        var f1 = new Component[classes];
        var rocAuc = new Component[classes];
        var actual = new bool[referenceActual.Length];
        var predicted = new bool[referenceActual.Length];
        var scores = new double[referenceActual.Length];
        for (var c = 0; c < classes; c++)
        {
            for (var i = 0; i < actual.Length; i++)
            {
                actual[i] = referenceActual[i] == c;
                predicted[i] = referencePredicted[i] == c;
                scores[i] = referenceScores[i][c];
            }

            var counts = Counts(actual, predicted);
            precision[c] = Precision(counts);
            recall[c] = Recall(counts);
            specificity[c] = Specificity(counts);
            f1[c] = F1(counts, correcting: false);
            rocAuc[c] = RocAuc(scores, actual);
        }

        return new CbpeSamplingError([new(Bernoulli(correct, referenceActual.Length), 1)], precision, recall, specificity, f1, rocAuc, MulticlassRocAucFactor, cells);
    }

    /// <summary>
    /// The sampling errors of the estimates on a set of <paramref name="rows"/> rows; the confusion matrix's for its
    /// cells normalized as <paramref name="normalization"/> (the counts by default).
    /// </summary>
    public CbpeSamplingErrors For(int rows, ConfusionNormalization normalization = ConfusionNormalization.None)
    {
        if (rows <= 0)
        {
            throw new ArgumentException($"the sampling error is of a set of at least 1 row (got {rows}).");
        }

        return new CbpeSamplingErrors(Combine(_accuracy, rows), Combine(_precision, rows), Combine(_recall, rows), Combine(_specificity, rows), Combine(_f1, rows),
            _rocAucFactor * Combine(_rocAuc, rows), CellErrors(rows, normalization));
    }

    /// <summary>
    /// Per cell of the reference's confusion matrix: the counts' √(n·σ²), σ² the population variance of "the row is in
    /// this cell" over every reference row; <c>all</c>'s √(σ²/n); <c>true</c> and <c>pred</c>'s √(σ²/(n·f)) with σ² over the
    /// rows of the cell's true (predicted) class and f their share of the reference.
    /// </summary>
    private IReadOnlyList<double>[] CellErrors(int rows, ConfusionNormalization normalization)
    {
        var size = _cells.Length;
        var total = _cells.Sum(row => row.Sum());
        var trueCounts = _cells.Select(row => row.Sum()).ToArray();
        var predictedCounts = Enumerable.Range(0, size).Select(j => _cells.Sum(row => row[j])).ToArray();
        return _cells.Select((row, i) => (IReadOnlyList<double>)row.Select((count, j) =>
        {
            var relevant = normalization switch
            {
                ConfusionNormalization.True => trueCounts[i],
                ConfusionNormalization.Pred => predictedCounts[j],
                _ => total,
            };
            var variance = Bernoulli(count, relevant);
            return normalization switch
            {
                ConfusionNormalization.None => Math.Sqrt(rows * variance),
                ConfusionNormalization.All => Math.Sqrt(variance / rows),
                _ => relevant == 0 ? double.NaN : Math.Sqrt(variance / (rows * ((double)relevant / total))),
            };
        }).ToArray()).ToArray();
    }

    /// <summary>
    /// NannyML's confidence band: the estimate ± 3 sampling errors, clipped to [0, <paramref name="upper"/>]. Rates and
    /// normalized confusion-matrix cells are clipped to [0, 1]; the expected counts only below, at 0 (NannyML's
    /// confusion matrix has <c>lower_threshold_value_limit=0</c> and no upper limit when not normalized): pass
    /// <see cref="double.PositiveInfinity"/>.
    /// </summary>
    public static (double Lower, double Upper) Band(double estimate, double samplingError, double upper = 1) =>
        (Math.Max(0, estimate - (BandWidth * samplingError)), Math.Min(upper, estimate + (BandWidth * samplingError)));

    /// <summary>√(Σ σ² / (n·f)) / C; NaN when a component is undefined (no relevant rows in the reference).</summary>
    private static double Combine(Component[] components, int rows)
    {
        double sum = 0;
        foreach (var (variance, fraction) in components)
        {
            if (!double.IsFinite(variance) || !(fraction > 0))
            {
                return double.NaN;
            }

            sum += variance / (rows * fraction);
        }

        return Math.Sqrt(sum) / components.Length;
    }

    private readonly record struct Confusion(int TruePositives, int FalsePositives, int FalseNegatives, int TrueNegatives)
    {
        public int Total => TruePositives + FalsePositives + FalseNegatives + TrueNegatives;
    }

    private static Confusion Counts(ReadOnlySpan<bool> actual, ReadOnlySpan<bool> predicted)
    {
        int tp = 0, fp = 0, fn = 0, tn = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            (tp, fp, fn, tn) = (actual[i], predicted[i]) switch
            {
                (true, true) => (tp + 1, fp, fn, tn),
                (false, true) => (tp, fp + 1, fn, tn),
                (true, false) => (tp, fp, fn + 1, tn),
                _ => (tp, fp, fn, tn + 1),
            };
        }

        return new Confusion(tp, fp, fn, tn);
    }

    /// <summary>The population variance of <paramref name="ones"/> ones among <paramref name="count"/> 0/1 values (NaN for none, as <c>np.var([])</c>).</summary>
    private static double Bernoulli(int ones, int count)
    {
        if (count == 0)
        {
            return double.NaN;
        }

        var p = (double)ones / count;
        return p * (1 - p);
    }

    /// <summary><c>precision_sampling_error_components</c>: TP as 1 and FP as 0; f = the predicted positives' share.</summary>
    private static Component Precision(Confusion m) =>
        new(Bernoulli(m.TruePositives, m.TruePositives + m.FalsePositives), (double)(m.TruePositives + m.FalsePositives) / m.Total);

    /// <summary><c>recall_sampling_error_components</c>: TP as 1 and FN as 0; f = the actual positives' share.</summary>
    private static Component Recall(Confusion m) =>
        new(Bernoulli(m.TruePositives, m.TruePositives + m.FalseNegatives), (double)(m.TruePositives + m.FalseNegatives) / m.Total);

    /// <summary><c>specificity_sampling_error_components</c>: TN as 1 and FP as 0; f = their share.</summary>
    private static Component Specificity(Confusion m) =>
        new(Bernoulli(m.TrueNegatives, m.TrueNegatives + m.FalsePositives), (double)(m.TrueNegatives + m.FalsePositives) / m.Total);

    /// <summary>
    /// <c>f1_sampling_error_components</c>: TP as 1, FN and FP as 0, f = their share; the binary version multiplies the
    /// values by n_rel / (TP + ½(FN + FP)), so the variance by its square.
    /// </summary>
    private static Component F1(Confusion m, bool correcting)
    {
        var relevant = m.TruePositives + m.FalseNegatives + m.FalsePositives;
        if (relevant == 0)
        {
            return new(double.NaN, 0);
        }

        var factor = correcting ? relevant / ((0.5 * (m.FalseNegatives + m.FalsePositives)) + m.TruePositives) : 1;
        return new(factor * factor * Bernoulli(m.TruePositives, relevant), (double)relevant / m.Total);
    }

    /// <summary>
    /// <c>auroc_sampling_error_components</c>: labels (and scores, as 1 − s) flipped when more than half are positive;
    /// rows ranked by score ascending (ties by position: numpy's default argsort is not stable, so NannyML's order of
    /// tied scores is arbitrary); for the positives with a rank above 0, rank − (their index among them), over the
    /// negatives' count; f = the positive share.
    /// </summary>
    private static Component RocAuc(ReadOnlySpan<double> scores, ReadOnlySpan<bool> actual)
    {
        var n = actual.Length;
        var positives = 0;
        foreach (var a in actual)
        {
            positives += a ? 1 : 0;
        }

        var flip = positives * 2 > n;
        var label = new bool[n];
        var keys = new double[n];
        for (var i = 0; i < n; i++)
        {
            label[i] = actual[i] != flip;
            keys[i] = flip ? 1 - scores[i] : scores[i];
        }

        var order = Enumerable.Range(0, n).OrderBy(i => keys[i]).ToArray();
        var nPositive = flip ? n - positives : positives;
        var nNegative = n - nPositive;
        if (nPositive == 0 || nNegative == 0)
        {
            return new(double.NaN, 0);
        }

        var values = new List<double>(nPositive);
        for (var rank = 1; rank < n; rank++)
        {
            if (label[order[rank]])
            {
                values.Add((double)(rank - values.Count) / nNegative);
            }
        }

        if (values.Count == 0)
        {
            return new(double.NaN, 0);
        }

        double mean = values.Average(), variance = 0;
        foreach (var v in values)
        {
            variance += (v - mean) * (v - mean);
        }

        return new(variance / values.Count, (double)nPositive / n);
    }

    private static void Check(int scores, int actual, int predicted)
    {
        if (scores != actual || actual != predicted || actual == 0)
        {
            throw new ArgumentException($"the reference needs as many scores, labels and predictions, at least one (got {scores}, {actual} and {predicted}).");
        }
    }
}
