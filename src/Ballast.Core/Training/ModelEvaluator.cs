using Ballast.Storage;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ballast.Training;

/// <summary>
/// Scores a CSV or Parquet file with an ML.NET model zip and measures it: binary (auc, accuracy, precision, recall,
/// f1, log_loss, ece and the reliability diagram), multiclass (accuracy, accuracy_micro, accuracy_macro, log_loss) and
/// regression (mae, rmse, r2, mape), overall and per segment (<see cref="EvaluationMetrics"/> defines each).
/// </summary>
public static class ModelEvaluator
{
    public static Task<EvaluationResult> EvaluateAsync(string modelZip, string holdoutFile, EvaluationSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Validate() is { Count: > 0 } problems)
        {
            throw new TrainingInputException("Invalid evaluation: " + ProblemList.Join(problems) + ".");
        }

        return Task.Run(() =>
        {
            var (model, schema) = Load(modelZip);
            try
            {
                var table = TrainingFiles.ReadTable(holdoutFile, "holdout");
                cancellationToken.ThrowIfCancellationRequested();
                return Evaluate(model, schema, table, spec, "holdout");
            }
            finally
            {
                (model as IDisposable)?.Dispose();
            }
        }, cancellationToken);
    }

    /// <summary>What the model computes for each row of a file (the values the metrics are computed from).</summary>
    public static ModelPredictions Predict(string modelZip, string file, string label)
    {
        var (model, schema) = Load(modelZip);
        try
        {
            return Predict(model, schema, TrainingFiles.ReadTable(file, "input"), label, "input");
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }
    }

    internal static (ITransformer Model, DataViewSchema Schema) Load(string modelZip)
    {
        ArgumentNullException.ThrowIfNull(modelZip);
        if (!File.Exists(modelZip))
        {
            throw new TrainingInputException($"there is no model file at {modelZip}");
        }

        try
        {
            var model = new MLContext(seed: 0).Model.Load(modelZip, out var schema);
            return (model, schema ?? throw new TrainingInputException($"the model {modelZip} was saved without its input schema"));
        }
        catch (Exception exception) when (exception is InvalidOperationException or FormatException or InvalidDataException or IOException)
        {
            throw new TrainingInputException($"the model {modelZip} does not load in ML.NET: {DuckDbSql.FirstLine(exception.Message)}", exception);
        }
    }

    internal static ModelPredictions Predict(ITransformer model, DataViewSchema schema, Table table, string label, string role)
    {
        var view = TableDataView.Build(table, schema, role, new HashSet<string>(StringComparer.Ordinal) { label });
        var output = model.Transform(view);
        var score = output.Schema.GetColumnOrNull("Score") ?? throw new TrainingInputException("the model computes no Score column");
        var probability = output.Schema.GetColumnOrNull("Probability");
        var predicted = output.Schema.GetColumnOrNull("PredictedLabel");
        var width = score.Type is VectorDataViewType vector ? vector.Size : 1;
        IReadOnlyList<string>? classes = null;
        if (score.Type is VectorDataViewType && score.HasSlotNames())
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            score.GetSlotNames(ref names);
            classes = names.DenseValues().Select(name => name.ToString()).ToList();
        }

        var rows = table.Rows;
        var scores = new float[rows * width];
        var probabilities = probability is null ? null : new float[rows];
        var labels = predicted is null ? null : new string[rows];
        var needed = new List<DataViewSchema.Column> { score };
        needed.AddRange(new[] { probability, predicted }.OfType<DataViewSchema.Column>());
        using var cursor = output.GetRowCursor(needed);
        var readScore = ScoreReader(cursor, score, scores, width);
        var readProbability = probability is { } p ? cursor.GetGetter<float>(p) : null;
        var readLabel = LabelReader(cursor, predicted);
        var row = 0;
        while (cursor.MoveNext())
        {
            readScore(row);
            if (readProbability is not null)
            {
                float value = 0;
                readProbability(ref value);
                probabilities![row] = value;
            }

            if (readLabel is not null)
            {
                labels![row] = readLabel();
            }

            row++;
        }

        return new ModelPredictions(rows, scores, width, probabilities, labels, classes);
    }

    internal static EvaluationResult Evaluate(ITransformer model, DataViewSchema schema, Table table, EvaluationSpec spec, string role)
    {
        var labelColumn = table.Get(spec.Label, "label");
        var segmentColumn = spec.Segment is { } segment ? table.Get(segment, "segment") : null;
        var predictions = Predict(model, schema, table, spec.Label, role);
        var all = Enumerable.Range(0, table.Rows).ToArray();
        var metrics = Measure(spec, labelColumn, predictions, all, role, out var calibration);
        var segments = new List<SegmentMetrics>();
        if (segmentColumn is not null)
        {
            foreach (var group in all.GroupBy(row => segmentColumn.TextAt(row) ?? "(missing)").OrderBy(group => group.Key, StringComparer.Ordinal))
            {
                var rows = group.ToArray();
                segments.Add(new SegmentMetrics(group.Key, rows.Length, Measure(spec, labelColumn, predictions, rows, role, out _)));
            }
        }

        return new EvaluationResult(spec.Task, table.Rows, metrics, calibration, segments);
    }

    private static Dictionary<string, double> Measure(EvaluationSpec spec, TableColumn label, ModelPredictions predictions, int[] rows, string role, out Calibration? calibration)
    {
        calibration = null;
        Dictionary<string, double> metrics;
        switch (spec.Task)
        {
            case TrainingTasks.Binary:
            {
                var actual = TableDataView.Booleans(label, role);
                var probability = predictions.Probabilities ?? throw new TrainingInputException("the model computes no Probability: it is not a binary classifier");
                var predicted = predictions.PredictedLabels ?? throw new TrainingInputException("the model computes no PredictedLabel: it is not a binary classifier");
                var a = rows.Select(row => actual[row]).ToArray();
                var p = rows.Select(row => (double)probability[row]).ToArray();
                metrics = EvaluationMetrics.Binary(a, p, rows.Select(row => predicted[row] == "true").ToArray());
                calibration = EvaluationMetrics.Calibration(a, p, spec.CalibrationBins);
                metrics[MetricNames.ExpectedCalibrationError] = calibration.ExpectedCalibrationError;
                break;
            }

            case TrainingTasks.Multiclass:
            {
                var classes = predictions.Classes ?? throw new TrainingInputException("the model's Score has no class names: it is not a multiclass classifier");
                var index = classes.Select((name, i) => (name, i)).ToDictionary(pair => pair.name, pair => pair.i, StringComparer.Ordinal);
                var actual = rows.Select(row => label.TextAt(row) ?? "").ToArray();
                var probabilityOfActual = rows.Select((row, i) => index.TryGetValue(actual[i], out var k) ? predictions.Scores[row * predictions.ScoreWidth + k] : 0.0).ToArray();
                metrics = EvaluationMetrics.Multiclass(actual, rows.Select(row => predictions.PredictedLabels![row]).ToArray(), probabilityOfActual);
                break;
            }

            default:
            {
                if (label.Kind != ColumnKind.Numeric)
                {
                    throw new TrainingInputException($"the regression label '{label.Name}' holds {label.Kind} values, not numbers");
                }

                metrics = EvaluationMetrics.Regression(rows.Select(row => (double)label.Numbers[row]).ToArray(), rows.Select(row => (double)predictions.Scores[row]).ToArray());
                break;
            }
        }

        metrics[MetricNames.Rows] = rows.Length;
        return metrics;
    }

    private static Action<int> ScoreReader(DataViewRowCursor cursor, DataViewSchema.Column score, float[] scores, int width)
    {
        if (score.Type is VectorDataViewType)
        {
            var getter = cursor.GetGetter<VBuffer<float>>(score);
            VBuffer<float> buffer = default;
            return row =>
            {
                getter(ref buffer);
                buffer.CopyTo(scores.AsSpan(row * width, width));
            };
        }

        var scalar = cursor.GetGetter<float>(score);
        return row =>
        {
            float value = 0;
            scalar(ref value);
            scores[row] = value;
        };
    }

    private static Func<string>? LabelReader(DataViewRowCursor cursor, DataViewSchema.Column? predicted)
    {
        switch (predicted?.Type)
        {
            case BooleanDataViewType:
            {
                var getter = cursor.GetGetter<bool>(predicted.Value);
                return () =>
                {
                    var value = false;
                    getter(ref value);
                    return value ? "true" : "false";
                };
            }

            case TextDataViewType:
            {
                var getter = cursor.GetGetter<ReadOnlyMemory<char>>(predicted.Value);
                return () =>
                {
                    ReadOnlyMemory<char> value = default;
                    getter(ref value);
                    return value.ToString();
                };
            }

            default:
                return null;
        }
    }
}
