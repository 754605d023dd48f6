using Ballast.Training;
using Microsoft.Extensions.Time.Testing;

namespace Ballast.Tests.Training;

public sealed class ModelEvaluatorTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-evaluate-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_binary_evaluation_has_calibration_and_metrics_per_segment_that_add_up()
    {
        var model = await Train(TrainingTasks.Binary);
        var holdout = TrainingData.Binary(_folder, "holdout.csv", 600, seed: 2);

        var result = await ModelEvaluator.EvaluateAsync(model.ModelPath, holdout, new EvaluationSpec { Label = SyntheticLoans.Label, Segment = SyntheticLoans.Segment }, TestContext.Current.CancellationToken);

        result.Rows.ShouldBe(600);
        result.Metrics.Keys.ShouldBe(["auc", "accuracy", "precision", "recall", "f1", "log_loss", "ece", "rows"], ignoreOrder: true);
        result.Calibration!.Bins.Count.ShouldBe(10);
        result.Calibration.Bins.Sum(bin => bin.Count).ShouldBe(600);
        result.Metrics[MetricNames.ExpectedCalibrationError].ShouldBe(result.Calibration.ExpectedCalibrationError);
        result.Segments.Select(segment => segment.Segment).ShouldBe(["east", "north", "south", "west"]);
        result.Segments.Sum(segment => segment.Rows).ShouldBe(600);
        // Accuracy is a mean over rows: the segments' accuracies weighted by their rows give the whole's.
        result.Segments.Sum(segment => segment.Metrics[MetricNames.Accuracy] * segment.Rows / 600).ShouldBe(result.Metrics[MetricNames.Accuracy], 1e-9);
    }

    [Fact]
    public async Task Multiclass_and_regression_evaluations_report_their_metrics()
    {
        var multiclass = await Train(TrainingTasks.Multiclass);
        var regression = await Train(TrainingTasks.Regression);

        var classes = await ModelEvaluator.EvaluateAsync(multiclass.ModelPath, TrainingData.Multiclass(_folder, "m.csv", 300, seed: 2), new EvaluationSpec { Label = "tier", Task = TrainingTasks.Multiclass, Segment = "region" }, TestContext.Current.CancellationToken);
        var amounts = await ModelEvaluator.EvaluateAsync(regression.ModelPath, TrainingData.Regression(_folder, "r.csv", 300, seed: 2), new EvaluationSpec { Label = "loan_amount", Task = TrainingTasks.Regression }, TestContext.Current.CancellationToken);

        classes.Metrics.Keys.ShouldBe(["accuracy", "accuracy_micro", "accuracy_macro", "log_loss", "rows"], ignoreOrder: true);
        classes.Calibration.ShouldBeNull();
        classes.Segments.Count.ShouldBe(4);
        amounts.Metrics.Keys.ShouldBe(["mae", "rmse", "r2", "mape", "rows"], ignoreOrder: true);
        amounts.Metrics[MetricNames.Rmse].ShouldBeGreaterThanOrEqualTo(amounts.Metrics[MetricNames.Mae]);
    }

    [Fact]
    public async Task A_holdout_without_a_column_the_model_takes_is_refused_with_its_name()
    {
        var model = await Train(TrainingTasks.Binary);
        var holdout = Path.Combine(_folder, "partial.csv");
        await File.WriteAllTextAsync(holdout, "income,defaulted\n50000,true\n", TestContext.Current.CancellationToken);

        var error = await Should.ThrowAsync<TrainingInputException>(() => ModelEvaluator.EvaluateAsync(model.ModelPath, holdout, new EvaluationSpec { Label = SyntheticLoans.Label }, TestContext.Current.CancellationToken));

        error.Message.ShouldBe("the holdout file has no column 'debt_ratio', which the model takes");
    }

    [Fact]
    public async Task Guardrails_measure_the_size_and_a_positive_latency_through_the_serving_runtime()
    {
        var model = await Train(TrainingTasks.Binary);
        var sample = TrainingData.Binary(_folder, "sample.csv", 50, seed: 9);

        var measured = ModelGuardrails.Measure(model.ModelPath, sample, TimeProvider.System, batchRows: 20, repetitions: 3);

        measured.SizeBytes.ShouldBe(model.SizeBytes);
        measured.BatchRows.ShouldBe(20);
        measured.LatencyMs!.Value.ShouldBeGreaterThan(0);
    }

    private Task<TrainedModel> Train(string task) =>
        new ModelTrainer(new FakeTimeProvider()).TrainAsync(TrainingData.Spec(task, TrainerNames.FastTree), TrainingData.File(task, _folder, task + "-train.csv", 1000, seed: 1), null, Path.Combine(_folder, task), TestContext.Current.CancellationToken);
}
