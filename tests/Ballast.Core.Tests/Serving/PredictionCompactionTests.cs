using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Storage;
using Ballast.Tests.Storage;
using DuckDB.NET.Data;
using Microsoft.Extensions.Time.Testing;

namespace Ballast.Tests.Serving;

/// <summary>
/// The prediction log's compaction on a local folder and on a real S3 endpoint (moto): readers see every record once
/// before, during and after a compaction, late and re-rolled segments included.
/// </summary>
public abstract class PredictionCompactionTests : IAsyncLifetime
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("ballast-compaction-");
    private readonly FakeTimeProvider _time = new(Date(9, 5));
    private PredictionLog _log = null!;

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    protected IArtifactStore Artifacts { get; private set; } = null!;

    private PredictionCompaction Compaction => new(Artifacts, _time);

    protected abstract IArtifactStore CreateStore(string root);

    public async ValueTask InitializeAsync()
    {
        Artifacts = CreateStore(Path.Combine(_root.FullName, "artifacts"));
        _log = await PredictionLog.OpenAsync(new PredictionLogOptions(Path.Combine(_root.FullName, "wal")), Artifacts, _time, Cancel);
    }

    public virtual async ValueTask DisposeAsync()
    {
        await _log.DisposeAsync();
        (Artifacts as IDisposable)?.Dispose();
        _root.Delete(recursive: true);
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_past_hour_is_merged_into_one_file_and_readers_see_every_record_once_before_during_and_after()
    {
        // Five segments in 09:00-10:00 (a roll after each batch, as the log rolls every minute), one in the current hour.
        for (var batch = 0; batch < 5; batch++)
        {
            await AppendAsync(Enumerable.Range(0, 40).Select(i => ($"p{batch}-{i:D2}", Date(9, 10 + batch))));
        }

        await AppendAsync([("now-1", Date(10, 1))]);
        _time.SetUtcNow(Date(10, 14));
        (await Compaction.CompactAsync(Cancel)).HoursCompacted.ShouldBe(0, "09:00-10:00 settles until 10:15");
        var before = await _log.SegmentsAsync("iris", cancellationToken: Cancel);
        before.Count.ShouldBe(6);

        _time.SetUtcNow(Date(10, 20));
        var result = await Compaction.CompactAsync(Cancel);

        result.ShouldBe(new CompactionResult(HoursCompacted: 1, SegmentsCompacted: 5, Rows: 200, FilesDeleted: 0));
        var after = await _log.SegmentsAsync("iris", cancellationToken: Cancel);
        after.Count.ShouldBe(2);
        after[0].ShouldStartWith("predictions/iris/2026-11-25-09/" + PredictionCompaction.Prefix);
        after[1].ShouldBe(before[5], "the current hour is left as it is");
        (await CountAsync(after)).ShouldBe("201,201");
        (await CountAsync(before)).ShouldBe("201,201", "a reader that listed before the compaction still reads what it listed");
        (await Compaction.CompactAsync(Cancel)).ShouldBe(new CompactionResult(0, 0, 0, 0), "a merged hour is left alone");

        _time.Advance(PredictionCompaction.Grace);
        (await Compaction.CompactAsync(Cancel)).FilesDeleted.ShouldBe(5, "the merged segments, an hour after");
        (await ExistingAsync(before)).ShouldBe(before.Skip(5));
        (await _log.SegmentsAsync("iris", cancellationToken: Cancel)).ShouldBe(after);
        (await CountAsync(after)).ShouldBe("201,201");
        (await _log.SegmentsAsync("iris", from: Date(9, 0).ToUnixTimeMilliseconds(), to: Date(9, 59).ToUnixTimeMilliseconds(), cancellationToken: Cancel)).ShouldBe([after[0]]);
    }

    [Fact]
    public async Task A_busy_hour_becomes_several_files_each_merging_at_most_the_merge_size()
    {
        for (var batch = 0; batch < 6; batch++)
        {
            await AppendAsync(Enumerable.Range(0, 40).Select(i => ($"p{batch}-{i:D2}", Date(9, 10 + batch))));
        }

        var sizes = new List<long>();
        await foreach (var entry in Artifacts.ListAsync("predictions/iris/2026-11-25-09", cancellationToken: Cancel))
        {
            sizes.Add(entry.Size!.Value);
        }

        sizes.Count.ShouldBe(6);
        // Room for two segments a merge, not three.
        var compaction = new PredictionCompaction(Artifacts, _time, maxMergeBytes: sizes.Max() * 2 + 1);
        _time.SetUtcNow(Date(10, 20));

        (await compaction.CompactAsync(Cancel)).ShouldBe(new CompactionResult(HoursCompacted: 1, SegmentsCompacted: 6, Rows: 240, FilesDeleted: 0));
        var merged = await _log.SegmentsAsync("iris", cancellationToken: Cancel);
        merged.Count.ShouldBe(3);
        merged.ShouldAllBe(path => path.Contains("/" + PredictionCompaction.Prefix));
        (await CountAsync(merged)).ShouldBe("240,240");

        // Later passes merge what is still small, never a file at the limit; readers see every record once throughout.
        for (var pass = 0; pass < 3; pass++)
        {
            _time.Advance(TimeSpan.FromMinutes(5));
            await compaction.CompactAsync(Cancel);
            (await CountAsync(await _log.SegmentsAsync("iris", cancellationToken: Cancel))).ShouldBe("240,240");
        }
    }

    [Fact]
    public async Task A_late_segment_is_read_beside_the_merged_file_then_merged_with_it()
    {
        await AppendAsync(Enumerable.Range(0, 30).Select(i => ($"a{i:D2}", Date(9, 30))));
        await AppendAsync(Enumerable.Range(0, 30).Select(i => ($"b{i:D2}", Date(9, 40))));
        _time.SetUtcNow(Date(10, 20));
        (await Compaction.CompactAsync(Cancel)).SegmentsCompacted.ShouldBe(2);
        var first = (await _log.SegmentsAsync("iris", cancellationToken: Cancel)).ShouldHaveSingleItem();

        // A replica that was down rolls its records of 09:xx now: a new segment in the merged hour.
        await AppendAsync(Enumerable.Range(0, 5).Select(i => ($"late{i}", Date(9, 50))));
        var withLate = await _log.SegmentsAsync("iris", cancellationToken: Cancel);
        withLate.Count.ShouldBeGreaterThan(1, "the late records are in a segment (or two: the age rotation) beside the merged file");
        withLate.ShouldContain(first);
        (await CountAsync(withLate)).ShouldBe("65,65");

        _time.Advance(TimeSpan.FromMinutes(5));
        (await Compaction.CompactAsync(Cancel)).ShouldBe(new CompactionResult(1, withLate.Count, 65, 0));
        var second = (await _log.SegmentsAsync("iris", cancellationToken: Cancel)).ShouldHaveSingleItem();
        second.ShouldNotBe(first);
        (await CountAsync([second])).ShouldBe("65,65");

        _time.Advance(PredictionCompaction.Grace);
        // The first merged file and its manifest, the two segments it covered, and the late ones.
        (await Compaction.CompactAsync(Cancel)).FilesDeleted.ShouldBe(2 + 2 + withLate.Count - 1);
        (await ListAsync("predictions/iris/2026-11-25-09")).ShouldBe([second[..^".parquet".Length] + ".json", second], "the merged file and its manifest alone");
        (await CountAsync(await _log.SegmentsAsync("iris", cancellationToken: Cancel))).ShouldBe("65,65");
    }

    [Fact]
    public async Task A_segment_rolled_again_under_a_merged_name_is_not_read_twice_and_is_deleted()
    {
        await AppendAsync(Enumerable.Range(0, 20).Select(i => ($"a{i:D2}", Date(9, 30))));
        await AppendAsync(Enumerable.Range(0, 20).Select(i => ($"b{i:D2}", Date(9, 40))));
        var segment = (await _log.SegmentsAsync("iris", cancellationToken: Cancel))[0];
        var bytes = await ReadAsync(segment);
        _time.SetUtcNow(Date(10, 20));
        await Compaction.CompactAsync(Cancel);
        _time.Advance(PredictionCompaction.Grace);
        (await Compaction.CompactAsync(Cancel)).FilesDeleted.ShouldBe(2);

        // A crash after the upload but before the write-ahead file's deletion: the next start rolls the file again,
        // under the same name, into an hour merged since.
        await Artifacts.PutAsync(segment, new MemoryStream(bytes), Cancel);

        var segments = await _log.SegmentsAsync("iris", cancellationToken: Cancel);
        segments.ShouldHaveSingleItem().ShouldNotBe(segment);
        (await CountAsync(segments)).ShouldBe("40,40");
        (await Compaction.CompactAsync(Cancel)).ShouldBe(new CompactionResult(0, 0, 0, 1), "covered by a manifest past its grace: deleted, not merged again");
        (await ExistingAsync([segment])).ShouldBeEmpty();
    }

    [Fact]
    public async Task What_a_failed_or_lost_merge_left_is_never_read_and_is_deleted_after_the_grace()
    {
        await AppendAsync(Enumerable.Range(0, 10).Select(i => ($"a{i}", Date(9, 30))));
        await AppendAsync(Enumerable.Range(0, 10).Select(i => ($"b{i}", Date(9, 40))));
        var segments = await _log.SegmentsAsync("iris", cancellationToken: Cancel);
        const string Folder = "predictions/iris/2026-11-25-09/";
        // A pass that stopped between the merged file and its manifest, and a manifest whose merged file was deleted.
        await Artifacts.PutAsync(Folder + "compacted-20261125101500000-aaaaaa.parquet", new MemoryStream(await ReadAsync(segments[0])), Cancel);
        await Artifacts.PutAsync(Folder + "compacted-20261125101600000-bbbbbb.json", new MemoryStream(
            """{"segment":"compacted-20261125101600000-bbbbbb.parquet","covers":["x.parquet"],"rows":1,"created_at":1795601760000}"""u8.ToArray()), Cancel);
        (await _log.SegmentsAsync("iris", cancellationToken: Cancel)).ShouldBe(segments);

        _time.SetUtcNow(Date(10, 20));
        (await Compaction.CompactAsync(Cancel)).SegmentsCompacted.ShouldBe(2, "the leftovers are not merged");
        _time.Advance(PredictionCompaction.Grace);
        (await Compaction.CompactAsync(Cancel)).FilesDeleted.ShouldBe(2 + 2);
        var merged = (await _log.SegmentsAsync("iris", cancellationToken: Cancel)).ShouldHaveSingleItem();
        (await ListAsync(Folder.TrimEnd('/'))).ShouldBe([merged[..^".parquet".Length] + ".json", merged]);
        (await CountAsync([merged])).ShouldBe("20,20");
    }

    [Fact]
    public async Task An_hour_that_cannot_be_merged_is_reported_and_the_others_are_merged()
    {
        await AppendAsync([("a", Date(8, 30))]);
        await Artifacts.PutAsync("predictions/iris/2026-11-25-08/broken.parquet", new MemoryStream("not parquet"u8.ToArray()), Cancel);
        await AppendAsync([("b", Date(9, 30))]);
        await AppendAsync([("c", Date(9, 40))]);
        _time.SetUtcNow(Date(10, 20));

        var result = await Compaction.CompactAsync(Cancel);

        (result.HoursCompacted, result.SegmentsCompacted, result.FoldersFailed).ShouldBe((1, 2, 1));
        result.LastError.ShouldStartWith("predictions/iris/2026-11-25-08: ");
        (await _log.SegmentsAsync("iris", from: Date(9, 0).ToUnixTimeMilliseconds(), cancellationToken: Cancel)).ShouldHaveSingleItem().ShouldContain(PredictionCompaction.Prefix);
        (await _log.SegmentsAsync("iris", to: Date(8, 59).ToUnixTimeMilliseconds(), cancellationToken: Cancel)).Count.ShouldBe(2, "the hour that failed is as it was");
    }

    [Fact]
    public async Task Hours_over_for_longer_than_the_retention_are_deleted_and_the_others_kept()
    {
        await AppendAsync([("a", Date(9, 30))]);
        await AppendAsync([("b", Date(9, 40))]);
        await AppendAsync([("c", Date(10, 30))]);
        await AppendAsync([("d", Date(10, 40))]);
        _time.SetUtcNow(Date(11, 20));
        var compaction = new PredictionCompaction(Artifacts, _time) { Retention = TimeSpan.FromDays(1) };
        (await compaction.CompactAsync(Cancel)).HoursCompacted.ShouldBe(2);

        // 09:00-10:00 has been over for a day at 10:00 the next day; 10:00-11:00 only at 11:00.
        _time.SetUtcNow(Date(10, 30).AddDays(1));
        var result = await compaction.CompactAsync(Cancel);

        (result.HoursExpired, result.FilesDeleted).ShouldBe((1, 4 + 2), "09:00's two segments, merged file and manifest; the two segments merged at 10:00, past their grace");
        (await ListAsync("predictions/iris/2026-11-25-09")).ShouldBeEmpty();
        var kept = await _log.SegmentsAsync("iris", cancellationToken: Cancel);
        kept.ShouldHaveSingleItem().ShouldStartWith("predictions/iris/2026-11-25-10/" + PredictionCompaction.Prefix);
        (await CountAsync(kept)).ShouldBe("2,2");
        (await new PredictionCompaction(Artifacts, _time).CompactAsync(Cancel)).HoursExpired.ShouldBe(0, "without a retention every hour is kept");
    }

    [Fact]
    public async Task The_retention_keeps_the_hours_a_kept_span_overlaps()
    {
        await AppendAsync([("a", Date(8, 30))]);
        await AppendAsync([("b", Date(9, 30))]);
        await AppendAsync([("c", Date(10, 30))]);
        _time.SetUtcNow(Date(12, 0).AddDays(2));
        var asked = 0;
        var compaction = new PredictionCompaction(Artifacts, _time)
        {
            Retention = TimeSpan.FromDays(1),
            // A monitor's traffic reference 09:59:59.999-10:00:00.001 on iris, and one on another endpoint over 08:00.
            Kept = _ =>
            {
                asked++;
                return Task.FromResult<IReadOnlyList<KeptRange>>([
                    new("iris", Date(9, 0).AddMilliseconds(59 * 60_000 + 59_999).ToUnixTimeMilliseconds(), Date(10, 0).AddMilliseconds(1).ToUnixTimeMilliseconds()),
                    new("other", Date(8, 0).ToUnixTimeMilliseconds(), Date(9, 0).ToUnixTimeMilliseconds()),
                ]);
            },
        };

        var result = await compaction.CompactAsync(Cancel);

        (result.HoursExpired, asked).ShouldBe((1, 1));
        (await CountAsync(await _log.SegmentsAsync("iris", cancellationToken: Cancel), "SELECT string_agg(prediction_id, ' ' ORDER BY prediction_id) FROM rows"))
            .ShouldBe("b c", "09:00 and 10:00 kept, 08:00 deleted");
    }

    [Fact]
    public async Task Segments_of_an_older_shape_merge_with_the_current_columns()
    {
        // A segment written before the log kept instance, sequence and expectations.
        var local = Path.Combine(_root.FullName, "old.parquet");
        using (var connection = new DuckDBConnection("Data Source=:memory:"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"COPY (SELECT 'old-1' AS prediction_id, 'iris' AS endpoint, 'a' AS variant, 'iris/1' AS model, {Date(9, 1).ToUnixTimeMilliseconds()}::BIGINT AS timestamp, " +
                                  $"0.5::DOUBLE AS latency_ms, NULL::VARCHAR AS routing_key, 'primary' AS kind, '[]' AS inputs, '[]' AS outputs) TO '{local}' (FORMAT parquet)";
            command.ExecuteNonQuery();
        }

        await using (var content = File.OpenRead(local))
        {
            await Artifacts.PutAsync("predictions/iris/2026-11-25-09/old.parquet", content, Cancel);
        }

        await AppendAsync([("new-1", Date(9, 2))]);
        _time.SetUtcNow(Date(11, 0));
        (await Compaction.CompactAsync(Cancel)).Rows.ShouldBe(2);

        var merged = (await _log.SegmentsAsync("iris", cancellationToken: Cancel)).ShouldHaveSingleItem();
        (await CountAsync([merged], "SELECT string_agg(prediction_id || ':' || coalesce(instance, '-'), ' ' ORDER BY prediction_id) FROM rows"))
            .ShouldBe($"new-1:{_log.Instance} old-1:-");
    }

    private async Task AppendAsync(IEnumerable<(string Id, DateTimeOffset At)> records)
    {
        foreach (var (id, at) in records)
        {
            (await _log.AppendAsync(new PredictionRecord(id, "iris", "a", "iris/1", at.ToUnixTimeMilliseconds(), 0.4, null,
                [new Tensor("x", TensorDatatypes.Fp32, [1], new float[] { 1 })], []), Cancel)).ShouldBeTrue();
        }

        await _log.RollAsync(Cancel);
    }

    /// <summary>count(*) and count(DISTINCT prediction_id) over the segments (or <paramref name="sql"/> over the view <c>rows</c>).</summary>
    private async Task<string> CountAsync(IReadOnlyList<string> segments, string sql = "SELECT count(*) || ',' || count(DISTINCT prediction_id) FROM rows")
    {
        var files = new List<string>();
        foreach (var segment in segments)
        {
            files.Add(await Artifacts.LocalFileAsync(segment, Path.Combine(_root.FullName, Guid.NewGuid().ToString("N") + ".parquet"), Cancel));
        }

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"CREATE VIEW rows AS SELECT * FROM {PredictionSegments.Relation(files)}; {sql}";
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    private async Task<List<string>> ExistingAsync(IEnumerable<string> paths)
    {
        var existing = new List<string>();
        foreach (var path in paths)
        {
            if (await Artifacts.ExistsAsync(path, Cancel))
            {
                existing.Add(path);
            }
        }

        return existing;
    }

    private async Task<List<string>> ListAsync(string folder)
    {
        var paths = new List<string>();
        await foreach (var entry in Artifacts.ListAsync(folder, cancellationToken: Cancel))
        {
            paths.Add(entry.Path);
        }

        return paths;
    }

    private async Task<byte[]> ReadAsync(string path)
    {
        await using var stream = await Artifacts.OpenReadAsync(path, Cancel);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Cancel);
        return copy.ToArray();
    }

    private static DateTimeOffset Date(int hour, int minute) => new(2026, 11, 25, hour, minute, 0, TimeSpan.Zero);
}

public sealed class LocalPredictionCompactionTests : PredictionCompactionTests
{
    protected override IArtifactStore CreateStore(string root) => ArtifactStoreFactory.Create(root, null, null);
}

public sealed class S3PredictionCompactionTests(S3TestBucket bucket) : PredictionCompactionTests, IClassFixture<S3TestBucket>
{
    private readonly string _prefix = "compaction-" + Guid.NewGuid().ToString("N")[..8];

    protected override IArtifactStore CreateStore(string root)
    {
        _ = TestServices.S3Endpoint;
        return S3ArtifactStore.Create(bucket.Options(_prefix), S3TestBucket.Credentials);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (bucket.Endpoint.Length > 0)
        {
            await bucket.EmptyAsync(_prefix);
        }
    }
}

/// <summary>Which files of an hour folder readers read, whatever a compaction (or two racing) left there.</summary>
public sealed class CompactionReadableTests
{
    private static CompactionManifest Manifest(string segment, params string[] covers) => new(segment, covers, 1, 0);

    [Fact]
    public void Without_manifests_every_segment_is_read_and_a_merged_file_alone_is_not()
    {
        PredictionCompaction.Readable(["b.parquet", "a.parquet", "compacted-1.parquet"], []).Readable.ShouldBe(["a.parquet", "b.parquet"]);
    }

    [Fact]
    public void A_manifest_counts_only_with_its_merged_file()
    {
        PredictionCompaction.Readable(["a.parquet", "b.parquet", "compacted-1.json"], [Manifest("compacted-1.parquet", "a.parquet", "b.parquet")]).Readable
            .ShouldBe(["a.parquet", "b.parquet"]);
        PredictionCompaction.Readable(["a.parquet", "b.parquet", "c.parquet", "compacted-1.parquet", "compacted-1.json"], [Manifest("compacted-1.parquet", "a.parquet", "b.parquet")]).Readable
            .ShouldBe(["c.parquet", "compacted-1.parquet"]);
    }

    [Fact]
    public void Merges_group_small_files_up_to_the_merge_size_and_leave_full_ones()
    {
        var sizes = new Dictionary<string, long> { ["a"] = 40, ["b"] = 40, ["c"] = 30, ["d"] = 100, ["e"] = 50, ["f"] = 10 };
        PredictionCompaction.Batches(["a", "b", "c", "d", "e", "f"], sizes, 100).ShouldBe([["a", "b"], ["c", "e", "f"]]);
        PredictionCompaction.Batches(["a", "d"], sizes, 100).ShouldBeEmpty("one small file alone is not merged");
        PredictionCompaction.Batches(["a", "b", "c"], sizes, 1000).ShouldBe([["a", "b", "c"]]);
    }

    [Fact]
    public void A_newer_merge_supersedes_the_one_it_covers()
    {
        var names = new[] { "a.parquet", "b.parquet", "c.parquet", "compacted-1.parquet", "compacted-2.parquet" };
        var (readable, inForce) = PredictionCompaction.Readable(names,
            [Manifest("compacted-1.parquet", "a.parquet", "b.parquet"), Manifest("compacted-2.parquet", "a.parquet", "b.parquet", "c.parquet", "compacted-1.parquet")]);
        readable.ShouldBe(["compacted-2.parquet"]);
        inForce.ShouldHaveSingleItem().Segment.ShouldBe("compacted-2.parquet");
    }

    [Fact]
    public void Of_two_racing_merges_of_the_same_files_one_is_read_the_same_every_time()
    {
        var names = new[] { "a.parquet", "b.parquet", "c.parquet", "compacted-1.parquet", "compacted-2.parquet" };
        CompactionManifest[] racing = [Manifest("compacted-2.parquet", "a.parquet", "b.parquet"), Manifest("compacted-1.parquet", "a.parquet", "b.parquet")];
        PredictionCompaction.Readable(names, racing).Readable.ShouldBe(["c.parquet", "compacted-1.parquet"]);
        PredictionCompaction.Readable(names, racing.Reverse()).Readable.ShouldBe(["c.parquet", "compacted-1.parquet"]);

        // One covers more (it saw a later segment): it is read, and the file only the other covers is read beside it.
        PredictionCompaction.Readable(names, [Manifest("compacted-1.parquet", "a.parquet", "b.parquet"), Manifest("compacted-2.parquet", "b.parquet", "c.parquet", "a.parquet")]).Readable
            .ShouldBe(["compacted-2.parquet"]);
        PredictionCompaction.Readable(["a.parquet", "b.parquet", "c.parquet", "compacted-1.parquet", "compacted-2.parquet"],
            [Manifest("compacted-1.parquet", "a.parquet"), Manifest("compacted-2.parquet", "a.parquet", "b.parquet")]).Readable.ShouldBe(["c.parquet", "compacted-2.parquet"]);
    }
}
