using Ballast.Datasets;
using Ballast.Experiments;
using Ballast.Metadata;
using Ballast.Monitoring;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Storage;
using Ballast.Tests.Metadata;
using Ballast.Tests.Monitoring;
using Ballast.Tracking;

namespace Ballast.Tests.Experiments;

/// <summary>
/// Stopping and concluding an A/B experiment against a real prediction log (local artifact store, DuckDB) and the
/// metadata database of each engine, with a fake clock: a stop freezes the results, a conclusion records the decision
/// once and may route all traffic to the winner.
/// </summary>
public abstract class AbExperimentStoreContractTests(DatabaseEngine engine) : FolderDatabaseTest(engine, "ballast-ab-store-")
{
    private static readonly AbExperimentSpec Checkout = new("checkout-ab", "checkout", new MetricSpec("conversion", MetricSpec.Binomial), Engine: AbExperimentValidation.Frequentist, PlannedSamples: 20);

    private PredictionLog? _log;
    private int _refreshes;
    private bool _failRefresh;
    private int _sequence;

    private EndpointStore Endpoints => new(Database, Time);

    private FeedbackStore Feedback => new(Database, Time);

    [Fact]
    public async Task A_stopped_experiment_counts_only_what_happened_until_the_stop_and_cannot_be_stopped_twice()
    {
        var store = await StartAsync();
        await ScoreAsync(perVariant: 20, convertA: 6, convertB: 12);
        var before = await store.ResultsAsync("checkout-ab", Cancel);

        Time.Advance(TimeSpan.FromSeconds(1));
        var stopped = await store.StopAsync("checkout-ab", "ops", Cancel);
        (stopped.Status, stopped.StoppedAt, stopped.StoppedBy).ShouldBe((AbExperimentStatuses.Stopped, (long?)Time.GetUtcNow().ToUnixTimeMilliseconds(), "ops"));
        stopped.Conclusion.ShouldBeNull();
        stopped.Split!.Variants.ShouldBe(["a", "b"]);
        stopped.Split.Weights.ShouldBe([50.0, 50.0]);

        // After the stop: more predictions with their feedback, and a new split; none of it counts.
        Time.Advance(TimeSpan.FromSeconds(1));
        await ScoreAsync(perVariant: 30, convertA: 30, convertB: 0);
        await Endpoints.PutAsync(new EndpointSpec("checkout", null, [new VariantSpec("a", "models:/shop/1", 90), new VariantSpec("b", "models:/shop/2", 10)]), Cancel);
        var after = await store.ResultsAsync("checkout-ab", Cancel);
        after.Variants.Select(v => (v.Variant, v.Units, v.Samples, v.Mean)).ShouldBe(before.Variants.Select(v => (v.Variant, v.Units, v.Samples, v.Mean)));
        after.Variants.Select(v => v.Units).ShouldBe([20L, 20L]);
        after.Variants.Select(v => v.Mean).ShouldBe([0.3, 0.6], tolerance: 1e-12);
        (after.Decision, after.Srm!.Mismatch).ShouldBe((before.Decision, false));

        // Feedback re-sent after the stop, the same or changed, does not move the stopped results either.
        Time.Advance(TimeSpan.FromSeconds(1));
        await Feedback.AddAsync([.. Enumerable.Range(1, 40).Select(i => new Feedback($"p{i}", i % 2 == 0 ? "1" : "0", null)), new Feedback("p1", null, 0.5)], Cancel);
        var resent = await store.ResultsAsync("checkout-ab", Cancel);
        resent.Variants.Select(v => (v.Variant, v.Units, v.Samples, v.Mean)).ShouldBe(before.Variants.Select(v => (v.Variant, v.Units, v.Samples, v.Mean)));

        var again = await Should.ThrowAsync<TrackingException>(() => store.StopAsync("checkout-ab", "someone", Cancel));
        (again.Code, again.Message).ShouldBe((TrackingException.InvalidState,
            "Experiment 'checkout-ab' was stopped by ops at 2026-11-25 12:00:01Z; conclude it to record the decision."));
        (await Should.ThrowAsync<TrackingException>(() => store.StopAsync("nope", "ops", Cancel))).Code.ShouldBe(TrackingException.ResourceDoesNotExist);
    }

    [Fact]
    public async Task Concluding_records_the_decision_once_and_apply_routes_all_traffic_to_the_winner()
    {
        var store = await StartAsync();
        await ScoreAsync(perVariant: 20, convertA: 6, convertB: 12);

        var unknown = await Should.ThrowAsync<TrackingException>(() => store.ConcludeAsync("checkout-ab", new AbExperimentDecision("c", "b wins", true), "ops", Cancel));
        (unknown.Code, unknown.Message).ShouldBe((TrackingException.InvalidParameterValue, "Cannot conclude experiment 'checkout-ab': winner 'c' is not a variant of the experiment (a, b)."));
        (await Should.ThrowAsync<TrackingException>(() => store.ConcludeAsync("checkout-ab", new AbExperimentDecision(null, "no", true), "ops", Cancel)))
            .Message.ShouldBe("Cannot conclude experiment 'checkout-ab': apply routes all traffic to the winner: name the winner, or conclude without apply.");
        (await store.GetAsync("checkout-ab", Cancel)).Status.ShouldBe(AbExperimentStatuses.Running, "a refused decision changes nothing");

        Time.Advance(TimeSpan.FromSeconds(1));
        var now = Time.GetUtcNow().ToUnixTimeMilliseconds();
        var concluded = await store.ConcludeAsync("checkout-ab", new AbExperimentDecision("b", "  b converts twice as often  ", true), "ops", Cancel);
        concluded.Status.ShouldBe(AbExperimentStatuses.Concluded);
        concluded.StoppedAt.ShouldBe(now, "concluding a running experiment stops it too");
        var conclusion = concluded.Conclusion!;
        (conclusion.Winner, conclusion.Reason, conclusion.Apply, conclusion.AppliedAt, conclusion.ConcludedBy, conclusion.ConcludedAt)
            .ShouldBe(("b", "b converts twice as often", true, (long?)now, "ops", now));
        conclusion.Results.Variants.Select(v => (v.Variant, v.Units, Math.Round(v.Mean, 9))).ShouldBe([("a", 20L, 0.3), ("b", 20L, 0.6)]);
        (await Endpoints.GetAsync("checkout", Cancel)).Spec.ShouldSatisfyAllConditions(
            endpoint => endpoint.Policy.ShouldBe(EndpointValidation.SplitPolicy),
            endpoint => endpoint.Variants.ShouldBe([new VariantSpec("a", "models:/shop/1", 0), new VariantSpec("b", "models:/shop/2", 100)]));
        _refreshes.ShouldBe(1, "the routing snapshot is swapped once");

        // Read back as stored (the results snapshot survives the round trip), and the split it ran under keeps the SRM check valid.
        var read = await store.GetAsync("checkout-ab", Cancel);
        read.Conclusion!.Results.Variants.Select(v => (v.Variant, v.Units, Math.Round(v.Mean, 9))).ShouldBe([("a", 20L, 0.3), ("b", 20L, 0.6)]);
        read.Conclusion.Results.Decision.ShouldBe(conclusion.Results.Decision);
        (await store.ResultsAsync("checkout-ab", Cancel)).Srm!.Mismatch.ShouldBeFalse();

        var twice = await Should.ThrowAsync<TrackingException>(() => store.ConcludeAsync("checkout-ab", new AbExperimentDecision(null, "changed my mind"), "other", Cancel));
        (twice.Code, twice.Message).ShouldBe((TrackingException.InvalidState,
            "Experiment 'checkout-ab' was concluded by ops at 2026-11-25 12:00:01Z (winner: b); a decision is final."));
        (await Should.ThrowAsync<TrackingException>(() => store.StopAsync("checkout-ab", "other", Cancel))).Code.ShouldBe(TrackingException.InvalidState);
        (await Should.ThrowAsync<TrackingException>(() => store.PutAsync(Checkout with { PlannedSamples = 50 }, Cancel))).Message
            .ShouldBe("Experiment 'checkout-ab' is concluded; its spec cannot change any more. Delete it and start a new one to test again.");
        (await store.PutAsync(Checkout, Cancel)).Changed.ShouldBeFalse("the same spec is still accepted (ballast apply)");

        await store.DeleteAsync("checkout-ab", Cancel);
        await store.CreateAsync(Checkout, Cancel);
        (await store.GetAsync("checkout-ab", Cancel)).ShouldSatisfyAllConditions(e => e.Status.ShouldBe(AbExperimentStatuses.Running), e => e.Conclusion.ShouldBeNull());
    }

    [Fact]
    public async Task An_apply_that_failed_after_the_decision_is_finished_later_on_the_endpoint_as_it_is_then()
    {
        var store = await StartAsync();
        await ScoreAsync(perVariant: 10, convertA: 2, convertB: 8);
        _failRefresh = true;
        await Should.ThrowAsync<IOException>(() => store.ConcludeAsync("checkout-ab", new AbExperimentDecision("b", "b wins", true), "ops", Cancel));
        _failRefresh = false;
        (await store.GetAsync("checkout-ab", Cancel)).Conclusion!.ShouldSatisfyAllConditions(c => c.Apply.ShouldBeTrue(), c => c.AppliedAt.ShouldBeNull("the apply did not finish"));
        // Meanwhile someone put the endpoint back to 50 / 50 and added a variant.
        await Endpoints.PutAsync(new EndpointSpec("checkout", null, [new VariantSpec("a", "models:/shop/1", 40), new VariantSpec("b", "models:/shop/2", 40), new VariantSpec("c", "models:/shop/3", 20)]), Cancel);

        (await store.ApplyPendingAsync(TimeSpan.FromSeconds(30), Cancel)).ShouldBeEmpty("a conclusion younger than the grace may still be applying itself");
        Time.Advance(TimeSpan.FromSeconds(30));
        (await store.ApplyPendingAsync(TimeSpan.FromSeconds(30), Cancel)).ShouldBe([("checkout-ab", (string?)null)]);
        (await Endpoints.GetAsync("checkout", Cancel)).Spec.Variants.ShouldBe(
            [new VariantSpec("a", "models:/shop/1", 0), new VariantSpec("b", "models:/shop/2", 100), new VariantSpec("c", "models:/shop/3", 0)]);
        (await store.GetAsync("checkout-ab", Cancel)).Conclusion!.AppliedAt.ShouldBe(Time.GetUtcNow().ToUnixTimeMilliseconds());
        (await store.ApplyPendingAsync(TimeSpan.FromSeconds(30), Cancel)).ShouldBeEmpty("applied once");

        // One that cannot be applied any more (the endpoint lost the winner) stays pending with the reason.
        await store.DeleteAsync("checkout-ab", Cancel);
        await store.CreateAsync(Checkout, Cancel);
        _failRefresh = true;
        await Should.ThrowAsync<IOException>(() => store.ConcludeAsync("checkout-ab", new AbExperimentDecision("b", "b wins", true), "ops", Cancel));
        _failRefresh = false;
        await Endpoints.PutAsync(new EndpointSpec("checkout", null, [new VariantSpec("a", "models:/shop/1", 100)]), Cancel);
        Time.Advance(TimeSpan.FromMinutes(1));
        (await store.ApplyPendingAsync(TimeSpan.FromSeconds(30), Cancel)).ShouldBe(
            [("checkout-ab", (string?)"Cannot apply experiment 'checkout-ab': endpoint 'checkout' no longer has the variant 'b' (a).")]);
        (await store.GetAsync("checkout-ab", Cancel)).Conclusion!.AppliedAt.ShouldBeNull();
    }

    [Fact]
    public async Task A_stopped_experiment_concluded_without_a_winner_keeps_its_stop_and_leaves_the_endpoint_alone()
    {
        var store = await StartAsync();
        await ScoreAsync(perVariant: 10, convertA: 5, convertB: 5);
        var stopped = await store.StopAsync("checkout-ab", "ops", Cancel);
        Time.Advance(TimeSpan.FromMinutes(5));

        var concluded = await store.ConcludeAsync("checkout-ab", new AbExperimentDecision(), "lead", Cancel);
        (concluded.StoppedAt, concluded.StoppedBy).ShouldBe((stopped.StoppedAt, "ops"));
        (concluded.Conclusion!.Winner, concluded.Conclusion.Reason, concluded.Conclusion.Apply, concluded.Conclusion.AppliedAt, concluded.Conclusion.ConcludedBy)
            .ShouldBe(((string?)null, "", false, (long?)null, "lead"));
        (await Endpoints.GetAsync("checkout", Cancel)).Spec.Variants!.Select(v => v.Weight).ShouldBe([50, 50]);
        _refreshes.ShouldBe(0);
        (await store.ListAsync(Cancel)).ShouldHaveSingleItem().Status.ShouldBe(AbExperimentStatuses.Concluded);
    }

    /// <summary>
    /// A spec with several CUPED covariates is stored whole (each with its default lookback) and read back equal: once
    /// stopped, the same spec is accepted and another order of its covariates is not. The results query joins both
    /// covariates; without any pre-period value nothing is adjusted.
    /// </summary>
    [Fact]
    public async Task Several_cuped_covariates_are_stored_and_a_stopped_experiment_keeps_them()
    {
        var store = await StartAsync();
        await ScoreAsync(perVariant: 10, convertA: 3, convertB: 6);
        var spec = Checkout with { Cuped = new CupedSpec(Covariates: [new CupedSpec(MetricSpec.Kpi, "spend"), new CupedSpec(MetricSpec.Outcome, Lookback: "2d")]) };

        var (stored, changed) = await store.PutAsync(spec, Cancel);

        changed.ShouldBeTrue();
        stored.Spec.Cuped!.Covariates!.Select(covariate => (covariate.Source, covariate.Name, covariate.Lookback)).ShouldBe([("kpi", "spend", "14d"), ("outcome", (string?)null, "2d")]);
        (await store.GetAsync("checkout-ab", Cancel)).Spec.Cuped!.Covariates!.Select(covariate => covariate.Covariate()).ShouldBe(["kpi:spend", "outcome"]);
        var results = await store.ResultsAsync("checkout-ab", Cancel);
        results.Cuped.ShouldBeNull("no unit has a pre-period value");
        results.Variants.Select(v => v.Mean).ShouldBe([0.3, 0.6], tolerance: 1e-12);

        await store.StopAsync("checkout-ab", "ops", Cancel);
        (await store.PutAsync(spec, Cancel)).Changed.ShouldBeFalse();
        (await Should.ThrowAsync<TrackingException>(() => store.PutAsync(spec with { Cuped = new CupedSpec(Covariates: [.. spec.Cuped.Covariates!.Reverse()]) }, Cancel)))
            .Code.ShouldBe(TrackingException.InvalidState);
    }

    /// <summary>What a CUPAC test works with: the counted store, the registry, the reference cache and the model loads.</summary>
    private sealed record Cupac(CountingArtifactStore Artifacts, DatasetStore Datasets, Ballast.Registry.RegistryStore Registry, ModelCache Models, ReferenceCache Cache,
        ReferenceCacheRecorder Recorder, double[] X, DatasetFile File) : IDisposable
    {
        /// <summary>An experiment store scoring with <paramref name="models"/> (default: the shared model cache) through <paramref name="cache"/>.</summary>
        public AbExperimentStore Store(AbExperimentStoreContractTests test, ModelCache? models = null, ReferenceCache? cache = null) =>
            new(test.Database, test.Endpoints, new PredictionExport(test._log!, Artifacts, test.Feedback), new KpiStore(test.Database, test.Time), new TrafficStats(test.Database, test.Time),
                Datasets, test.Time, registry: Registry, scorer: new ReferenceScorer(test.Endpoints, models ?? Models, cache ?? Cache), cache: cache ?? Cache);

        public void Dispose() => Models.Dispose();
    }

    /// <summary>
    /// The endpoint, two versions of an ONNX identity model (alias champion on 2), and the customers table of users
    /// 1..40 (ScoreAsync: a gets 1..20, b 21..40; the first 6 of a and 12 of b convert) without one user in four; the
    /// model's prediction y_fp64[1] is a user's x_fp64[1] = X[user].
    /// </summary>
    private async Task<Cupac> CupacAsync()
    {
        await Endpoints.CreateAsync(new EndpointSpec("checkout", null, [new VariantSpec("a", "models:/shop/1", 50), new VariantSpec("b", "models:/shop/2", 50)]), Cancel);
        var artifacts = new CountingArtifactStore(LocalArtifacts());
        _log = await OpenLogAsync(artifacts);
        var datasets = new DatasetStore(Database, artifacts, Time, new DatasetProfiler());
        var registry = new Ballast.Registry.RegistryStore(Database, Time);
        var models = new ModelCache(registry, new RunStore(Database, new ExperimentStore(Database, Time), Time), artifacts, Time);
        foreach (var _ in new[] { 1, 2 })
        {
            await new Ballast.Registry.ModelRegistration(registry, artifacts).RegisterAsync("identity", new MemoryStream(Ballast.Tests.Runtime.OnnxTestModels.Identity("FP64")), "model.onnx", cancellationToken: Cancel);
        }

        await registry.SetAliasAsync("identity", "champion", "2", Cancel);
        var x = new double[41];
        var csv = new System.Text.StringBuilder("customer_id,x_fp64[0],x_fp64[1]\n");
        for (var user = 1; user <= 40; user++)
        {
            if (user % 4 == 0)
            {
                continue;
            }

            var converts = user <= 6 || (user > 20 && user <= 32);
            x[user] = ((user % 7) * 0.25) + (converts ? 1.5 : 0);
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"user-{user},{user},{x[user]}\n");
        }

        var file = await AddDatasetAsync(datasets, "customers", csv.ToString());
        var recorder = new ReferenceCacheRecorder();
        return new Cupac(artifacts, datasets, registry, models, new ReferenceCache(PathIn("cache"), 1 << 24, Time, recorder), recorder, x, file);
    }

    private static async Task<DatasetFile> AddDatasetAsync(DatasetStore datasets, string name, string csv)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(csv);
        var file = new DatasetFile("customers.csv", bytes.Length, ContentAddressing.Sha256Hex(bytes));
        await datasets.PutBlobAsync(file.Sha256, new MemoryStream(bytes), Cancel);
        await datasets.AddVersionAsync(name, [file], cancellationToken: Cancel);
        return file;
    }

    private static readonly AbExperimentSpec ByModel = Checkout with
    {
        Metric = new MetricSpec("value", MetricSpec.Mean),
        Cuped = new CupedSpec(CupedSpec.ModelSource, "customers", Key: "customer_id", Model: "models:/identity@champion", Output: "y_fp64[1]"),
    };

    /// <summary>
    /// CUPAC on each engine: a model covariate's alias and bare dataset name are pinned at creation and kept when the
    /// spec is applied again after the alias moved; the results equal CUPED computed here on the model's predictions
    /// (an ONNX identity model, so each customer's prediction is their x_fp64[1]; one customer in four is not in the
    /// table and has X = 0); an unknown output, a column index out of range and a missing input column are refused.
    /// The dataset file is read from the store once, through the reference cache, however often the results are asked for.
    /// </summary>
    [Fact]
    public async Task A_model_covariate_is_pinned_and_adjusts_by_the_models_predictions_per_key()
    {
        using var cupac = await CupacAsync();
        var store = cupac.Store(this);
        var blob = DatasetStore.BlobPath(cupac.File.Sha256);
        var profiled = cupac.Artifacts.Opens(blob);
        var spec = ByModel;
        var created = await store.CreateAsync(spec, Cancel);
        (created.Spec.Cuped!.Model, created.Spec.Cuped.Name, created.Spec.Cuped.Covariate()).ShouldBe(("models:/identity/2", "customers@1", "model:identity/2@customers@1:y_fp64[1]"));

        await ScoreAsync(perVariant: 20, convertA: 6, convertB: 12);
        var results = await store.ResultsAsync("checkout-ab", Cancel);
        double[] Y(int converting) => [.. Enumerable.Range(0, 20).Select(i => i < converting ? 1.0 : 0.0)];
        double[] X(int from) => [.. Enumerable.Range(from, 20).Select(user => cupac.X[user])];
        var expected = Ballast.Statistics.Cuped.Analyze(Y(6), X(1), Y(12), X(21));
        var cuped = results.Cuped!;
        (cuped.Covariate, cuped.Lookback, cuped.UnitsWithCovariate).ShouldBe(("model:identity/2@customers@1:y_fp64[1]", (string?)null, 30L));
        cuped.Theta!.Value.ShouldBe(expected.Theta, 1e-9);
        cuped.VarianceReduction.ShouldBe(expected.VarianceReduction, 1e-9);
        results.Variants[1].Mean.ShouldBe(expected.Treatment.Mean, 1e-9);

        (await store.ResultsAsync("checkout-ab", Cancel)).ShouldBeEquivalentTo(results);
        cupac.Artifacts.Opens(blob).ShouldBe(profiled + 1, "results asked for twice, the dataset file read from the store once");
        cupac.Recorder.Events.ShouldBe(["blob:miss", "scores:miss", "blob:hit", "scores:hit"]);

        await cupac.Registry.SetAliasAsync("identity", "champion", "1", Cancel);
        (await store.PutAsync(spec, Cancel)).Experiment.Spec.Cuped!.Model.ShouldBe("models:/identity/2", "applied again, the alias keeps its pin");

        async Task<string> Refused(CupedSpec covariate) =>
            (await Should.ThrowAsync<TrackingException>(() => store.PutAsync(spec with { Name = "bad", Cuped = covariate }, Cancel))).Message;
        (await Refused(spec.Cuped! with { Output = "y" })).ShouldBe("Invalid experiment 'bad': cuped.output: models:/identity/1 has no output 'y'; it has y_fp64.");
        (await Refused(spec.Cuped! with { Output = "y_fp64[2]" })).ShouldBe("Invalid experiment 'bad': cuped.output: output 'y_fp64' of models:/identity/1 has 2 columns; 2 is not between 0 and 1.");
        (await Refused(spec.Cuped! with { FeatureNames = new Dictionary<string, IReadOnlyList<string>> { ["x_fp64"] = ["x_fp64[1]", "spend"] } })).ShouldBe(
            "Invalid experiment 'bad': cuped.feature_names.x_fp64: customers@1 customers.csv has no column 'spend' for the model's input 'x_fp64'; it has customer_id, x_fp64[0], x_fp64[1].");
    }

    /// <summary>
    /// A dataset covariate reads its file through the reference cache too: the results asked for twice read it from the
    /// store once, and equal CUPED computed here on the same column (which the model covariate's identity model predicts).
    /// </summary>
    [Fact]
    public async Task A_dataset_covariate_reads_its_file_from_the_store_once()
    {
        using var cupac = await CupacAsync();
        var store = cupac.Store(this);
        var blob = DatasetStore.BlobPath(cupac.File.Sha256);
        var profiled = cupac.Artifacts.Opens(blob);
        await store.CreateAsync(ByModel with { Cuped = new CupedSpec(CupedSpec.Dataset, "customers", Key: "customer_id", Column: "x_fp64[1]") }, Cancel);
        await ScoreAsync(perVariant: 20, convertA: 6, convertB: 12);

        var results = await store.ResultsAsync("checkout-ab", Cancel);
        (await store.ResultsAsync("checkout-ab", Cancel)).ShouldBeEquivalentTo(results);
        cupac.Artifacts.Opens(blob).ShouldBe(profiled + 1, "results asked for twice, the dataset file read from the store once");
        cupac.Recorder.Events.ShouldBe(["blob:miss", "blob:hit"]);

        double[] Y(int converting) => [.. Enumerable.Range(0, 20).Select(i => i < converting ? 1.0 : 0.0)];
        double[] X(int from) => [.. Enumerable.Range(from, 20).Select(user => cupac.X[user])];
        var expected = Ballast.Statistics.Cuped.Analyze(Y(6), X(1), Y(12), X(21));
        results.Cuped!.UnitsWithCovariate.ShouldBe(30L);
        results.Cuped.Theta!.Value.ShouldBe(expected.Theta, 1e-9);
        results.Cuped.VarianceReduction.ShouldBe(expected.VarianceReduction, 1e-9);
    }

    /// <summary>
    /// The scores cache is read before the model is loaded: after the results were computed once, a server started
    /// again (a new model cache, counting its loads) answers from the cached scores without loading the model, even
    /// with the model's file gone from the store; without the scores (no cache) that file is needed, and its absence
    /// is a conflict naming the model version.
    /// </summary>
    [Fact]
    public async Task Cached_cupac_scores_cost_no_model_load()
    {
        using var cupac = await CupacAsync();
        await cupac.Store(this).CreateAsync(ByModel, Cancel);
        await ScoreAsync(perVariant: 20, convertA: 6, convertB: 12);
        var first = await cupac.Store(this).ResultsAsync("checkout-ab", Cancel);
        first.Cuped!.UnitsWithCovariate.ShouldBe(30);

        var loads = new ModelLoadCounter();
        using var restarted = new ModelCache(cupac.Registry, new RunStore(Database, new ExperimentStore(Database, Time), Time), cupac.Artifacts, Time, loads);
        var deleted = 0;
        await foreach (var entry in cupac.Artifacts.ListAsync("mlflow-artifacts/models/identity", recursive: true, Cancel))
        {
            if (!entry.IsDirectory && await cupac.Artifacts.DeleteAsync(entry.Path, Cancel))
            {
                deleted++;
            }
        }

        deleted.ShouldBe(1, "both versions are the same file");

        (await cupac.Store(this, restarted).ResultsAsync("checkout-ab", Cancel)).ShouldBeEquivalentTo(first);
        loads.Count.ShouldBe(0, "the scores came from the cache");
        cupac.Recorder.Events.ShouldBe(["blob:miss", "scores:miss", "blob:hit", "scores:hit"]);

        var off = new ReferenceCache(PathIn("no-cache"), 0, Time);
        var failed = await Should.ThrowAsync<TrackingException>(() => cupac.Store(this, restarted, off).ResultsAsync("checkout-ab", Cancel));
        failed.Code.ShouldBe(TrackingException.InvalidState);
        failed.Message.ShouldStartWith("Cannot compute the results of experiment 'checkout-ab': cuped: models:/identity/2 could not score customers@1 customers.csv: loading models:/identity/2 failed: ");
    }

    /// <summary>
    /// A model covariate that cannot be computed when the results are asked for is a conflict (409 on the API) naming
    /// the covariate, the model version and the column or output, never a server error: signatures recorded by hand
    /// that the model does not have (an output it does not return, an input read from columns the table lacks, a
    /// text output recorded as numbers), and a pinned model version deleted since.
    /// </summary>
    [Fact]
    public async Task A_model_covariate_that_cannot_be_computed_is_a_conflict_naming_the_model_and_the_column()
    {
        using var cupac = await CupacAsync();
        var store = cupac.Store(this);
        var artifacts = cupac.Artifacts;
        await new Ballast.Registry.ModelRegistration(cupac.Registry, artifacts).RegisterAsync("labels", new MemoryStream(Ballast.Tests.Runtime.OnnxTestModels.Identity("BYTES")), "model.onnx", cancellationToken: Cancel);
        await AddDatasetAsync(cupac.Datasets, "segments", "customer_id,x_bytes[0],x_bytes[1]\nuser-1,low,high\nuser-2,high,low\n");
        await AddDatasetAsync(cupac.Datasets, "others", "customer_id,other\nuser-1,1.5\nuser-2,2.5\n");
        async Task SignatureAsync(string model, string version, string json) =>
            await cupac.Registry.SetVersionTagAsync(model, version, new TrackingTag(Ballast.Registry.ModelRegistration.SignatureTag, json), Cancel);
        const string Fp64Pair = "\"datatype\":\"FP64\",\"shape\":[-1,2]";
        await SignatureAsync("identity", "1", $"{{\"inputs\":[{{\"name\":\"x_fp64\",{Fp64Pair}}}],\"outputs\":[{{\"name\":\"z_fp64\",{Fp64Pair}}}]}}");
        await SignatureAsync("identity", "2", $"{{\"inputs\":[{{\"name\":\"other\",\"datatype\":\"FP64\",\"shape\":[-1]}}],\"outputs\":[{{\"name\":\"y_fp64\",{Fp64Pair}}}]}}");
        await SignatureAsync("labels", "1", $"{{\"inputs\":[{{\"name\":\"x_bytes\",\"datatype\":\"BYTES\",\"shape\":[-1,2]}}],\"outputs\":[{{\"name\":\"y_bytes\",{Fp64Pair}}}]}}");
        var covariates = new Dictionary<string, CupedSpec>
        {
            ["no-output"] = new(CupedSpec.ModelSource, "customers", Key: "customer_id", Model: "models:/identity/1", Output: "z_fp64[1]"),
            ["no-column"] = new(CupedSpec.ModelSource, "others", Key: "customer_id", Model: "models:/identity/2", Output: "y_fp64[1]"),
            ["text"] = new(CupedSpec.ModelSource, "segments", Key: "customer_id", Model: "models:/labels/1", Output: "y_bytes[1]"),
        };
        foreach (var (name, covariate) in covariates)
        {
            await store.CreateAsync(ByModel with { Name = name, Cuped = new CupedSpec(Covariates: [new CupedSpec(MetricSpec.Kpi, "spend"), covariate]) }, Cancel);
        }

        await ScoreAsync(perVariant: 5, convertA: 1, convertB: 2);
        async Task<string> ConflictAsync(string experiment)
        {
            var exception = await Should.ThrowAsync<TrackingException>(() => store.ResultsAsync(experiment, Cancel));
            exception.Code.ShouldBe(TrackingException.InvalidState, exception.Message);
            return exception.Message;
        }

        (await ConflictAsync("no-output")).ShouldBe(
            "Cannot compute the results of experiment 'no-output': cuped.covariates[1]: models:/identity/1 returned no output 'z_fp64[1]' for customers@1 customers.csv; it returned y_fp64[0], y_fp64[1]");
        (await ConflictAsync("no-column")).ShouldBe(
            "Cannot compute the results of experiment 'no-column': cuped.covariates[1]: models:/identity/2 could not score others@1 customers.csv: the reference (others@1 customers.csv) has no column 'x_fp64[0]' for the model's input 'x_fp64'");
        (await ConflictAsync("text")).ShouldBe(
            "Cannot compute the results of experiment 'text': cuped.covariates[1]: output 'y_bytes[1]' of models:/labels/1 is not a number: row 1 of segments@1 customers.csv scored 'high'");

        await cupac.Registry.DeleteVersionAsync("identity", "1", Cancel);
        (await ConflictAsync("no-output")).ShouldStartWith(
            "Cannot compute the results of experiment 'no-output': cuped.covariates[1]: model version models:/identity/1, pinned when the experiment started, does not exist any more (");
    }

    /// <summary>
    /// Regression adjustment with a model covariate among others (CUPAC beside a KPI covariate): the results equal
    /// <see cref="Ballast.Statistics.CupedRegressions.FromSums"/> on the same values (the model's predictions and the
    /// spend posted before the start), each covariate with its θ. CupedRegressions is tested against NIST StRD's Longley
    /// data in tests/Ballast.Core.Tests/Statistics/CupedRegressionTests.cs.
    /// </summary>
    [Fact]
    public async Task A_model_covariate_among_several_adjusts_as_the_regression_on_the_same_values()
    {
        using var cupac = await CupacAsync();
        var store = cupac.Store(this);
        var spend = Enumerable.Range(0, 41).Select(user => 10 + ((user * 37 % 11) * 1.5)).ToArray();
        await new KpiStore(Database, Time).AddAsync([.. Enumerable.Range(1, 40).Select(user => new Kpi("spend", spend[user], RoutingKey: $"user-{user}"))], Cancel);
        Time.Advance(TimeSpan.FromMinutes(1));
        var created = await store.CreateAsync(ByModel with { Cuped = new CupedSpec(Covariates: [ByModel.Cuped!, new CupedSpec(MetricSpec.Kpi, "spend", Lookback: "1d")]) }, Cancel);
        created.Spec.Cuped!.Covariates!.Select(covariate => covariate.Covariate()).ShouldBe(["model:identity/2@customers@1:y_fp64[1]", "kpi:spend"]);

        await ScoreAsync(perVariant: 20, convertA: 6, convertB: 12);
        var results = await store.ResultsAsync("checkout-ab", Cancel);
        Ballast.Statistics.CovariateSums Sums(int from, int converting) => Ballast.Statistics.CovariateSums.Of(
            [.. Enumerable.Range(0, 20).Select(i => i < converting ? 1.0 : 0.0)], [.. Enumerable.Range(from, 20).Select(user => (IReadOnlyList<double>)[cupac.X[user], spend[user]])]);
        var expected = Ballast.Statistics.CupedRegressions.FromSums([Sums(1, 6), Sums(21, 12)]);
        var cuped = results.Cuped!;
        (cuped.Theta, cuped.UnitsWithCovariate).ShouldBe(((double?)null, 40L));
        cuped.VarianceReduction.ShouldBe(expected.VarianceReduction, 1e-9);
        cuped.Covariates!.Select(covariate => (covariate.Covariate, covariate.UnitsWithCovariate, covariate.Dropped))
            .ShouldBe([("model:identity/2@customers@1:y_fp64[1]", 30L, (string?)null), ("kpi:spend", 40L, (string?)null)]);
        cuped.Covariates![0].Theta.ShouldBe(expected.Theta[0], 1e-9);
        cuped.Covariates[1].Theta.ShouldBe(expected.Theta[1], 1e-9);
        results.Variants[0].Mean.ShouldBe(expected.Groups[0].Mean, 1e-9);
        results.Variants[1].Mean.ShouldBe(expected.Groups[1].Mean, 1e-9);
    }

    private async Task<AbExperimentStore> StartAsync()
    {
        await Endpoints.CreateAsync(new EndpointSpec("checkout", null, [new VariantSpec("a", "models:/shop/1", 50), new VariantSpec("b", "models:/shop/2", 50)]), Cancel);
        var artifacts = LocalArtifacts();
        _log = await OpenLogAsync(artifacts);
        var store = new AbExperimentStore(Database, Endpoints, new PredictionExport(_log, artifacts, Feedback), new KpiStore(Database, Time), new TrafficStats(Database, Time), new DatasetStore(Database, artifacts, Time, new DatasetProfiler()), Time,
            _ =>
            {
                _refreshes++;
                return _failRefresh ? throw new IOException("the routing snapshot could not be swapped") : Task.CompletedTask;
            });
        await store.CreateAsync(Checkout, Cancel);
        return store;
    }

    /// <summary>
    /// <paramref name="perVariant"/> predictions on each of a and b, one a millisecond, with a converting outcome for the
    /// first <paramref name="convertA"/> (<paramref name="convertB"/>) of them and a non-converting one for the rest.
    /// </summary>
    private async Task ScoreAsync(int perVariant, int convertA, int convertB)
    {
        var feedback = new List<Feedback>();
        foreach (var (variant, converting) in new[] { ("a", convertA), ("b", convertB) })
        {
            for (var i = 0; i < perVariant; i++)
            {
                Time.Advance(TimeSpan.FromMilliseconds(1));
                var id = $"p{++_sequence}";
                (await _log!.AppendAsync(new PredictionRecord(id, "checkout", variant, variant == "a" ? "models:/shop/1" : "models:/shop/2", Time.GetUtcNow().ToUnixTimeMilliseconds(), 5, $"user-{_sequence}",
                    [new Tensor("x", TensorDatatypes.Fp32, [1, 1], new[] { 1f })], [new Tensor("label", TensorDatatypes.Int64, [1], new[] { 1L })]), Cancel)).ShouldBeTrue();
                feedback.Add(new Feedback(id, i < converting ? "1" : "0", null));
            }
        }

        await Feedback.AddAsync(feedback, Cancel);
    }
}

public sealed class SqliteAbExperimentStoreTests() : AbExperimentStoreContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresAbExperimentStoreTests() : AbExperimentStoreContractTests(DatabaseEngine.Postgres);
