using Ballast.Metadata;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Tracking;

/// <summary>MLflow run semantics (mlflow/store/tracking/sqlalchemy_store.py behaviour), on SQLite and PostgreSQL alike.</summary>
public abstract class RunStoreContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    private ExperimentStore Experiments => new(Database, Time);

    private RunStore Runs => new(Database, Experiments, Time);

    private long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    [Fact]
    public async Task A_run_is_created_running_with_its_name_tag_and_artifact_uri()
    {
        var run = await Runs.CreateAsync("0", userId: "ana", runName: "baseline", tags: [new TrackingTag("team", "growth")], cancellationToken: Cancel);

        run.Info.RunId.Length.ShouldBe(32);
        run.Info.ExperimentId.ShouldBe("0");
        run.Info.RunName.ShouldBe("baseline");
        run.Info.UserId.ShouldBe("ana");
        run.Info.Status.ShouldBe("RUNNING");
        run.Info.StartTime.ShouldBe(Now);
        run.Info.EndTime.ShouldBeNull();
        run.Info.LifecycleStage.ShouldBe("active");
        run.Info.ArtifactUri.ShouldBe($"mlflow-artifacts:/0/{run.Info.RunId}/artifacts");
        run.Data.Tags.ShouldBe([new TrackingTag("mlflow.runName", "baseline"), new TrackingTag("mlflow.user", "ana"), new TrackingTag("team", "growth")]);

        var unnamed = await Runs.CreateAsync("0", cancellationToken: Cancel);
        unnamed.Info.RunName.ShouldBe($"run-{unnamed.Info.RunId[..8]}");
    }

    [Fact]
    public async Task Runs_need_an_existing_active_experiment()
    {
        (await Should.ThrowAsync<TrackingException>(() => Runs.CreateAsync("77", cancellationToken: Cancel))).Code.ShouldBe("RESOURCE_DOES_NOT_EXIST");
        var id = await Experiments.CreateAsync("gone", cancellationToken: Cancel);
        await Experiments.DeleteAsync(id, Cancel);
        (await Should.ThrowAsync<TrackingException>(() => Runs.CreateAsync(id, cancellationToken: Cancel))).Message.ShouldContain("must be in the 'active' state");
        (await Should.ThrowAsync<TrackingException>(() => Runs.GetAsync("ffffffffffffffffffffffffffffffff", Cancel))).Message.ShouldBe("Run with id=ffffffffffffffffffffffffffffffff not found");
    }

    [Fact]
    public async Task The_latest_metric_is_the_one_with_the_greatest_step_then_timestamp_then_value()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        await Runs.LogBatchAsync(run.Info.RunId, [new Metric("loss", 1.0, 100, 0), new Metric("loss", 0.5, 90, 1), new Metric("loss", 9.0, 200, 0)], [], [], Cancel);
        await Runs.LogBatchAsync(run.Info.RunId, [new Metric("loss", 0.4, 80, 1)], [], [], Cancel);

        (await Runs.GetAsync(run.Info.RunId, Cancel)).Data.Metrics.ShouldBe([new Metric("loss", 0.5, 90, 1)]);
        var history = await Runs.GetMetricHistoryAsync(run.Info.RunId, "loss", cancellationToken: Cancel);
        history.Metrics.Select(metric => (metric.Step, metric.Timestamp)).ShouldBe([(0L, 100L), (0L, 200L), (1L, 80L), (1L, 90L)]);
    }

    [Fact]
    public async Task Nan_and_infinite_metric_values_survive_the_round_trip()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        await Runs.LogBatchAsync(run.Info.RunId, [new Metric("nan", double.NaN, 1, 0), new Metric("inf", double.PositiveInfinity, 1, 0), new Metric("ninf", double.NegativeInfinity, 1, 0)], [], [], Cancel);

        var metrics = (await Runs.GetAsync(run.Info.RunId, Cancel)).Data.Metrics.ToDictionary(metric => metric.Key, metric => metric.Value);
        double.IsNaN(metrics["nan"]).ShouldBeTrue();
        metrics["inf"].ShouldBe(double.PositiveInfinity);
        metrics["ninf"].ShouldBe(double.NegativeInfinity);
    }

    [Fact]
    public async Task A_param_is_written_once_and_a_refused_batch_stores_nothing()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        await Runs.LogBatchAsync(run.Info.RunId, [], [new Param("lr", "0.1")], [], Cancel);
        await Runs.LogBatchAsync(run.Info.RunId, [], [new Param("lr", "0.1")], [], Cancel);

        var error = await Should.ThrowAsync<TrackingException>(() => Runs.LogBatchAsync(
            run.Info.RunId, [new Metric("acc", 0.9, 1, 0)], [new Param("depth", "3"), new Param("lr", "0.2")], [new TrackingTag("t", "v")], Cancel));
        error.Code.ShouldBe("INVALID_PARAMETER_VALUE");
        error.Message.ShouldBe($"Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' for run ID='{run.Info.RunId}'. Attempted logging new value '0.2'.");

        var data = (await Runs.GetAsync(run.Info.RunId, Cancel)).Data;
        data.Params.ShouldBe([new Param("lr", "0.1")]);
        data.Metrics.ShouldBeEmpty();
        data.Tags.ShouldNotContain(tag => tag.Key == "t");
    }

    [Fact]
    public async Task Batch_limits_are_mlflows()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        var metrics = Enumerable.Range(0, 1001).Select(i => new Metric("m", i, i, i)).ToList();
        (await Should.ThrowAsync<TrackingException>(() => Runs.LogBatchAsync(run.Info.RunId, metrics, [], [], Cancel)))
            .Message.ShouldContain("at most 1000 metrics. Got 1001 metrics.");
        var parameters = Enumerable.Range(0, 101).Select(i => new Param($"p{i}", "v")).ToList();
        (await Should.ThrowAsync<TrackingException>(() => Runs.LogBatchAsync(run.Info.RunId, [], parameters, [], Cancel)))
            .Message.ShouldContain("at most 100 params. Got 101 params.");

        await Runs.LogBatchAsync(run.Info.RunId, metrics.Take(1000).ToList(), [], [], Cancel);
        (await Runs.GetMetricHistoryAsync(run.Info.RunId, "m", cancellationToken: Cancel)).Metrics.Count.ShouldBe(1000);
    }

    [Theory]
    [InlineData("a//b")]
    [InlineData("../x")]
    [InlineData("/abs")]
    [InlineData("trailing/")]
    [InlineData("semi;colon")]
    public async Task Keys_that_are_not_safe_names_are_refused(string key)
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        var error = await Should.ThrowAsync<TrackingException>(() => Runs.LogBatchAsync(run.Info.RunId, [new Metric(key, 1, 1, 0)], [], [], Cancel));
        error.Message.ShouldStartWith($"Invalid metric name: '{key}'.");
    }

    [Fact]
    public async Task Values_over_mlflows_length_limits_are_refused()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        (await Should.ThrowAsync<TrackingException>(() => Runs.LogBatchAsync(run.Info.RunId, [], [new Param("p", new string('x', 6001))], [], Cancel)))
            .Message.ShouldContain("exceeded length limit of 6000");
        (await Should.ThrowAsync<TrackingException>(() => Runs.LogBatchAsync(run.Info.RunId, [], [], [new TrackingTag("t", new string('x', 8001))], Cancel)))
            .Message.ShouldContain("exceeded length limit of 8000");
        (await Should.ThrowAsync<TrackingException>(() => Runs.LogBatchAsync(run.Info.RunId, [new Metric(new string('k', 251), 1, 1, 0)], [], [], Cancel)))
            .Message.ShouldContain("exceeded length limit of 250");
    }

    [Fact]
    public async Task Update_finishes_a_run_and_renames_it()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        var info = await Runs.UpdateAsync(run.Info.RunId, "FINISHED", Now + 5, "renamed", Cancel);

        info.Status.ShouldBe("FINISHED");
        info.EndTime.ShouldBe(Now + 5);
        var read = await Runs.GetAsync(run.Info.RunId, Cancel);
        read.Info.RunName.ShouldBe("renamed");
        read.Data.Tags.ShouldContain(new TrackingTag("mlflow.runName", "renamed"));
        (await Should.ThrowAsync<TrackingException>(() => Runs.UpdateAsync(run.Info.RunId, "DONE", null, null, Cancel))).Message.ShouldContain("RUNNING, SCHEDULED, FINISHED, FAILED, KILLED");
    }

    [Fact]
    public async Task A_deleted_run_refuses_logging_until_restored()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        await Runs.DeleteAsync(run.Info.RunId, Cancel);
        (await Runs.GetAsync(run.Info.RunId, Cancel)).Info.LifecycleStage.ShouldBe("deleted");
        (await Should.ThrowAsync<TrackingException>(() => Runs.LogBatchAsync(run.Info.RunId, [new Metric("m", 1, 1, 0)], [], [], Cancel)))
            .Message.ShouldBe($"The run {run.Info.RunId} must be in the 'active' state. Current state is deleted.");

        await Runs.RestoreAsync(run.Info.RunId, Cancel);
        await Runs.LogBatchAsync(run.Info.RunId, [new Metric("m", 1, 1, 0)], [], [], Cancel);
    }

    // mlflow/store/tracking/sqlalchemy_store.py delete_experiment marks the experiment's runs deleted (_mark_run_deleted)
    // and restore_experiment marks them active. MLflow restores every run of the experiment; Ballast brings back only
    // the runs the experiment's deletion deleted, so a run deleted on its own stays deleted.
    [Fact]
    public async Task Deleting_an_experiment_deletes_its_active_runs_and_restoring_it_brings_back_only_those()
    {
        var id = await Experiments.CreateAsync("retired", cancellationToken: Cancel);
        var kept = (await Runs.CreateAsync(id, runName: "kept", cancellationToken: Cancel)).Info.RunId;
        var discarded = (await Runs.CreateAsync(id, runName: "discarded", cancellationToken: Cancel)).Info.RunId;
        var revived = (await Runs.CreateAsync(id, runName: "revived", cancellationToken: Cancel)).Info.RunId;
        var elsewhere = (await Runs.CreateAsync("0", runName: "elsewhere", cancellationToken: Cancel)).Info.RunId;
        await Runs.DeleteAsync(discarded, Cancel);

        Time.Advance(TimeSpan.FromSeconds(1));
        await Experiments.DeleteAsync(id, Cancel);

        foreach (var runId in new[] { kept, discarded, revived })
        {
            (await Runs.GetAsync(runId, Cancel)).Info.LifecycleStage.ShouldBe("deleted", runId);
        }

        (await Runs.GetAsync(elsewhere, Cancel)).Info.LifecycleStage.ShouldBe("active");
        (await Runs.SearchAsync(new RunSearch([id]), Cancel)).Runs.ShouldBeEmpty();
        (await Runs.SearchAsync(new RunSearch([id], ViewType: ViewType.DeletedOnly), Cancel)).Runs.Count.ShouldBe(3);
        (await Should.ThrowAsync<TrackingException>(() => Runs.LogBatchAsync(kept, [new Metric("m", 1, 1, 0)], [], [], Cancel)))
            .Message.ShouldBe($"The run {kept} must be in the 'active' state. Current state is deleted.");

        // Restored on its own while the experiment is deleted, as MLflow allows: the experiment's restore leaves it be.
        await Runs.RestoreAsync(revived, Cancel);
        await Experiments.RestoreAsync(id, Cancel);

        (await Runs.GetAsync(kept, Cancel)).Info.LifecycleStage.ShouldBe("active");
        (await Runs.GetAsync(revived, Cancel)).Info.LifecycleStage.ShouldBe("active");
        (await Runs.GetAsync(discarded, Cancel)).Info.LifecycleStage.ShouldBe("deleted", "deleted on its own before the experiment");
        (await Runs.SearchAsync(new RunSearch([id], OrderBy: ["attributes.run_name"]), Cancel)).Runs.Select(run => run.Info.RunName).ShouldBe(["kept", "revived"]);
        await Runs.LogBatchAsync(kept, [new Metric("m", 1, 1, 0)], [], [], Cancel);

        // A second round trip marks afresh: a run deleted on its own after the first restore stays deleted after the second.
        await Runs.DeleteAsync(revived, Cancel);
        await Experiments.DeleteAsync(id, Cancel);
        await Experiments.RestoreAsync(id, Cancel);
        (await Runs.GetAsync(kept, Cancel)).Info.LifecycleStage.ShouldBe("active");
        (await Runs.GetAsync(revived, Cancel)).Info.LifecycleStage.ShouldBe("deleted");
    }

    // mlflow/store/tracking/sqlalchemy_store.py create_run: "Both 'run_name' argument and 'mlflow.runName' tag are
    // specified, but with different values ..." (INVALID_PARAMETER_VALUE); equal values are one name.
    [Fact]
    public async Task A_run_name_and_a_different_run_name_tag_are_refused_and_equal_ones_accepted()
    {
        var error = await Should.ThrowAsync<TrackingException>(() => Runs.CreateAsync("0", runName: "a", tags: [new TrackingTag("mlflow.runName", "b")], cancellationToken: Cancel));
        (error.Code, error.Message).ShouldBe(("INVALID_PARAMETER_VALUE",
            "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='a', mlflow.runName='b')."));

        var same = await Runs.CreateAsync("0", runName: "a", tags: [new TrackingTag("mlflow.runName", "a")], cancellationToken: Cancel);
        same.Info.RunName.ShouldBe("a");
        same.Data.Tags.ShouldBe([new TrackingTag("mlflow.runName", "a")]);
        (await Runs.CreateAsync("0", tags: [new TrackingTag("mlflow.runName", "from-tag")], cancellationToken: Cancel)).Info.RunName.ShouldBe("from-tag");
    }

    [Fact]
    public async Task Tags_are_replaced_and_deleted()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        await Runs.LogBatchAsync(run.Info.RunId, [], [], [new TrackingTag("stage", "a")], Cancel);
        await Runs.LogBatchAsync(run.Info.RunId, [], [], [new TrackingTag("stage", "b")], Cancel);
        (await Runs.GetAsync(run.Info.RunId, Cancel)).Data.Tags.ShouldContain(new TrackingTag("stage", "b"));

        await Runs.DeleteTagAsync(run.Info.RunId, "stage", Cancel);
        (await Runs.GetAsync(run.Info.RunId, Cancel)).Data.Tags.ShouldNotContain(tag => tag.Key == "stage");
        (await Should.ThrowAsync<TrackingException>(() => Runs.DeleteTagAsync(run.Info.RunId, "stage", Cancel))).Code.ShouldBe("RESOURCE_DOES_NOT_EXIST");
    }

    [Fact]
    public async Task Metric_history_pages_with_a_token()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        await Runs.LogBatchAsync(run.Info.RunId, Enumerable.Range(0, 5).Select(i => new Metric("m", i, i, i)).ToList(), [], [], Cancel);

        var first = await Runs.GetMetricHistoryAsync(run.Info.RunId, "m", 3, cancellationToken: Cancel);
        first.Metrics.Select(metric => metric.Step).ShouldBe([0L, 1L, 2L]);
        var second = await Runs.GetMetricHistoryAsync(run.Info.RunId, "m", 3, first.NextPageToken, Cancel);
        second.Metrics.Select(metric => metric.Step).ShouldBe([3L, 4L]);
        second.NextPageToken.ShouldBeNull();
    }

    [Fact]
    public async Task Search_evaluates_mlflows_filter_grammar_over_metrics_params_tags_and_attributes()
    {
        var start = Now;
        var (a, b) = await SearchFixtureAsync();

        await RunNamesAsync([a], "metrics.acc > 0.9 and params.model = 'lgbm' and tags.team = \"x\" and attributes.status = 'FINISHED'").ShouldBeAsync(["r1"]);
        await RunNamesAsync([a], "metrics.acc >= 0.7").ShouldBeAsync(["r1", "r2"]);
        await RunNamesAsync([a, b], "metrics.acc >= 0.7").ShouldBeAsync(["r1", "r2", "r4"]);
        await RunNamesAsync([a], "params.model IN ('lgbm', 'cat')").ShouldBeAsync(["r1", "r3"]);
        await RunNamesAsync([a], "params.model NOT IN ('lgbm')").ShouldBeAsync(["r2"]);
        await RunNamesAsync([a], "tags.team != 'x'").ShouldBeAsync(["r2"], "a run without the tag does not match !=, as in MLflow");
        await RunNamesAsync([a], "attributes.run_name LIKE 'r%' AND params.model ILIKE 'LGBM'").ShouldBeAsync(["r1", "r3"]);
        await RunNamesAsync([a], "metrics.`f1 score` < 0.5").ShouldBeAsync(["r2"]);
        await RunNamesAsync([a], $"attributes.start_time > {start + 1500}").ShouldBeAsync(["r3"]);
    }

    [Fact]
    public async Task Search_orders_by_a_metric_with_missing_values_last_and_pages()
    {
        var (a, b) = await SearchFixtureAsync();

        await RunNamesAsync([a], null, ["metrics.acc DESC"]).ShouldBeAsync(["r1", "r2", "r3"]);
        await RunNamesAsync([a], null, ["metrics.acc ASC"]).ShouldBeAsync(["r2", "r1", "r3"]);
        // Filtered on the metric it is ordered by: the query walks that metric's index (see RunSearchSql).
        await RunNamesAsync([a], "metrics.acc >= 0.7", ["metrics.acc DESC"]).ShouldBeAsync(["r1", "r2"]);
        await RunNamesAsync([a, b], "metrics.acc > 0 and params.model = 'lgbm'", ["metrics.acc ASC", "attributes.run_name"]).ShouldBeAsync(["r1", "r4"]);
        await RunNamesAsync([a], null, ["params.model", "attributes.run_name DESC"]).ShouldBeAsync(["r3", "r1", "r2"]);
        await RunNamesAsync([a], null, []).ShouldBeAsync(["r3", "r2", "r1"], "newest first by default");

        var first = await Runs.SearchAsync(new RunSearch([a], MaxResults: 2, OrderBy: ["attributes.run_name"]), Cancel);
        first.Runs.Select(run => run.Info.RunName).ShouldBe(["r1", "r2"]);
        first.Runs[0].Data.Metrics.ShouldContain(metric => metric.Key == "acc");
        first.Runs[0].Data.Params.ShouldBe([new Param("model", "lgbm")]);
        var second = await Runs.SearchAsync(new RunSearch([a], MaxResults: 2, OrderBy: ["attributes.run_name"], PageToken: first.NextPageToken), Cancel);
        second.Runs.Select(run => run.Info.RunName).ShouldBe(["r3"]);
        second.NextPageToken.ShouldBeNull();

        // The previous release's token, base64 of {"offset": 2}: read as its offset, for a client paging across the upgrade.
        (await Runs.SearchAsync(new RunSearch([a], MaxResults: 2, OrderBy: ["attributes.run_name"], PageToken: "eyJvZmZzZXQiOiAyfQ=="), Cancel)).Runs.Select(run => run.Info.RunName).ShouldBe(["r3"]);
        (await Should.ThrowAsync<TrackingException>(() => Runs.SearchAsync(new RunSearch([a], MaxResults: 2, OrderBy: ["attributes.run_name DESC"], PageToken: first.NextPageToken), Cancel))).Message
            .ShouldBe("Order by in the page token does not match the requested order by. Expected: [\"attributes.run_name DESC\"]. Found: [\"attributes.run_name\"]");
        (await Should.ThrowAsync<TrackingException>(() => Runs.SearchAsync(new RunSearch([a], MaxResults: 2, PageToken: "garbage"), Cancel))).Code.ShouldBe("INVALID_PARAMETER_VALUE");
    }

    [Fact]
    public async Task Search_respects_the_view_type()
    {
        var (a, _) = await SearchFixtureAsync();
        var r2 = (await Runs.SearchAsync(new RunSearch([a], "attributes.run_name = 'r2'"), Cancel)).Runs.Single();
        await Runs.DeleteAsync(r2.Info.RunId, Cancel);

        await RunNamesAsync([a], null, ["attributes.run_name"]).ShouldBeAsync(["r1", "r3"]);
        (await Runs.SearchAsync(new RunSearch([a], ViewType: ViewType.DeletedOnly), Cancel)).Runs.Select(run => run.Info.RunName).ShouldBe(["r2"]);
        (await Runs.SearchAsync(new RunSearch([a], ViewType: ViewType.All), Cancel)).Runs.Count.ShouldBe(3);
    }

    [Theory]
    [InlineData("metrics.acc LIKE 'x'", "compared as a number")]
    [InlineData("params.model > 1", "compared as a string")]
    [InlineData("attributes.color = 'red'", "Invalid attribute key 'color'")]
    [InlineData("datasets.size = 'x'", "datasets can be searched by name, digest and context")]
    public async Task Bad_run_filters_say_what_is_wrong(string filter, string reason)
    {
        var error = await Should.ThrowAsync<TrackingException>(() => Runs.SearchAsync(new RunSearch(["0"], filter), Cancel));
        error.Code.ShouldBe("INVALID_PARAMETER_VALUE");
        error.Message.ShouldContain(reason);
    }

    [Fact]
    public async Task Search_needs_experiment_ids()
    {
        (await Should.ThrowAsync<TrackingException>(() => Runs.SearchAsync(new RunSearch([]), Cancel))).Message.ShouldContain("'experiment_ids'");
        (await Should.ThrowAsync<TrackingException>(() => Runs.SearchAsync(new RunSearch(["x"]), Cancel))).Message.ShouldContain("non-negative integers");
    }

    private async Task<(string A, string B)> SearchFixtureAsync()
    {
        var a = await Experiments.CreateAsync("a", cancellationToken: Cancel);
        var b = await Experiments.CreateAsync("b", cancellationToken: Cancel);
        async Task LogAsync(string experiment, string name, double? acc, string? model, string? team, double? f1, bool finish)
        {
            var run = await Runs.CreateAsync(experiment, runName: name, cancellationToken: Cancel);
            Time.Advance(TimeSpan.FromSeconds(1));
            var metrics = new List<Metric>();
            if (acc is { } accuracy)
            {
                metrics.Add(new Metric("acc", accuracy, Now, 0));
            }

            if (f1 is { } score)
            {
                metrics.Add(new Metric("f1 score", score, Now, 0));
            }

            await Runs.LogBatchAsync(run.Info.RunId, metrics,
                model is null ? [] : [new Param("model", model)],
                team is null ? [] : [new TrackingTag("team", team)], Cancel);
            if (finish)
            {
                await Runs.UpdateAsync(run.Info.RunId, "FINISHED", Now, null, Cancel);
            }
        }

        await LogAsync(a, "r1", 0.95, "lgbm", "x", 0.9, finish: true);
        await LogAsync(a, "r2", 0.7, "xgb", "y", 0.4, finish: false);
        await LogAsync(a, "r3", null, "lgbm", null, null, finish: false);
        await LogAsync(b, "r4", 0.99, "lgbm", "x", null, finish: true);
        return (a, b);
    }

    private async Task<IReadOnlyList<string>> RunNamesAsync(IReadOnlyList<string> experiments, string? filter, IReadOnlyList<string>? orderBy = null) =>
        (await Runs.SearchAsync(new RunSearch(experiments, filter, orderBy ?? ["attributes.run_name"]), Cancel)).Runs.Select(run => run.Info.RunName!).ToList();

    [Fact]
    public async Task Dataset_inputs_are_stored_once_per_experiment_and_searchable()
    {
        var first = await Runs.CreateAsync("0", runName: "first", cancellationToken: Cancel);
        var second = await Runs.CreateAsync("0", runName: "second", cancellationToken: Cancel);
        var train = new DatasetInput(new DatasetDescription("churn", "abc123", "local", "{\"uri\": \"data/churn.parquet\"}", "{\"mlflow_colspec\": []}", "{\"num_rows\": 200}"),
            [new TrackingTag("mlflow.data.context", "training")]);
        var holdout = new DatasetInput(new DatasetDescription("churn-holdout", "def456", "local", "{}"), [new TrackingTag("mlflow.data.context", "validation")]);

        await Runs.LogInputsAsync(first.Info.RunId, [train, holdout], Cancel);
        await Runs.LogInputsAsync(first.Info.RunId, [train], Cancel);
        await Runs.LogInputsAsync(second.Info.RunId, [train], Cancel);

        var inputs = (await Runs.GetAsync(first.Info.RunId, Cancel)).Inputs;
        inputs.Select(input => (input.Dataset.Name, input.Tags.Single().Value)).ShouldBe([("churn", "training"), ("churn-holdout", "validation")]);
        inputs[0].Dataset.ShouldBe(train.Dataset);
        await using (var connection = await Database.OpenAsync(Cancel))
        {
            (await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT COUNT(*) FROM datasets")).ShouldBe(2L, "the same name and digest is one dataset");
        }

        await RunNamesAsync(["0"], "datasets.name = 'churn'").ShouldBeAsync(["first", "second"]);
        await RunNamesAsync(["0"], "datasets.context = 'validation'").ShouldBeAsync(["first"]);
        await RunNamesAsync(["0"], "datasets.digest IN ('def456')").ShouldBeAsync(["first"]);
        (await Should.ThrowAsync<TrackingException>(() => Runs.LogInputsAsync(first.Info.RunId, [new DatasetInput(new DatasetDescription("x", new string('d', 37), "local", "{}"), [])], Cancel)))
            .Message.ShouldContain("exceeded length limit of 36");
    }

    [Fact]
    public async Task Concurrent_batches_to_one_run_are_all_stored_without_lock_errors()
    {
        var run = await Runs.CreateAsync("0", cancellationToken: Cancel);
        var writers = Enumerable.Range(0, 8).Select(async writer =>
        {
            await using var replica = new MetadataDatabase(Location);
            var store = new RunStore(replica, new ExperimentStore(replica, Time), Time);
            for (var batch = 0; batch < 5; batch++)
            {
                var metrics = Enumerable.Range(0, 100).Select(i => new Metric($"w{writer}", i, batch, i)).ToList();
                await store.LogBatchAsync(run.Info.RunId, metrics, [], [], Cancel);
            }
        });
        await Task.WhenAll(writers);

        for (var writer = 0; writer < 8; writer++)
        {
            (await Runs.GetMetricHistoryAsync(run.Info.RunId, $"w{writer}", cancellationToken: Cancel)).Metrics.Count.ShouldBe(500);
        }
    }
}

public sealed class SqliteRunStoreTests() : RunStoreContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresRunStoreTests() : RunStoreContractTests(DatabaseEngine.Postgres);
