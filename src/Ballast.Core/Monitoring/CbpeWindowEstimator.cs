using Ballast.Statistics.Performance;

namespace Ballast.Monitoring;

/// <summary>
/// Label-free estimated performance per window (NannyML's CBPE): of a binary classifier (<see cref="Cbpe"/>) from the
/// probability of <c>estimated.probability_output</c>, or of a multiclass one (<see cref="MulticlassCbpe"/>) from the
/// [N, C] output whose columns are <c>estimated.classes</c>. The probabilities are calibrated on the reference when it
/// has labels (feedback of a traffic reference, or the label column of a dataset reference beside columns named as the
/// output), and the same labels give each estimate its sampling error (<see cref="CbpeSamplingError"/>). Metrics
/// <c>estimated.accuracy|precision|recall|specificity|f1|roc_auc</c> and the expected confusion-matrix counts
/// (<c>estimated.true_positive|false_positive|true_negative|false_negative</c>, or <c>estimated.true_A_pred_B</c> per
/// pair of classes; normalized as NannyML's <c>normalize_confusion_matrix</c> when <c>estimated.normalize_confusion_matrix</c>
/// says <c>true</c>, <c>pred</c> or <c>all</c>), each with <c>.sampling_error</c>, <c>estimated.calibrated</c>
/// (1 when calibration was applied, to any class) and <c>estimated.rows</c> (the window's rows estimated).
/// Calibration's random splits are seeded, so a window gives the same estimate every time. A dataset reference with
/// labels but without the model's probabilities is scored with the endpoint's model when a <see cref="ReferenceScorer"/>
/// is given (the server gives one).
/// </summary>
public sealed class CbpeWindowEstimator(ReferenceScorer? scorer = null) : IWindowEstimator
{
    /// <summary>Seed of the calibration decision's stratified splits.</summary>
    public const int Seed = 42;

    public const string DefaultLabel = "label";

    public string Name => "cbpe";

    public async Task<WindowHookResult> EstimateAsync(MonitorWindowContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Spec.Estimated switch
        {
            null => WindowHookResult.None,
            { Classes: { Count: > 0 } classes } estimated => await EstimateMulticlassAsync(context, estimated, classes, cancellationToken).ConfigureAwait(false),
            var estimated => await EstimateAsync(context, estimated, cancellationToken).ConfigureAwait(false),
        };
    }

    private async Task<WindowHookResult> EstimateAsync(MonitorWindowContext context, MonitorEstimated estimated, CancellationToken cancellationToken)
    {
        var name = estimated.ProbabilityOutput!;
        if (WindowValues.ProbabilityColumn(context.Window.Outputs, name) is not { } column)
        {
            return WindowHookResult.Note($"no estimated performance: the window has no output '{name}' with one probability per row, or [N, 2] " +
                $"(outputs: {string.Join(", ", context.Window.Outputs.Keys)})");
        }

        var scores = context.Window.Outputs[column].Select(WindowValues.Number).Where(p => p is >= 0 and <= 1).Select(p => p!.Value).ToArray();
        if (scores.Length < context.MinRows)
        {
            return WindowHookResult.Note($"no estimated performance: {scores.Length} rows have a probability in '{column}', fewer than min_rows {context.MinRows}");
        }

        var notes = new List<string>();
        var probabilities = scores;
        var calibrated = false;
        var threshold = estimated.Threshold ?? Cbpe.DefaultThreshold;
        var normalization = Normalization(estimated);
        CbpeSamplingErrors? errors = null;
        var scored = await ScoredAsync(context, [column], [estimated.ProbabilityOutput!], notes, cancellationToken).ConfigureAwait(false);
        if (ReferenceLabels(context, estimated, [column], [estimated.ProbabilityOutput!], scored, notes) is { } reference)
        {
            var referenceScores = reference.Scores.Select(row => row[0]).ToArray();
            var positive = reference.Labels.Select(label => label == estimated.PositiveClass).ToArray();
            var calibration = Cbpe.FitCalibration(referenceScores, positive, new Random(Seed));
            if (calibration.Calibrates)
            {
                probabilities = calibration.Calibrate(scores);
                calibrated = true;
            }

            errors = CbpeSamplingError.FitBinary(referenceScores, positive, referenceScores.Select(score => score >= threshold).ToArray()).For(scores.Length, normalization);
        }

        var predicted = scores.Select(score => score >= threshold).ToArray();
        var estimate = Cbpe.Estimate(probabilities, predicted, scores);
        var matrix = ConfusionNormalizations.Normalize(estimate.ConfusionMatrix, normalization, scores.Length);
        var cellErrors = errors?.ConfusionMatrix;
        (string, double, double?)[] cells =
        [
            (MonitorMetricNames.EstimatedTruePositive, matrix.TruePositives, cellErrors?[1][1]),
            (MonitorMetricNames.EstimatedFalsePositive, matrix.FalsePositives, cellErrors?[0][1]),
            (MonitorMetricNames.EstimatedTrueNegative, matrix.TrueNegatives, cellErrors?[0][0]),
            (MonitorMetricNames.EstimatedFalseNegative, matrix.FalseNegatives, cellErrors?[1][0]),
        ];
        return Result(scores.Length, calibrated, (estimate.Accuracy, estimate.Precision, estimate.Recall, estimate.Specificity, estimate.F1, estimate.RocAuc), cells, normalization, errors, notes);
    }

    private async Task<WindowHookResult> EstimateMulticlassAsync(MonitorWindowContext context, MonitorEstimated estimated, IReadOnlyList<string> classes, CancellationToken cancellationToken)
    {
        var name = estimated.ProbabilityOutput!;
        var columns = Enumerable.Range(0, classes.Count).Select(c => $"{name}[{c}]").ToArray();
        var outputs = context.Window.Outputs;
        if (columns.Any(c => !outputs.ContainsKey(c)) || outputs.ContainsKey($"{name}[{classes.Count}]"))
        {
            return WindowHookResult.Note($"no estimated performance: the window has no output '{name}' of [N, {classes.Count}] probabilities, one per class " +
                $"({string.Join(", ", classes)}) (outputs: {string.Join(", ", outputs.Keys)})");
        }

        var scores = Rows(columns.Select(c => (IReadOnlyList<object?>)outputs[c]).ToArray(), outputs[columns[0]].Count, _ => true).Scores;
        if (scores.Length < context.MinRows)
        {
            return WindowHookResult.Note($"no estimated performance: {scores.Length} rows have {classes.Count} probabilities in '{name}', fewer than min_rows {context.MinRows}");
        }

        var notes = new List<string>();
        var normalization = Normalization(estimated);
        var calibration = MulticlassCbpeCalibration.None(classes.Count);
        CbpeSamplingErrors? errors = null;
        var scored = await ScoredAsync(context, columns, columns, notes, cancellationToken).ConfigureAwait(false);
        if (ReferenceLabels(context, estimated, columns, columns, scored, notes) is { } reference)
        {
            var index = classes.Select((label, c) => (label, c)).ToDictionary(pair => pair.label, pair => pair.c, StringComparer.Ordinal);
            var actual = reference.Labels.Select(label => index.GetValueOrDefault(label, -1)).ToArray();
            var known = Enumerable.Range(0, actual.Length).Where(row => actual[row] >= 0).ToList();
            if (known.Count < actual.Length)
            {
                notes.Add($"{actual.Length - known.Count} reference rows have a label that is not one of estimated.classes and were left out of calibration and sampling errors");
            }

            if (known.Count < context.MinRows)
            {
                notes.Add($"estimated performance not calibrated and without sampling errors: {known.Count} reference rows have one of the classes as label, fewer than min_rows {context.MinRows}");
            }
            else
            {
                var referenceScores = known.Select(row => (IReadOnlyList<double>)reference.Scores[row]).ToList();
                var referenceActual = known.Select(row => actual[row]).ToArray();
                if (Unlabelled(classes, referenceActual) is { Count: > 0 } absent)
                {
                    return new WindowHookResult(new Dictionary<string, double>(), [.. notes, AbsentClassesNote(context.Reference.Name, absent)]);
                }

                calibration = MulticlassCbpe.FitCalibration(referenceScores, referenceActual, classes.Count, new Random(Seed));
                errors = CbpeSamplingError.FitMulticlass(referenceScores, referenceActual, MulticlassCbpe.PredictedClasses(referenceScores), classes.Count).For(scores.Length, normalization);
            }
        }

        var rows = scores.Select(row => (IReadOnlyList<double>)row).ToList();
        var estimate = MulticlassCbpe.Estimate(calibration.Calibrate(rows), MulticlassCbpe.PredictedClasses(rows), rows);
        var matrix = ConfusionNormalizations.Normalize(estimate.ConfusionMatrix, normalization);
        var cells = classes.SelectMany((truth, i) => classes.Select((predicted, j) =>
            (MonitorMetricNames.EstimatedConfusion(truth, predicted), matrix[i][j], errors?.ConfusionMatrix[i][j]))).ToArray();
        return Result(scores.Length, calibration.Calibrated > 0, (estimate.Accuracy, estimate.Precision, estimate.Recall, estimate.Specificity, estimate.F1, estimate.RocAuc), cells, normalization, errors, notes);
    }

    /// <summary>The classes no labelled reference row has (<paramref name="actual"/>: each row's class index), in the order of <c>classes</c>.</summary>
    private static List<string> Unlabelled(IReadOnlyList<string> classes, int[] actual)
    {
        var seen = new bool[classes.Count];
        foreach (var c in actual)
        {
            seen[c] = true;
        }

        return classes.Where((_, c) => !seen[c]).ToList();
    }

    /// <summary>
    /// Why a reference whose labels lack a class gives no estimate. NannyML's multiclass CBPE refuses to fit on it: its
    /// ROC AUC (<c>MulticlassClassificationAUROC._fit</c>) requires the classes observed in the reference's targets to be
    /// the classes of <c>y_pred_proba</c> and raises <c>InvalidArgumentsException</c> otherwise, and its confusion matrix
    /// fails when the class is not predicted on the reference either (its sampling-error components come from
    /// scikit-learn's <c>confusion_matrix</c> without <c>labels</c>, one row and column short). Without that class's
    /// labels its calibration and its sampling errors cannot be fitted, so the window says so instead of giving numbers.
    /// </summary>
    private static string AbsentClassesNote(string reference, List<string> absent) =>
        $"no estimated performance: no labelled row of the reference ({reference}) has class {string.Join(", ", absent.Select(c => $"'{c}'"))} " +
        "of estimated.classes, and CBPE (as NannyML's, which refuses such a reference: \"y_pred_proba class and class probabilities dictionary does not match " +
        "reference data\") needs every class among the reference's labels to calibrate it and to give the estimates their sampling errors";

    /// <summary>The spec's <c>normalize_confusion_matrix</c> (validated when the monitor was stored).</summary>
    private static ConfusionNormalization Normalization(MonitorEstimated estimated) =>
        ConfusionNormalizations.Parse(estimated.NormalizeConfusionMatrix) ?? ConfusionNormalization.None;

    private static WindowHookResult Result(int rows, bool calibrated, (double Accuracy, double Precision, double Recall, double Specificity, double F1, double RocAuc) estimate,
        (string Name, double Value, double? Error)[] cells, ConfusionNormalization normalization, CbpeSamplingErrors? errors, List<string> notes)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MonitorMetricNames.EstimatedCalibrated] = calibrated ? 1 : 0,
            [MonitorMetricNames.EstimatedRows] = rows,
        };
        void Add(string name, double value, double? error)
        {
            metrics[name] = value;
            if (error is { } e && double.IsFinite(e))
            {
                metrics[MonitorMetricNames.SamplingError(name)] = e;
            }
        }

        Add(MonitorMetricNames.EstimatedAccuracy, estimate.Accuracy, errors?.Accuracy);
        Add(MonitorMetricNames.EstimatedPrecision, estimate.Precision, errors?.Precision);
        Add(MonitorMetricNames.EstimatedRecall, estimate.Recall, errors?.Recall);
        Add(MonitorMetricNames.EstimatedSpecificity, estimate.Specificity, errors?.Specificity);
        Add(MonitorMetricNames.EstimatedF1, estimate.F1, errors?.F1);
        if (double.IsFinite(estimate.RocAuc))
        {
            Add(MonitorMetricNames.EstimatedRocAuc, estimate.RocAuc, errors?.RocAuc);
        }
        else
        {
            notes.Add("no estimated.roc_auc: every calibrated probability (of a class) is 0, or every one is 1");
        }

        var undefined = new List<string>();
        foreach (var (name, value, error) in cells)
        {
            if (double.IsFinite(value))
            {
                Add(name, value, error);
            }
            else
            {
                undefined.Add(name);
            }
        }

        if (undefined.Count > 0)
        {
            var divisor = normalization == ConfusionNormalization.True ? "true class" : "predicted class";
            notes.Add($"no {string.Join(", ", undefined)}: normalize_confusion_matrix {ConfusionNormalizations.Name(normalization)} divides by the {divisor}'s expected count, 0 in this window");
        }

        if (errors is not null && new[] { errors.Accuracy, errors.Precision, errors.Recall, errors.Specificity, errors.F1, errors.RocAuc }.Any(e => !double.IsFinite(e)))
        {
            notes.Add("some estimates have no sampling error: the reference has none of the rows it is measured on (such as no predicted positives of a class)");
        }

        return new WindowHookResult(metrics, notes);
    }

    /// <summary>The rows whose every column holds a probability in [0, 1] (and that <paramref name="keep"/> keeps), as arrays of those probabilities.</summary>
    private static (double[][] Scores, int[] Rows) Rows(IReadOnlyList<object?>[] columns, int count, Func<int, bool> keep)
    {
        var scores = new List<double[]>();
        var rows = new List<int>();
        for (var row = 0; row < count; row++)
        {
            var values = new double[columns.Length];
            var ok = keep(row);
            for (var c = 0; c < columns.Length && ok; c++)
            {
                if (WindowValues.Number(columns[c][row]) is { } value and >= 0 and <= 1)
                {
                    values[c] = value;
                }
                else
                {
                    ok = false;
                }
            }

            if (ok)
            {
                scores.Add(values);
                rows.Add(row);
            }
        }

        return ([.. scores], [.. rows]);
    }

    /// <summary>
    /// A dataset reference with the label column but not the model's probabilities, scored by the endpoint's model
    /// (<see cref="ReferenceScorer"/>): its output columns; null when there is no scorer, the reference is traffic or
    /// already has the probabilities, or it has no labels (then nothing is run); why it could not be scored is a note.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, List<object?>>?> ScoredAsync(MonitorWindowContext context, string[] columns, string[] fallback, List<string> notes,
        CancellationToken cancellationToken)
    {
        var reference = context.Reference;
        var estimated = context.Spec.Estimated!;
        if (scorer is null || reference.Outcomes is not null || !reference.Has(estimated.Label ?? DefaultLabel)
            || columns.Select((column, c) => reference.Has(column) || reference.Has(fallback[c])).All(has => has))
        {
            return null;
        }

        try
        {
            return (await scorer.ScoreAsync(context.Spec, reference, cancellationToken).ConfigureAwait(false)).Outputs;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The model or the reference's columns do not fit; CBPE goes on uncalibrated and says why.
            notes.Add($"the endpoint's model could not score the reference: {exception.Message}");
            return null;
        }
    }

    /// <summary>
    /// The reference's probabilities (one per column of <paramref name="columns"/>, found under that name or else the
    /// matching one of <paramref name="fallback"/>) with their labels as text, or null with a note when it has too few.
    /// </summary>
    private static (double[][] Scores, string[] Labels)? ReferenceLabels(MonitorWindowContext context, MonitorEstimated estimated, string[] columns, string[] fallback,
        IReadOnlyDictionary<string, List<object?>>? scored, List<string> notes)
    {
        var reference = context.Reference;
        var label = estimated.Label ?? DefaultLabel;
        var scores = columns.Select((column, c) => reference.Values(column) ?? reference.Values(fallback[c]) ?? scored?.GetValueOrDefault(column) ?? scored?.GetValueOrDefault(fallback[c])).ToArray();
        IReadOnlyList<string?>? labels = reference.Outcomes ?? reference.Values(label)?.Select(WindowValues.Text).ToList();
        var shown = string.Join("', '", columns);
        if (scores.Any(column => column is null) || labels is null)
        {
            notes.Add(reference.Outcomes is null
                ? $"estimated performance not calibrated and without sampling errors: the reference ({reference.Name}) needs columns '{shown}' and '{label}' (the model's probability and the true label)"
                : $"estimated performance not calibrated and without sampling errors: the reference ({reference.Name}) has no output '{shown}'");
            return null;
        }

        var (values, rows) = Rows(scores!, Math.Min(labels.Count, scores.Min(column => column!.Count)), row => labels[row] is not null);
        if (rows.Length < context.MinRows)
        {
            notes.Add($"estimated performance not calibrated and without sampling errors: {rows.Length} reference rows have a label and a probability, fewer than min_rows {context.MinRows}");
            return null;
        }

        return (values, rows.Select(row => labels[row]!).ToArray());
    }
}
