using System.Globalization;
using Ballast.Datasets;
using Ballast.Experiments;
using Ballast.Metadata;
using Ballast.Monitoring;
using Ballast.Monitoring.Quality;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Statistics.Performance;
using Ballast.Storage;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Monitoring;

/// <summary>
/// The window hooks wired into monitors on SQLite and PostgreSQL, with a real prediction log and a fake clock: data
/// quality, CBPE, fairness and multivariate drift on a binary classifier's traffic, and a run's training dataset as the
/// reference. Expected values are computed here from the generated rows (the statistics themselves are tested against
/// their reference implementations in tests/Ballast.Core.Tests/Statistics).
/// </summary>
public abstract class MonitorHookContractTests(DatabaseEngine engine) : FolderDatabaseTest(engine, "ballast-monitor-hooks-")
{
    private static long At(int minutes, int seconds = 0) => new DateTimeOffset(2026, 11, 25, 12, minutes, seconds, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>One scored row as logged: inputs x, z (numbers) and region, the model's label and probability, the true label, and whether serving flagged it.</summary>
    private sealed record Row(string Id, double X, double Z, string Region, long Predicted, double Probability, long Truth, bool Flagged);

    private sealed record Stack(MonitorStore Monitors, MonitorEvaluator Evaluator, PredictionLog Log, FeedbackStore Feedback, EndpointStore Endpoints, TrafficStats Traffic,
        DatasetStore Datasets, RunStore Runs, IArtifactStore Artifacts);

    private async Task<Stack> StackAsync()
    {
        var artifacts = LocalArtifacts();
        var log = await OpenLogAsync(artifacts);
        var feedback = new FeedbackStore(Database, Time);
        var export = new PredictionExport(log, artifacts, feedback);
        var endpoints = new EndpointStore(Database, Time);
        var datasets = new DatasetStore(Database, artifacts, Time, new DatasetProfiler(256));
        var traffic = new TrafficStats(Database, Time);
        var runs = new RunStore(Database, new ExperimentStore(Database, Time), Time);
        var monitors = new MonitorStore(Database, endpoints, datasets, Time, runs, artifacts);
        IWindowEstimator[] estimators = [new CbpeWindowEstimator(), new FairnessWindowEstimator(), new MultivariateWindowEstimator()];
        var evaluator = new MonitorEvaluator(export, datasets, new KpiStore(Database, Time), traffic, estimators, [new ExpectationWindowCheck(endpoints)], runs, artifacts);
        await endpoints.CreateAsync(new EndpointSpec("loans", null, [new VariantSpec("main", "models:/loans/1")]), Cancel);
        return new Stack(monitors, evaluator, log, feedback, endpoints, traffic, datasets, runs, artifacts);
    }

    /// <summary>
    /// Seeded rows: x ~ N(<paramref name="shift"/>, 1); z = ±x + noise (the sign flips with <paramref name="flip"/>:
    /// the correlation turns, each marginal barely moves); the truth is Bernoulli(σ(2x)) and the model, overconfident,
    /// says σ(4x). Every tenth row of a shifted window has region "c", which the suite does not allow, and was flagged.
    /// </summary>
    private static List<Row> Rows(string prefix, int count, double shift, bool flip, int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var rows = new List<Row>();
        for (var i = 0; i < count; i++)
        {
            var x = shift + Normal();
            var z = ((flip ? -1 : 1) * x) + (0.3 * Normal());
            var region = flip && i % 10 == 9 ? "c" : i % 2 == 0 ? "a" : "b";
            var probability = 1 / (1 + Math.Exp(-4 * x));
            var truth = random.NextDouble() < 1 / (1 + Math.Exp(-2 * x)) ? 1L : 0L;
            rows.Add(new Row($"{prefix}{i}", x, z, region, probability >= 0.5 ? 1 : 0, probability, truth, region == "c"));
        }

        return rows;
    }

    private async Task LogAsync(Stack stack, List<Row> rows, long from)
    {
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            (await stack.Log.AppendAsync(new PredictionRecord(row.Id, "loans", "main", "loans/1", from + (i * 1000), 2, null,
                [new Tensor("x", TensorDatatypes.Fp64, [1], new[] { row.X }), new Tensor("z", TensorDatatypes.Fp64, [1], new[] { row.Z }),
                 new Tensor("region", TensorDatatypes.Bytes, [1], new[] { row.Region })],
                [new Tensor("predicted", TensorDatatypes.Int64, [1], new[] { row.Predicted }), new Tensor("probability", TensorDatatypes.Fp64, [1], new[] { row.Probability })],
                Expectations: row.Flagged ? "region.allowed" : null), Cancel)).ShouldBeTrue();
        }

        // Outcomes arrive after the predictions (a window joins the feedback received since its start).
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(from + (rows.Count * 1000)));
        await stack.Feedback.AddAsync(rows.Select(row => new Feedback(row.Id, row.Truth.ToString(CultureInfo.InvariantCulture), null)).ToList(), Cancel);
    }

    private static MonitorSpec Spec(string name) => new(name, "loans", new MonitorWindow(Duration: "10m"),
        new MonitorReference(From: "2026-11-25T12:00:00Z", To: "2026-11-25T12:10:00Z"), Prediction: new MonitorPrediction(Enabled: false));

    private static readonly ExpectationSuite Suite = new(new Dictionary<string, ColumnExpectations>
    {
        ["x"] = new(Min: -1),
        ["region"] = new(Allowed: ["a", "b"]),
    });

    /// <summary>CBPE computed directly: calibration fitted on the reference's scores and labels (seed 42), applied to the window's.</summary>
    private static CbpeEstimate Expected(List<Row> reference, List<Row> window)
    {
        var calibration = Cbpe.FitCalibration(reference.Select(row => row.Probability).ToArray(), reference.Select(row => row.Truth == 1).ToArray(), new Random(CbpeWindowEstimator.Seed));
        calibration.Calibrates.ShouldBeTrue("σ(4x) against a truth of σ(2x) is overconfident");
        var scores = window.Select(row => row.Probability).ToArray();
        return Cbpe.Estimate(calibration.Calibrate(scores), scores.Select(score => score >= 0.5).ToArray(), scores);
    }

    [Fact]
    public async Task Quality_estimated_performance_fairness_and_multivariate_drift_join_each_window()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(3)));
        await stack.Monitors.CreateAsync(Spec("loans-hooks") with
        {
            Quality = new MonitorQuality(Suite),
            Estimated = new MonitorEstimated("probability", "1"),
            Fairness = new MonitorFairness("region", "1"),
            Multivariate = new MonitorMultivariate("reconstruction"),
        }, Cancel);
        await stack.Monitors.CreateAsync(Spec("loans-domain") with { Multivariate = new MonitorMultivariate("domain_classifier") }, Cancel);
        await stack.Monitors.CreateAsync(Spec("loans-pred") with { Estimated = new MonitorEstimated("probability", "1", NormalizeConfusionMatrix: "pred") }, Cancel);
        await stack.Monitors.CreateAsync(Spec("loans-no-positives") with { Estimated = new MonitorEstimated("probability", "1", Threshold: 1, NormalizeConfusionMatrix: "pred") }, Cancel);
        await stack.Monitors.CreateAsync(Spec("loans-notes") with
        {
            Estimated = new MonitorEstimated("score", "1"),
            Fairness = new MonitorFairness("gender", "1"),
            Quality = new MonitorQuality(new ExpectationSuite(new Dictionary<string, ColumnExpectations> { ["age"] = new(Min: 0) })),
        }, Cancel);
        await stack.Monitors.CreateAsync(Spec("loans-segments") with
        {
            Segments = ["region"],
            Kpis = ["revenue"],
            Performance = new MonitorPerformance("classification", Output: "predicted"),
        }, Cancel);
        await stack.Monitors.CreateAsync(Spec("loans-intersect") with { Fairness = new MonitorFairness(null, "1", SensitiveFeatures: ["region", "z"], MaxGroups: 3) }, Cancel);
        await stack.Monitors.CreateAsync(Spec("loans-pairs") with
        {
            Quality = new MonitorQuality(ExpectationSuiteReader.Parse("""{"rows": {"min": 401}, "columns": {"z": {"greater_than": "x", "required": {"value": true, "mostly": 0.99}}, "region": {"allowed": {"value": ["a", "b"], "mostly": 0.85}, "greater_or_equal": ["x", "z"]}}, "multicolumn": [{"columns": ["region", "x"], "unique": true}]}""")),
        }, Cancel);
        // Column aggregates per window: x's mean and median near 0 in the reference, near 0.7 in the shifted window; region
        // has a third value ("c") in the shifted one; a mean of text fails with a note of the column's type.
        await stack.Monitors.CreateAsync(Spec("loans-aggregates") with
        {
            Quality = new MonitorQuality(ExpectationSuiteReader.Parse("""
                {"columns": {"x": {"mean": {"min": -0.3, "max": 0.3}, "stdev": {"min": 0.8, "max": 1.2}, "quantiles": {"quantiles": [0.5], "value_ranges": [[-0.3, 0.3]]}},
                             "region": {"distinct_count": {"max": 2}, "unique_proportion": {"max": 0.01}}}}
                """)),
        }, Cancel);
        var reference = Rows("r", 400, shift: 0, flip: false, seed: 11);
        var shifted = Rows("s", 400, shift: 0.7, flip: true, seed: 12);
        await LogAsync(stack, reference, At(0));
        await LogAsync(stack, shifted, At(10));
        await new KpiStore(Database, Time).AddAsync([new Kpi("revenue", 12.5, PredictionId: shifted[0].Id), new Kpi("revenue", 7.5, PredictionId: shifted[1].Id)], Cancel);
        var recorder = new ObservationRecorder();
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(20, 30)));
        await new MonitorScheduler(stack.Monitors, stack.Evaluator, stack.Traffic, [recorder], Time).TickAsync(Cancel);

        var windows = recorder.Observations.Where(observation => observation.Source == "loans-hooks").OrderBy(observation => observation.WindowStart).ToList();
        windows.Count.ShouldBe(2);
        windows.ShouldAllBe(window => window.Context["status"] == MonitorWindowStatus.Ok);
        var (same, values) = (windows[0].Values, windows[1].Values);

        // Data quality: region "c" in every tenth row; x below -1 wherever the seeded draw put it.
        var low = shifted.Count(row => row.X < -1);
        low.ShouldBeGreaterThan(0);
        values["quality.region.allowed"].ShouldBe(0.1, 1e-12);
        values["quality.x.min"].ShouldBe(low / 400.0, 1e-12);
        values["quality.violation_rate"].ShouldBe(shifted.Count(row => row.X < -1 || row.Region == "c") / 400.0, 1e-12);
        values["quality.failed"].ShouldBe(2);
        values["quality.flagged_rate"].ShouldBe(0.1, 1e-12);
        same["quality.failed"].ShouldBe(reference.Any(row => row.X < -1) ? 1 : 0);
        same["quality.flagged_rate"].ShouldBe(0);

        // CBPE: exactly what the statistics give on the same scores, and near the accuracy the feedback shows.
        var expected = Expected(reference, shifted);
        values["estimated.calibrated"].ShouldBe(1);
        (values["estimated.accuracy"], values["estimated.precision"], values["estimated.recall"], values["estimated.f1"], values["estimated.roc_auc"])
            .ShouldBe((expected.Accuracy, expected.Precision, expected.Recall, expected.F1, expected.RocAuc));
        var realized = shifted.Count(row => row.Predicted == row.Truth) / 400.0;
        values["estimated.accuracy"].ShouldBe(realized, 0.05, "CBPE estimates the accuracy the labels later show under covariate shift");
        var referenceScores = reference.Select(row => row.Probability).ToArray();
        var errors = CbpeSamplingError.FitBinary(referenceScores, reference.Select(row => row.Truth == 1).ToArray(), referenceScores.Select(score => score >= 0.5).ToArray()).For(400);
        (values["estimated.accuracy.sampling_error"], values["estimated.precision.sampling_error"], values["estimated.recall.sampling_error"],
            values["estimated.f1.sampling_error"], values["estimated.roc_auc.sampling_error"]).ShouldBe((errors.Accuracy, errors.Precision, errors.Recall, errors.F1, errors.RocAuc));
        same["estimated.accuracy.sampling_error"].ShouldBe(errors.Accuracy, "the sampling error depends on the reference and the window's size only");
        // Specificity and the expected confusion-matrix counts, NannyML's confusion_matrix metric (not normalized), with
        // their sampling errors ([true][predicted], 1 the positive class).
        (values["estimated.specificity"], values["estimated.specificity.sampling_error"]).ShouldBe((expected.Specificity, errors.Specificity));
        var cells = expected.ConfusionMatrix;
        (values["estimated.true_positive"], values["estimated.false_positive"], values["estimated.true_negative"], values["estimated.false_negative"])
            .ShouldBe((cells.TruePositives, cells.FalsePositives, cells.TrueNegatives, cells.FalseNegatives));
        (values["estimated.true_positive"] + values["estimated.false_positive"] + values["estimated.true_negative"] + values["estimated.false_negative"])
            .ShouldBe(400, 1e-9, "every row's probability is spread over the four cells");
        (values["estimated.true_positive.sampling_error"], values["estimated.false_positive.sampling_error"], values["estimated.true_negative.sampling_error"],
            values["estimated.false_negative.sampling_error"]).ShouldBe((errors.ConfusionMatrix[1][1], errors.ConfusionMatrix[0][1], errors.ConfusionMatrix[0][0], errors.ConfusionMatrix[1][0]));
        var referenceTruePositives = reference.Count(row => row.Truth == 1 && row.Probability >= 0.5) / (double)reference.Count;
        values["estimated.true_positive.sampling_error"].ShouldBe(Math.Sqrt(400 * referenceTruePositives * (1 - referenceTruePositives)), 1e-9,
            "σ√n, σ the reference's standard deviation of 'is a true positive' (true_positive_sampling_error)");

        // normalize_confusion_matrix: pred, each cell over its predicted class's expected count, with NannyML's errors
        // of the normalized cells; the rates are the same. A window with no predicted positive has no positive column.
        var byPrediction = (await stack.Monitors.WindowsAsync("loans-pred", cancellationToken: Cancel)).Single(window => window.Start == At(10)).Results;
        var normalized = ConfusionNormalizations.Normalize(cells, ConfusionNormalization.Pred, 400);
        var normalizedErrors = CbpeSamplingError.FitBinary(referenceScores, reference.Select(row => row.Truth == 1).ToArray(), referenceScores.Select(score => score >= 0.5).ToArray())
            .For(400, ConfusionNormalization.Pred).ConfusionMatrix;
        var pred = byPrediction.Metrics;
        (pred["estimated.true_positive"], pred["estimated.false_positive"], pred["estimated.true_negative"], pred["estimated.false_negative"])
            .ShouldBe((normalized.TruePositives, normalized.FalsePositives, normalized.TrueNegatives, normalized.FalseNegatives));
        new[] { pred["estimated.true_positive"] + pred["estimated.false_positive"], pred["estimated.true_negative"] + pred["estimated.false_negative"] }.ShouldBe([1.0, 1.0], 1e-12);
        pred["estimated.true_positive"].ShouldBe(values["estimated.precision"], 1e-12, "the true positives over the predicted positives are the precision");
        (pred["estimated.true_positive.sampling_error"], pred["estimated.false_positive.sampling_error"], pred["estimated.true_negative.sampling_error"],
            pred["estimated.false_negative.sampling_error"]).ShouldBe((normalizedErrors[1][1], normalizedErrors[0][1], normalizedErrors[0][0], normalizedErrors[1][0]));
        (pred["estimated.accuracy"], pred["estimated.accuracy.sampling_error"]).ShouldBe((values["estimated.accuracy"], values["estimated.accuracy.sampling_error"]));
        var noPositives = (await stack.Monitors.WindowsAsync("loans-no-positives", cancellationToken: Cancel)).Single(window => window.Start == At(10)).Results;
        noPositives.Metrics.Keys.ShouldNotContain("estimated.true_positive");
        noPositives.Metrics.Keys.ShouldNotContain("estimated.false_positive");
        (noPositives.Metrics["estimated.true_negative"] + noPositives.Metrics["estimated.false_negative"]).ShouldBe(1, 1e-12);
        noPositives.Message!.ShouldContain("no estimated.true_positive, estimated.false_positive: normalize_confusion_matrix pred divides by the predicted class's expected count, 0 in this window");

        // Fairness by region, fairlearn's definitions computed from the rows.
        var selection = shifted.GroupBy(row => row.Region).ToDictionary(group => group.Key, group => group.Average(row => row.Predicted == 1 ? 1.0 : 0.0));
        foreach (var (region, rate) in selection)
        {
            values[$"fairness.group.{region}.selection_rate"].ShouldBe(rate, 1e-12);
        }

        values["fairness.demographic_parity_difference"].ShouldBe(selection.Values.Max() - selection.Values.Min(), 1e-12);
        values["fairness.demographic_parity_ratio"].ShouldBe(selection.Values.Min() / selection.Values.Max(), 1e-12);
        double Spread(Func<Row, bool> condition)
        {
            var rates = shifted.Where(condition).GroupBy(row => row.Region).Select(group => group.Average(row => row.Predicted == 1 ? 1.0 : 0.0)).ToList();
            return rates.Max() - rates.Min();
        }

        values["fairness.equal_opportunity_difference"].ShouldBe(Spread(row => row.Truth == 1), 1e-12);
        values["fairness.equalized_odds_difference"].ShouldBe(Math.Max(Spread(row => row.Truth == 1), Spread(row => row.Truth == 0)), 1e-12);

        // Intersectional groups (region, z): z is continuous, so every row is a group of one, selected or not. The
        // disparities are over all 400 groups; the selection rates are stored for 3 (max_groups): of equal sizes, the
        // first by name.
        var intersect = (await stack.Monitors.WindowsAsync("loans-intersect", cancellationToken: Cancel)).Single(window => window.Start == At(10)).Results;
        (intersect.Metrics["fairness.demographic_parity_difference"], intersect.Metrics["fairness.demographic_parity_ratio"]).ShouldBe((1.0, 0.0));
        var keys = shifted.Select(row => (Group: FairnessWindowEstimator.GroupOf([row.Region, WindowValues.Text(row.Z)!]), row.Predicted)).OrderBy(row => row.Group, StringComparer.Ordinal).Take(3).ToList();
        intersect.Metrics.Where(metric => metric.Key.EndsWith(".selection_rate", StringComparison.Ordinal)).OrderBy(metric => metric.Key, StringComparer.Ordinal)
            .Select(metric => (metric.Key, metric.Value)).ShouldBe(keys.Select(row => ($"fairness.group.{row.Group}.selection_rate", row.Predicted == 1 ? 1.0 : 0.0)));
        intersect.Message!.ShouldContain("fairness: 400 groups; the disparities are over all of them, selection rates are stored for the 3 largest (max_groups)");

        // Multivariate: the reference window is inside its own band; the turned correlation is out of it.
        same["multivariate.drifted"].ShouldBe(0);
        values["multivariate.drifted"].ShouldBe(1);
        values["multivariate.reconstruction_error"].ShouldBeGreaterThan(values["multivariate.reconstruction_error.upper"]);

        var domain = recorder.Observations.Where(observation => observation.Source == "loans-domain").OrderBy(observation => observation.WindowStart).ToList();
        domain.Count.ShouldBe(2);
        domain[0].Values["multivariate.drifted"].ShouldBe(0, "a window against itself cannot be told apart");
        domain[1].Values["multivariate.domain_auc"].ShouldBeGreaterThan(0.55);
        domain[1].Values["multivariate.drifted"].ShouldBe(1);
        domain[1].Values.Keys.ShouldNotContain("estimated.accuracy", "a hook the spec does not ask for adds nothing");
        domain[1].Values.Keys.ShouldNotContain("quality.failed", "the endpoint has no expectations and the monitor names no suite");

        // What a hook cannot compute is said in the window's message, never dropped.
        var notes = (await stack.Monitors.WindowsAsync("loans-notes", cancellationToken: Cancel)).Single(window => window.Start == At(10));
        notes.Status.ShouldBe(MonitorWindowStatus.Ok);
        notes.Results.Message.ShouldBe("no estimated performance: the window has no output 'score' with one probability per row, or [N, 2] (outputs: predicted, probability); " +
            "no fairness: the sensitive column 'gender' is not among the window's inputs (x, z, region)");
        (notes.Results.Metrics["quality.age.exists"], notes.Results.Metrics["quality.violation_rate"], notes.Results.Metrics["quality.failed"]).ShouldBe((1.0, 1.0, 1.0));

        // A column pair and the row count per window: z > x counted row by row; 400 rows is under the 401 asked for.
        shifted.Count(row => row.Region == "c").ShouldBe(40);
        var pairs = recorder.Observations.Where(observation => observation.Source == "loans-pairs").OrderBy(observation => observation.WindowStart).ToList();
        pairs.Count.ShouldBe(2);
        foreach (var (window, rows) in new[] { (pairs[0].Values, reference), (pairs[1].Values, shifted) })
        {
            var notGreater = rows.Count(row => !(row.Z > row.X)) / 400.0;
            notGreater.ShouldBeGreaterThan(0);
            window["quality.z.greater_than"].ShouldBe(notGreater, 1e-12);
            // No z is missing: required within its mostly (and without); each listed column of a pair has its own metric
            // (region's text, "a" to "c", sorts after every number's text, so both pairs hold on every row).
            window["quality.z.required"].ShouldBe(0);
            (window["quality.region.greater_or_equal[x]"], window["quality.region.greater_or_equal[z]"]).ShouldBe((0.0, 0.0));
            window["quality.row_count"].ShouldBe(1);
            // A combination of columns unique across the window's rows (x is continuous, so no pair repeats).
            window["quality.region+x.unique"].ShouldBe(0);
            // Region "c" in every tenth shifted row: 0.9 of the window meets allowed, within its own mostly 0.85, so it does not
            // count in quality.failed; its rate and its rows are still reported.
            window["quality.region.allowed"].ShouldBe(rows.Count(row => row.Region == "c") / 400.0, 1e-12);
            window["quality.violation_rate"].ShouldBe(rows.Count(row => !(row.Z > row.X) || row.Region == "c") / 400.0, 1e-12, "the row count judges the window, not its rows");
            window["quality.failed"].ShouldBe(2);
        }

        // Column aggregates: 1 when the window's value is out of bounds, else 0; they judge the window, not its rows.
        var aggregates = recorder.Observations.Where(observation => observation.Source == "loans-aggregates").OrderBy(observation => observation.WindowStart).ToList();
        aggregates.Count.ShouldBe(2);
        foreach (var (window, rows, outside) in new[] { (aggregates[0].Values, reference, 0.0), (aggregates[1].Values, shifted, 1.0) })
        {
            var xs = rows.Select(row => row.X).Order().ToList();
            // The sample mean and the median (percentile_disc of 0.5 of 400 values: rank 200) as computed here from the rows.
            (Math.Abs(xs.Average()) > 0.3).ShouldBe(outside == 1);
            (Math.Abs(xs[199]) > 0.3).ShouldBe(outside == 1);
            var sd = Math.Sqrt(xs.Sum(x => (x - xs.Average()) * (x - xs.Average())) / (xs.Count - 1));
            sd.ShouldBeInRange(0.8, 1.2);
            (window["quality.x.mean"], window["quality.x.quantiles"], window["quality.x.stdev"]).ShouldBe((outside, outside, 0.0));
            window["quality.region.distinct_count"].ShouldBe(outside, "region has a third value in the shifted window");
            window["quality.region.unique_proportion"].ShouldBe(0, "2 or 3 distinct of 400");
            window["quality.failed"].ShouldBe(3 * outside);
            window["quality.violation_rate"].ShouldBe(0, "aggregates judge the window, not its rows");
        }

        // KPI and segment metrics of the shifted window (a KPI posted in it; each region a segment, with its performance).
        var segmented = (await stack.Monitors.WindowsAsync("loans-segments", cancellationToken: Cancel)).Single(window => window.Start == At(10)).Results.Metrics;
        (segmented["kpi.revenue.count"], segmented["kpi.revenue.sum"], segmented["kpi.revenue.mean"]).ShouldBe((2.0, 20.0, 10.0));
        segmented["segment.region=c.rows"].ShouldBe(40);
        segmented.Keys.ShouldContain("segment.region=a.drift.share");
        segmented.Keys.ShouldContain("segment.region=a.performance.accuracy");

        // Alert rules take the metrics MonitorMetricNames judges a monitor reports, and the evaluator and its hooks
        // write the names MonitorMetricNames builds: every name these windows wrote must be one it takes.
        foreach (var name in new[] { "loans-hooks", "loans-domain", "loans-notes", "loans-segments", "loans-pairs", "loans-intersect", "loans-aggregates" })
        {
            var spec = (await stack.Monitors.FindAsync(name, Cancel))!.Spec;
            foreach (var metric in (await stack.Monitors.WindowsAsync(name, cancellationToken: Cancel)).SelectMany(window => window.Results.Metrics.Keys).Distinct())
            {
                MonitorMetricNames.Problem(spec, metric).ShouldBeNull($"{name}: {metric}");
                if (metric.StartsWith("quality.", StringComparison.Ordinal))
                {
                    MonitorMetricNames.QualityNames(spec).ShouldContain(metric, $"{name}: the quality names of its suite");
                }
            }
        }
    }

    /// <summary>A scored row of a three-class model: input x, the model's probabilities of classes a, b and c, and the true class.</summary>
    private sealed record ClassRow(string Id, double X, double[] Probabilities, string Truth);

    private static readonly string[] Classes = ["a", "b", "c"];

    /// <summary>
    /// Seeded rows: x ~ N(<paramref name="shift"/>, 1), the true class drawn from softmax(x, 0.5, −x) and the model,
    /// overconfident, reporting softmax(2x, 1, −2x) (so each class is the most probable somewhere).
    /// </summary>
    private static List<ClassRow> ClassRows(string prefix, int count, double shift, int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        double[] Softmax(double[] logits)
        {
            var e = logits.Select(Math.Exp).ToArray();
            return e.Select(v => v / e.Sum()).ToArray();
        }

        var rows = new List<ClassRow>();
        for (var i = 0; i < count; i++)
        {
            var x = shift + Normal();
            var truth = Softmax([x, 0.5, -x]);
            var u = random.NextDouble();
            rows.Add(new ClassRow($"{prefix}{i}", x, Softmax([2 * x, 1, -2 * x]), Classes[u < truth[0] ? 0 : u < truth[0] + truth[1] ? 1 : 2]));
        }

        return rows;
    }

    private async Task LogClassesAsync(Stack stack, List<ClassRow> rows, long from)
    {
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            (await stack.Log.AppendAsync(new PredictionRecord(row.Id, "loans", "main", "loans/1", from + (i * 1000), 2, null,
                [new Tensor("x", TensorDatatypes.Fp64, [1], new[] { row.X })],
                [new Tensor("probability", TensorDatatypes.Fp64, [1, 3], row.Probabilities)]), Cancel)).ShouldBeTrue();
        }

        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(from + (rows.Count * 1000)));
        await stack.Feedback.AddAsync(rows.Select(row => new Feedback(row.Id, $"\"{row.Truth}\"", null)).ToList(), Cancel);
    }

    [Fact]
    public async Task Multiclass_cbpe_estimates_each_window_with_sampling_errors_from_a_traffic_or_dataset_reference()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        var reference = ClassRows("r", 400, shift: 0, seed: 21);
        var shifted = ClassRows("s", 400, shift: 0.8, seed: 22);
        var csv = new System.Text.StringBuilder("x,probability[0],probability[1],probability[2],class\n");
        foreach (var row in reference)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{row.X:R},{row.Probabilities[0]:R},{row.Probabilities[1]:R},{row.Probabilities[2]:R},{row.Truth}\n");
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(csv.ToString());
        var sha = ContentAddressing.Sha256Hex(bytes);
        await stack.Datasets.PutBlobAsync(sha, new MemoryStream(bytes), Cancel);
        await stack.Datasets.AddVersionAsync("classes-train", [new DatasetFile("train.csv", bytes.Length, sha)], cancellationToken: Cancel);

        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(3)));
        var estimated = new MonitorEstimated("probability", Classes: Classes);
        await stack.Monitors.CreateAsync(Spec("classes-traffic") with { Estimated = estimated }, Cancel);
        await stack.Monitors.CreateAsync(Spec("classes-dataset") with { Reference = new MonitorReference(Dataset: "classes-train"), Estimated = estimated with { Label = "class" } }, Cancel);
        await stack.Monitors.CreateAsync(Spec("classes-true") with { Estimated = estimated with { NormalizeConfusionMatrix = "true" } }, Cancel);
        await stack.Monitors.CreateAsync(Spec("classes-wrong") with { Estimated = new MonitorEstimated("probability", Classes: ["a", "b"]) }, Cancel);
        await LogClassesAsync(stack, reference, At(0));
        await LogClassesAsync(stack, shifted, At(10));
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(20, 30)));
        await new MonitorScheduler(stack.Monitors, stack.Evaluator, stack.Traffic, [], Time).TickAsync(Cancel);

        // Expected from the statistics: per-class calibration on the reference (seed 42), the window's rows
        // normalized, predicted as their most probable class; sampling errors from the reference's labels.
        var referenceScores = reference.Select(row => (IReadOnlyList<double>)row.Probabilities).ToList();
        var referenceActual = reference.Select(row => Array.IndexOf(Classes, row.Truth)).ToArray();
        var calibration = MulticlassCbpe.FitCalibration(referenceScores, referenceActual, 3, new Random(CbpeWindowEstimator.Seed));
        calibration.Calibrated.ShouldBeGreaterThan(0, "doubled logits are overconfident");
        var scores = shifted.Select(row => (IReadOnlyList<double>)row.Probabilities).ToList();
        var predicted = MulticlassCbpe.PredictedClasses(scores);
        var expected = MulticlassCbpe.Estimate(calibration.Calibrate(scores).Select(row => (IReadOnlyList<double>)row).ToList(), predicted, scores);
        var errors = CbpeSamplingError.FitMulticlass(referenceScores, referenceActual, MulticlassCbpe.PredictedClasses(referenceScores), 3).For(400);
        var realized = shifted.Where((row, i) => Classes[predicted[i]] == row.Truth).Count() / 400.0;
        foreach (var name in new[] { "classes-traffic", "classes-dataset" })
        {
            var window = (await stack.Monitors.WindowsAsync(name, cancellationToken: Cancel)).Single(w => w.Start == At(10));
            window.Status.ShouldBe(MonitorWindowStatus.Ok, window.Results.Message);
            var values = window.Results.Metrics;
            (values["estimated.rows"], values["estimated.calibrated"]).ShouldBe((400.0, 1.0), name);
            (values["estimated.accuracy"], values["estimated.precision"], values["estimated.recall"], values["estimated.f1"], values["estimated.roc_auc"])
                .ShouldBe((expected.Accuracy, expected.Precision, expected.Recall, expected.F1, expected.RocAuc), name);
            (values["estimated.accuracy.sampling_error"], values["estimated.precision.sampling_error"], values["estimated.recall.sampling_error"],
                values["estimated.f1.sampling_error"], values["estimated.roc_auc.sampling_error"]).ShouldBe((errors.Accuracy, errors.Precision, errors.Recall, errors.F1, errors.RocAuc), name);
            values["estimated.accuracy"].ShouldBe(realized, 3 * errors.Accuracy, "the realized accuracy falls in NannyML's ±3 sampling-error band");
            (values["estimated.specificity"], values["estimated.specificity.sampling_error"]).ShouldBe((expected.Specificity, errors.Specificity), name);
            for (var i = 0; i < Classes.Length; i++)
            {
                for (var j = 0; j < Classes.Length; j++)
                {
                    var cell = $"estimated.true_{Classes[i]}_pred_{Classes[j]}";
                    (values[cell], values[cell + ".sampling_error"]).ShouldBe((expected.ConfusionMatrix[i][j], errors.ConfusionMatrix[i][j]), $"{name}: {cell}");
                }
            }

            foreach (var metric in values.Keys)
            {
                MonitorMetricNames.Problem((await stack.Monitors.FindAsync(name, Cancel))!.Spec, metric).ShouldBeNull($"{name}: {metric}");
            }
        }

        // normalize_confusion_matrix: true, each row over its true class's expected count (NannyML's), with the errors
        // NannyML gives the normalized cells.
        var byTrueClass = (await stack.Monitors.WindowsAsync("classes-true", cancellationToken: Cancel)).Single(w => w.Start == At(10)).Results.Metrics;
        var normalized = ConfusionNormalizations.Normalize(expected.ConfusionMatrix, ConfusionNormalization.True);
        var normalizedErrors = CbpeSamplingError.FitMulticlass(referenceScores, referenceActual, MulticlassCbpe.PredictedClasses(referenceScores), 3).For(400, ConfusionNormalization.True);
        for (var i = 0; i < Classes.Length; i++)
        {
            Classes.Sum(predictedClass => byTrueClass[$"estimated.true_{Classes[i]}_pred_{predictedClass}"]).ShouldBe(1, 1e-12);
            for (var j = 0; j < Classes.Length; j++)
            {
                var cell = $"estimated.true_{Classes[i]}_pred_{Classes[j]}";
                (byTrueClass[cell], byTrueClass[cell + ".sampling_error"]).ShouldBe((normalized[i][j], normalizedErrors.ConfusionMatrix[i][j]), cell);
            }
        }

        byTrueClass["estimated.accuracy"].ShouldBe(expected.Accuracy);

        var wrong = (await stack.Monitors.WindowsAsync("classes-wrong", cancellationToken: Cancel)).Single(w => w.Start == At(10));
        wrong.Results.Metrics.Keys.ShouldNotContain("estimated.accuracy");
        wrong.Results.Message.ShouldBe("no estimated performance: the window has no output 'probability' of [N, 2] probabilities, one per class (a, b) " +
            "(outputs: probability[0], probability[1], probability[2])");
    }

    [Fact]
    public async Task A_runs_training_dataset_or_train_artifact_is_the_reference_and_calibrates_cbpe_from_its_label_column()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        // Column aggregates per window: x's mean and median near 0 in the reference, near 0.7 in the shifted window; region
        // has a third value ("c") in the shifted one; a mean of text fails with a note of the column's type.
        await stack.Monitors.CreateAsync(Spec("loans-aggregates") with
        {
            Quality = new MonitorQuality(ExpectationSuiteReader.Parse("""
                {"columns": {"x": {"mean": {"min": -0.3, "max": 0.3}, "stdev": {"min": 0.8, "max": 1.2}, "quantiles": {"quantiles": [0.5], "value_ranges": [[-0.3, 0.3]]}},
                             "region": {"distinct_count": {"max": 2}, "unique_proportion": {"max": 0.01}}}}
                """)),
        }, Cancel);
        var reference = Rows("r", 400, shift: 0, flip: false, seed: 11);
        var csv = new System.Text.StringBuilder("x,z,region,probability,label\n");
        foreach (var row in reference)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{row.X:R},{row.Z:R},{row.Region},{row.Probability:R},{row.Truth}\n");
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(csv.ToString());
        var sha = ContentAddressing.Sha256Hex(bytes);
        await stack.Datasets.PutBlobAsync(sha, new MemoryStream(bytes), Cancel);
        var version = (await stack.Datasets.AddVersionAsync("loans-train", [new DatasetFile("train.csv", bytes.Length, sha)], cancellationToken: Cancel)).Version;
        var run = await stack.Runs.CreateAsync("0", runName: "train", cancellationToken: Cancel);
        await stack.Runs.LogInputsAsync(run.Info.RunId, [new DatasetInput(new DatasetDescription("loans-train", version.Digest[..32], "ballast", "ballast://datasets/loans-train/1"),
            [new TrackingTag(MonitorRunReference.ContextTag, "training")])], Cancel);
        var bare = await stack.Runs.CreateAsync("0", runName: "no-inputs", cancellationToken: Cancel);
        var artifactRun = await stack.Runs.CreateAsync("0", runName: "artifact", cancellationToken: Cancel);
        await stack.Artifacts.PutAsync(Ballast.Registry.ModelRegistration.StorePathOf(artifactRun.Info.ArtifactUri + "/data/train.csv")!, new MemoryStream(bytes), Cancel);

        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(0)));
        var spec = Spec("loans-run") with { Reference = new MonitorReference(Run: run.Info.RunId), Estimated = new MonitorEstimated("probability", "1") };
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.CreateAsync(spec with { Reference = new MonitorReference(Run: bare.Info.RunId) }, Cancel))).Message
            .ShouldBe($"Invalid monitor 'loans-run': reference: run '{bare.Info.RunId}' logged no dataset input that is a Ballast dataset version (inputs: none) " +
                "and has no train.csv, train.tsv or train.parquet artifact; log one with mlflow.log_input, or use reference.dataset.");
        await stack.Monitors.CreateAsync(spec, Cancel);
        await stack.Monitors.CreateAsync(spec with { Name = "loans-artifact", Reference = new MonitorReference(Run: artifactRun.Info.RunId) }, Cancel);
        var shifted = Rows("s", 400, shift: 0.7, flip: true, seed: 12);
        await LogAsync(stack, shifted, At(0));
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(10, 30)));
        await new MonitorScheduler(stack.Monitors, stack.Evaluator, stack.Traffic, [], Time).TickAsync(Cancel);

        var window = (await stack.Monitors.WindowsAsync("loans-run", cancellationToken: Cancel)).ShouldHaveSingleItem();
        window.Status.ShouldBe(MonitorWindowStatus.Ok, window.Results.Message);
        window.Results.Drift!.Reference.ShouldBe($"run {run.Info.RunId}: loans-train@1 train.csv");
        window.Results.Drift.Result.Features.Select(feature => feature.Name).ShouldBe(["x", "z", "region"]);
        var expected = Expected(reference, shifted);
        window.Results.Metrics["estimated.calibrated"].ShouldBe(1);
        window.Results.Metrics["estimated.accuracy"].ShouldBe(expected.Accuracy, 1e-12);
        window.Results.Metrics["estimated.roc_auc"].ShouldBe(expected.RocAuc, 1e-12);

        var artifact = (await stack.Monitors.WindowsAsync("loans-artifact", cancellationToken: Cancel)).ShouldHaveSingleItem();
        artifact.Status.ShouldBe(MonitorWindowStatus.Ok, artifact.Results.Message);
        artifact.Results.Drift!.Reference.ShouldBe($"run {artifactRun.Info.RunId}: artifact data/train.csv", "a run without a logged dataset: its train.* artifact");
        artifact.Results.Metrics["estimated.accuracy"].ShouldBe(expected.Accuracy, 1e-12);
    }

    [Fact]
    public async Task Cbpe_on_a_dataset_version_with_the_probabilities_but_no_label_column_gives_a_note_and_no_estimates()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        var reference = Rows("r", 100, shift: 0, flip: false, seed: 31);
        async Task VersionAsync(bool labelled)
        {
            var csv = new System.Text.StringBuilder(labelled ? "x,z,probability,label\n" : "x,z,probability\n");
            foreach (var row in reference)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{row.X:R},{row.Z:R},{row.Probability:R}");
                csv.Append(labelled ? $",{row.Truth}\n" : "\n");
            }

            var bytes = System.Text.Encoding.UTF8.GetBytes(csv.ToString());
            var sha = ContentAddressing.Sha256Hex(bytes);
            await stack.Datasets.PutBlobAsync(sha, new MemoryStream(bytes), Cancel);
            await stack.Datasets.AddVersionAsync("loans-probabilities", [new DatasetFile("train.csv", bytes.Length, sha)], cancellationToken: Cancel);
        }

        // Stored against a bare name whose latest version has labels; the version a window reads (2) has none. NannyML's
        // CBPE refuses such a reference: CBPE._fit_binary (nannyml/performance_estimation/confidence_based/cbpe.py) calls
        // _list_missing([self.y_true, self.y_pred_proba, self.y_pred], ...), which raises InvalidArgumentsException.
        await VersionAsync(labelled: true);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(0)));
        var spec = (await stack.Monitors.CreateAsync(Spec("loans-unlabelled") with
        {
            Reference = new MonitorReference(Dataset: "loans-probabilities"),
            Estimated = new MonitorEstimated("probability", "1"),
        }, Cancel)).Spec;
        await VersionAsync(labelled: false);
        await LogAsync(stack, Rows("s", 100, shift: 0.7, flip: false, seed: 32), At(0));

        var outcome = await stack.Evaluator.EvaluateAsync(spec, At(0), At(10), Cancel);
        outcome.Status.ShouldBe(MonitorWindowStatus.Ok, outcome.Results.Message);
        outcome.Results.Metrics.Keys.ShouldNotContain(key => key.StartsWith("estimated.", StringComparison.Ordinal));
        outcome.Results.Message.ShouldBe("no estimated performance: the reference (loans-probabilities@2 train.csv) has no column 'label' with the true label; " +
            "CBPE (as NannyML's, which refuses a reference without its y_true column) calibrates on the reference's probabilities and labels");

        // Version 2 is now the one a new monitor would read: it is refused when the monitor is stored.
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.PutAsync(spec, Cancel))).Message
            .ShouldStartWith("Invalid monitor 'loans-unlabelled': estimated.label: loans-probabilities@2 train.csv has the model's probabilities but no column 'label' with the true label");
    }
}

public sealed class SqliteMonitorHookContractTests() : MonitorHookContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresMonitorHookContractTests() : MonitorHookContractTests(DatabaseEngine.Postgres);
