namespace Ballast.Training;

/// <summary>What <see cref="ModelEvaluator"/> measures: the label and task of the model, and an optional segment column for per-segment metrics.</summary>
public sealed record EvaluationSpec
{
    public required string Label { get; init; }

    public string Task { get; init; } = TrainingTasks.Binary;

    /// <summary>A column whose values group the rows (region, channel); each group's metrics are reported too.</summary>
    public string? Segment { get; init; }

    /// <summary>Bins of the reliability diagram (binary only).</summary>
    public int CalibrationBins { get; init; } = TrainingConstants.CalibrationBins;

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Label))
        {
            problems.Add("label must name the label column");
        }

        if (!TrainingTasks.All.Contains(Task))
        {
            problems.Add($"task '{Task}' is not one of {string.Join(", ", TrainingTasks.All)}");
        }

        if (CalibrationBins is < 1 or > 1000)
        {
            problems.Add($"calibration_bins must be between 1 and 1000, not {CalibrationBins}");
        }

        if (Segment is { Length: 0 })
        {
            problems.Add("segment must name a column when given");
        }

        return problems;
    }
}

/// <summary>
/// A model's metrics on a file (<see cref="MetricNames"/>; <c>rows</c> included), a binary classifier's reliability
/// diagram, and the same metrics per value of the segment column (ordered by value; a missing value is "(missing)").
/// A metric undefined on the rows (AUC of a segment with one class) is NaN, never left out.
/// </summary>
public sealed record EvaluationResult(string Task, long Rows, IReadOnlyDictionary<string, double> Metrics, Calibration? Calibration, IReadOnlyList<SegmentMetrics> Segments);

public sealed record SegmentMetrics(string Segment, long Rows, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// What a model computed for each row of a file: <see cref="Scores"/> row-major with <see cref="ScoreWidth"/> values
/// a row (the classes of a multiclass model, in <see cref="Classes"/>' order), a binary classifier's probabilities and
/// predicted labels ("true"/"false"; the class for multiclass).
/// </summary>
public sealed record ModelPredictions(long Rows, float[] Scores, int ScoreWidth, float[]? Probabilities, string[]? PredictedLabels, IReadOnlyList<string>? Classes);
