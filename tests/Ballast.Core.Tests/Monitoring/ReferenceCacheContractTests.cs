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
/// points at one version and scored again after it moves. With the real scikit-learn fixtures (logistic_davis.onnx,
/// logreg_iris.onnx): each variant's rows are calibrated on the reference its own model version scored, an ensemble's
/// on the reference scored through its combination, and a reference without the probabilities that nothing scores gives
/// no estimate. Expected CBPE values are computed here from the rows with
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

    /// <summary>The Davis data (../shared/fixtures/davis.csv): weight, height and 1 for M (the model's class 1), 0 for F.</summary>
    private static List<(float Weight, float Height, long Male)> Davis() =>
        [.. File.ReadAllLines(TestServices.Fixture("davis.csv")).Skip(1).Select(line => line.Split(','))
            .Select(cells => (float.Parse(cells[2], CultureInfo.InvariantCulture), float.Parse(cells[3], CultureInfo.InvariantCulture), cells[1] == "M" ? 1L : 0L))];

    /// <summary>
    /// The scikit-learn Davis model's (logistic_davis.onnx, or <paramref name="modelPath"/>) outputs on rows, run here by
    /// ONNX Runtime on its own: labels, and P(M) as the prediction log writes a float.
    /// </summary>
    private static (long[] Labels, double[] Male, float[] Pairs) DavisScores(List<(float Weight, float Height, long Male)> rows, string? modelPath = null)
    {
        using var model = OnnxModelRuntime.Load(modelPath ?? TestServices.Fixture("logistic_davis.onnx"));
        var outputs = model.Infer([new Tensor("float_input", TensorDatatypes.Fp32, [rows.Count, 2], rows.SelectMany(row => new[] { row.Weight, row.Height }).ToArray())]);
        var pairs = (float[])outputs.Single(output => output.Name == "output_probability").Data;
        return ((long[])outputs.Single(output => output.Name == "output_label").Data,
            [.. Enumerable.Range(0, rows.Count).Select(row => double.Parse(pairs[(row * 2) + 1].ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture))], pairs);
    }

    /// <summary>Registers the Davis model twice (versions 1 and 2, alias champion on 1) and its first 100 rows, with labels but not the model's probabilities, as dataset davis-reference.</summary>
    private async Task<(ModelCache Models, List<(float Weight, float Height, long Male)> Reference, List<(float Weight, float Height, long Male)> Window)> DavisAsync(Stack stack)
    {
        var registry = new RegistryStore(Database, Time);
        var models = new ModelCache(registry, stack.Runs, stack.Artifacts, Time);
        var onnx = await File.ReadAllBytesAsync(TestServices.Fixture("logistic_davis.onnx"), Cancel);
        foreach (var _ in new[] { 1, 2 })
        {
            await new ModelRegistration(registry, stack.Artifacts).RegisterAsync("davis", new MemoryStream(onnx), "model.onnx", cancellationToken: Cancel);
        }

        await registry.SetAliasAsync("davis", "champion", "1", Cancel);
        var davis = Davis();
        var reference = davis.Take(100).ToList();
        var csv = new StringBuilder("weight,height,label\n");
        foreach (var (weight, height, male) in reference)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{weight:R},{height:R},{male}\n");
        }

        await DatasetAsync(stack, "davis-reference", "reference.csv", csv.ToString());
        return (models, reference, davis.Skip(100).ToList());
    }

    /// <summary>
    /// Logs the window's rows (from <see cref="At"/>(0)), row i answered by variants[i % count] with the Davis model's
    /// outputs (or those of the model at the variant's path in <paramref name="modelPaths"/>).
    /// </summary>
    private static async Task LogDavisAsync(Stack stack, string endpoint, List<(float Weight, float Height, long Male)> rows, string[] variants,
        IReadOnlyDictionary<string, string>? modelPaths = null)
    {
        var scores = variants.ToDictionary(variant => variant, variant => DavisScores(rows, modelPaths?.GetValueOrDefault(variant)));
        for (var i = 0; i < rows.Count; i++)
        {
            var variant = variants[i % variants.Length];
            var (labels, _, pairs) = scores[variant];
            Tensor[] inputs = [new Tensor("float_input", TensorDatatypes.Fp32, [1, 2], new[] { rows[i].Weight, rows[i].Height })];
            Tensor[] outputs = [new Tensor("output_label", TensorDatatypes.Int64, [1], new[] { labels[i] }), new Tensor("output_probability", TensorDatatypes.Fp32, [1, 2], pairs[(i * 2)..((i * 2) + 2)])];
            (await stack.Log.AppendAsync(new PredictionRecord($"{endpoint}-{i}", endpoint, variant, variant, At(0) + (i * 1000), 2, null, inputs, outputs), Cancel)).ShouldBeTrue();
        }
    }

    private static MonitorSpec DavisMonitor(string name, string endpoint, string reference = "davis-reference") => new(name, endpoint, new MonitorWindow(Duration: "10m"),
        new MonitorReference(Dataset: reference), Prediction: new MonitorPrediction(Enabled: false),
        FeatureNames: new Dictionary<string, IReadOnlyList<string>> { ["float_input"] = ["weight", "height"] }, Estimated: new MonitorEstimated("output_probability", "1", Label: "label"));

    /// <summary>
    /// What CBPE gives rows of the Davis model calibrated on the reference the same model scored (the statistics
    /// themselves, tested against NannyML in tests/Ballast.Core.Tests/Statistics); sampling errors from that scored
    /// reference once per variant whose rows are estimated.
    /// </summary>
    private static (CbpeEstimate Estimate, CbpeSamplingErrors Errors, bool Calibrated) DavisExpected(List<(float Weight, float Height, long Male)> reference,
        List<(float Weight, float Height, long Male)> rows, int variants)
    {
        var referenceScores = DavisScores(reference).Male;
        var positive = reference.Select(row => row.Male == 1).ToArray();
        var calibration = Cbpe.FitCalibration(referenceScores, positive, new Random(CbpeWindowEstimator.Seed));
        var scores = DavisScores(rows).Male;
        var pooled = Enumerable.Repeat(referenceScores, variants).SelectMany(score => score).ToArray();
        var errors = CbpeSamplingError.FitBinary(pooled, [.. Enumerable.Repeat(positive, variants).SelectMany(p => p)], pooled.Select(score => score >= 0.5).ToArray()).For(scores.Length);
        return (Cbpe.Estimate(calibration.Calibrate(scores), scores.Select(score => score >= 0.5).ToArray(), scores), errors, calibration.Calibrates);
    }

    [Fact]
    public async Task Cbpe_calibrates_each_variants_rows_on_the_reference_scored_by_that_variants_model_and_leaves_out_a_url_variants_rows()
    {
        var stack = await StackAsync();
        var (models, reference, rows) = await DavisAsync(stack);
        using var owned = models;
        await stack.Endpoints.CreateAsync(new EndpointSpec("davis", null,
            [new VariantSpec("a", "models:/davis@champion", 40), new VariantSpec("b", "models:/davis/2", 40), new VariantSpec("c", null, 20, Url: "http://127.0.0.1:9/v2/models/davis")]), Cancel);
        var spec = (await stack.Monitors.CreateAsync(DavisMonitor("davis-split", "davis"), Cancel)).Spec;
        await LogDavisAsync(stack, "davis", rows, ["a", "b", "c"]);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(30)));
        var evaluator = new MonitorEvaluator(stack.Export, stack.Datasets, stack.Kpis, stack.Traffic,
            [new CbpeWindowEstimator(new ReferenceScorer(stack.Endpoints, models, stack.Cache))], [], stack.Runs, stack.Artifacts, stack.Cache);

        var outcome = await evaluator.EvaluateAsync(spec, At(0), At(10), Cancel);
        outcome.Status.ShouldBe(MonitorWindowStatus.Ok, outcome.Results.Message);
        var scored = Enumerable.Range(0, rows.Count).Where(i => i % 3 != 2).Select(i => rows[i]).ToList();
        var (expected, errors, calibrated) = DavisExpected(reference, scored, variants: 2);
        var metrics = outcome.Results.Metrics;
        metrics["estimated.rows"].ShouldBe(scored.Count, "the rows of a and b");
        metrics["estimated.calibrated"].ShouldBe(calibrated ? 1 : 0);
        metrics["estimated.accuracy"].ShouldBe(expected.Accuracy, 1e-12);
        metrics["estimated.f1"].ShouldBe(expected.F1, 1e-12);
        metrics["estimated.roc_auc"].ShouldBe(expected.RocAuc, 1e-12);
        metrics["estimated.true_positive"].ShouldBe(expected.ConfusionMatrix.TruePositives, 1e-9);
        metrics["estimated.accuracy.sampling_error"].ShouldBe(errors.Accuracy, 1e-12);
        outcome.Results.Message.ShouldBe(
            "variant 'c' calls a model on another server (http://127.0.0.1:9/v2/models/davis), so the reference is not scored with it; " +
            $"{rows.Count - scored.Count} rows of the window were left out of the estimate: their variant ('c' {rows.Count - scored.Count}) did not score the reference");

        // One scores file per model version (champion is version 1), reused by the next window's evaluation.
        Directory.GetFiles(PathIn("cache"), "scores-*.json").Length.ShouldBe(2);
        var again = await evaluator.EvaluateAsync(spec, At(0), At(10), Cancel);
        again.Results.Metrics["estimated.accuracy"].ShouldBe(expected.Accuracy, 1e-12);
        stack.Recorder.Events.Count(kind => kind == "scores:hit").ShouldBe(2);
    }

    /// <summary>
    /// A second Davis model: the fixture's graph with other weights (its LinearClassifier's weight coefficients doubled,
    /// the intercepts moved by that share of the mean weight), so it ranks and labels people differently from the first.
    /// An AttributeProto's name is followed by its floats, each a field-7 fixed32 (tag 0x3d) of 4 little-endian bytes.
    /// </summary>
    private static byte[] OtherDavisModel(byte[] onnx)
    {
        var model = (byte[])onnx.Clone();
        Replace("coefficients", [-0.3696f, -0.34099582f, 0.3696f, 0.34099582f]);
        Replace("intercepts", [82.72f, -82.72f]);
        return model;

        void Replace(string attribute, float[] values)
        {
            var at = model.AsSpan().IndexOf(Encoding.ASCII.GetBytes(attribute)) + attribute.Length;
            foreach (var value in values)
            {
                model[at].ShouldBe((byte)0x3d);
                System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(model.AsSpan(at + 1), value);
                at += 5;
            }
        }
    }

    [Fact]
    public async Task Cbpe_calibrates_the_rows_of_variants_with_different_models_each_on_the_reference_as_its_own_model_scores_it()
    {
        var stack = await StackAsync();
        var (models, reference, rows) = await DavisAsync(stack);
        using var owned = models;
        var other = PathIn("other-davis.onnx");
        await File.WriteAllBytesAsync(other, OtherDavisModel(await File.ReadAllBytesAsync(TestServices.Fixture("logistic_davis.onnx"), Cancel)), Cancel);
        await using (var bytes = File.OpenRead(other))
        {
            (await new ModelRegistration(new RegistryStore(Database, Time), stack.Artifacts).RegisterAsync("davis", bytes, "model.onnx", cancellationToken: Cancel)).Version.ShouldBe("3");
        }

        await stack.Endpoints.CreateAsync(new EndpointSpec("davis-ab", null, [new VariantSpec("a", "models:/davis@champion", 50), new VariantSpec("b", "models:/davis/3", 50)]), Cancel);
        var spec = (await stack.Monitors.CreateAsync(DavisMonitor("davis-ab", "davis-ab"), Cancel)).Spec;
        await LogDavisAsync(stack, "davis-ab", rows, ["a", "b"], new Dictionary<string, string> { ["b"] = other });
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(30)));
        var evaluator = new MonitorEvaluator(stack.Export, stack.Datasets, stack.Kpis, stack.Traffic,
            [new CbpeWindowEstimator(new ReferenceScorer(stack.Endpoints, models, stack.Cache))], [], stack.Runs, stack.Artifacts, stack.Cache);

        var outcome = await evaluator.EvaluateAsync(spec, At(0), At(10), Cancel);
        outcome.Status.ShouldBe(MonitorWindowStatus.Ok, outcome.Results.Message);
        outcome.Results.Message.ShouldBeNull();

        // By hand: each variant's rows (in the window's order) calibrated on the reference as that variant's model scores
        // it; labels from the raw scores; sampling errors from both scored references pooled.
        var positive = reference.Select(row => row.Male == 1).ToArray();
        var scored = new Dictionary<string, (double[] Reference, double[] Window)>
        {
            ["a"] = (DavisScores(reference).Male, DavisScores(rows).Male),
            ["b"] = (DavisScores(reference, other).Male, DavisScores(rows, other).Male),
        };
        scored["a"].Reference.ShouldNotBe(scored["b"].Reference, "the two models score the reference differently");
        var scores = new double[rows.Count];
        var probabilities = new double[rows.Count];
        var calibrated = false;
        foreach (var (variant, index) in new[] { ("a", 0), ("b", 1) })
        {
            var calibration = Cbpe.FitCalibration(scored[variant].Reference, positive, new Random(CbpeWindowEstimator.Seed));
            calibrated |= calibration.Calibrates;
            var mine = Enumerable.Range(0, rows.Count).Where(row => row % 2 == index).ToArray();
            var raw = mine.Select(row => scored[variant].Window[row]).ToArray();
            var values = calibration.Calibrates ? calibration.Calibrate(raw) : raw;
            for (var i = 0; i < mine.Length; i++)
            {
                scores[mine[i]] = raw[i];
                probabilities[mine[i]] = values[i];
            }
        }

        var expected = Cbpe.Estimate(probabilities, scores.Select(score => score >= 0.5).ToArray(), scores);
        double[] pooled = [.. scored["a"].Reference, .. scored["b"].Reference];
        var errors = CbpeSamplingError.FitBinary(pooled, [.. positive, .. positive], pooled.Select(score => score >= 0.5).ToArray()).For(rows.Count);
        var metrics = outcome.Results.Metrics;
        metrics["estimated.rows"].ShouldBe(rows.Count);
        metrics["estimated.calibrated"].ShouldBe(calibrated ? 1 : 0);
        metrics["estimated.accuracy"].ShouldBe(expected.Accuracy, 1e-12);
        metrics["estimated.precision"].ShouldBe(expected.Precision, 1e-12);
        metrics["estimated.recall"].ShouldBe(expected.Recall, 1e-12);
        metrics["estimated.roc_auc"].ShouldBe(expected.RocAuc, 1e-12);
        metrics["estimated.false_positive"].ShouldBe(expected.ConfusionMatrix.FalsePositives, 1e-9);
        metrics["estimated.accuracy.sampling_error"].ShouldBe(errors.Accuracy, 1e-12);

        // Had b's rows been calibrated on the reference as a's model scores it, the estimate would differ.
        var aCalibration = Cbpe.FitCalibration(scored["a"].Reference, positive, new Random(CbpeWindowEstimator.Seed));
        var wrong = Cbpe.Estimate(aCalibration.Calibrates ? aCalibration.Calibrate(scores) : scores, scores.Select(score => score >= 0.5).ToArray(), scores);
        Math.Abs(wrong.Accuracy - expected.Accuracy).ShouldBeGreaterThan(1e-3);
        Directory.GetFiles(PathIn("cache"), "scores-*.json").Length.ShouldBe(2, "the reference scored once per model version");
    }

    [Fact]
    public async Task Cbpe_on_an_ensemble_endpoint_scores_the_reference_through_the_ensembles_combination()
    {
        var stack = await StackAsync();
        var (models, reference, rows) = await DavisAsync(stack);
        using var owned = models;
        await stack.Endpoints.CreateAsync(new EndpointSpec("davis-blend", "ensemble",
            [new VariantSpec("a", "models:/davis@champion", 1), new VariantSpec("b", "models:/davis/2", 3)], Ensemble: new EnsembleSpec("mean")), Cancel);
        var spec = (await stack.Monitors.CreateAsync(DavisMonitor("davis-blend", "davis-blend"), Cancel)).Spec;
        await LogDavisAsync(stack, "davis-blend", rows, [ReferenceScorer.EnsembleVariant]);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(30)));
        var evaluator = new MonitorEvaluator(stack.Export, stack.Datasets, stack.Kpis, stack.Traffic,
            [new CbpeWindowEstimator(new ReferenceScorer(stack.Endpoints, models, stack.Cache))], [], stack.Runs, stack.Artifacts, stack.Cache);

        var outcome = await evaluator.EvaluateAsync(spec, At(0), At(10), Cancel);
        outcome.Status.ShouldBe(MonitorWindowStatus.Ok, outcome.Results.Message);
        outcome.Results.Message.ShouldBeNull("the ensemble scored the reference; calibrated, with sampling errors");

        // Both members are the Davis model, so their weighted mean (1·p + 3·p) / 4 is p exactly: the ensemble's scores are the model's.
        var (expected, errors, calibrated) = DavisExpected(reference, rows, variants: 1);
        var metrics = outcome.Results.Metrics;
        metrics["estimated.rows"].ShouldBe(rows.Count);
        metrics["estimated.calibrated"].ShouldBe(calibrated ? 1 : 0);
        metrics["estimated.accuracy"].ShouldBe(expected.Accuracy, 1e-12);
        metrics["estimated.roc_auc"].ShouldBe(expected.RocAuc, 1e-12);
        metrics["estimated.accuracy.sampling_error"].ShouldBe(errors.Accuracy, 1e-12);
        stack.Recorder.Events.ShouldBe(["blob:miss", "scores:miss"], "only the ensemble's rows, so only the ensemble scores");
        var cached = Directory.GetFiles(PathIn("cache"), "scores-*.json").ShouldHaveSingleItem();

        // After the alias moves, the ensemble's combination is of other versions: scored again, under another key.
        await new RegistryStore(Database, Time).SetAliasAsync("davis", "champion", "2", Cancel);
        (await evaluator.EvaluateAsync(spec, At(0), At(10), Cancel)).Results.Metrics["estimated.accuracy"].ShouldBe(expected.Accuracy, 1e-12);
        (await evaluator.EvaluateAsync(spec, At(0), At(10), Cancel)).Results.Metrics["estimated.accuracy"].ShouldBe(expected.Accuracy, 1e-12);
        stack.Recorder.Events.ShouldBe(["blob:miss", "scores:miss", "blob:hit", "scores:miss", "blob:hit", "scores:hit"]);
        Directory.GetFiles(PathIn("cache"), "scores-*.json").Length.ShouldBe(2);
        Directory.GetFiles(PathIn("cache"), "scores-*.json").ShouldContain(cached);
    }

    /// <summary>
    /// Seeded iris-like rows: a class drawn evenly, its four measurements the iris class means (Fisher's data: setosa
    /// 5.006, 3.428, 1.462, 0.246; versicolor 5.936, 2.770, 4.260, 1.326; virginica 6.588, 2.974, 5.552, 2.026) plus
    /// N(0, 0.6²) noise, so the classes overlap.
    /// </summary>
    private static List<(float[] Features, int Class)> IrisLike(int count, int seed)
    {
        double[][] means = [[5.006, 3.428, 1.462, 0.246], [5.936, 2.770, 4.260, 1.326], [6.588, 2.974, 5.552, 2.026]];
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var c = random.Next(3);
            return (means[c].Select(mean => (float)(mean + (0.6 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))).ToArray(), c);
        })];
    }

    /// <summary>The scikit-learn iris model's (logreg_iris.onnx) class probabilities on rows, run here by ONNX Runtime on its own, as the prediction log writes floats.</summary>
    private static (double[][] Probabilities, float[] Raw, long[] Labels) IrisScores(List<(float[] Features, int Class)> rows)
    {
        using var model = OnnxModelRuntime.Load(TestServices.Fixture("logreg_iris.onnx"));
        var outputs = model.Infer([new Tensor("float_input", TensorDatatypes.Fp32, [rows.Count, 4], rows.SelectMany(row => row.Features).ToArray())]);
        var raw = (float[])outputs.Single(output => output.Name == "output_probability").Data;
        return ([.. Enumerable.Range(0, rows.Count).Select(row => Enumerable.Range(0, 3).Select(c => double.Parse(raw[(row * 3) + c].ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)).ToArray())],
            raw, (long[])outputs.Single(output => output.Name == "output_label").Data);
    }

    [Fact]
    public async Task Multiclass_cbpe_calibrates_each_variants_rows_on_the_reference_scored_by_that_variants_model()
    {
        var stack = await StackAsync();
        var registry = new RegistryStore(Database, Time);
        using var models = new ModelCache(registry, stack.Runs, stack.Artifacts, Time);
        var onnx = await File.ReadAllBytesAsync(TestServices.Fixture("logreg_iris.onnx"), Cancel);
        foreach (var _ in new[] { 1, 2 })
        {
            await new ModelRegistration(registry, stack.Artifacts).RegisterAsync("iris", new MemoryStream(onnx), "model.onnx", cancellationToken: Cancel);
        }

        await stack.Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("a", "models:/iris/1", 50), new VariantSpec("b", "models:/iris/2", 50)]), Cancel);
        var reference = IrisLike(300, seed: 5);
        var csv = new StringBuilder("sl,sw,pl,pw,label\n");
        foreach (var (features, c) in reference)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{string.Join(",", features.Select(value => value.ToString("R", CultureInfo.InvariantCulture)))},{c}\n");
        }

        await DatasetAsync(stack, "iris-reference", "reference.csv", csv.ToString());
        var spec = (await stack.Monitors.CreateAsync(new MonitorSpec("iris-split", "iris", new MonitorWindow(Duration: "10m"), new MonitorReference(Dataset: "iris-reference"),
            Prediction: new MonitorPrediction(Enabled: false), FeatureNames: new Dictionary<string, IReadOnlyList<string>> { ["float_input"] = ["sl", "sw", "pl", "pw"] },
            Estimated: new MonitorEstimated("output_probability", Label: "label", Classes: ["0", "1", "2"])), Cancel)).Spec;
        var window = IrisLike(120, seed: 6);
        var (scores, raw, labels) = IrisScores(window);
        for (var i = 0; i < window.Count; i++)
        {
            Tensor[] inputs = [new Tensor("float_input", TensorDatatypes.Fp32, [1, 4], window[i].Features)];
            Tensor[] outputs = [new Tensor("output_label", TensorDatatypes.Int64, [1], new[] { labels[i] }), new Tensor("output_probability", TensorDatatypes.Fp32, [1, 3], raw[(i * 3)..((i * 3) + 3)])];
            var variant = i % 2 == 0 ? "a" : "b";
            (await stack.Log.AppendAsync(new PredictionRecord($"iris-{i}", "iris", variant, variant, At(0) + (i * 1000), 2, null, inputs, outputs), Cancel)).ShouldBeTrue();
        }

        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(30)));
        var outcome = await new MonitorEvaluator(stack.Export, stack.Datasets, stack.Kpis, stack.Traffic,
            [new CbpeWindowEstimator(new ReferenceScorer(stack.Endpoints, models, stack.Cache))], [], stack.Runs, stack.Artifacts, stack.Cache).EvaluateAsync(spec, At(0), At(10), Cancel);
        outcome.Status.ShouldBe(MonitorWindowStatus.Ok, outcome.Results.Message);
        outcome.Results.Message.ShouldBeNull("both variants scored the reference");

        // Expected from the statistics (tested against NannyML in tests/Ballast.Core.Tests/Statistics): both variants
        // serve the iris model, so each variant's calibration is the one fitted on the reference it scores; the sampling
        // errors from that scored reference once per variant.
        var referenceScores = IrisScores(reference).Probabilities.Select(row => (IReadOnlyList<double>)row).ToList();
        var referenceActual = reference.Select(row => row.Class).ToArray();
        var calibration = MulticlassCbpe.FitCalibration(referenceScores, referenceActual, 3, new Random(CbpeWindowEstimator.Seed));
        var rows = scores.Select(row => (IReadOnlyList<double>)row).ToList();
        var expected = MulticlassCbpe.Estimate(calibration.Calibrate(rows).Select(row => (IReadOnlyList<double>)row).ToList(), MulticlassCbpe.PredictedClasses(rows), rows);
        List<IReadOnlyList<double>> pooled = [.. referenceScores, .. referenceScores];
        var errors = CbpeSamplingError.FitMulticlass(pooled, [.. referenceActual, .. referenceActual], MulticlassCbpe.PredictedClasses(pooled), 3).For(window.Count);
        var metrics = outcome.Results.Metrics;
        metrics["estimated.rows"].ShouldBe(window.Count);
        metrics["estimated.calibrated"].ShouldBe(calibration.Calibrated > 0 ? 1 : 0);
        metrics["estimated.accuracy"].ShouldBe(expected.Accuracy, 1e-12);
        metrics["estimated.f1"].ShouldBe(expected.F1, 1e-12);
        metrics["estimated.roc_auc"].ShouldBe(expected.RocAuc, 1e-12);
        metrics["estimated.true_0_pred_0"].ShouldBe(expected.ConfusionMatrix[0][0], 1e-9);
        metrics["estimated.accuracy.sampling_error"].ShouldBe(errors.Accuracy, 1e-12);
        stack.Recorder.Events.ShouldBe(["blob:miss", "scores:miss", "scores:miss"], "one scores file per variant's version");
    }

    [Fact]
    public async Task Cbpe_gives_no_estimate_when_the_reference_lacks_the_models_probabilities_and_no_model_scores_it()
    {
        var stack = await StackAsync();
        var (models, _, rows) = await DavisAsync(stack);
        using var owned = models;
        await stack.Endpoints.CreateAsync(new EndpointSpec("davis-remote", null, [new VariantSpec("c", null, Url: "http://127.0.0.1:9/v2/models/davis")]), Cancel);
        await stack.Endpoints.CreateAsync(new EndpointSpec("davis-one", null, [new VariantSpec("a", "models:/davis/1")]), Cancel);
        var csv = new StringBuilder("weight,height\n");
        foreach (var (weight, height, _) in rows.Take(60))
        {
            csv.Append(CultureInfo.InvariantCulture, $"{weight:R},{height:R}\n");
        }

        var labelled = new StringBuilder("weight,height,label\n");
        foreach (var (weight, height, male) in rows.Take(60))
        {
            labelled.Append(CultureInfo.InvariantCulture, $"{weight:R},{height:R},{male}\n");
        }

        // Version 1 has labels (the monitor is accepted: its reference may be scored); version 2, the latest at the
        // window, has neither labels nor probabilities.
        await DatasetAsync(stack, "davis-features", "features.csv", labelled.ToString());
        var unlabelledSpec = (await stack.Monitors.CreateAsync(DavisMonitor("davis-unlabelled", "davis-one", "davis-features"), Cancel)).Spec;
        await DatasetAsync(stack, "davis-features", "features.csv", csv.ToString());
        await LogDavisAsync(stack, "davis-remote", rows, ["c"]);
        await LogDavisAsync(stack, "davis-one", rows, ["a"]);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(30)));
        var evaluator = new MonitorEvaluator(stack.Export, stack.Datasets, stack.Kpis, stack.Traffic,
            [new CbpeWindowEstimator(new ReferenceScorer(stack.Endpoints, models, stack.Cache))], [], stack.Runs, stack.Artifacts, stack.Cache);
        const string Why = "CBPE (as NannyML's, which refuses a reference without its y_pred_proba columns) calibrates on the reference's probabilities and labels";

        // Labels, but only a url variant answers: nothing scores the reference.
        var remote = await evaluator.EvaluateAsync((await stack.Monitors.CreateAsync(DavisMonitor("davis-remote", "davis-remote"), Cancel)).Spec, At(0), At(10), Cancel);
        remote.Status.ShouldBe(MonitorWindowStatus.Ok);
        remote.Results.Metrics.Keys.ShouldNotContain(key => key.StartsWith("estimated.", StringComparison.Ordinal));
        remote.Results.Message.ShouldBe("no estimated performance: the reference (davis-reference@1 reference.csv) has no column 'output_probability[1]' with the model's probabilities " +
            "and the endpoint's models could not score it: variant 'c' calls a model on another server (http://127.0.0.1:9/v2/models/davis), so the reference is not scored with it; " + Why);

        // Neither probabilities nor labels (the bare name's latest version): not scored (nothing to calibrate with), and no
        // estimate, as NannyML refuses it. Storing the monitor now refuses such a version (MonitorContractTests).
        var unlabelled = await evaluator.EvaluateAsync(unlabelledSpec, At(0), At(10), Cancel);
        unlabelled.Results.Metrics.Keys.ShouldNotContain(key => key.StartsWith("estimated.", StringComparison.Ordinal));
        unlabelled.Results.Message.ShouldBe("no estimated performance: the reference (davis-features@2 features.csv) has no column 'output_probability[1]' with the model's probabilities " +
            "nor a label column 'label' to calibrate with, so the endpoint's model does not score it; " + Why);
        stack.Recorder.Events.ShouldNotContain("scores:miss");
    }
}

public sealed class SqliteReferenceCacheContractTests() : ReferenceCacheContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresReferenceCacheContractTests() : ReferenceCacheContractTests(DatabaseEngine.Postgres);
