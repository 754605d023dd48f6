using Ballast.Statistics.Performance;

namespace Ballast.Monitoring;

/// <summary>
/// Label-free estimated performance of a binary classifier per window (NannyML's CBPE, <see cref="Cbpe"/>): the
/// probabilities of <c>estimated.probability_output</c>, calibrated on the reference when it has labels (feedback of a
/// traffic reference, or the label column of a dataset reference beside a column named as the output). Metrics
/// <c>estimated.accuracy|precision|recall|f1|roc_auc</c>, <c>estimated.calibrated</c> (1 when calibration was applied)
/// and <c>estimated.rows</c> (the window's rows with a probability in [0, 1]).
/// Calibration's random splits are seeded, so a window gives the same estimate every time.
/// </summary>
public sealed class CbpeWindowEstimator : IWindowEstimator
{
    /// <summary>Seed of the calibration decision's stratified splits.</summary>
    public const int Seed = 42;

    public const string DefaultLabel = "label";

    public string Name => "cbpe";

    public Task<WindowHookResult> EstimateAsync(MonitorWindowContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(context.Spec.Estimated is { } estimated ? Estimate(context, estimated) : WindowHookResult.None);
    }

    private static WindowHookResult Estimate(MonitorWindowContext context, MonitorEstimated estimated)
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
        if (ReferenceLabels(context, estimated, column, notes) is { } reference)
        {
            var calibration = Cbpe.FitCalibration(reference.Scores, reference.Positive, new Random(Seed));
            if (calibration.Calibrates)
            {
                probabilities = calibration.Calibrate(scores);
                calibrated = true;
            }
        }

        var threshold = estimated.Threshold ?? Cbpe.DefaultThreshold;
        var predicted = scores.Select(score => score >= threshold).ToArray();
        var estimate = Cbpe.Estimate(probabilities, predicted, scores);
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MonitorMetricNames.EstimatedAccuracy] = estimate.Accuracy,
            [MonitorMetricNames.EstimatedPrecision] = estimate.Precision,
            [MonitorMetricNames.EstimatedRecall] = estimate.Recall,
            [MonitorMetricNames.EstimatedF1] = estimate.F1,
            [MonitorMetricNames.EstimatedCalibrated] = calibrated ? 1 : 0,
            [MonitorMetricNames.EstimatedRows] = scores.Length,
        };
        if (double.IsFinite(estimate.RocAuc))
        {
            metrics[MonitorMetricNames.EstimatedRocAuc] = estimate.RocAuc;
        }
        else
        {
            notes.Add("no estimated.roc_auc: every calibrated probability is 0, or every one is 1");
        }

        return new WindowHookResult(metrics, notes);
    }

    /// <summary>The reference's scores with their labels (positive or not), or null with a note when it has too few.</summary>
    private static (double[] Scores, bool[] Positive)? ReferenceLabels(MonitorWindowContext context, MonitorEstimated estimated, string column, List<string> notes)
    {
        var reference = context.Reference;
        var label = estimated.Label ?? DefaultLabel;
        var scores = reference.Values(column) ?? reference.Values(estimated.ProbabilityOutput!);
        IReadOnlyList<string?>? labels = reference.Outcomes ?? reference.Values(label)?.Select(WindowValues.Text).ToList();
        if (scores is null || labels is null)
        {
            notes.Add(reference.Outcomes is null
                ? $"estimated performance not calibrated: the reference ({reference.Name}) needs columns '{column}' and '{label}' (the model's probability and the true label)"
                : $"estimated performance not calibrated: the reference ({reference.Name}) has no output '{column}'");
            return null;
        }

        var rows = Enumerable.Range(0, scores.Count).Where(row => labels[row] is not null && WindowValues.Number(scores[row]) is >= 0 and <= 1).ToList();
        if (rows.Count < context.MinRows)
        {
            notes.Add($"estimated performance not calibrated: {rows.Count} reference rows have a label and a probability, fewer than min_rows {context.MinRows}");
            return null;
        }

        return (rows.Select(row => WindowValues.Number(scores[row])!.Value).ToArray(), rows.Select(row => labels[row] == estimated.PositiveClass).ToArray());
    }
}
