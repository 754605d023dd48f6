using Ballast.Runtime;
using Ballast.Training;
using Microsoft.Extensions.Time.Testing;

namespace Ballast.Tests.Training;

public sealed class ModelTrainerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-training-").FullName;
    private readonly ModelTrainer _trainer = new(new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero)));

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string, string> TrainersAndTasks() => new()
    {
        { TrainerNames.FastTree, TrainingTasks.Binary },
        { TrainerNames.FastTree, TrainingTasks.Multiclass },
        { TrainerNames.FastTree, TrainingTasks.Regression },
        { TrainerNames.LightGbm, TrainingTasks.Binary },
        { TrainerNames.LightGbm, TrainingTasks.Multiclass },
        { TrainerNames.LightGbm, TrainingTasks.Regression },
        { TrainerNames.Sdca, TrainingTasks.Binary },
        { TrainerNames.Sdca, TrainingTasks.Multiclass },
        { TrainerNames.Sdca, TrainingTasks.Regression },
        { TrainerNames.LogisticRegression, TrainingTasks.Binary },
        { TrainerNames.LogisticRegression, TrainingTasks.Multiclass },
    };

    [Theory]
    [MemberData(nameof(TrainersAndTasks))]
    public async Task A_trained_model_scores_the_same_through_the_serving_runtime_as_in_evaluation(string trainer, string task)
    {
        var train = TrainingData.File(task, _folder, "train.csv", 1500, seed: 1);
        var holdout = TrainingData.File(task, _folder, "holdout.csv", 300, seed: 2);
        var spec = TrainingData.Spec(task, trainer);

        var model = await _trainer.TrainAsync(spec, train, null, Path.Combine(_folder, "model"), TestContext.Current.CancellationToken);

        var evaluated = ModelEvaluator.Predict(model.ModelPath, holdout, spec.Label);
        using var runtime = MlNetModelRuntime.Load(model.ModelPath);
        runtime.Signature.ShouldBe(model.Signature, new SignatureComparer());
        runtime.Signature.Inputs.Select(input => input.Name).ShouldNotContain(spec.Label);
        var served = runtime.Infer(ServingInputs.Read(holdout, runtime.Signature));
        var score = (float[])served.Single(tensor => tensor.Name == "Score").Data;
        score.Length.ShouldBe(evaluated.Scores.Length);
        for (var i = 0; i < score.Length; i++)
        {
            score[i].ShouldBe(evaluated.Scores[i], 1e-5, $"Score {i}");
        }

        if (task == TrainingTasks.Binary)
        {
            var probability = (float[])served.Single(tensor => tensor.Name == "Probability").Data;
            for (var i = 0; i < probability.Length; i++)
            {
                probability[i].ShouldBe(evaluated.Probabilities![i], 1e-5, $"Probability {i}");
            }

            ((bool[])served.Single(tensor => tensor.Name == "PredictedLabel").Data).Select(value => value ? "true" : "false").ShouldBe(evaluated.PredictedLabels!);
        }

        if (task == TrainingTasks.Multiclass)
        {
            served.Single(tensor => tensor.Name == "Score").Labels.ShouldBe(evaluated.Classes);
            ((string[])served.Single(tensor => tensor.Name == "PredictedLabel").Data).ShouldBe(evaluated.PredictedLabels!);
        }

        var result = await ModelEvaluator.EvaluateAsync(model.ModelPath, holdout, new EvaluationSpec { Label = spec.Label, Task = task }, TestContext.Current.CancellationToken);
        var (metric, atLeast) = task switch
        {
            TrainingTasks.Binary => (MetricNames.Auc, 0.75),
            TrainingTasks.Multiclass => (MetricNames.Accuracy, 0.6),
            // The loan amount is the income times a noisy factor (coefficient of variation about 0.5): R² near 0.3 is all there is to learn.
            _ => (MetricNames.R2, 0.2),
        };
        result.Metrics[metric].ShouldBeGreaterThan(atLeast, $"{trainer} {task} learned something");
    }

    [Fact]
    public async Task The_model_folder_holds_the_zip_and_an_MLmodel_with_flavor_signature_and_size()
    {
        var train = TrainingData.Binary(_folder, "train.csv", 800, seed: 1);
        var validation = TrainingData.Binary(_folder, "validation.csv", 200, seed: 5);

        var model = await _trainer.TrainAsync(TrainingData.Spec(TrainingTasks.Binary, TrainerNames.FastTree), train, validation, Path.Combine(_folder, "model"), TestContext.Current.CancellationToken);

        Path.GetFileName(model.ModelPath).ShouldBe("model.zip");
        model.SizeBytes.ShouldBe(new FileInfo(model.ModelPath).Length);
        var mlmodel = await File.ReadAllTextAsync(Path.Combine(model.ModelFolder, "MLmodel"), TestContext.Current.CancellationToken);
        mlmodel.ShouldContain("flavors:\n  mlnet:\n    model_file: model.zip");
        mlmodel.ShouldContain($"model_size_bytes: {model.SizeBytes}");
        mlmodel.ShouldContain("{\"type\": \"float\", \"name\": \"credit_score\", \"required\": true}");
        mlmodel.ShouldContain("{\"type\": \"string\", \"name\": \"employment\", \"required\": true}");
        mlmodel.ShouldContain("utc_time_created: '2026-12-04 12:00:00.000000'");
        model.Features.ShouldContain(new FeatureColumn("employment", "one_hot"));
        model.Features.Select(feature => feature.Name).ShouldNotContain(SyntheticLoans.Id);
        model.Features.Select(feature => feature.Name).ShouldNotContain(SyntheticLoans.TimeColumn, "timestamps are never features");
        model.IgnoredColumns.ShouldBe([new IgnoredColumn(SyntheticLoans.Id, "excluded"), new IgnoredColumn(SyntheticLoans.TimeColumn, "timestamp")]);
        model.TrainingMetrics[MetricNames.Rows].ShouldBe(800);
        model.ValidationMetrics![MetricNames.Rows].ShouldBe(200);
        model.ValidationMetrics[MetricNames.Auc].ShouldBeGreaterThan(0.75);
        model.Signature.Outputs.Select(output => output.Name).ShouldBe(["PredictedLabel", "Score", "Probability"], ignoreOrder: true);
    }

    [Theory]
    [InlineData(TrainerNames.Sdca)]
    [InlineData(TrainerNames.LightGbm)]
    [InlineData(TrainerNames.FastTree)]
    public async Task Training_twice_with_the_same_seed_gives_the_same_scores(string trainer)
    {
        var train = TrainingData.Binary(_folder, "train.csv", 800, seed: 1);
        var holdout = TrainingData.Binary(_folder, "holdout.csv", 200, seed: 2);
        var spec = TrainingData.Spec(TrainingTasks.Binary, trainer);

        var first = await _trainer.TrainAsync(spec, train, null, Path.Combine(_folder, "one"), TestContext.Current.CancellationToken);
        var second = await _trainer.TrainAsync(spec, train, null, Path.Combine(_folder, "two"), TestContext.Current.CancellationToken);

        ModelEvaluator.Predict(second.ModelPath, holdout, spec.Label).Scores.ShouldBe(ModelEvaluator.Predict(first.ModelPath, holdout, spec.Label).Scores);
    }

    [Fact]
    public async Task Categories_above_the_one_hot_limit_are_hashed_and_declared_text_is_featurized()
    {
        var train = TrainingData.Multiclass(_folder, "train.csv", 600, seed: 1);

        var model = await _trainer.TrainAsync(TrainingData.Spec(TrainingTasks.Multiclass, TrainerNames.Sdca), train, null, Path.Combine(_folder, "model"), TestContext.Current.CancellationToken);

        model.Features.ShouldContain(new FeatureColumn("purpose", "hashed"));
        model.Features.ShouldContain(new FeatureColumn("employment", "hashed"));
        model.Features.ShouldContain(new FeatureColumn("region", "hashed"));
        model.Features.ShouldContain(new FeatureColumn("note", "text"));
        model.Features.ShouldContain(new FeatureColumn("income", "numeric"));
    }

    [Fact]
    public async Task An_invalid_spec_lists_every_problem_and_trains_nothing()
    {
        var spec = new TrainingSpec
        {
            Label = "defaulted", Task = "ranking", Trainer = TrainerNames.FastTree,
            Hyperparameters = new Dictionary<string, double> { ["num_trees"] = 2.5, ["depth"] = 3, ["learning_rate"] = 0 },
        };

        var error = await Should.ThrowAsync<TrainingInputException>(() => _trainer.TrainAsync(spec, "missing.csv", null, Path.Combine(_folder, "model"), TestContext.Current.CancellationToken));

        error.Message.ShouldBe("Invalid training spec: task 'ranking' is not one of binary, multiclass, regression; "
                               + "hyperparameter 'num_trees' must be a whole number of at least 1, not 2.5; "
                               + "hyperparameter 'depth' is not one fasttree takes (num_trees, num_leaves, learning_rate, min_examples_per_leaf); "
                               + "hyperparameter 'learning_rate' must be a finite number above 0, not 0.");
        Directory.Exists(Path.Combine(_folder, "model")).ShouldBeFalse();
    }

    [Fact]
    public async Task Columns_the_file_lacks_and_a_binary_label_that_is_not_zero_or_one_are_refused_with_the_reason()
    {
        var train = TrainingData.Regression(_folder, "train.csv", 100, seed: 1);

        var missing = await Should.ThrowAsync<TrainingInputException>(() => _trainer.TrainAsync(
            new TrainingSpec { Label = "loan_amount", Task = TrainingTasks.Regression, Exclude = ["customer"], TextColumns = ["income"] }, train, null, Path.Combine(_folder, "a"), TestContext.Current.CancellationToken));
        missing.Message.ShouldStartWith("Cannot train: column 'customer' is not in the train file; column 'income' is declared as text but holds Numeric values (columns: income, debt_ratio");

        var notBinary = await Should.ThrowAsync<TrainingInputException>(() => _trainer.TrainAsync(
            new TrainingSpec { Label = "loan_amount", Task = TrainingTasks.Binary }, train, null, Path.Combine(_folder, "b"), TestContext.Current.CancellationToken));
        notBinary.Message.ShouldStartWith("the binary label 'loan_amount' of the train file is ");
        notBinary.Message.ShouldEndWith("on row 1; it must be true/false or 0/1");
    }

    [Fact]
    public async Task Logistic_regression_refuses_a_regression_task()
    {
        var error = await Should.ThrowAsync<TrainingInputException>(() => _trainer.TrainAsync(
            new TrainingSpec { Label = "y", Task = TrainingTasks.Regression, Trainer = TrainerNames.LogisticRegression }, "train.csv", null, _folder, TestContext.Current.CancellationToken));

        error.Message.ShouldBe("Invalid training spec: trainer logistic_regression classifies; for regression use sdca, fasttree or lightgbm.");
    }

    private sealed class SignatureComparer : IEqualityComparer<ModelSignature>
    {
        public bool Equals(ModelSignature? x, ModelSignature? y) => Describe(x!) == Describe(y!);

        public int GetHashCode(ModelSignature obj) => Describe(obj).GetHashCode(StringComparison.Ordinal);

        private static string Describe(ModelSignature signature) =>
            string.Join(";", signature.Inputs.Concat(signature.Outputs).Select(spec => $"{spec.Name}:{spec.Datatype}:{string.Join(",", spec.Shape)}"));
    }
}
