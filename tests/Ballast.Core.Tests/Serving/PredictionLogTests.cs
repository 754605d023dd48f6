using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Storage;
using DuckDB.NET.Data;

namespace Ballast.Tests.Serving;

/// <summary>The write-ahead prediction log on a real local artifact store, read back with DuckDB.</summary>
public sealed class PredictionLogTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("ballast-predlog-");

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private string Folder => Path.Combine(_root.FullName, "wal");

    private IArtifactStore Artifacts => ArtifactStoreFactory.Create(Path.Combine(_root.FullName, "artifacts"), null, null);

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task Concurrent_appends_all_land_in_hourly_segments_per_endpoint()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 9, 59, 0, TimeSpan.Zero));
        var log = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder), Artifacts, time, Cancel);
        await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => Task.Run(async () =>
            (await log.AppendAsync(Record($"p{i}", i % 2 == 0 ? "iris" : "churn", Date(9, 59).AddMinutes(i % 3 == 0 ? 2 : 0)), Cancel)).ShouldBeTrue(), Cancel)));
        await log.RollAsync(Cancel);

        var iris = await log.SegmentsAsync("iris", cancellationToken: Cancel);
        iris.Select(path => path.Split('/')[2]).Order().ShouldBe(["2026-11-25-09", "2026-11-25-10"]);
        Query(iris.Select(path => ((FileArtifactStore)Artifacts).LocalPath(path)), "SELECT count(*), count(DISTINCT prediction_id) FROM rows").ShouldBe("1000,1000");
        (await log.SegmentsAsync("iris", from: Date(10, 0).ToUnixTimeMilliseconds(), cancellationToken: Cancel)).Count.ShouldBe(1);
        log.Stats.Written.ShouldBe(2000);
        log.Stats.Dropped.ShouldBe(0);
        await log.DisposeAsync();
        Directory.EnumerateFiles(Folder, "wal-*").ShouldBeEmpty("everything was rolled");
    }

    [Fact]
    public async Task Rolls_racing_with_size_rotations_and_appends_lose_no_record()
    {
        // Rotations by size every few records (each starting a background roll) while other callers roll on demand, as
        // monitors and exports do: a roll must never take the file the writer is writing to.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Date(12, 0));
        var log = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder) { RollBytes = 2048 }, Artifacts, time, Cancel);
        using var stop = new CancellationTokenSource();
        var rollers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await log.RollAsync(Cancel);
            }
        }, Cancel)).ToList();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++)
            {
                (await log.AppendAsync(Record($"w{writer}-{i:D3}", "iris", Date(12, 0)), Cancel)).ShouldBeTrue();
            }
        }, Cancel)));
        await stop.CancelAsync();
        await Task.WhenAll(rollers);
        await log.RollAsync(Cancel);

        var segments = await log.SegmentsAsync("iris", cancellationToken: Cancel);
        Query(segments.Select(path => ((FileArtifactStore)Artifacts).LocalPath(path)), "SELECT count(*), count(DISTINCT prediction_id) FROM rows").ShouldBe("1200,1200");
        await log.DisposeAsync();
    }

    [Fact]
    public async Task A_full_log_sheds_records_it_counts_and_keeps_every_record_it_acknowledged()
    {
        // While the writer is held (as by a slow disk), capacity 3: three records queue, the fourth waits for room,
        // and with no wait at all a record past the capacity is shed at once.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Date(11, 0));
        var log = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder) { Capacity = 3, MaxWait = TimeSpan.FromMinutes(1) }, Artifacts, time, Cancel);
        var held = await log.HoldWriterAsync();
        var queued = Enumerable.Range(0, 3).Select(i => log.AppendAsync(Record($"q{i}", "iris", Date(11, 0)), Cancel).AsTask()).ToList();
        var waiting = log.AppendAsync(Record("w", "iris", Date(11, 0)), Cancel).AsTask();
        log.Stats.Queued.ShouldBe(3);
        queued.Concat([waiting]).ShouldAllBe(append => !append.IsCompleted, "nothing is written while the writer is held");
        held.Dispose();
        (await Task.WhenAll(queued.Concat([waiting]))).ShouldAllBe(written => written, "the waiting record got room once the writer took the queue");
        await log.DisposeAsync();

        var shedding = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder) { Capacity = 3, MaxWait = TimeSpan.Zero }, Artifacts, time, Cancel);
        held = await shedding.HoldWriterAsync();
        var appends = Enumerable.Range(0, 5).Select(i => (Id: $"s{i}", Task: shedding.AppendAsync(Record($"s{i}", "iris", Date(11, 0)), Cancel).AsTask())).ToList();
        appends.Skip(3).ShouldAllBe(append => append.Task.IsCompleted, "past the capacity with no wait: shed at once, while the writer is still held");
        (await Task.WhenAll(appends.Skip(3).Select(append => append.Task))).ShouldBe([false, false]);
        held.Dispose();
        (await Task.WhenAll(appends.Take(3).Select(append => append.Task))).ShouldAllBe(written => written);
        await shedding.RollAsync(Cancel);
        (shedding.Stats.Written, shedding.Stats.Dropped).ShouldBe((3L, 2L), "every record is written or counted as shed, never silently lost");
        var segments = await shedding.SegmentsAsync("iris", cancellationToken: Cancel);
        Query(segments.Select(path => ((FileArtifactStore)Artifacts).LocalPath(path)), "SELECT count(*), count(DISTINCT prediction_id), min(prediction_id) FROM rows")
            .ShouldBe("7,7,q0", "the 4 of the first log (its segment not overwritten by this one's, in the same folder and hour after a clean stop) and the 3 acknowledged here");
        await shedding.DisposeAsync();
    }

    [Fact]
    public async Task Records_a_crash_left_in_write_ahead_files_are_rolled_at_open_and_a_torn_last_line_is_cut()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Date(8, 30));
        var first = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder), Artifacts, time, Cancel);
        for (var i = 0; i < 10; i++)
        {
            await first.AppendAsync(Record($"p{i}", "iris", Date(8, 30)), Cancel);
        }

        // The process dies here: nothing is disposed or rolled. A write was torn mid-line.
        var wal = Directory.EnumerateFiles(Folder, "wal-*.jsonl").Single();
        await File.AppendAllTextAsync(wal, "{\"prediction_id\":\"torn\",\"endp", Cancel);

        var second = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder), Artifacts, time, Cancel);
        var segments = await second.SegmentsAsync("iris", cancellationToken: Cancel);
        Query(segments.Select(path => ((FileArtifactStore)Artifacts).LocalPath(path)), "SELECT count(*), min(prediction_id), max(prediction_id) FROM rows").ShouldBe("10,p0,p9");
        await second.DisposeAsync();
    }

    [Fact]
    public async Task Records_of_one_millisecond_keep_their_write_order_in_the_segment_and_after_a_restart_or_crash()
    {
        // The clock is frozen and every record carries the same timestamp: only the write sequence tells them apart.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Date(7, 0));
        var written = new List<string>();
        async Task AppendAsync(PredictionLog log, int count)
        {
            for (var i = 0; i < count; i++)
            {
                var id = $"r{written.Count:D4}-{Guid.NewGuid():N}"; // ids in write order only by their prefix
                (await log.AppendAsync(Record(id, "iris", Date(7, 0)), Cancel)).ShouldBeTrue();
                written.Add(id);
            }
        }

        var first = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder), Artifacts, time, Cancel);
        await AppendAsync(first, 300);
        await first.RollAsync(Cancel); // a rotation in the middle: the next file's records come after
        await AppendAsync(first, 200);
        await first.DisposeAsync();
        var second = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder), Artifacts, time, Cancel);
        await AppendAsync(second, 200);
        // The process dies here, then starts again on the same folder.
        var third = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder), Artifacts, time, Cancel);
        await AppendAsync(third, 100);
        await third.DisposeAsync();

        var files = (await third.SegmentsAsync("iris", cancellationToken: Cancel)).Select(path => ((FileArtifactStore)Artifacts).LocalPath(path)).ToList();
        files.Count.ShouldBe(4, "the rotation, the clean stop, the crash replayed and the last stop each wrote one segment");
        // Each segment in its own row order (no ORDER BY), and all of them by write sequence, are in write order.
        var inFileOrder = files.Select(file => Column([], $"SELECT prediction_id FROM read_parquet('{file}')")).ToList();
        inFileOrder.ShouldAllBe(ids => ids.SequenceEqual(written.Where(ids.Contains)));
        Column(files, "SELECT prediction_id FROM rows ORDER BY sequence").ShouldBe(written);
        Column(files, "SELECT DISTINCT instance FROM rows").ShouldBe([third.Instance]);
        Column(files, "SELECT count(DISTINCT sequence) FROM rows").ShouldBe(["800"], "a sequence is never handed out twice, not after a restart, not after a crash");
    }

    [Fact]
    public async Task Concurrent_appends_in_one_millisecond_get_sequences_in_file_order_and_in_each_callers_order()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Date(6, 0));
        var log = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder), Artifacts, time, Cancel);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < 250; i++)
            {
                (await log.AppendAsync(Record($"w{writer}-{i:D3}", "iris", Date(6, 0)), Cancel)).ShouldBeTrue();
            }
        }, Cancel)));

        // Every acknowledged line is in the write-ahead file, its sequence above the line's before it.
        var wal = Directory.EnumerateFiles(Folder, "wal-*.jsonl").Single();
        using (var reader = new StreamReader(new FileStream(wal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
        {
            var sequences = new List<long>();
            while (await reader.ReadLineAsync(Cancel) is { } line)
            {
                sequences.Add(System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("sequence").GetInt64());
            }

            sequences.Count.ShouldBe(1000);
            sequences.Zip(sequences.Skip(1)).ShouldAllBe(pair => pair.First < pair.Second);
        }

        await log.DisposeAsync();
        var files = (await log.SegmentsAsync("iris", cancellationToken: Cancel)).Select(path => ((FileArtifactStore)Artifacts).LocalPath(path)).ToList();
        var ordered = Column(files, "SELECT prediction_id FROM rows ORDER BY timestamp, sequence");
        for (var writer = 0; writer < 4; writer++)
        {
            var prefix = $"w{writer}-";
            ordered.Where(id => id.StartsWith(prefix, StringComparison.Ordinal)).ShouldBe(Enumerable.Range(0, 250).Select(i => $"{prefix}{i:D3}"), "a caller's later append has the later sequence");
        }
    }

    [Fact]
    public async Task A_write_ahead_file_left_by_a_version_without_sequences_is_rolled_with_none_and_later_records_get_one()
    {
        // The previous version crashed with a file whose lines have no sequence; this one rolls it at open.
        Directory.CreateDirectory(Folder);
        var line = """{"prediction_id":"old-{0}","endpoint":"iris","variant":"a","model":"iris/1","timestamp":1764054000000,"latency_ms":0.4,"routing_key":null,"kind":"primary","inputs":[],"outputs":[]}""";
        await File.WriteAllTextAsync(Path.Combine(Folder, "wal-0000000001.jsonl"), line.Replace("{0}", "1", StringComparison.Ordinal) + "\n" + line.Replace("{0}", "2", StringComparison.Ordinal) + "\n", Cancel);
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Date(7, 0));

        var log = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder), Artifacts, time, Cancel);
        (await log.AppendAsync(Record("new", "iris", Date(7, 0)), Cancel)).ShouldBeTrue();
        await log.DisposeAsync();

        var files = (await log.SegmentsAsync("iris", cancellationToken: Cancel)).Select(path => ((FileArtifactStore)Artifacts).LocalPath(path)).ToList();
        Column(files, "SELECT prediction_id || ':' || coalesce(sequence::VARCHAR, 'null') || ':' || instance FROM rows ORDER BY prediction_id")
            .ShouldBe(["new:" + (2L << PredictionLog.RecordSequenceBits) + ":" + log.Instance, $"old-1:null:{log.Instance}", $"old-2:null:{log.Instance}"],
                "the first file this log opened is number 2, above the one left behind");
    }

    [Fact]
    public async Task A_starved_low_priority_conversion_gives_way_once_more_files_wait_than_it_may_defer()
    {
        // Requests came to keep the CPU busy after the log found it idle, so a background roll's conversion at the idle
        // priority never gets to run (held here): once more than DeferredFiles closed files wait, it gives way and the
        // oldest are converted at normal priority.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Date(13, 0));
        var log = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder) { RollBytes = 2048, BusyShare = double.PositiveInfinity }, Artifacts, time, Cancel);
        var starved = new TaskCompletionSource();
        log.StarvedConversions = starved.Task;
        var closed = 0;
        for (var i = 0; i < 200 && closed <= PredictionLog.DeferredFiles + 2; i++)
        {
            (await log.AppendAsync(Record($"r{i:D3}", "iris", Date(13, 0)), Cancel)).ShouldBeTrue();
            closed = ClosedFiles() + (int)log.Stats.Segments;
        }

        closed.ShouldBeGreaterThan(PredictionLog.DeferredFiles + 2, "the records filled enough files");
        await WaitForAsync(() => log.Stats.Segments > 0 && ClosedFiles() <= PredictionLog.DeferredFiles);

        log.Stats.Segments.ShouldBeGreaterThan(0, "the oldest files were converted though the low-priority conversion never ran");
        ClosedFiles().ShouldBeLessThanOrEqualTo(PredictionLog.DeferredFiles, "only the newest wait");

        starved.SetResult();
        await log.RollAsync(Cancel);
        var segments = await log.SegmentsAsync("iris", cancellationToken: Cancel);
        Query(segments.Select(path => ((FileArtifactStore)Artifacts).LocalPath(path)), "SELECT count(*), count(DISTINCT prediction_id) FROM rows")
            .ShouldBe($"{log.Stats.Written},{log.Stats.Written}");
        await log.DisposeAsync();
    }

    [Fact]
    public async Task With_the_processors_busy_deferred_conversions_run_at_nice_10_and_never_wait_for_idle_CPU()
    {
        // Any CPU counts as busy here: no conversion runs at the idle priority (the held ones), so none is held.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Date(14, 0));
        var log = await PredictionLog.OpenAsync(new PredictionLogOptions(Folder) { RollBytes = 2048, BusyShare = 0 }, Artifacts, time, Cancel);
        log.StarvedConversions = new TaskCompletionSource().Task;
        for (var i = 0; i < 40; i++)
        {
            (await log.AppendAsync(Record($"b{i:D3}", "iris", Date(14, 0)), Cancel)).ShouldBeTrue();
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        await WaitForAsync(() => ClosedFiles() == 0);

        ClosedFiles().ShouldBe(0, "every closed file was converted, none held");
        log.Stats.Segments.ShouldBeGreaterThan(1);
        await log.DisposeAsync();
    }

    [Fact]
    public async Task A_conversion_that_gives_way_to_a_waiting_roll_is_interrupted_mid_statement()
    {
        // A background roll's conversion runs at a low priority; a roll someone waits for cancels it rather than wait
        // for a starved conversion to finish. DuckDB stops the statement it is in (here one that would run for minutes).
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var yield = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var conversion = Task.Factory.StartNew(() =>
        {
            started.SetResult();
            PredictionLog.Run(connection, "CREATE TABLE t AS SELECT sum(hash(range)) FROM range(100000000000)", yield.Token);
        }, Cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await started.Task;
        await Task.Delay(200, Cancel);
        await yield.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(conversion.WaitAsync(TimeSpan.FromMinutes(2), Cancel));
        Should.Throw<OperationCanceledException>(() => PredictionLog.Run(connection, "SELECT 1", yield.Token), "a cancelled roll starts no statement");
    }

    private int ClosedFiles() => Directory.EnumerateFiles(Folder, "wal-*.closed").Count();

    /// <summary>Waits until <paramref name="done"/> holds, up to a minute, for the log's background rolls.</summary>
    private static async Task WaitForAsync(Func<bool> done)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddMinutes(1);
        while (!done() && TimeProvider.System.GetUtcNow() < deadline)
        {
            await Task.Delay(50, Cancel);
        }
    }

    private static DateTimeOffset Date(int hour, int minute) => new(2026, 11, 25, hour, minute, 0, TimeSpan.Zero);

    private static PredictionRecord Record(string id, string endpoint, DateTimeOffset at) =>
        new(id, endpoint, "a", endpoint + "/1", at.ToUnixTimeMilliseconds(), 0.4, null, [new Tensor("x", TensorDatatypes.Fp32, [1], new float[] { 1 })], []);

    /// <summary>The first column of every row of <paramref name="sql"/> over the view <c>rows</c> of <paramref name="files"/>, as text.</summary>
    private static List<string> Column(IEnumerable<string> files, string sql)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        var list = string.Join(", ", files.Select(file => $"'{file}'"));
        command.CommandText = (list.Length == 0 ? "" : $"CREATE VIEW rows AS SELECT * FROM read_parquet([{list}]); ") + sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        }

        return values;
    }

    private static string Query(IEnumerable<string> files, string sql)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"CREATE VIEW rows AS SELECT * FROM read_parquet([{string.Join(", ", files.Select(file => $"'{file}'"))}]); {sql}";
        using var reader = command.ExecuteReader();
        reader.Read();
        return string.Join(",", Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)));
    }
}
