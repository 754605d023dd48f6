using Ballast.Training;
using Microsoft.Extensions.Time.Testing;

namespace Ballast.Tests.Training;

public sealed class SyntheticLoansTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-loans-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_same_seed_gives_the_same_applications()
    {
        SyntheticLoans.Generate(200, seed: 5).ShouldBe(SyntheticLoans.Generate(200, seed: 5));
        SyntheticLoans.Generate(200, seed: 5).ShouldNotBe(SyntheticLoans.Generate(200, seed: 6));
    }

    [Fact]
    public void The_shift_moves_the_feature_distributions()
    {
        var before = SyntheticLoans.Generate(3000, seed: 1);
        var after = SyntheticLoans.Generate(3000, seed: 1, shift: true);

        after.Average(a => (double)a.DebtRatio).ShouldBeGreaterThan(before.Average(a => (double)a.DebtRatio) + 0.05);
        after.Average(a => (double)a.CreditScore).ShouldBeLessThan(before.Average(a => (double)a.CreditScore) - 15);
        after.Count(a => a.Employment == "salaried").ShouldBeLessThan(before.Count(a => a.Employment == "salaried") - 300);
    }

    [Fact]
    public async Task A_model_of_the_old_regime_loses_accuracy_after_the_shift_and_retraining_recovers_it()
    {
        var trainer = new ModelTrainer(new FakeTimeProvider());
        var spec = TrainingData.Spec(TrainingTasks.Binary, TrainerNames.FastTree);
        var evaluation = new EvaluationSpec { Label = SyntheticLoans.Label };
        var oldTrain = TrainingData.Binary(_folder, "old-train.csv", 2000, seed: 1);
        var oldHoldout = TrainingData.Binary(_folder, "old-holdout.csv", 1000, seed: 2);
        var newTrain = TrainingData.Binary(_folder, "new-train.csv", 2000, seed: 3, shift: true);
        var newHoldout = TrainingData.Binary(_folder, "new-holdout.csv", 1000, seed: 4, shift: true);
        var cancellation = TestContext.Current.CancellationToken;

        var v1 = await trainer.TrainAsync(spec, oldTrain, null, Path.Combine(_folder, "v1"), cancellation);
        var v2 = await trainer.TrainAsync(spec, newTrain, null, Path.Combine(_folder, "v2"), cancellation);
        var v1Before = (await ModelEvaluator.EvaluateAsync(v1.ModelPath, oldHoldout, evaluation, cancellation)).Metrics[MetricNames.Accuracy];
        var v1After = (await ModelEvaluator.EvaluateAsync(v1.ModelPath, newHoldout, evaluation, cancellation)).Metrics[MetricNames.Accuracy];
        var v2After = (await ModelEvaluator.EvaluateAsync(v2.ModelPath, newHoldout, evaluation, cancellation)).Metrics[MetricNames.Accuracy];

        TestContext.Current.TestOutputHelper?.WriteLine($"accuracy: v1 on old {v1Before:F3}, v1 on new {v1After:F3}, v2 on new {v2After:F3}");
        v1Before.ShouldBeGreaterThan(0.75, "the old regime is learnable");
        v1After.ShouldBeLessThan(v1Before - 0.1, "the shift costs the old model accuracy");
        v2After.ShouldBeGreaterThan(v1After + 0.1, "retraining on the new regime recovers it");
    }
}
