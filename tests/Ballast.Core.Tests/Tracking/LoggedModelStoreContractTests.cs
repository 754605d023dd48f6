using Ballast.Metadata;
using Ballast.Registry;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Tracking;

/// <summary>MLflow 3 logged models (mlflow/store/tracking/sqlalchemy_store.py behaviour), run model outputs, and versions registered from them, on SQLite and PostgreSQL alike.</summary>
public abstract class LoggedModelStoreContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    private ExperimentStore Experiments => new(Database, Time);

    private LoggedModelStore Models => new(Database, Experiments, Time);

    private RunStore Runs => new(Database, Experiments, Time);

    private RegistryStore Registry => new(Database, Time);

    private long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    [Fact]
    public async Task A_model_is_created_pending_under_its_experiment_s_artifact_root_with_its_params_and_tags()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        var model = await Models.CreateAsync("0", "model", "classifier", run.Info.RunId, [new Param("alpha", "0.5")], [new TrackingTag("mlflow.source.type", "LOCAL")], Cancel);

        model.ModelId.ShouldStartWith("m-");
        model.ModelId.Length.ShouldBe(34);
        model.ExperimentId.ShouldBe("0");
        model.Name.ShouldBe("model");
        model.ModelType.ShouldBe("classifier");
        model.SourceRunId.ShouldBe(run.Info.RunId);
        model.Status.ShouldBe(LoggedModelStatuses.Pending);
        model.ArtifactLocation.ShouldBe($"mlflow-artifacts:/0/models/{model.ModelId}/artifacts");
        (model.CreationTimestamp, model.LastUpdatedTimestamp).ShouldBe((Now, Now));
        model.Params.ShouldBe([new Param("alpha", "0.5")]);
        model.Tags.ShouldBe([new TrackingTag("mlflow.source.type", "LOCAL")]);

        var unnamed = await Models.CreateAsync("0", cancellationToken: Cancel);
        unnamed.Name.ShouldBe($"model-{unnamed.ModelId[2..10]}");
        unnamed.SourceRunId.ShouldBeNull();
        (await Models.GetAsync(model.ModelId, cancellationToken: Cancel)).ShouldBeEquivalentTo(model);
    }

    [Fact]
    public async Task Creating_needs_an_active_experiment_a_known_run_and_a_name_without_path_characters()
    {
        (await Should.ThrowAsync<TrackingException>(() => Models.CreateAsync("77", cancellationToken: Cancel))).Message.ShouldBe("No Experiment with id=77 exists");
        var gone = await Experiments.CreateAsync("gone", cancellationToken: Cancel);
        await Experiments.DeleteAsync(gone, Cancel);
        (await Should.ThrowAsync<TrackingException>(() => Models.CreateAsync(gone, cancellationToken: Cancel))).Message.ShouldContain("must be in the 'active' state");
        (await Should.ThrowAsync<TrackingException>(() => Models.CreateAsync("0", sourceRunId: "ffffffffffffffffffffffffffffffff", cancellationToken: Cancel)))
            .Code.ShouldBe(TrackingException.ResourceDoesNotExist);
        var badName = await Should.ThrowAsync<TrackingException>(() => Models.CreateAsync("0", "a/b", cancellationToken: Cancel));
        (badName.Code, badName.Message).ShouldBe((TrackingException.InvalidParameterValue,
            "Invalid model name ('a/b') provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.', '%', '\"', \"'\")"));
        (await Models.SearchAsync(new LoggedModelSearch(["0", gone]), Cancel)).Models.ShouldBeEmpty("a refused create stores nothing");
    }

    [Fact]
    public async Task Finalizing_sets_ready_or_failed_and_nothing_else()
    {
        var model = await Models.CreateAsync("0", "m", cancellationToken: Cancel);
        Time.Advance(TimeSpan.FromSeconds(5));

        var ready = await Models.FinalizeAsync(model.ModelId, LoggedModelStatuses.Ready, Cancel);
        ready.Status.ShouldBe(LoggedModelStatuses.Ready);
        ready.LastUpdatedTimestamp.ShouldBe(Now);
        ready.CreationTimestamp.ShouldBe(model.CreationTimestamp);
        (await Models.FinalizeAsync(model.ModelId, LoggedModelStatuses.UploadFailed, Cancel)).Status.ShouldBe(LoggedModelStatuses.UploadFailed);

        var pending = await Should.ThrowAsync<TrackingException>(() => Models.FinalizeAsync(model.ModelId, LoggedModelStatuses.Pending, Cancel));
        pending.Code.ShouldBe(TrackingException.InvalidParameterValue);
        (await Should.ThrowAsync<TrackingException>(() => Models.FinalizeAsync("m-missing", LoggedModelStatuses.Ready, Cancel))).Message.ShouldBe("Logged model with ID 'm-missing' not found.");
    }

    [Fact]
    public async Task Tags_are_overwritten_and_deleted_and_params_are_written_once()
    {
        var model = await Models.CreateAsync("0", "m", parameters: [new Param("lr", "0.1")], cancellationToken: Cancel);
        await Models.SetTagsAsync(model.ModelId, [new TrackingTag("stage", "dev"), new TrackingTag("owner", "ana")], Cancel);
        await Models.SetTagsAsync(model.ModelId, [new TrackingTag("stage", "prod")], Cancel);
        await Models.DeleteTagAsync(model.ModelId, "owner", Cancel);
        await Models.LogParamsAsync(model.ModelId, [new Param("lr", "0.1"), new Param("depth", "3")], Cancel);

        var stored = await Models.GetAsync(model.ModelId, cancellationToken: Cancel);
        stored.Tags.ShouldBe([new TrackingTag("stage", "prod")]);
        stored.Params.ShouldBe([new Param("depth", "3"), new Param("lr", "0.1")]);

        var changed = await Should.ThrowAsync<TrackingException>(() => Models.LogParamsAsync(model.ModelId, [new Param("seed", "1"), new Param("lr", "0.2")], Cancel));
        changed.Message.ShouldBe($"Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' for logged model ID='{model.ModelId}'. Attempted logging new value '0.2'.");
        (await Models.GetAsync(model.ModelId, cancellationToken: Cancel)).Params.Select(param => param.Key).ShouldBe(["depth", "lr"], "a refused batch stores nothing");
        (await Should.ThrowAsync<TrackingException>(() => Models.DeleteTagAsync(model.ModelId, "owner", Cancel))).Code.ShouldBe(TrackingException.ResourceDoesNotExist);
        (await Should.ThrowAsync<TrackingException>(() => Models.SetTagsAsync(model.ModelId, [new TrackingTag("bad//key", "x")], Cancel))).Code.ShouldBe(TrackingException.InvalidParameterValue);
    }

    [Fact]
    public async Task A_deleted_model_leaves_gets_searches_and_writes_but_can_be_read_with_allow_deleted()
    {
        var model = await Models.CreateAsync("0", "m", cancellationToken: Cancel);
        await Models.DeleteAsync(model.ModelId, Cancel);

        (await Should.ThrowAsync<TrackingException>(() => Models.GetAsync(model.ModelId, cancellationToken: Cancel))).Code.ShouldBe(TrackingException.ResourceDoesNotExist);
        (await Models.GetAsync(model.ModelId, allowDeleted: true, Cancel)).LifecycleStage.ShouldBe(LifecycleStages.Deleted);
        (await Models.SearchAsync(new LoggedModelSearch(["0"]), Cancel)).Models.ShouldBeEmpty();
        (await Should.ThrowAsync<TrackingException>(() => Models.DeleteAsync(model.ModelId, Cancel))).Code.ShouldBe(TrackingException.ResourceDoesNotExist);
        (await Should.ThrowAsync<TrackingException>(() => Models.SetTagsAsync(model.ModelId, [new TrackingTag("a", "b")], Cancel))).Code.ShouldBe(TrackingException.ResourceDoesNotExist);
    }

    [Fact]
    public async Task Search_filters_by_attributes_tags_and_params_orders_and_pages()
    {
        var other = await Experiments.CreateAsync("other", cancellationToken: Cancel);
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        var a = await Models.CreateAsync("0", "alpha", "classifier", run.Info.RunId, [new Param("depth", "3")], [new TrackingTag("team", "growth")], Cancel);
        Time.Advance(TimeSpan.FromSeconds(1));
        var b = await Models.CreateAsync("0", "beta", "regressor", parameters: [new Param("depth", "5")], tags: [new TrackingTag("team", "risk")], cancellationToken: Cancel);
        Time.Advance(TimeSpan.FromSeconds(1));
        var c = await Models.CreateAsync(other, "gamma", cancellationToken: Cancel);
        await Models.FinalizeAsync(b.ModelId, LoggedModelStatuses.Ready, Cancel);

        async Task<List<string>> NamesAsync(string? filter = null, IReadOnlyList<LoggedModelOrder>? order = null, params string[] experiments) =>
            (await Models.SearchAsync(new LoggedModelSearch(experiments.Length == 0 ? ["0", other] : experiments, filter, order), Cancel)).Models.Select(m => m.Name).ToList();

        (await NamesAsync()).ShouldBe(["gamma", "beta", "alpha"], "newest first");
        (await NamesAsync(experiments: "0")).ShouldBe(["beta", "alpha"]);
        (await NamesAsync("name = 'alpha'")).ShouldBe(["alpha"]);
        (await NamesAsync("name LIKE 'a%'")).ShouldBe(["alpha"]);
        (await NamesAsync("name ILIKE 'BE%'")).ShouldBe(["beta"]);
        (await NamesAsync($"source_run_id = '{run.Info.RunId}'")).ShouldBe(["alpha"]);
        (await NamesAsync("status = 'LOGGED_MODEL_READY'")).ShouldBe(["beta"]);
        (await NamesAsync("status = 1")).ShouldBe(["gamma", "alpha"], "a status by its number");
        (await NamesAsync("model_type = 'classifier'")).ShouldBe(["alpha"]);
        (await NamesAsync($"creation_timestamp > {a.CreationTimestamp}")).ShouldBe(["gamma", "beta"]);
        (await NamesAsync("tags.team = 'risk'")).ShouldBe(["beta"]);
        (await NamesAsync("params.depth IN ('3', '5') AND tags.team != 'risk'")).ShouldBe(["alpha"]);
        (await NamesAsync(order: [new LoggedModelOrder("name")])).ShouldBe(["alpha", "beta", "gamma"]);
        (await NamesAsync(order: [new LoggedModelOrder("creation_timestamp", Ascending: true)])).ShouldBe(["alpha", "beta", "gamma"]);
        (await NamesAsync(order: [new LoggedModelOrder("model_type", Ascending: false)])).ShouldBe(["beta", "alpha", "gamma"], "missing values last");

        var first = await Models.SearchAsync(new LoggedModelSearch(["0", other], MaxResults: 2), Cancel);
        first.Models.Select(m => m.ModelId).ShouldBe([c.ModelId, b.ModelId]);
        first.NextPageToken.ShouldNotBeNull();
        var second = await Models.SearchAsync(new LoggedModelSearch(["0", other], MaxResults: 2, PageToken: first.NextPageToken), Cancel);
        second.Models.Select(m => m.ModelId).ShouldBe([a.ModelId]);
        second.NextPageToken.ShouldBeNull();

        // The previous release's token, base64 of {"offset": 2}: read as its offset, for a client paging across the upgrade.
        (await Models.SearchAsync(new LoggedModelSearch(["0", other], MaxResults: 2, PageToken: "eyJvZmZzZXQiOiAyfQ=="), Cancel)).Models.Select(m => m.ModelId).ShouldBe([a.ModelId]);
        (await Should.ThrowAsync<TrackingException>(() => Models.SearchAsync(new LoggedModelSearch(["0"], MaxResults: 2, PageToken: first.NextPageToken), Cancel))).Message
            .ShouldStartWith("Experiment IDs in the page token do not match the requested experiment IDs.");
        (await Should.ThrowAsync<TrackingException>(() => Models.SearchAsync(new LoggedModelSearch(["0", other], MaxResults: 2, PageToken: "garbage"), Cancel))).Code.ShouldBe("INVALID_PARAMETER_VALUE");
    }

    [Theory]
    [InlineData("metrics.acc > 'high'", "'metrics.acc' is compared as a number")]
    [InlineData("lifecycle = 'x'", "'lifecycle' is not a logged model attribute")]
    [InlineData("creation_timestamp = 'x'", "'creation_timestamp' is compared as a number")]
    [InlineData("name > 3", "'name' is compared as a string")]
    public async Task Search_refuses_filters_it_cannot_answer(string filter, string reason)
    {
        var error = await Should.ThrowAsync<TrackingException>(() => Models.SearchAsync(new LoggedModelSearch(["0"], filter), Cancel));
        error.Code.ShouldBe(TrackingException.InvalidParameterValue);
        error.Message.ShouldContain(reason);
        (await Should.ThrowAsync<TrackingException>(() => Models.SearchAsync(new LoggedModelSearch([]), Cancel))).Message.ShouldContain("'experiment_ids'");
        (await Should.ThrowAsync<TrackingException>(() => Models.SearchAsync(new LoggedModelSearch(["0"], OrderBy: [new LoggedModelOrder("size")]), Cancel)))
            .Message.ShouldContain("Invalid order by field name: size");
        (await Should.ThrowAsync<TrackingException>(() => Models.SearchAsync(new LoggedModelSearch(["0"], OrderBy: [new LoggedModelOrder("name", DatasetName: "d")]), Cancel)))
            .Message.ShouldContain("apply to metrics only");
        (await Should.ThrowAsync<TrackingException>(() => Models.SearchAsync(new LoggedModelSearch(["0"], Datasets: [new LoggedModelDataset("")]), Cancel)))
            .Message.ShouldBe("`dataset_name` in the `datasets` clause must be specified.");
        (await Should.ThrowAsync<TrackingException>(() => Models.SearchAsync(new LoggedModelSearch(["0"], MaxResults: 0), Cancel))).Code.ShouldBe(TrackingException.InvalidParameterValue);
    }

    [Fact]
    public async Task Metrics_a_run_links_to_a_model_are_kept_on_it_filtered_and_ordered_by_dataset()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        var a = await Models.CreateAsync("0", "a", sourceRunId: run.Info.RunId, cancellationToken: Cancel);
        Time.Advance(TimeSpan.FromSeconds(1));
        var b = await Models.CreateAsync("0", "b", sourceRunId: run.Info.RunId, cancellationToken: Cancel);
        Time.Advance(TimeSpan.FromSeconds(1));
        await Models.CreateAsync("0", "c", cancellationToken: Cancel);
        await Runs.LogBatchAsync(run.Info.RunId, [
            new Metric("acc", 0.8, 100, 0) { ModelId = a.ModelId, DatasetName = "test", DatasetDigest = "d1" },
            new Metric("acc", 0.9, 200, 1) { ModelId = a.ModelId, DatasetName = "train" },
            new Metric("acc", 0.85, 100, 0) { ModelId = b.ModelId, DatasetName = "test", DatasetDigest = "d1" },
            new Metric("loss", 0.3, 100, 0),
        ], [], [], Cancel);
        // MLflow 3's log_model() logs the step's metrics again with the model linked: nothing is doubled.
        await Runs.LogBatchAsync(run.Info.RunId, [new Metric("acc", 0.85, 100, 0) { ModelId = b.ModelId, DatasetName = "test", DatasetDigest = "d1" }], [], [], Cancel);

        var stored = await Models.GetAsync(a.ModelId, cancellationToken: Cancel);
        stored.Metrics.Select(m => (m.Key, m.Value, m.Step, m.RunId, m.DatasetName, m.DatasetDigest)).ShouldBe(
            [("acc", 0.8, 0L, run.Info.RunId, "test", "d1"), ("acc", 0.9, 1L, run.Info.RunId, "train", null)]);
        (await Models.GetAsync(b.ModelId, cancellationToken: Cancel)).Metrics.Count.ShouldBe(1);
        (await Runs.GetAsync(run.Info.RunId, Cancel)).Data.Metrics.Select(m => (m.Key, m.Value)).ShouldBe([("acc", 0.9), ("loss", 0.3)], "the run keeps them too");

        async Task<List<string>> NamesAsync(string? filter, IReadOnlyList<LoggedModelOrder>? order = null, IReadOnlyList<LoggedModelDataset>? datasets = null) =>
            (await Models.SearchAsync(new LoggedModelSearch(["0"], filter, order, Datasets: datasets), Cancel)).Models.Select(m => m.Name).ToList();

        (await NamesAsync("metrics.acc >= 0.85")).ShouldBe(["b", "a"], "any linked value counts");
        (await NamesAsync("metrics.acc >= 0.85", datasets: [new LoggedModelDataset("test")])).ShouldBe(["b"]);
        (await NamesAsync("metrics.acc > 0.5", datasets: [new LoggedModelDataset("test", "other")])).ShouldBeEmpty();
        (await NamesAsync(null, datasets: [new LoggedModelDataset("train")])).ShouldBe(["a"], "datasets alone keep the models with values on them");
        (await NamesAsync(null, [new LoggedModelOrder("metrics.acc", Ascending: false)])).ShouldBe(["a", "b", "c"], "the latest value (0.9 for a), models without it last");
        (await NamesAsync(null, [new LoggedModelOrder("metrics.acc", Ascending: false, DatasetName: "test")])).ShouldBe(["b", "a", "c"]);
        (await Should.ThrowAsync<TrackingException>(() => Runs.LogBatchAsync(run.Info.RunId, [new Metric("x", 1, 1, 0), new Metric("acc", 1, 1, 0) { ModelId = "m-missing" }], [], [], Cancel)))
            .Message.ShouldBe("Logged model with ID 'm-missing' not found.");
        (await Runs.GetAsync(run.Info.RunId, Cancel)).Data.Metrics.Select(m => m.Key).ShouldNotContain("x", "a refused batch stores nothing");
    }

    [Fact]
    public async Task A_run_keeps_the_models_it_produced_and_used()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        var produced = await Models.CreateAsync("0", "model", sourceRunId: run.Info.RunId, cancellationToken: Cancel);
        var used = await Models.CreateAsync("0", "base", cancellationToken: Cancel);

        await Runs.LogOutputsAsync(run.Info.RunId, [new ModelOutput(produced.ModelId, 3)], Cancel);
        await Runs.LogOutputsAsync(run.Info.RunId, [new ModelOutput(produced.ModelId, 3)], Cancel);
        await Runs.LogInputsAsync(run.Info.RunId, [], [used.ModelId], Cancel);

        var stored = await Runs.GetAsync(run.Info.RunId, Cancel);
        stored.ModelOutputs.ShouldBe([new ModelOutput(produced.ModelId, 3)]);
        stored.ModelInputs.ShouldBe([used.ModelId]);
        (await Runs.SearchAsync(new RunSearch(["0"], null, null, null, null, ViewType.ActiveOnly), Cancel)).Runs.Single().ModelOutputs.ShouldBe([new ModelOutput(produced.ModelId, 3)]);
        (await Should.ThrowAsync<TrackingException>(() => Runs.LogOutputsAsync(run.Info.RunId, [new ModelOutput("m-missing", 0)], Cancel))).Message.ShouldBe("Logged model with ID 'm-missing' not found.");
        (await Should.ThrowAsync<TrackingException>(() => Runs.LogOutputsAsync("ffffffffffffffffffffffffffffffff", [new ModelOutput(produced.ModelId, 0)], Cancel))).Code.ShouldBe(TrackingException.ResourceDoesNotExist);
    }

    [Fact]
    public async Task A_version_of_a_logged_model_keeps_its_models_source_and_reads_the_model_s_files()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        var model = await Models.CreateAsync("0", "model", sourceRunId: run.Info.RunId, cancellationToken: Cancel);
        await Registry.CreateModelAsync("churn", cancellationToken: Cancel);

        var version = await Registry.CreateVersionAsync("churn", $"models:/{model.ModelId}", modelId: model.ModelId, cancellationToken: Cancel);
        version.Source.ShouldBe($"models:/{model.ModelId}");
        version.ModelId.ShouldBe(model.ModelId);
        version.RunId.ShouldBe(run.Info.RunId, "the model's source run, as MLflow");
        version.StorageLocation.ShouldBe(model.ArtifactLocation);
        version.DownloadUri.ShouldBe($"mlflow-artifacts:/0/models/{model.ModelId}/artifacts");
        (await Registry.GetVersionAsync("churn", "1", Cancel)).DownloadUri.ShouldBe(model.ArtifactLocation);

        var fromSourceOnly = await Registry.CreateVersionAsync("churn", $"models:/{model.ModelId}", cancellationToken: Cancel);
        (fromSourceOnly.ModelId, fromSourceOnly.DownloadUri).ShouldBe((model.ModelId, model.ArtifactLocation));

        var byName = await Registry.CreateVersionAsync("churn", "models:/churn/1", cancellationToken: Cancel);
        (byName.Source, byName.ModelId, byName.StorageLocation).ShouldBe(("models:/churn/1", null, model.ArtifactLocation), "models:/NAME/VERSION reads that version's files; it names no logged model");
        (await Should.ThrowAsync<TrackingException>(() => Registry.CreateVersionAsync("churn", "models:/churn/9", cancellationToken: Cancel)))
            .Message.ShouldBe("Unable to fetch model from model URI source artifact location 'models:/churn/9'. Error: Model Version (name=churn, version=9) not found");

        // The versions registered with the model's id are its registrations and, as MLflow's server records them, its mlflow.modelVersions tag.
        var registered = await Models.GetAsync(model.ModelId, cancellationToken: Cancel);
        registered.Registrations.ShouldBe([new LoggedModelRegistration("churn", "1"), new LoggedModelRegistration("churn", "2")]);
        registered.Tags.Single(tag => tag.Key == "mlflow.modelVersions").Value.ShouldBe("[{\"name\": \"churn\", \"version\": 1}, {\"name\": \"churn\", \"version\": 2}]");

        (await Should.ThrowAsync<TrackingException>(() => Registry.CreateVersionAsync("churn", "models:/m-missing", cancellationToken: Cancel)))
            .Message.ShouldBe("Logged model with ID 'm-missing' not found.");
        (await Should.ThrowAsync<TrackingException>(() => Registry.CreateVersionAsync("churn", $"models:/{model.ModelId}", modelId: "m-other", cancellationToken: Cancel)))
            .Code.ShouldBe(TrackingException.InvalidParameterValue);
        (await Registry.SearchVersionsAsync(new RegistrySearch("name = 'churn'"), Cancel)).Versions.Count.ShouldBe(3, "refused versions are not stored");
    }

    [Fact]
    public async Task The_model_versions_tag_keeps_what_it_held_and_lists_each_version_once()
    {
        var listed = await Models.CreateAsync("0", "listed", cancellationToken: Cancel);
        var broken = await Models.CreateAsync("0", "broken", cancellationToken: Cancel);
        // A client that recorded the version itself, with the version as a string; a tag that is not a JSON list.
        await Models.SetTagsAsync(listed.ModelId, [new TrackingTag("mlflow.modelVersions", "[{\"name\": \"churn\", \"version\": \"1\"}]")], Cancel);
        await Models.SetTagsAsync(broken.ModelId, [new TrackingTag("mlflow.modelVersions", "not json")], Cancel);
        await Registry.CreateModelAsync("churn", cancellationToken: Cancel);

        await Registry.CreateVersionAsync("churn", $"models:/{listed.ModelId}", cancellationToken: Cancel);
        await Registry.CreateVersionAsync("churn", $"models:/{broken.ModelId}", cancellationToken: Cancel);
        await Registry.CreateVersionAsync("churn", $"models:/{listed.ModelId}", cancellationToken: Cancel);

        (await Models.GetAsync(listed.ModelId, cancellationToken: Cancel)).Tags.Single().Value.ShouldBe("[{\"name\": \"churn\", \"version\": \"1\"}, {\"name\": \"churn\", \"version\": 3}]");
        (await Models.GetAsync(broken.ModelId, cancellationToken: Cancel)).Tags.Single().Value.ShouldBe("[{\"name\": \"churn\", \"version\": 2}]");
    }
}

public sealed class SqliteLoggedModelStoreTests() : LoggedModelStoreContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresLoggedModelStoreTests() : LoggedModelStoreContractTests(DatabaseEngine.Postgres);
