using Ballast.Alerts;
using Ballast.Datasets;
using Ballast.Experiments;
using Ballast.Metadata;
using Ballast.Monitoring;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Storage;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Monitoring;

/// <summary>
/// Monitors on SQLite and PostgreSQL with a real prediction log (local artifact store, DuckDB) and a fake clock: the
/// store's contract, and the scheduler closing windows when they are due, flagging exactly the shifted columns.
/// </summary>
public abstract class MonitorContractTests(DatabaseEngine engine) : FolderDatabaseTest(engine, "ballast-monitors-")
{
    private static readonly string[] Features = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

    private static long At(int minutes, int seconds = 0) => new DateTimeOffset(2026, 11, 25, 12, minutes, seconds, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static MonitorSpec Spec(string name = "iris-drift") => new(name, "iris", new MonitorWindow(Duration: "10m"),
        new MonitorReference(From: "2026-11-25T12:00:00Z", To: "2026-11-25T12:10:00Z"),
        Segments: ["region"], Performance: new MonitorPerformance("classification", Output: "label", Metrics: ["accuracy", "f1"]),
        Kpis: ["revenue"], FeatureNames: new Dictionary<string, IReadOnlyList<string>> { ["float_input"] = Features });

    private sealed record Stack(DatasetStore Datasets, MonitorStore Monitors, MonitorScheduler Scheduler, MonitorEvaluator Evaluator, PredictionLog Log, FeedbackStore Feedback, KpiStore Kpis,
        EndpointStore Endpoints, TrafficStats Traffic, PredictionExport Export);

    private async Task<Stack> StackAsync()
    {
        var artifacts = LocalArtifacts();
        var log = await OpenLogAsync(artifacts);
        var feedback = new FeedbackStore(Database, Time);
        var export = new PredictionExport(log, artifacts, feedback);
        var endpoints = new EndpointStore(Database, Time);
        var datasets = new DatasetStore(Database, artifacts, Time, new DatasetProfiler(256));
        var kpis = new KpiStore(Database, Time);
        var traffic = new TrafficStats(Database, Time);
        var monitors = new MonitorStore(Database, endpoints, datasets, Time);
        var evaluator = new MonitorEvaluator(export, datasets, kpis, traffic);
        return new Stack(datasets, monitors, new MonitorScheduler(monitors, evaluator, traffic, [], Time), evaluator, log, feedback, kpis, endpoints, traffic, export);
    }

    /// <summary>
    /// For a second replica's log beside the stack's (open it on the artifacts given, folder <c>wal-other</c>): the
    /// watermarks the replicas publish, and a scheduler whose windows wait for them, observed by the recorder; at
    /// <c>At(0)</c>, with endpoint iris.
    /// </summary>
    private async Task<(IArtifactStore Artifacts, PredictionLogWatermarks Watermarks, ObservationRecorder Recorder, MonitorScheduler Scheduler)> TwoReplicasAsync(Stack stack)
    {
        var watermarks = new PredictionLogWatermarks(Database, Time);
        var artifacts = LocalArtifacts();
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(0)));
        var evaluator = new MonitorEvaluator(new PredictionExport(stack.Log, artifacts, stack.Feedback, watermarks), stack.Datasets, stack.Kpis, stack.Traffic);
        var recorder = new ObservationRecorder();
        await stack.Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        return (artifacts, watermarks, recorder, new MonitorScheduler(stack.Monitors, evaluator, stack.Traffic, [recorder], Time));
    }

    private MonitorScheduler Scheduler(Stack stack, IAlertObserver observer) => new(stack.Monitors, stack.Evaluator, stack.Traffic, [observer], Time);

    /// <summary>Iris-like rows (seeded), one request each, <paramref name="shift"/> added to the petal columns.</summary>
    private static async Task<List<long>> LogAsync(PredictionLog log, string prefix, long from, int rows, double shift, int seed)
    {
        var labels = new List<long>();
        var random = new Random(seed);
        double Normal(double mean, double deviation) => mean + (deviation * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        for (var i = 0; i < rows; i++)
        {
            var petal = Normal(3.8, 1.7) + shift;
            float[] values = [(float)Normal(5.8, 0.8), (float)Normal(3.0, 0.4), (float)petal, (float)(Normal(1.2, 0.7) + (shift / 2))];
            var label = petal < 2.5 ? 0L : petal < 4.8 ? 1L : 2L;
            labels.Add(label);
            (await log.AppendAsync(new PredictionRecord($"{prefix}{i}", "iris", "main", "iris/1", from + (i * 2000), 1 + (i % 10), null,
                [new Tensor("float_input", TensorDatatypes.Fp32, [1, 4], values), new Tensor("region", TensorDatatypes.Bytes, [1], new[] { i % 3 == 0 ? "eu" : "us" })],
                [new Tensor("label", TensorDatatypes.Int64, [1], new[] { label })]), Cancel)).ShouldBeTrue();
        }

        return labels;
    }

    [Fact]
    public async Task Monitors_are_validated_stored_replaced_listed_and_deleted_with_their_windows()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.CreateAsync(Spec(), Cancel)))
            .Message.ShouldBe("Invalid monitor 'iris-drift': endpoint 'iris' does not exist.");
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.CreateAsync(Spec() with { Reference = new MonitorReference(Dataset: "nope") }, Cancel)))
            .Message.ShouldStartWith("Invalid monitor 'iris-drift': endpoint 'iris' does not exist; reference: Dataset 'nope' does not exist", Case.Sensitive, "every problem at once");
        await stack.Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.CreateAsync(Spec() with { Reference = new MonitorReference(Dataset: "nope") }, Cancel)))
            .Message.ShouldStartWith("Invalid monitor 'iris-drift': reference: Dataset 'nope' does not exist");
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.CreateAsync(Spec() with
        {
            Window = new MonitorWindow(Duration: "5s"),
            Drift = new MonitorDrift(Methods: new Dictionary<string, string> { ["petal_length"] = "kss" }),
            Performance = new MonitorPerformance("classification", Metrics: ["mae"]),
        }, Cancel))).Message.ShouldBe("Invalid monitor 'iris-drift': window.duration '5s' is not a duration of at least 10s such as 10m or 1h; " +
            "drift: column 'petal_length': unknown drift method 'kss' (known: ks, chisquare, z, g_test, fisher_exact, t_test, welch_t_test, anderson, cramer_von_mises, psi, jensenshannon, wasserstein, ed, hellinger, l_infinity); " +
            "performance: unknown classification metric 'mae' (known: accuracy, precision, recall, f1, roc_auc, log_loss).");

        var created = await stack.Monitors.CreateAsync(Spec(), Cancel);
        created.Spec.MinRows.ShouldBe(MonitorValidation.DefaultMinRows);
        created.Spec.Window!.Grace.ShouldBe("30s");
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.CreateAsync(Spec(), Cancel))).Code.ShouldBe(TrackingException.ResourceAlreadyExists);
        var (replaced, isNew) = await stack.Monitors.PutAsync(Spec() with { MinRows = 50 }, Cancel);
        (replaced.Spec.MinRows, isNew).ShouldBe((50L, false));
        (await stack.Monitors.PutAsync(Spec("other"), Cancel)).Created.ShouldBeTrue();
        (await stack.Monitors.ListAsync(Cancel)).Select(monitor => monitor.Spec.Name).ShouldBe(["iris-drift", "other"]);
        (await stack.Monitors.TrafficReferencesAsync(Cancel)).ShouldBe([new KeptRange("iris", At(0), At(10)), new KeptRange("iris", At(0), At(10))],
            "the prediction log's retention keeps what monitors compare with");

        var results = new MonitorResults(new Dictionary<string, double> { ["rows"] = 3 }, Message: "few");
        var first = await stack.Monitors.AddWindowAsync("iris-drift", At(0), At(10), 3, MonitorWindowStatus.InsufficientData, results, Cancel);
        first.ShouldNotBeNull();
        (await stack.Monitors.AddWindowAsync("iris-drift", At(0), At(10), 3, MonitorWindowStatus.Ok, results, Cancel)).ShouldBeNull("a window is stored once");
        var second = await stack.Monitors.AddWindowAsync("iris-drift", At(10), At(20), 0, MonitorWindowStatus.InsufficientData, results, Cancel);
        (await stack.Monitors.WindowsAsync("iris-drift", 1, cancellationToken: Cancel)).Single().Id.ShouldBe(second!.Id, "newest first");
        (await stack.Monitors.WindowsAsync("iris-drift", 1, second.Id, Cancel)).Single().Id.ShouldBe(first.Id);
        var read = await stack.Monitors.GetWindowAsync("iris-drift", first.Id, Cancel);
        (read.Start, read.End, read.Rows, read.Status, read.Results.Metrics["rows"], read.Results.Message).ShouldBe((At(0), At(10), 3L, "insufficient_data", 3.0, "few"));
        (await stack.Monitors.LastEndAsync("iris-drift", Cancel)).ShouldBe(new MonitorWindowEnd(At(20), null));

        // Row windows of one millisecond: one start, each after another record; each stored once, and the newest is the last stored.
        var p1 = new LogPosition(At(20), "replica-a", 7, "p1");
        var p2 = new LogPosition(At(20), "replica-b", 3, "p2");
        var p3 = new LogPosition(At(20), "replica-b", 4, "p3");
        (await stack.Monitors.AddWindowAsync("iris-drift", At(20), At(20) + 1, 10, MonitorWindowStatus.Ok, results, null, p1, Cancel)).ShouldNotBeNull();
        var afterP1 = await stack.Monitors.AddWindowAsync("iris-drift", At(20), At(20) + 1, 10, MonitorWindowStatus.Ok, results, p1, p2, Cancel);
        (await stack.Monitors.AddWindowAsync("iris-drift", At(20), At(20) + 1, 10, MonitorWindowStatus.Ok, results, p1, p3, Cancel)).ShouldBeNull("a window is stored once");
        (await stack.Monitors.AddWindowAsync("iris-drift", At(20), At(20) + 1, 10, MonitorWindowStatus.Ok, results, p2, p3, Cancel)).ShouldNotBeNull();
        (await stack.Monitors.AddWindowAsync("iris-drift", At(20), At(20) + 1, 10, MonitorWindowStatus.Ok, results, null, p3, Cancel)).ShouldBeNull("one start without a position");
        (await stack.Monitors.LastEndAsync("iris-drift", Cancel)).ShouldBe(new MonitorWindowEnd(At(20) + 1, p3));
        var stored = await stack.Monitors.GetWindowAsync("iris-drift", afterP1!.Id, Cancel);
        (stored.After, stored.Last).ShouldBe((p1, p2));
        var old = new LogPosition(At(20), null, null, "old-a");
        (await stack.Monitors.AddWindowAsync("iris-drift", At(20), At(20) + 1, 10, MonitorWindowStatus.Ok, results, p3, old, Cancel))!.Last.ShouldBe(old);
        (await stack.Monitors.WindowsAsync("iris-drift", 1, cancellationToken: Cancel)).Single().Last.ShouldBe(old, "a record of a segment older than instances and sequences");

        await stack.Monitors.DeleteAsync("iris-drift", Cancel);
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.GetAsync("iris-drift", Cancel))).Message.ShouldBe("Monitor 'iris-drift' does not exist.");
        (await stack.Monitors.WindowsAsync("iris-drift", cancellationToken: Cancel)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Time_windows_close_after_their_grace_and_flag_exactly_the_shifted_columns_in_order()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        await stack.Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(3)));
        await stack.Monitors.CreateAsync(Spec(), Cancel);
        var recorder = new ObservationRecorder();
        var scheduler = Scheduler(stack, recorder);

        // Window 1 [12:00, 12:10) is the reference itself; window 2 shifts the petals; window 3 has too few rows.
        var labels = await LogAsync(stack.Log, "a", At(0), 250, shift: 0, seed: 7);
        // Feedback for the last 50 rows: the predicted class, except every fifth (a class the model never predicts).
        await stack.Feedback.AddAsync(Enumerable.Range(200, 50).Select(i => new Feedback($"a{i}", i % 5 == 0 ? "\"setosa\"" : labels[i].ToString(System.Globalization.CultureInfo.InvariantCulture), null)).ToList(), Cancel);
        await LogAsync(stack.Log, "b", At(10), 250, shift: 2, seed: 8);
        await LogAsync(stack.Log, "c", At(20), 5, shift: 0, seed: 9);

        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(10, 29)));
        await scheduler.TickAsync(Cancel);
        recorder.Observations.ShouldBeEmpty("the first window closes 30 s after 12:10");

        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(10, 30)));
        await scheduler.TickAsync(Cancel);
        var first = recorder.Observations.ShouldHaveSingleItem();
        (first.WindowStart.ToUnixTimeMilliseconds(), first.WindowEnd.ToUnixTimeMilliseconds()).ShouldBe((At(0), At(10)), "aligned to the duration, from before the monitor existed");
        first.Values["rows"].ShouldBe(250);
        first.Values["drift.share"].ShouldBe(0, "the window is its own reference");
        first.Values["latency.p50_ms"].ShouldBe(5.5, 1e-9, "latencies 1..10 ms, evenly");
        first.Values["performance.labelled_rows"].ShouldBe(50);
        first.Values["performance.accuracy"].ShouldBe(0.8, 1e-12, "40 of 50 right");
        first.Context.ShouldBe(new Dictionary<string, string> { ["endpoint"] = "iris", ["monitor"] = "iris-drift", ["window_start"] = At(0).ToString(System.Globalization.CultureInfo.InvariantCulture), ["window_end"] = At(10).ToString(System.Globalization.CultureInfo.InvariantCulture), ["status"] = "ok" }, ignoreOrder: true);
        first.Links["report"].ShouldBe($"/api/v1/monitors/iris-drift/windows/{first.Window}/report");

        await stack.Kpis.AddAsync([new Kpi("revenue", 10, PredictionId: "b1"), new Kpi("revenue", 4, PredictionId: "b2")], Cancel);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(30, 30)));
        await scheduler.TickAsync(Cancel);
        recorder.Observations.Select(observation => observation.WindowStart.ToUnixTimeMilliseconds()).ShouldBe([At(0), At(10), At(20)], "in window order");
        var shifted = recorder.Observations[1].Values;
        Features.Select(feature => (feature, shifted[$"drift.{feature}.drifted"])).ShouldBe([("sepal_length", 0.0), ("sepal_width", 0.0), ("petal_length", 1.0), ("petal_width", 1.0)]);
        shifted["drift.region.drifted"].ShouldBe(0);
        shifted["drift.share"].ShouldBe(0.4, 1e-12);
        shifted["drift.dataset"].ShouldBe(0);
        shifted["prediction.drift.drifted"].ShouldBe(1, "larger petals predict other classes");
        (shifted["kpi.revenue.sum"], shifted["kpi.revenue.count"], shifted["kpi.revenue.mean"]).ShouldBe((14.0, 2.0, 7.0));
        (shifted["segment.region=us.rows"], shifted["segment.region=eu.rows"]).ShouldBe((166.0, 84.0));
        shifted["segment.region=us.drift.share"].ShouldBeGreaterThan(0);
        var few = recorder.Observations[2];
        few.Context["status"].ShouldBe(MonitorWindowStatus.InsufficientData);
        few.Values.Keys.ShouldNotContain("drift.share", "too few rows: no verdict rather than a false one");

        var report = (await stack.Monitors.WindowsAsync("iris-drift", cancellationToken: Cancel)).Single(window => window.Start == At(10)).Results.Drift!;
        report.Result.Features.Where(feature => feature.Drifted).Select(feature => feature.Name).ShouldBe(["petal_length", "petal_width"]);
        DriftReportMarkdown.Write(report).ShouldContain("| petal_length | numerical | ks |");

        // A restart (a new scheduler) and a second replica at once: each due window is computed and observed once.
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(40, 30)));
        await Task.WhenAll(scheduler.TickAsync(Cancel), Scheduler(stack, recorder).TickAsync(Cancel));
        recorder.Observations.Select(observation => observation.WindowStart.ToUnixTimeMilliseconds()).ShouldBe([At(0), At(10), At(20), At(30)]);
        (await stack.Monitors.WindowsAsync("iris-drift", cancellationToken: Cancel)).Count.ShouldBe(4);
    }

    [Fact]
    public async Task A_change_made_while_a_backlog_of_windows_is_computed_applies_from_the_next_window()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        await stack.Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(0)));
        await stack.Monitors.CreateAsync(Spec() with { Segments = [], Performance = null, Kpis = [] }, Cancel);
        await LogAsync(stack.Log, "a", At(0), 250, shift: 0, seed: 7);
        await LogAsync(stack.Log, "b", At(10), 250, shift: 0, seed: 8);
        await LogAsync(stack.Log, "c", At(20), 250, shift: 0, seed: 9);
        var changed = false;
        var recorder = new ObservationRecorder
        {
            Then = async _ =>
            {
                if (!changed)
                {
                    changed = true;
                    await stack.Monitors.PutAsync(Spec() with { Segments = [], Performance = null, Kpis = [], Drift = new MonitorDrift(Method: "psi") }, Cancel);
                }
            },
        };

        // Three overdue windows in one tick; the spec changes once the first is computed.
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(40)));
        await Scheduler(stack, recorder).TickAsync(Cancel);
        var windows = (await stack.Monitors.WindowsAsync("iris-drift", cancellationToken: Cancel)).OrderBy(window => window.Start).ToList();
        windows.Select(window => window.Results.Drift!.Result.Features.First(feature => feature.Name == "petal_length").Method).ShouldBe(["ks", "psi", "psi"]);
    }

    [Fact]
    public async Task A_window_waits_for_records_still_in_another_replicas_write_ahead_file()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        var (artifacts, watermarks, recorder, scheduler) = await TwoReplicasAsync(stack);
        await using var other = await OpenLogAsync(artifacts, "wal-other");
        await stack.Monitors.CreateAsync(Spec() with { Segments = [], Performance = null, Kpis = [] }, Cancel);

        // This replica logs 150 rows, the other 100 it has not rolled yet (its mark is its start).
        await LogAsync(stack.Log, "a", At(0), 150, shift: 0, seed: 7);
        await LogAsync(other, "b", At(5), 100, shift: 0, seed: 8);
        await watermarks.PublishAsync(other.Instance, other.Watermark, Cancel);
        other.Watermark.ShouldBe(At(0), "records wait in its write-ahead file");

        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(10, 30)));
        await watermarks.PublishAsync(other.Instance, other.Watermark, Cancel);
        await scheduler.TickAsync(Cancel);
        recorder.Observations.ShouldBeEmpty("the grace has passed, but the other replica's records up to 12:10 are not all in segments");
        (await Should.ThrowAsync<TrackingException>(() => scheduler.EvaluateNowAsync("iris-drift", Cancel))).Message.ShouldContain("another replica");

        // The other replica rolls (about every minute) and publishes: the window closes with every row.
        await other.RollAsync(Cancel);
        await watermarks.PublishAsync(other.Instance, other.Watermark, Cancel);
        other.Watermark.ShouldBe(At(10, 30), "nothing waits: now");
        await scheduler.TickAsync(Cancel);
        recorder.Observations.ShouldHaveSingleItem().Values["rows"].ShouldBe(250);

        // A replica that stopped publishing (it died) holds nothing back once its mark is older than the liveness.
        await watermarks.PublishAsync(other.Instance, At(10, 30), Cancel);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(20, 30)));
        await scheduler.TickAsync(Cancel);
        recorder.Observations.Count.ShouldBe(2);
    }

    [Fact]
    public async Task Row_windows_close_when_enough_rows_are_logged_and_evaluate_closes_the_current_one_now()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        await stack.Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(0)));
        await stack.Monitors.CreateAsync(Spec() with { Window = new MonitorWindow(Rows: 100), Segments = [] }, Cancel);
        var recorder = new ObservationRecorder();
        var scheduler = Scheduler(stack, recorder);
        await LogAsync(stack.Log, "a", At(0), 150, shift: 0, seed: 7);
        for (var i = 0; i < 150; i++)
        {
            stack.Traffic.Record("iris", "main", 1, error: i % 50 == 0);
        }

        await stack.Traffic.FlushAsync(Cancel);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(6)));
        await scheduler.TickAsync(Cancel);
        var window = recorder.Observations.ShouldHaveSingleItem();
        (window.WindowStart.ToUnixTimeMilliseconds(), window.WindowEnd.ToUnixTimeMilliseconds(), window.Values["rows"]).ShouldBe((At(0), At(0) + (99 * 2000) + 1, 100.0));

        var now = await scheduler.EvaluateNowAsync("iris-drift", Cancel);
        (now.Start, now.End, now.Rows).ShouldBe((At(0) + (99 * 2000), At(6) + 1, 50L), "right after the 100th record (at its millisecond), up to and including this millisecond");
        (now.After!.PredictionId, now.Last!.PredictionId).ShouldBe(("a99", "a149"));
        recorder.Observations.Count.ShouldBe(2);
    }

    /// <summary>A one-row request <paramref name="id"/> stamped <paramref name="timestamp"/>, written to <paramref name="log"/>.</summary>
    private static async Task LogOneAsync(PredictionLog log, string id, long timestamp, int i) =>
        (await log.AppendAsync(new PredictionRecord(id, "iris", "main", "iris/1", timestamp, 1, null,
            [new Tensor("float_input", TensorDatatypes.Fp32, [1, 4], new float[] { 5 + (i % 7), 3, 4, 1 })], [new Tensor("label", TensorDatatypes.Int64, [1], new[] { 1L })]), Cancel))
            .ShouldBeTrue();

    /// <summary>The answered records' ids of <paramref name="export"/>'s view with those bounds, in the log's order.</summary>
    private static Task<List<string>> IdsAsync(PredictionExport export, long? from, long? to, LogPosition? after, LogPosition? through) =>
        export.QueryAsync("iris", from, to, after, through, connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT prediction_id FROM predictions WHERE {PredictionSegments.Answered} ORDER BY {PredictionSegments.Order}";
            using var reader = command.ExecuteReader();
            var ids = new List<string>();
            while (reader.Read())
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        }, Cancel);

    [Fact]
    public async Task Row_windows_hold_exactly_their_rows_when_many_records_of_two_replicas_share_a_millisecond()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        var (artifacts, watermarks, recorder, scheduler) = await TwoReplicasAsync(stack);
        await using var other = await OpenLogAsync(artifacts, "wal-other");
        // Windows of 10 rows, fewer than min_rows (30): each is stored with its row count and no verdict, which is all this needs.
        await stack.Monitors.CreateAsync(Spec() with { Window = new MonitorWindow(Rows: 10), Segments = [], Performance = null, Kpis = [] }, Cancel);

        // 82 records in one millisecond (47 here and 35 on the other replica, written in turns), then 18 in the next.
        var t = At(1);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(t));
        for (var i = 0; i < 47; i++)
        {
            await LogOneAsync(stack.Log, $"a{i:D2}", t, i);
            if (i < 35)
            {
                await LogOneAsync(other, $"b{i:D2}", t, i);
            }
        }

        for (var i = 0; i < 18; i++)
        {
            await LogOneAsync(stack.Log, $"c{i:D2}", t + 1, i);
        }

        for (var i = 0; i < 100; i++)
        {
            stack.Traffic.Record("iris", "main", 1, error: false);
        }

        await stack.Traffic.FlushAsync(Cancel);

        // The other replica's records of that millisecond are not all in segments (its mark): no window closes over them.
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(t + 10_000));
        await watermarks.PublishAsync(other.Instance, t, Cancel);
        await scheduler.TickAsync(Cancel);
        recorder.Observations.ShouldBeEmpty("the other replica has not rolled past the rows' millisecond");

        await other.RollAsync(Cancel);
        await watermarks.PublishAsync(other.Instance, other.Watermark, Cancel);
        await scheduler.TickAsync(Cancel);
        await scheduler.TickAsync(Cancel);
        var windows = (await stack.Monitors.WindowsAsync("iris-drift", cancellationToken: Cancel)).OrderBy(window => window.Id).ToList();
        windows.Count.ShouldBe(10, "100 rows, 10 windows of 10, and no more");
        windows.ShouldAllBe(window => window.Rows == 10);
        recorder.Observations.Select(observation => observation.Values["rows"]).ShouldBe(Enumerable.Repeat(10.0, 10));
        windows[0].After.ShouldBeNull("the first window starts at the monitor's creation");
        for (var i = 1; i < windows.Count; i++)
        {
            windows[i].After.ShouldBe(windows[i - 1].Last, "each starts right after the previous one's last record");
            windows[i].Start.ShouldBe(windows[i].After!.Timestamp);
        }

        windows.Take(8).Select(window => window.End).ShouldAllBe(end => end == t + 1, "eight windows end in the shared millisecond");
        (windows[8].Start, windows[8].End, windows[9].End).ShouldBe((t, t + 2, t + 2));

        // Read back by their bounds, the windows are the log's 100 records in order: none twice, none skipped.
        var export = new PredictionExport(stack.Log, artifacts, stack.Feedback);
        var all = await IdsAsync(export, null, null, null, null);
        all.Count.ShouldBe(100);
        var read = new List<string>();
        var mixed = 0;
        foreach (var window in windows)
        {
            var ids = await IdsAsync(export, window.Start, window.End - 1, window.After, window.Last);
            ids.Count.ShouldBe(10);
            ids[^1].ShouldBe(window.Last!.PredictionId);
            mixed += ids.Any(id => id[0] == 'a') && ids.Any(id => id[0] == 'b') ? 1 : 0;
            read.AddRange(ids);
        }

        read.ShouldBe(all);
        mixed.ShouldBe(1, "one window holds records of both replicas (47 and 35 are not multiples of 10)");
        windows.Select(window => window.Last!.Instance).Distinct().Count().ShouldBe(2, "windows end on either replica's records");

        // The alert rules see every window, in order, though eight end in one millisecond.
        recorder.Observations.Select(observation => long.Parse(observation.Window, System.Globalization.CultureInfo.InvariantCulture)).ShouldBe(windows.Select(window => window.Id));
    }

    [Fact]
    public async Task A_row_window_after_one_stored_without_positions_starts_at_its_end()
    {
        // A window stored before windows kept log positions (or a time window's) ends on a time: the next starts there.
        var stack = await StackAsync();
        await using var log = stack.Log;
        await stack.Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(0)));
        await stack.Monitors.CreateAsync(Spec() with { Window = new MonitorWindow(Rows: 10), Segments = [], Performance = null, Kpis = [] }, Cancel);
        var t = At(1);
        (await stack.Monitors.AddWindowAsync("iris-drift", At(0), t, 10, MonitorWindowStatus.InsufficientData, new MonitorResults(new Dictionary<string, double>()), Cancel)).ShouldNotBeNull();
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(t));
        for (var i = 0; i < 15; i++)
        {
            // Five in the old window's last millisecond, then ten after it.
            await LogOneAsync(stack.Log, $"a{i:D2}", i < 5 ? t - 1 : t + i, i);
            stack.Traffic.Record("iris", "main", 1, error: false);
        }

        await stack.Traffic.FlushAsync(Cancel);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(t + 60_000));
        await Scheduler(stack, new ObservationRecorder()).TickAsync(Cancel);
        var next = (await stack.Monitors.WindowsAsync("iris-drift", 1, cancellationToken: Cancel)).Single();
        (next.Start, next.After, next.End, next.Rows, next.Last!.PredictionId).ShouldBe((t, (LogPosition?)null, t + 15, 10L, "a14"));
    }

    [Fact]
    public async Task A_dataset_version_is_a_reference_and_what_cannot_be_compared_is_said_not_dropped()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        await stack.Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        var random = new Random(3);
        double Normal(double mean, double deviation) => mean + (deviation * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        var csv = new System.Text.StringBuilder("sepal_length,sepal_width,petal_length,petal_width,label\n");
        for (var i = 0; i < 300; i++)
        {
            var petal = Normal(3.8, 1.7);
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{Normal(5.8, 0.8):R},{Normal(3.0, 0.4):R},{petal:R},{Normal(1.2, 0.7):R},{(petal < 2.5 ? 0 : petal < 4.8 ? 1 : 2)}\n");
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(csv.ToString());
        var sha = ContentAddressing.Sha256Hex(bytes);
        await stack.Datasets.PutBlobAsync(sha, new MemoryStream(bytes), Cancel);
        await stack.Datasets.AddVersionAsync("iris-train", [new DatasetFile("train.csv", bytes.Length, sha)], cancellationToken: Cancel);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(0)));
        await stack.Monitors.CreateAsync(Spec() with { Reference = new MonitorReference(Dataset: "iris-train", Version: 1), Segments = ["species"], Kpis = [] }, Cancel);
        var recorder = new ObservationRecorder();
        await LogAsync(stack.Log, "b", At(0), 250, shift: 2, seed: 8);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(10, 30)));
        await Scheduler(stack, recorder).TickAsync(Cancel);

        var window = (await stack.Monitors.WindowsAsync("iris-drift", cancellationToken: Cancel)).ShouldHaveSingleItem();
        window.Status.ShouldBe(MonitorWindowStatus.Ok, window.Results.Message);
        window.Results.Drift!.Reference.ShouldBe("iris-train@1 train.csv");
        window.Results.Drift.Result.Features.Select(feature => (feature.Name, feature.Drifted))
            .ShouldBe([("sepal_length", false), ("sepal_width", false), ("petal_length", true), ("petal_width", true)]);
        window.Results.Drift.Skipped.ShouldBe([new SkippedColumn("region", "not in the reference")]);
        window.Results.PredictionDrift!.Drifted.ShouldBeTrue("the dataset's label column is the output's reference");
        window.Results.Message.ShouldBe("no performance: 0 rows have feedback, fewer than min_rows 30; " +
            "segment column 'species' is not among the window's inputs (sepal_length, sepal_width, petal_length, petal_width, region)");
    }

    [Fact]
    public async Task Drift_options_naming_a_column_that_is_not_compared_fail_the_window_saying_why()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        await stack.Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        var csv = new System.Text.StringBuilder("sepal_length,sepal_width,petal_length,petal_width,species\n");
        for (var i = 0; i < 60; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{5 + (i % 10 * 0.1):R},{3 + (i % 7 * 0.1):R},{1 + (i % 30 * 0.2):R},{0.2 + (i % 12 * 0.2):R},{i % 3}\n");
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(csv.ToString());
        var sha = ContentAddressing.Sha256Hex(bytes);
        await stack.Datasets.PutBlobAsync(sha, new MemoryStream(bytes), Cancel);
        await stack.Datasets.AddVersionAsync("iris-train", [new DatasetFile("train.csv", bytes.Length, sha)], cancellationToken: Cancel);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(0)));
        // species is the reference's, not an input of the window; sepal_width is excluded. The comparison would say "no
        // column 'species', 'sepal_width' in the reference data" of its file of compared columns, though the reference has both.
        await stack.Monitors.CreateAsync(Spec() with
        {
            Reference = new MonitorReference(Dataset: "iris-train", Version: 1), Segments = [], Kpis = [], Performance = null,
            Columns = new MonitorColumns(Exclude: ["sepal_width"]),
            Drift = new MonitorDrift(Methods: new Dictionary<string, string> { ["sepal_width"] = "psi" }, Categorical: ["species"]),
        }, Cancel);
        await LogAsync(stack.Log, "b", At(0), 60, shift: 0, seed: 8);
        Time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(At(10, 30)));
        await Scheduler(stack, new ObservationRecorder()).TickAsync(Cancel);

        var window = (await stack.Monitors.WindowsAsync("iris-drift", cancellationToken: Cancel)).ShouldHaveSingleItem();
        window.Status.ShouldBe(MonitorWindowStatus.Failed);
        window.Results.Message.ShouldBe("drift.methods names 'sepal_width', which is not compared: columns.exclude leaves it out; " +
            "drift.categorical names 'species', which is not compared: the window has no input 'species' (its inputs: sepal_length, sepal_width, petal_length, petal_width, region)");
    }

    [Fact]
    public async Task A_dataset_reference_without_the_columns_the_monitor_needs_is_refused_when_the_monitor_is_stored()
    {
        var stack = await StackAsync();
        await using var log = stack.Log;
        await stack.Endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        async Task VersionAsync(string dataset, string csv)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(csv);
            var sha = ContentAddressing.Sha256Hex(bytes);
            await stack.Datasets.PutBlobAsync(sha, new MemoryStream(bytes), Cancel);
            await stack.Datasets.AddVersionAsync(dataset, [new DatasetFile("train.csv", bytes.Length, sha)], cancellationToken: Cancel);
        }

        // Version 1: the model's probabilities ([N, 2]) but no label; version 2 adds the label; "features": a label, no probabilities.
        await VersionAsync("iris-train", "sepal_length,petal_length,probability[0],probability[1]\n5.1,1.4,0.9,0.1\n");
        await VersionAsync("iris-train", "sepal_length,petal_length,probability[0],probability[1],label\n5.1,1.4,0.9,0.1,0\n");
        await VersionAsync("features", "sepal_length,petal_length,species\n5.1,1.4,0\n");
        var pinned = Spec() with { Reference = new MonitorReference(Dataset: "iris-train", Version: 1), Kpis = [] };
        const string Has = "; it has sepal_length, petal_length, probability[0], probability[1]";

        // columns.include and CBPE with the probabilities but no label (NannyML's CBPE._fit_binary refuses a reference
        // without y_true: _list_missing([self.y_true, self.y_pred_proba, self.y_pred], ...) in
        // nannyml/performance_estimation/confidence_based/cbpe.py): every problem at once, on create and on put.
        var spec = pinned with { Columns = new MonitorColumns(Include: ["sepal_length", "sepal_width", "petal_width"]), Estimated = new MonitorEstimated("probability", "1") };
        const string Refused = "Invalid monitor 'iris-drift': columns.include: iris-train@1 train.csv has no column 'sepal_width', 'petal_width' to compare with" + Has + "; " +
            "estimated.label: iris-train@1 train.csv has the model's probabilities but no column 'label' with the true label, and CBPE (as NannyML's, which refuses " +
            "a reference without its y_true column) calibrates on the reference's probabilities and labels" + Has + ".";
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.CreateAsync(spec, Cancel))).Message.ShouldBe(Refused);
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.PutAsync(spec, Cancel))).Message.ShouldBe(Refused);

        // Drift options naming columns the reference lacks: never compared, so every window would fail.
        var drift = new MonitorDrift(Methods: new Dictionary<string, string> { ["petal_width"] = "psi" }, Thresholds: new Dictionary<string, double> { ["sepal_length"] = 0.1 },
            Categorical: ["species"]);
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.CreateAsync(pinned with { Drift = drift }, Cancel))).Message
            .ShouldBe("Invalid monitor 'iris-drift': drift.methods: iris-train@1 train.csv has no column 'petal_width' to compare" + Has + "; " +
                "drift.categorical: iris-train@1 train.csv has no column 'species' to compare" + Has + ".");

        // Neither the probabilities (as the estimator names them: NAME or NAME[1]; NAME[0] … NAME[C-1]) nor a label.
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.CreateAsync(pinned with { Estimated = new MonitorEstimated("score", "1") }, Cancel))).Message
            .ShouldBe("Invalid monitor 'iris-drift': estimated.label: iris-train@1 train.csv has no column 'score' (or 'score[1]') with the model's probabilities nor a column 'label' " +
                "with the true label, so the endpoint's models do not score it and CBPE has nothing to calibrate with" + Has + ".");
        (await Should.ThrowAsync<TrackingException>(() => stack.Monitors.CreateAsync(pinned with { Estimated = new MonitorEstimated("probability", Label: "class", Classes: ["a", "b", "c"]) }, Cancel))).Message
            .ShouldBe("Invalid monitor 'iris-drift': estimated.label: iris-train@1 train.csv has no column 'probability[2]' with the model's probabilities nor a column 'class' " +
                "with the true label, so the endpoint's models do not score it and CBPE has nothing to calibrate with" + Has + ".");

        // The latest version (a bare name) has the label; a label without probabilities may be scored by the endpoint's models.
        (await stack.Monitors.CreateAsync(spec with { Reference = new MonitorReference(Dataset: "iris-train"), Columns = new MonitorColumns(Include: ["sepal_length"]) }, Cancel))
            .Spec.Reference!.Version.ShouldBeNull("a bare name still resolves at each window");
        await stack.Monitors.CreateAsync(pinned with { Name = "scored", Reference = new MonitorReference(Dataset: "features"), Estimated = new MonitorEstimated("probability", "1", Label: "species") }, Cancel);
        (await stack.Monitors.PutAsync(pinned with { Name = "no-cbpe", Columns = new MonitorColumns(Include: ["petal_length"]) }, Cancel)).Created.ShouldBeTrue();
    }
}

public sealed class SqliteMonitorContractTests() : MonitorContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresMonitorContractTests() : MonitorContractTests(DatabaseEngine.Postgres);
