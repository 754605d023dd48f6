using System.Text.Json;
using Ballast.Training;
using Microsoft.Extensions.Time.Testing;

namespace Ballast.Tests.Training;

public sealed class TrainingJsonTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-training-json-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_trained_model_and_an_evaluation_with_an_undefined_metric_round_trip_through_json()
    {
        var train = TrainingData.Binary(_folder, "train.csv", 400, seed: 1);
        var model = await new ModelTrainer(new FakeTimeProvider()).TrainAsync(TrainingData.Spec(TrainingTasks.Binary, TrainerNames.Sdca), train, null, Path.Combine(_folder, "model"), TestContext.Current.CancellationToken);
        var evaluation = new EvaluationResult(TrainingTasks.Binary, 2, new Dictionary<string, double> { ["auc"] = double.NaN, ["rows"] = 2 }, null, [new SegmentMetrics("north", 2, new Dictionary<string, double> { ["auc"] = double.NaN })]);

        var modelJson = JsonSerializer.Serialize(model, TrainingJsonContext.Default.TrainedModel);
        var evaluationJson = JsonSerializer.Serialize(evaluation, TrainingJsonContext.Default.EvaluationResult);
        var modelBack = JsonSerializer.Deserialize(modelJson, TrainingJsonContext.Default.TrainedModel)!;
        var evaluationBack = JsonSerializer.Deserialize(evaluationJson, TrainingJsonContext.Default.EvaluationResult)!;

        modelJson.ShouldContain("\"model_path\"");
        modelJson.ShouldContain("\"training_metrics\"");
        modelBack.Sha256.ShouldBe(model.Sha256);
        modelBack.Features.ShouldBe(model.Features);
        modelBack.Signature.Inputs.Select(input => input.Name).ShouldBe(model.Signature.Inputs.Select(input => input.Name));
        modelBack.TrainingMetrics.ShouldBe(model.TrainingMetrics);
        evaluationJson.ShouldContain("\"auc\": \"NaN\"");
        double.IsNaN(evaluationBack.Segments[0].Metrics["auc"]).ShouldBeTrue();
    }

    [Fact]
    public void A_gate_spec_reads_from_snake_case_json()
    {
        var spec = JsonSerializer.Deserialize("""
            {"metrics": [{"metric": "auc", "min": 0.75, "min_improvement": 0.005, "min_relative_improvement": 0.01},
                         {"metric": "log_loss", "must_improve": true, "direction": "lower_is_better"}],
             "max_latency_ms": 50, "max_size_bytes": 1000000}
            """, TrainingJsonContext.Default.GateSpec)!;

        spec.Metrics.Count.ShouldBe(2);
        spec.Metrics[0].MinRelativeImprovement.ShouldBe(0.01);
        spec.Metrics[1].MustImprove.ShouldBeTrue();
        spec.MaxSizeBytes.ShouldBe(1_000_000);
        spec.Validate().ShouldBeEmpty();
    }
}
