using Ballast.Metadata;
using Ballast.Registry;
using Ballast.Serving;
using Ballast.Storage;
using Ballast.Tests.Metadata;
using Ballast.Tracking;
using Ballast.Training;

namespace Ballast.Tests.Training;

/// <summary>
/// The model folder the trainer writes is what serving takes: logged as a run's artifacts and registered as
/// <c>runs:/&lt;run&gt;/model</c>, or its zip registered through <see cref="ModelRegistration"/>, and both score the
/// holdout as the evaluator did. On SQLite and PostgreSQL.
/// </summary>
public abstract class TrainedModelServingTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-trained-serving-").FullName;

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
        GC.SuppressFinalize(this);
    }

    [Theory]
    [InlineData(TrainerNames.LightGbm)]
    [InlineData(TrainerNames.FastTree)]
    public async Task A_model_folder_logged_to_a_run_is_served_from_its_runs_uri_and_registers_from_its_zip(string trainer)
    {
        var train = TrainingData.Binary(_folder, "train.csv", 800, seed: 1);
        var holdout = TrainingData.Binary(_folder, "holdout.csv", 100, seed: 2);
        var model = await new ModelTrainer(Time).TrainAsync(TrainingData.Spec(TrainingTasks.Binary, trainer), train, null, Path.Combine(_folder, "model"), Cancel);
        var expected = ModelEvaluator.Predict(model.ModelPath, holdout, SyntheticLoans.Label);

        var artifacts = new FileArtifactStore(Path.Combine(_folder, "artifacts"));
        var experiments = new ExperimentStore(Database, Time);
        var runs = new RunStore(Database, experiments, Time);
        var run = await runs.CreateAsync("0", runName: "train", cancellationToken: Cancel);
        foreach (var file in Directory.GetFiles(model.ModelFolder))
        {
            await using var content = File.OpenRead(file);
            await artifacts.PutAsync(ModelRegistration.StorePathOf(run.Info.ArtifactUri + "/model/" + Path.GetFileName(file))!, content, Cancel);
        }

        var registry = new RegistryStore(Database, Time);
        await registry.CreateModelAsync("loans", cancellationToken: Cancel);
        await registry.CreateVersionAsync("loans", $"runs:/{run.Info.RunId}/model", run.Info.RunId, cancellationToken: Cancel);
        using var cache = new ModelCache(registry, runs, artifacts, Time);
        var served = await cache.GetAsync("loans", 1);
        var scores = (float[])served.Runtime.Infer(ServingInputs.Read(holdout, served.Runtime.Signature)).Single(tensor => tensor.Name == "Probability").Data;
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i].ShouldBe(expected.Probabilities![i], 1e-5);
        }

        // A trailing '/' names the same folder (it made an artifact path with an empty segment, refused).
        await registry.CreateVersionAsync("loans", $"runs:/{run.Info.RunId}/model/", run.Info.RunId, cancellationToken: Cancel);
        var slashed = await cache.GetAsync("loans", 2);
        ((float[])slashed.Runtime.Infer(ServingInputs.Read(holdout, slashed.Runtime.Signature)).Single(tensor => tensor.Name == "Probability").Data).ShouldBe(scores);

        await using var zip = File.OpenRead(model.ModelPath);
        var registered = await new ModelRegistration(registry, artifacts).RegisterAsync("loans", zip, "model.zip", runId: run.Info.RunId, cancellationToken: Cancel);
        registered.Version.ShouldBe("3");
        registered.Tags.Single(tag => tag.Key == ModelRegistration.SignatureTag).Value.ShouldBe(ModelRegistration.SignatureToJson(model.Signature));
        registered.Tags.Single(tag => tag.Key == ModelRegistration.Sha256Tag).Value.ShouldBe(model.Sha256);
    }
}

public sealed class SqliteTrainedModelServingTests() : TrainedModelServingTests(DatabaseEngine.Sqlite);

public sealed class PostgresTrainedModelServingTests() : TrainedModelServingTests(DatabaseEngine.Postgres);
