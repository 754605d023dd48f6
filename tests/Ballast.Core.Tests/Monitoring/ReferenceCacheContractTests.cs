using System.Globalization;
using System.Text;
using Ballast.Datasets;
using Ballast.Experiments;
using Ballast.Metadata;
using Ballast.Monitoring;
using Ballast.Registry;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Statistics.Performance;
using Ballast.Storage;
using Ballast.Tests.Metadata;
using Ballast.Tests.Runtime;
using Ballast.Tracking;

namespace Ballast.Tests.Monitoring;

/// <summary>
/// Monitor windows with the reference cache, on SQLite and PostgreSQL with a real prediction log and a real local
/// artifact store counted per path: a dataset reference is read from the store once for every window of every monitor,
/// and the CBPE scores of a dataset reference (by an identity ONNX model behind an alias) are reused while the alias
/// points at one version and scored again after it moves. Expected CBPE values are computed here from the rows with
/// the statistics themselves (tested against NannyML in tests/Ballast.Core.Tests/Statistics).
/// </summary>
public abstract class ReferenceCacheContractTests(DatabaseEngine engine) : FolderDatabaseTest(engine, "ballast-reference-cache-")
{
    private static long At(int minutes) => new DateTimeOffset(2026, 11, 25, 12, minutes, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private sealed record Stack(CountingArtifactStore Artifacts, PredictionLog Log, PredictionExport Export, EndpointStore Endpoints, DatasetStore Datasets, KpiStore Kpis,
        TrafficStats Traffic, MonitorStore Monitors, RunStore Runs, ReferenceCache Cache, ReferenceCacheRecorder Recorder);

    private async Task<Stack> StackAsync()
    {
        var artifacts = new CountingArtifactStore(LocalArtifacts());
        var log = await OpenLogAsync(artifacts);
        var export = new PredictionExport(log, artifacts, new FeedbackStore(Database, Time));
        var endpoints = new EndpointStore(Database, Time);
        var datasets = new DatasetStore(Database, artifacts, Time, new DatasetProfiler(256));
        var runs = new RunStore(Database, new ExperimentStore(Database, Time), Time);
        var recorder = new ReferenceCacheRecorder();
        return new Stack(artifacts, log, export, endpoints, datasets, new KpiStore(Database, Time), new TrafficStats(Database, Time),
            new MonitorStore(Database, endpoints, datasets, Time, runs, artifacts), runs, new ReferenceCache(PathIn("cache"), 1 << 24, Time, recorder), recorder);
    }

    /// <summary>Seeded rows of an overconfident binary model: x ~ N(<paramref name="shift"/>, 1), probability σ(4x), truth Bernoulli(σ(2x)).</summary>
    private static List<(double X, double Probability, long Truth)> Rows(int count, double shift, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var x = shift + (Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            return (x, 1 / (1 + Math.Exp(-4 * x)), random.NextDouble() < 1 / (1 + Math.Exp(-2 * x)) ? 1L : 0L);
        })];
    }

    private static async Task<DatasetFile> DatasetAsync(Stack stack, string name, string path, string csv)
    {
        var bytes = Encoding.UTF8.GetBytes(csv);
        var file = new DatasetFile(path, bytes.Length, ContentAddressing.Sha256Hex(bytes));
        await stack.Datasets.PutBlobAsync(file.Sha256, new MemoryStream(bytes), Cancel);
        await stack.Datasets.AddVersionAsync(name, [file], cancellationToken: Cancel);
        return file;
    }

    private static async Task LogAsync(Stack stack, string endpoint, long from, IReadOnlyList<(string Id, Tensor[] Inputs, Tensor[] Outputs)> records)
    {
        for (var i = 0; i < records.Count; i++)
        {
            (await stack.Log.AppendAsync(new PredictionRecord(records[i].Id, endpoint, "main", $"{endpoint}/1", from + (i * 1000), 2, null, records[i].Inputs, records[i].Outputs), Cancel)).ShouldBeTrue();
        }
    }

    [Fact]
    public async Task Every_window_of_every_monitor_on_a_dataset_reference_reads_one_cached_copy_and_measures_what_a_fresh_copy_gives()
    {
        var stack = await StackAsync();
        await stack.Endpoints.CreateAsync(new EndpointSpec("loans", null, [new VariantSpec("main", "models:/loans/1")]), Cancel);
        var csv = new StringBuilder("x,region\n");
        foreach (var (x, _, _) in Rows(300, 0, seed: 1))
        {
            csv.Append(CultureInfo.InvariantCulture, $"{x:R},{(x > 0 ? "a" : "b")}\n");
        }

        var file = await DatasetAsync(stack, "loans-reference", "reference.csv", csv.ToString());
        var blob = DatasetStore.BlobPath(file.Sha256);
        var profiled = stack.Artifacts.Opens(blob);
        var specs = new List<MonitorSpec>();
        foreach (var name in new[] { "loans-a", "loans-b" })
        {
            specs.Add((await stack.Monitors.CreateAsync(new MonitorSpec(name, "loans", new MonitorWindow(Duration: "10m"), new MonitorReference(Dataset: "loans-reference"),
                Prediction: new MonitorPrediction(Enabled: false)), Cancel)).Spec);
        }

        for (var window = 0; window < 2; window++)
        {
            await LogAsync(stack, "loans", At(window * 10), [.. Rows(200, shift: window * 0.5, seed: 10 + window).Select((row, i) => ($"w{window}-{i}",
                new[] { new Tensor("x", TensorDatatypes.Fp64, [1], new[] { row.X }), new Tensor("region", TensorDatatypes.Bytes, [1], new[] { row.X > 0 ? "a" : "b" }) },
                new[] { new Tensor("predicted", TensorDatatypes.Int64, [1], new[] { row.Probability >= 0.5 ? 1L : 0L }) }))]);
        }

        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(30)));
        var cached = new MonitorEvaluator(stack.Export, stack.Datasets, stack.Kpis, stack.Traffic, cache: stack.Cache);
        var outcomes = new List<MonitorEvaluator.Outcome>();
        foreach (var spec in specs)
        {
            for (var window = 0; window < 2; window++)
            {
                var outcome = await cached.EvaluateAsync(spec, At(window * 10), At((window * 10) + 10), Cancel);
                outcome.Status.ShouldBe(MonitorWindowStatus.Ok, outcome.Results.Message);
                outcomes.Add(outcome);
            }
        }

        stack.Artifacts.Opens(blob).ShouldBe(profiled + 1, "four windows, one read of the store");
        stack.Recorder.Events.ShouldBe(["blob:miss", "blob:hit", "blob:hit", "blob:hit"]);
        Directory.GetFiles(PathIn("cache")).Select(path => Path.GetFileName(path)).ShouldBe([$"blob-{file.Sha256}.csv"]);

        // Without the cache the file is copied for the window, and the window measures the same.
        var fresh = await new MonitorEvaluator(stack.Export, stack.Datasets, stack.Kpis, stack.Traffic).EvaluateAsync(specs[0], At(10), At(20), Cancel);
        static List<(string, string, double, bool)> Scores(MonitorEvaluator.Outcome outcome) =>
            [.. outcome.Results.Drift!.Result.Features.Select(feature => (feature.Name, feature.Method, feature.Score, feature.Drifted))];
        Scores(fresh).ShouldBe(Scores(outcomes[1]));
        Scores(outcomes[3]).ShouldBe(Scores(outcomes[1]), "the other monitor's same window");
        fresh.Results.Drift!.Result.Features.Single(feature => feature.Name == "x").Drifted.ShouldBeTrue("the second window's x is shifted by half a deviation");
        stack.Artifacts.Opens(blob).ShouldBe(profiled + 2);
    }

    [Fact]
    public async Task A_dataset_reference_is_parsed_once_and_a_closed_traffic_reference_read_once_and_both_measure_what_a_fresh_read_gives()
    {
        var stack = await StackAsync();
        await stack.Endpoints.CreateAsync(new EndpointSpec("loans", null, [new VariantSpec("main", "models:/loans/1")]), Cancel);
        var csv = new StringBuilder("x,region\n");
        foreach (var (x, _, _) in Rows(300, 0, seed: 1))
        {
            csv.Append(CultureInfo.InvariantCulture, $"{x:R},{(x > 0 ? "a" : "b")}\n");
        }

        await DatasetAsync(stack, "loans-reference", "reference.csv", csv.ToString());
        for (var window = 0; window < 3; window++)
        {
            await LogAsync(stack, "loans", At(window * 10), [.. Rows(200, shift: window * 0.5, seed: 10 + window).Select((row, i) => ($"w{window}-{i}",
                new[] { new Tensor("x", TensorDatatypes.Fp64, [1], new[] { row.X }), new Tensor("region", TensorDatatypes.Bytes, [1], new[] { row.X > 0 ? "a" : "b" }) },
                new[] { new Tensor("predicted", TensorDatatypes.Int64, [1], new[] { row.Probability >= 0.5 ? 1L : 0L }) }))]);
        }

        var dataset = (await stack.Monitors.CreateAsync(new MonitorSpec("loans-dataset", "loans", new MonitorWindow(Duration: "10m"), new MonitorReference(Dataset: "loans-reference"),
            Prediction: new MonitorPrediction(Enabled: false), Segments: ["region"], Multivariate: new MonitorMultivariate("reconstruction")), Cancel)).Spec;
        var traffic = (await stack.Monitors.CreateAsync(new MonitorSpec("loans-traffic", "loans", new MonitorWindow(Duration: "10m"),
            new MonitorReference(From: At(0).ToString(CultureInfo.InvariantCulture), To: At(10).ToString(CultureInfo.InvariantCulture)), Segments: ["region"],
            Multivariate: new MonitorMultivariate("reconstruction")), Cancel)).Spec;
        var recorder = new ReferenceCacheRecorder();
        var profiles = new ReferenceProfiles(1 << 26, Time, recorder);
        var kept = new MonitorEvaluator(stack.Export, stack.Datasets, stack.Kpis, stack.Traffic, [new MultivariateWindowEstimator()], cache: stack.Cache, profiles: profiles);
        var fresh = new MonitorEvaluator(stack.Export, stack.Datasets, stack.Kpis, stack.Traffic, [new MultivariateWindowEstimator()]);

        async Task<MonitorEvaluator.Outcome> EvaluateAsync(MonitorEvaluator evaluator, MonitorSpec spec, int window)
        {
            var outcome = await evaluator.EvaluateAsync(spec, At(window * 10), At((window * 10) + 10), Cancel);
            outcome.Status.ShouldBe(MonitorWindowStatus.Ok, outcome.Results.Message);
            return outcome;
        }

        // A range not yet over (the clock within the watermark margin of its end) is read from the log and not kept.
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(10)) + PredictionExport.WatermarkMargin - TimeSpan.FromMilliseconds(1));
        await EvaluateAsync(kept, traffic, 1);
        recorder.Events.ShouldBeEmpty();

        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(40)));
        foreach (var spec in new[] { dataset, traffic })
        {
            for (var window = 1; window < 3; window++)
            {
                var before = recorder.Events.Count;
                var outcome = await EvaluateAsync(kept, spec, window);
                var events = recorder.Events.Skip(before).ToList();
                if (window == 2)
                {
                    events.ShouldNotContain(e => e.EndsWith(":miss", StringComparison.Ordinal), "the second window reads and parses nothing of the reference again");
                    events.ShouldContain(spec == dataset ? "profile:hit" : "traffic:hit");
                }

                outcome.Results.Metrics.ShouldBe((await EvaluateAsync(fresh, spec, window)).Results.Metrics, "kept or read again, a window measures the same");
                outcome.Results.Drift!.Result.Features.Select(feature => feature.Score).ShouldBe((await EvaluateAsync(fresh, spec, window)).Results.Drift!.Result.Features.Select(feature => feature.Score));
            }
        }

        recorder.Events.Count(e => e == "traffic:miss").ShouldBe(1);
        profiles.Bytes.ShouldBeGreaterThan(0);

        // Feedback that arrives later for the reference's predictions is seen by the kept traffic reference.
        var scratch = Directory.CreateDirectory(PathIn("scratch")).FullName;
        using (var reference = await kept.ReferenceAsync(traffic, scratch, Cancel))
        {
            reference.Outcomes!.ShouldAllBe(outcome => outcome == null);
        }

        await new FeedbackStore(Database, Time).AddAsync([new Feedback("w0-3", "1", null), new Feedback("w0-7", "\"no\"", null)], Cancel);
        using (var reference = await kept.ReferenceAsync(traffic, scratch, Cancel))
        using (var read = await fresh.ReferenceAsync(traffic, scratch, Cancel))
        {
            reference.Outcomes!.Where(outcome => outcome is not null).ShouldBe(["1", "no"]);
            reference.Outcomes.ShouldBe(read.Outcomes);
            reference.Values("x").ShouldBe(read.Values("x"));
        }

        recorder.Events.Count(e => e == "traffic:miss").ShouldBe(1);
    }

    [Fact]
    public async Task Cbpe_scores_of_a_dataset_reference_are_reused_for_one_model_version_and_scored_again_after_its_alias_moves()
    {
        var stack = await StackAsync();
        var registry = new RegistryStore(Database, Time);
        using var models = new ModelCache(registry, stack.Runs, stack.Artifacts, Time);
        var onnx = OnnxTestModels.Identity("FP64");
        foreach (var _ in new[] { 1, 2 })
        {
            await new ModelRegistration(registry, stack.Artifacts).RegisterAsync("identity", new MemoryStream(onnx), "model.onnx", cancellationToken: Cancel);
        }

        await registry.SetAliasAsync("identity", "champion", "1", Cancel);
        await stack.Endpoints.CreateAsync(new EndpointSpec("identity", null, [new VariantSpec("main", "models:/identity@champion")]), Cancel);

        // The reference has the model's inputs and the true label, not its probabilities: the identity model's output
        // y_fp64 is its input x_fp64, [1 − p, p].
        var reference = Rows(400, 0, seed: 2);
        var csv = new StringBuilder("x_fp64[0],x_fp64[1],label\n");
        foreach (var (_, p, truth) in reference)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{1 - p:R},{p:R},{truth}\n");
        }

        var file = await DatasetAsync(stack, "identity-reference", "reference.csv", csv.ToString());
        var profiled = stack.Artifacts.Opens(DatasetStore.BlobPath(file.Sha256));
        var spec = (await stack.Monitors.CreateAsync(new MonitorSpec("identity-cbpe", "identity", new MonitorWindow(Duration: "10m"), new MonitorReference(Dataset: "identity-reference"),
            Prediction: new MonitorPrediction(Enabled: false), Estimated: new MonitorEstimated("y_fp64", "1", Label: "label")), Cancel)).Spec;
        var windows = new[] { Rows(200, 0.3, seed: 3), Rows(200, -0.3, seed: 4) };
        for (var window = 0; window < windows.Length; window++)
        {
            await LogAsync(stack, "identity", At(window * 10), [.. windows[window].Select((row, i) =>
            {
                double[] pair = [1 - row.Probability, row.Probability];
                return ($"w{window}-{i}", new[] { new Tensor("x_fp64", TensorDatatypes.Fp64, [1, 2], pair) }, new[] { new Tensor("y_fp64", TensorDatatypes.Fp64, [1, 2], pair) });
            })]);
        }

        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(30)));
        var evaluator = new MonitorEvaluator(stack.Export, stack.Datasets, stack.Kpis, stack.Traffic,
            [new CbpeWindowEstimator(new ReferenceScorer(stack.Endpoints, models, stack.Cache))], [], stack.Runs, stack.Artifacts, stack.Cache);
        var calibration = Cbpe.FitCalibration(reference.Select(row => row.Probability).ToArray(), reference.Select(row => row.Truth == 1).ToArray(), new Random(CbpeWindowEstimator.Seed));
        calibration.Calibrates.ShouldBeTrue("σ(4x) against a truth of σ(2x) is overconfident");

        async Task<IReadOnlyDictionary<string, double>> EvaluateAsync(int window)
        {
            var outcome = await evaluator.EvaluateAsync(spec, At(window * 10), At((window * 10) + 10), Cancel);
            outcome.Status.ShouldBe(MonitorWindowStatus.Ok, outcome.Results.Message);
            outcome.Results.Message.ShouldBeNull("scored, calibrated, with sampling errors");
            var scores = windows[window].Select(row => row.Probability).ToArray();
            var expected = Cbpe.Estimate(calibration.Calibrate(scores), scores.Select(score => score >= Cbpe.DefaultThreshold).ToArray(), scores);
            outcome.Results.Metrics["estimated.calibrated"].ShouldBe(1);
            outcome.Results.Metrics["estimated.accuracy"].ShouldBe(expected.Accuracy, 1e-12);
            outcome.Results.Metrics["estimated.roc_auc"].ShouldBe(expected.RocAuc, 1e-12);
            return outcome.Results.Metrics;
        }

        string[] ScoreFiles() => [.. Directory.GetFiles(PathIn("cache"), "scores-*.json").Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal)];

        await EvaluateAsync(0);
        stack.Recorder.Events.ShouldBe(["blob:miss", "scores:miss"]);
        var first = ScoreFiles().ShouldHaveSingleItem();
        var second = await EvaluateAsync(1);
        stack.Recorder.Events.ShouldBe(["blob:miss", "scores:miss", "blob:hit", "scores:hit"], "the second window reuses the version 1 scores");

        await registry.SetAliasAsync("identity", "champion", "2", Cancel);
        var again = await EvaluateAsync(1);
        stack.Recorder.Events.ShouldBe(["blob:miss", "scores:miss", "blob:hit", "scores:hit", "blob:hit", "scores:miss"], "version 2 has no scores yet");
        ScoreFiles().Length.ShouldBe(2);
        ScoreFiles().ShouldContain(first);
        again.ShouldBe(second, "the same model bytes under version 2 score the same");
        stack.Artifacts.Opens(DatasetStore.BlobPath(file.Sha256)).ShouldBe(profiled + 1, "three windows, one read of the store");
    }
}

public sealed class SqliteReferenceCacheContractTests() : ReferenceCacheContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresReferenceCacheContractTests() : ReferenceCacheContractTests(DatabaseEngine.Postgres);
