namespace Ballast.Statistics.Performance;

/// <summary>
/// The performance CBPE expects a multiclass classifier to have: accuracy, and the macro averages over the classes of
/// the one-vs-rest precision, recall, specificity, F1 and ROC AUC. <see cref="ConfusionMatrix"/>[i][j] is the expected
/// number of rows of true class i predicted as j.
/// </summary>
public sealed record MulticlassCbpeEstimate(
    int Count,
    double Accuracy,
    double Precision,
    double Recall,
    double Specificity,
    double F1,
    double RocAuc,
    IReadOnlyList<IReadOnlyList<double>> ConfusionMatrix);

/// <summary>
/// Per-class calibration of a multiclass model's scores (NannyML's <c>_fit_calibrators</c> and
/// <c>_calibrate_predicted_probabilities</c> in <c>cbpe.py</c>): each class's score is calibrated one-vs-rest with
/// its own <see cref="CbpeCalibration"/> (isotonic only when that class needs it), then each row is divided by its sum
/// so the classes' probabilities add up to 1 (a row summing to 0 becomes uniform, 1/C each).
/// </summary>
public sealed class MulticlassCbpeCalibration
{
    private readonly CbpeCalibration[] _classes;

    internal MulticlassCbpeCalibration(CbpeCalibration[] classes)
    {
        _classes = classes;
    }

    /// <summary>No class calibrated: rows are only normalized to sum to 1.</summary>
    public static MulticlassCbpeCalibration None(int classes) =>
        new(Enumerable.Range(0, classes).Select(_ => new CbpeCalibration(null)).ToArray());

    public int Classes => _classes.Length;

    /// <summary>How many classes' scores isotonic regression calibrates.</summary>
    public int Calibrated => _classes.Count(calibration => calibration.Calibrates);

    public double[][] Calibrate(IReadOnlyList<IReadOnlyList<double>> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        MulticlassCbpe.Check(scores, Classes, "scores");
        var calibrated = new double[scores.Count][];
        var column = new double[scores.Count];
        for (var i = 0; i < scores.Count; i++)
        {
            calibrated[i] = new double[Classes];
        }

        for (var c = 0; c < Classes; c++)
        {
            for (var i = 0; i < scores.Count; i++)
            {
                column[i] = scores[i][c];
            }

            var values = _classes[c].Calibrate(column);
            for (var i = 0; i < scores.Count; i++)
            {
                calibrated[i][c] = values[i];
            }
        }

        foreach (var row in calibrated)
        {
            var sum = row.Sum();
            for (var c = 0; c < row.Length; c++)
            {
                row[c] = sum > 0 ? row[c] / sum : 1.0 / row.Length;
            }
        }

        return calibrated;
    }
}

/// <summary>
/// NannyML's CBPE for multiclass classifiers (<c>nannyml/performance_estimation/confidence_based/metrics.py</c>,
/// <c>MulticlassClassification*</c>): every class is a one-vs-rest binary problem whose probability is the class's
/// calibrated probability and whose predicted positives are the rows predicted as that class; precision, recall,
/// specificity, F1 and ROC AUC are the binary estimates (<see cref="Cbpe"/>) averaged over the classes with equal weight
/// (<c>np.mean(ovr_estimates)</c>, macro); accuracy is the mean probability of the predicted class
/// (<c>MulticlassClassificationAccuracy._estimate</c>); the expected confusion matrix has Σ_{ŷ=j} p_i in row i,
/// column j (<c>_get_multiclass_confusion_matrix_estimate</c>). ROC AUC ranks each class's rows by the model's own
/// score of that class.
/// </summary>
public static class MulticlassCbpe
{
    /// <summary>The predicted class of each row: the highest score, the first class on ties (numpy's <c>argmax</c>).</summary>
    public static int[] PredictedClasses(IReadOnlyList<IReadOnlyList<double>> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var predicted = new int[scores.Count];
        for (var i = 0; i < scores.Count; i++)
        {
            var row = scores[i];
            for (var c = 1; c < row.Count; c++)
            {
                if (row[c] > row[predicted[i]])
                {
                    predicted[i] = c;
                }
            }
        }

        return predicted;
    }

    /// <summary>
    /// Estimates from calibrated probabilities (one row per prediction, one column per class) and the predicted class
    /// indices; <paramref name="scores"/> (the model's raw scores, the probabilities by default) rank for ROC AUC.
    /// </summary>
    public static MulticlassCbpeEstimate Estimate(IReadOnlyList<IReadOnlyList<double>> probabilities, ReadOnlySpan<int> predicted, IReadOnlyList<IReadOnlyList<double>>? scores = null)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        if (probabilities.Count == 0)
        {
            throw new ArgumentException("CBPE needs at least one prediction.");
        }

        var classes = probabilities[0].Count;
        if (classes < 2)
        {
            throw new ArgumentException($"a multiclass model has at least 2 classes (got {classes} probabilities a row).");
        }

        Check(probabilities, classes, "calibrated probabilities");
        scores ??= probabilities;
        Check(scores, classes, "scores", probabilitiesOnly: false);
        if (predicted.Length != probabilities.Count || scores.Count != probabilities.Count)
        {
            throw new ArgumentException($"there are {probabilities.Count} rows of probabilities, {predicted.Length} predictions and {scores.Count} rows of scores; give one of each per row.");
        }

        double accuracy = 0;
        for (var i = 0; i < predicted.Length; i++)
        {
            if (predicted[i] < 0 || predicted[i] >= classes)
            {
                throw new ArgumentException($"prediction {i} is class {predicted[i]}; classes are 0 to {classes - 1}.");
            }

            accuracy += probabilities[i][predicted[i]];
        }

        double precision = 0, recall = 0, specificity = 0, f1 = 0, rocAuc = 0;
        var matrix = new double[classes][];
        var p = new double[probabilities.Count];
        var s = new double[probabilities.Count];
        var isPredicted = new bool[probabilities.Count];
        for (var c = 0; c < classes; c++)
        {
            matrix[c] = new double[classes];
            for (var i = 0; i < p.Length; i++)
            {
                p[i] = probabilities[i][c];
                s[i] = scores[i][c];
                isPredicted[i] = predicted[i] == c;
                matrix[c][predicted[i]] += p[i];
            }

            var estimate = Cbpe.Estimate(p, isPredicted, s);
            precision += estimate.Precision;
            recall += estimate.Recall;
            specificity += estimate.Specificity;
            f1 += estimate.F1;
            rocAuc += estimate.RocAuc;
        }

        return new MulticlassCbpeEstimate(probabilities.Count, accuracy / probabilities.Count, precision / classes, recall / classes, specificity / classes, f1 / classes,
            rocAuc / classes, matrix);
    }

    /// <summary>
    /// Fits one <see cref="CbpeCalibration"/> per class on the reference (scores per row and class, the true class index
    /// of each row), deciding for each class as <see cref="Cbpe.FitCalibration"/> does; the classes draw their splits
    /// from <paramref name="random"/> in order.
    /// </summary>
    public static MulticlassCbpeCalibration FitCalibration(IReadOnlyList<IReadOnlyList<double>> referenceScores, ReadOnlySpan<int> referenceActual, int classes, Random random)
    {
        ArgumentNullException.ThrowIfNull(referenceScores);
        ArgumentNullException.ThrowIfNull(random);
        if (classes < 2)
        {
            throw new ArgumentException($"a multiclass model has at least 2 classes (got {classes}).");
        }

        Check(referenceScores, classes, "reference scores");
        if (referenceActual.Length != referenceScores.Count)
        {
            throw new ArgumentException($"there are {referenceScores.Count} rows of reference scores but {referenceActual.Length} labels.");
        }

        var calibrations = new CbpeCalibration[classes];
        var column = new double[referenceScores.Count];
        var actual = new bool[referenceScores.Count];
        for (var c = 0; c < classes; c++)
        {
            for (var i = 0; i < column.Length; i++)
            {
                column[i] = referenceScores[i][c];
                actual[i] = referenceActual[i] == c;
            }

            calibrations[c] = Cbpe.FitCalibration(column, actual, random);
        }

        return new MulticlassCbpeCalibration(calibrations);
    }

    internal static void Check(IReadOnlyList<IReadOnlyList<double>> rows, int classes, string what, bool probabilitiesOnly = true)
    {
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i] ?? throw new ArgumentException($"{what}[{i}] is null.");
            if (row.Count != classes)
            {
                throw new ArgumentException($"{what}[{i}] has {row.Count} values; give one per class ({classes}).");
            }

            foreach (var value in row)
            {
                if (probabilitiesOnly ? !(value is >= 0 and <= 1) : !double.IsFinite(value))
                {
                    throw new ArgumentException($"{what}[{i}] has {value}; {(probabilitiesOnly ? "probabilities must be between 0 and 1" : "scores must be finite numbers")}.");
                }
            }
        }
    }
}
