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
/// labels but without the model's probabilities is scored with the endpoint's models when a <see cref="ReferenceScorer"/>
/// is given (the server gives one): each window row is then calibrated on the reference as the variant that answered it
/// scores it (an ensemble's rows as the ensemble does). A reference without the probabilities that is not scored, or
/// without labels (a dataset without the label column, a traffic reference without any feedback), gives no estimate,
/// only a note (NannyML's CBPE refuses both); a dataset version known when the monitor is stored is checked then too
/// (<see cref="MonitorReferenceColumns"/>).
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

        var (all, allRows) = Rows([context.Window.Outputs[column]], context.Window.Outputs[column].Count, _ => true);
        if (all.Length < context.MinRows)
        {
            return WindowHookResult.Note($"no estimated performance: {all.Length} rows have a probability in '{column}', fewer than min_rows {context.MinRows}");
        }

        var notes = new List<string>();
        var calibrated = false;
        var threshold = estimated.Threshold ?? Cbpe.DefaultThreshold;
        var normalization = Normalization(estimated);
        CbpeSamplingErrors? errors = null;
        var (sources, refusal) = await ReferenceScoresAsync(context, estimated, [column], ProbabilityColumns(estimated), allRows, notes, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return new WindowHookResult(new Dictionary<string, double>(), [.. notes, refusal]);
        }

        var (sourceOf, kept) = Assign(context, sources, allRows, notes);
        if (kept.Length < context.MinRows)
        {
            return new WindowHookResult(new Dictionary<string, double>(), [.. notes, $"no estimated performance: {kept.Length} rows of the window are of a variant the reference was scored by, fewer than min_rows {context.MinRows}"]);
        }

        var scores = kept.Select(row => all[row][0]).ToArray();
        var probabilities = (double[])scores.Clone();
        if (sources is not null)
        {
            var used = Enumerable.Range(0, sources.Count).Where(source => sourceOf.Contains(source)).ToList();
            foreach (var source in used)
            {
                var referenceScores = sources[source].Scores.Select(row => row[0]).ToArray();
                var calibration = Cbpe.FitCalibration(referenceScores, sources[source].Labels.Select(label => label == estimated.PositiveClass).ToArray(), new Random(Seed));
                if (calibration.Calibrates)
                {
                    var mine = Enumerable.Range(0, scores.Length).Where(row => sourceOf[row] == source).ToArray();
                    var values = calibration.Calibrate(mine.Select(row => scores[row]).ToArray());
                    for (var i = 0; i < mine.Length; i++)
                    {
                        probabilities[mine[i]] = values[i];
                    }

                    calibrated = true;
                }
            }

            // Each variant's scored reference once: the reference of the rows as the endpoint's variants answer them.
            var pooledScores = used.SelectMany(source => sources[source].Scores.Select(row => row[0])).ToArray();
            var pooledPositive = used.SelectMany(source => sources[source].Labels.Select(label => label == estimated.PositiveClass)).ToArray();
            errors = CbpeSamplingError.FitBinary(pooledScores, pooledPositive, pooledScores.Select(score => score >= threshold).ToArray()).For(scores.Length, normalization);
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
        var columns = ProbabilityColumns(estimated);
        var outputs = context.Window.Outputs;
        if (columns.Any(c => !outputs.ContainsKey(c)) || outputs.ContainsKey($"{name}[{classes.Count}]"))
        {
            return WindowHookResult.Note($"no estimated performance: the window has no output '{name}' of [N, {classes.Count}] probabilities, one per class " +
                $"({string.Join(", ", classes)}) (outputs: {string.Join(", ", outputs.Keys)})");
        }

        var (all, allRows) = Rows(columns.Select(c => (IReadOnlyList<object?>)outputs[c]).ToArray(), outputs[columns[0]].Count, _ => true);
        if (all.Length < context.MinRows)
        {
            return WindowHookResult.Note($"no estimated performance: {all.Length} rows have {classes.Count} probabilities in '{name}', fewer than min_rows {context.MinRows}");
        }

        var notes = new List<string>();
        var normalization = Normalization(estimated);
        CbpeSamplingErrors? errors = null;
        var (sources, refusal) = await ReferenceScoresAsync(context, estimated, columns, columns, allRows, notes, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return new WindowHookResult(new Dictionary<string, double>(), [.. notes, refusal]);
        }

        var (sourceOf, kept) = Assign(context, sources, allRows, notes);
        if (kept.Length < context.MinRows)
        {
            return new WindowHookResult(new Dictionary<string, double>(), [.. notes, $"no estimated performance: {kept.Length} rows of the window are of a variant the reference was scored by, fewer than min_rows {context.MinRows}"]);
        }

        var scores = kept.Select(row => all[row]).ToArray();
        var calibrations = new MulticlassCbpeCalibration?[sources?.Count ?? 0];
        if (sources is not null)
        {
            var index = classes.Select((label, c) => (label, c)).ToDictionary(pair => pair.label, pair => pair.c, StringComparer.Ordinal);
            var used = Enumerable.Range(0, sources.Count).Where(source => sourceOf.Contains(source)).ToList();
            var fitted = new List<(List<IReadOnlyList<double>> Scores, int[] Actual)>();
            foreach (var source in used)
            {
                var reference = sources[source];
                var actual = reference.Labels.Select(label => index.GetValueOrDefault(label, -1)).ToArray();
                var known = Enumerable.Range(0, actual.Length).Where(row => actual[row] >= 0).ToList();
                if (known.Count < actual.Length && fitted.Count == 0)
                {
                    notes.Add($"{actual.Length - known.Count} reference rows have a label that is not one of estimated.classes and were left out of calibration and sampling errors");
                }

                if (known.Count < context.MinRows)
                {
                    notes.Add($"estimated performance not calibrated and without sampling errors: {known.Count} reference rows have one of the classes as label, fewer than min_rows {context.MinRows}");
                    fitted.Clear();
                    break;
                }

                var referenceActual = known.Select(row => actual[row]).ToArray();
                if (Unlabelled(classes, referenceActual) is { Count: > 0 } absent)
                {
                    return new WindowHookResult(new Dictionary<string, double>(), [.. notes, AbsentClassesNote(context.Reference.Name, absent)]);
                }

                fitted.Add((known.Select(row => (IReadOnlyList<double>)reference.Scores[row]).ToList(), referenceActual));
            }

            if (fitted.Count == used.Count)
            {
                for (var i = 0; i < used.Count; i++)
                {
                    calibrations[used[i]] = MulticlassCbpe.FitCalibration(fitted[i].Scores, fitted[i].Actual, classes.Count, new Random(Seed));
                }

                // Each variant's scored reference once: the reference of the rows as the endpoint's variants answer them.
                var pooledScores = fitted.SelectMany(source => source.Scores).ToList();
                errors = CbpeSamplingError.FitMulticlass(pooledScores, [.. fitted.SelectMany(source => source.Actual)], MulticlassCbpe.PredictedClasses(pooledScores), classes.Count)
                    .For(scores.Length, normalization);
            }
        }

        var probabilities = new double[scores.Length][];
        foreach (var group in Enumerable.Range(0, scores.Length).GroupBy(row => sourceOf[row]))
        {
            var mine = group.ToArray();
            var calibration = (group.Key >= 0 && group.Key < calibrations.Length ? calibrations[group.Key] : null) ?? MulticlassCbpeCalibration.None(classes.Count);
            var values = calibration.Calibrate(mine.Select(row => (IReadOnlyList<double>)scores[row]).ToList());
            for (var i = 0; i < mine.Length; i++)
            {
                probabilities[mine[i]] = values[i];
            }
        }

        var rows = scores.Select(row => (IReadOnlyList<double>)row).ToList();
        var estimate = MulticlassCbpe.Estimate(probabilities.Select(row => (IReadOnlyList<double>)row).ToList(), MulticlassCbpe.PredictedClasses(rows), rows);
        var matrix = ConfusionNormalizations.Normalize(estimate.ConfusionMatrix, normalization);
        var cells = classes.SelectMany((truth, i) => classes.Select((predicted, j) =>
            (MonitorMetricNames.EstimatedConfusion(truth, predicted), matrix[i][j], errors?.ConfusionMatrix[i][j]))).ToArray();
        return Result(scores.Length, calibrations.Any(calibration => calibration?.Calibrated > 0), (estimate.Accuracy, estimate.Precision, estimate.Recall, estimate.Specificity, estimate.F1, estimate.RocAuc), cells, normalization, errors, notes);
    }

    /// <summary>
    /// The columns of the model's probabilities as a reference holds them (a window's, or a dataset's named as the
    /// output): binary, <c>NAME</c> (a window's [N, 2] output is its column <c>NAME[1]</c>, <see cref="WindowValues.ProbabilityColumn"/>);
    /// multiclass, <c>NAME[0]</c> … <c>NAME[C-1]</c>.
    /// </summary>
    public static string[] ProbabilityColumns(MonitorEstimated estimated)
    {
        ArgumentNullException.ThrowIfNull(estimated);
        var name = estimated.ProbabilityOutput!;
        return estimated.Classes is { Count: > 0 } classes ? Enumerable.Range(0, classes.Count).Select(c => WindowValues.Column(name, c)).ToArray() : [name];
    }

    /// <summary>
    /// The probability columns a reference whose columns are <paramref name="has"/> certainly lacks: binary, <c>NAME</c>
    /// when it has neither <c>NAME</c> nor <c>NAME[1]</c> (either may be what a window reads); multiclass, each of
    /// <c>NAME[0]</c> … <c>NAME[C-1]</c> it does not have.
    /// </summary>
    public static IReadOnlyList<string> MissingProbabilities(MonitorEstimated estimated, Func<string, bool> has)
    {
        ArgumentNullException.ThrowIfNull(has);
        var columns = ProbabilityColumns(estimated);
        return estimated.Classes is { Count: > 0 }
            ? columns.Where(column => !has(column)).ToList()
            : has(columns[0]) || has(WindowValues.Column(columns[0], 1)) ? [] : columns;
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
    /// The reference's probabilities and labels for the window rows answered by <see cref="Variant"/> (null: every row).
    /// </summary>
    private sealed record ReferenceScores(string? Variant, double[][] Scores, string[] Labels);

    /// <summary>
    /// What the reference gives to calibrate with: one source for every row (a traffic reference's outputs and feedback,
    /// a dataset reference's probability columns, or its scores by a one-model endpoint), or one per variant of the
    /// endpoint (its scores by each variant's model, or by the ensemble). Null sources: uncalibrated, a note says why
    /// (too few labelled rows). A refusal (no estimate at all): the reference does not carry the model's probabilities and
    /// they could not be obtained by scoring it, as NannyML's CBPE refuses a reference without <c>y_pred_proba</c>; or it
    /// has no labelled row, as NannyML's refuses one without <c>y_true</c>.
    /// </summary>
    private async Task<(List<ReferenceScores>? Sources, string? Refusal)> ReferenceScoresAsync(MonitorWindowContext context, MonitorEstimated estimated, string[] columns,
        string[] fallback, int[] windowRows, List<string> notes, CancellationToken cancellationToken)
    {
        var reference = context.Reference;
        var label = estimated.Label ?? DefaultLabel;
        var missing = columns.Where((column, c) => !reference.Has(column) && !reference.Has(fallback[c])).ToList();
        if (reference.Outcomes is not null || missing.Count == 0)
        {
            var (one, refusal) = ReferenceLabels(context, estimated, columns, fallback, column => reference.Values(column), notes);
            return (one is null ? null : [one], refusal);
        }

        if (!reference.Has(label))
        {
            return (null, MissingProbabilitiesNote(reference.Name, missing, $"nor a label column '{label}' to calibrate with, so the endpoint's model does not score it"));
        }

        if (scorer is null)
        {
            return (null, MissingProbabilitiesNote(reference.Name, missing, "and no model scores it here"));
        }

        ScoredReference scored;
        try
        {
            var variants = context.Window.Variants.Count == context.Window.Rows && windowRows.All(row => context.Window.Variants[row] is not null)
                ? windowRows.Select(row => context.Window.Variants[row]!).ToHashSet(StringComparer.Ordinal)
                : null;
            scored = await scorer.ScoreAsync(context.Spec, reference, variants, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return (null, MissingProbabilitiesNote(reference.Name, missing, $"and the endpoint's models could not score it: {exception.Message}"));
        }

        var sources = new List<ReferenceScores>();
        var problems = new List<string>();
        foreach (var variant in scored.Variants)
        {
            var absent = variant.Outputs is { } outputs ? columns.Where((column, c) => !outputs.ContainsKey(column) && !outputs.ContainsKey(fallback[c])).ToList() : [];
            var (source, refusal) = variant.Outputs is null ? (null, variant.Problem)
                : absent.Count > 0 ? (null, $"variant '{variant.Variant}' ({variant.Model}) has no output {string.Join(", ", absent.Select(column => $"'{column}'"))} (outputs: {string.Join(", ", variant.Outputs.Keys)})")
                : ReferenceLabels(context, estimated, columns, fallback, column => variant.Outputs.GetValueOrDefault(column), notes);
            if (refusal is not null && variant.Outputs is not null && absent.Count == 0)
            {
                // The variant scored it; the reference's labels refuse it, whichever variant.
                return (null, refusal);
            }

            if (refusal is not null)
            {
                problems.Add(refusal);
            }
            else if (source is null)
            {
                return (null, null);
            }
            else
            {
                sources.Add(source with { Variant = scored.OneModel ? null : variant.Variant });
            }
        }

        if (sources.Count == 0)
        {
            return (null, MissingProbabilitiesNote(reference.Name, missing, "and the endpoint's models could not score it: " + (problems.Count == 0 ? "no variant answered the window" : string.Join("; ", problems))));
        }

        notes.AddRange(problems);
        return (sources, null);
    }

    /// <summary>
    /// Why a reference without the model's probabilities gives no estimate. NannyML's CBPE refuses such a reference: its
    /// <c>fit</c> requires the <c>y_pred_proba</c> column(s) in the reference (<c>_list_missing</c> raises
    /// <c>InvalidArgumentsException</c>), since calibration and sampling errors are fitted on the model's probabilities
    /// there; without them the estimate would rest on uncalibrated probabilities, so the window says so instead of giving numbers.
    /// </summary>
    private static string MissingProbabilitiesNote(string reference, List<string> missing, string why) =>
        $"no estimated performance: the reference ({reference}) has no column {string.Join(", ", missing.Select(column => $"'{column}'"))} with the model's probabilities{(why.Length == 0 ? "" : " " + why)}; " +
        "CBPE (as NannyML's, which refuses a reference without its y_pred_proba columns) calibrates on the reference's probabilities and labels";

    /// <summary>
    /// Why a reference with the model's probabilities but no labels gives no estimate. NannyML's CBPE refuses such a
    /// reference: its <c>fit</c> requires the <c>y_true</c> column in the reference as well as <c>y_pred_proba</c>
    /// (<c>_fit_binary</c> in nannyml/performance_estimation/confidence_based/cbpe.py calls
    /// <c>_list_missing([self.y_true, self.y_pred_proba, self.y_pred], ...)</c>, which raises <c>InvalidArgumentsException</c>),
    /// since calibration and sampling errors are fitted on the reference's labels; without them the estimate would rest on
    /// uncalibrated probabilities, so the window says so instead of giving numbers.
    /// </summary>
    private static string MissingLabelsNote(string reference, string why) =>
        $"no estimated performance: the reference ({reference}) {why}; " +
        "CBPE (as NannyML's, which refuses a reference without its y_true column) calibrates on the reference's probabilities and labels";

    /// <summary>
    /// Which source calibrates each of the window's rows (<paramref name="rows"/>, the rows with probabilities): the only
    /// one when it stands for every row, else the source of the row's variant. Rows of a variant without one are left
    /// out, with a note. Returns per kept row its source (-1 without sources) and the kept rows' positions in <paramref name="rows"/>.
    /// </summary>
    private static (int[] SourceOf, int[] Kept) Assign(MonitorWindowContext context, List<ReferenceScores>? sources, int[] rows, List<string> notes)
    {
        if (sources is null || sources is [{ Variant: null }])
        {
            return (new int[rows.Length].Select(_ => sources is null ? -1 : 0).ToArray(), Enumerable.Range(0, rows.Length).ToArray());
        }

        var index = sources.Select((source, i) => (source.Variant!, i)).ToDictionary(pair => pair.Item1, pair => pair.i, StringComparer.Ordinal);
        var variants = context.Window.Variants;
        var sourceOf = new List<int>();
        var kept = new List<int>();
        var left = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < rows.Length; i++)
        {
            var variant = rows[i] < variants.Count ? variants[rows[i]] : null;
            if (variant is not null && index.TryGetValue(variant, out var source))
            {
                sourceOf.Add(source);
                kept.Add(i);
            }
            else
            {
                left[variant ?? "(unknown)"] = left.GetValueOrDefault(variant ?? "(unknown)") + 1;
            }
        }

        if (left.Count > 0)
        {
            notes.Add($"{left.Values.Sum()} rows of the window were left out of the estimate: their variant ({string.Join(", ", left.Select(pair => $"'{pair.Key}' {pair.Value}"))}) did not score the reference");
        }

        return ([.. sourceOf], [.. kept]);
    }

    /// <summary>
    /// The reference's probabilities (one per column of <paramref name="columns"/>, found under that name or else the
    /// matching one of <paramref name="fallback"/> by <paramref name="values"/>) with their labels as text; without the
    /// probabilities or without any labelled row a refusal, with too few labelled rows null and a note.
    /// </summary>
    private static (ReferenceScores? Source, string? Refusal) ReferenceLabels(MonitorWindowContext context, MonitorEstimated estimated, string[] columns, string[] fallback,
        Func<string, IReadOnlyList<object?>?> values, List<string> notes)
    {
        var reference = context.Reference;
        var label = estimated.Label ?? DefaultLabel;
        var scores = columns.Select((column, c) => values(column) ?? values(fallback[c])).ToArray();
        if (scores.Any(column => column is null))
        {
            var missing = columns.Where((column, c) => scores[c] is null).ToList();
            return (null, reference.Outcomes is null
                ? MissingProbabilitiesNote(reference.Name, missing, "")
                : $"no estimated performance: the reference ({reference.Name}) has no output {string.Join(", ", missing.Select(column => $"'{column}'"))} with the model's probabilities; " +
                  "CBPE (as NannyML's, which refuses a reference without its y_pred_proba columns) calibrates on the reference's probabilities and labels");
        }

        IReadOnlyList<string?>? labels = reference.Outcomes ?? reference.Values(label)?.Select(WindowValues.Text).ToList();
        if (labels is null)
        {
            return (null, MissingLabelsNote(reference.Name, $"has no column '{label}' with the true label"));
        }

        var (probabilities, rows) = Rows(scores!, Math.Min(labels.Count, scores.Min(column => column!.Count)), row => labels[row] is not null);
        if (rows.Length == 0)
        {
            return (null, MissingLabelsNote(reference.Name, reference.Outcomes is null
                ? $"has no row with both a label in '{label}' and the model's probabilities"
                : "has no row with both feedback (the true label) and the model's probabilities"));
        }

        if (rows.Length < context.MinRows)
        {
            notes.Add($"estimated performance not calibrated and without sampling errors: {rows.Length} reference rows have a label and a probability, fewer than min_rows {context.MinRows}");
            return (null, null);
        }

        return (new ReferenceScores(null, probabilities, rows.Select(row => labels[row]!).ToArray()), null);
    }
}
