using Ballast.Datasets;
using Ballast.Monitoring;
using Ballast.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Ballast.Tests.Monitoring;

/// <summary>
/// The monitors' reference cache on a real local artifact store (counted, to see what is read from it) and a fake
/// clock (last use orders eviction): verified copies, damaged copies replaced, LRU eviction within the bound, one
/// download for concurrent windows, and CBPE scores kept exactly.
/// </summary>
public sealed class ReferenceCacheTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("ballast-reference-cache-");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
    private readonly CountingArtifactStore _store;

    public ReferenceCacheTests() => _store = new CountingArtifactStore(ArtifactStoreFactory.Create(Path.Combine(_root.FullName, "artifacts"), null, null));

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private string CacheFolder => Path.Combine(_root.FullName, "cache", "references");

    private ReferenceCache Cache(long maxBytes, IReferenceCacheObserver? observer = null) => new(CacheFolder, maxBytes, _time, observer);

    /// <summary>A stored dataset file of <paramref name="size"/> seeded bytes.</summary>
    private async Task<DatasetFile> StoreAsync(string path, int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        var sha = ContentAddressing.Sha256Hex(bytes);
        await _store.PutAsync(DatasetStore.BlobPath(sha), new MemoryStream(bytes), Cancel);
        return new DatasetFile(path, size, sha);
    }

    private Func<CancellationToken, Task<Stream>> Open(DatasetFile file) => token => _store.OpenReadAsync(DatasetStore.BlobPath(file.Sha256), token);

    private int Opens(DatasetFile file) => _store.Opens(DatasetStore.BlobPath(file.Sha256));

    private string[] Files() => Directory.Exists(CacheFolder) ? [.. Directory.GetFiles(CacheFolder).Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal)] : [];

    private long Total() => Directory.GetFiles(CacheFolder).Sum(path => new FileInfo(path).Length);

    private static string Name(DatasetFile file) => $"blob-{file.Sha256}{Path.GetExtension(file.Path)}";

    private static string Sha256(string path) => ContentAddressing.Sha256Hex(File.ReadAllBytes(path));

    private async Task<ReferenceCache.Lease> FetchAsync(ReferenceCache cache, DatasetFile file) =>
        (await cache.BlobAsync(file, Open(file), Cancel)).ShouldNotBeNull();

    private async Task UseAsync(ReferenceCache cache, DatasetFile file)
    {
        _time.Advance(TimeSpan.FromMinutes(1));
        using var lease = await FetchAsync(cache, file);
    }

    [Fact]
    public async Task A_blob_is_kept_as_a_verified_copy_and_later_windows_read_it_without_opening_the_store()
    {
        var recorder = new ReferenceCacheRecorder();
        var cache = Cache(1 << 20, recorder);
        var file = await StoreAsync("data/train.csv", 10_000, seed: 1);

        using (var first = await FetchAsync(cache, file))
        {
            first.Path.ShouldBe(Path.Combine(CacheFolder, Name(file)));
            Sha256(first.Path).ShouldBe(file.Sha256);
        }

        using (var second = await FetchAsync(cache, file))
        {
            second.Path.ShouldBe(Path.Combine(CacheFolder, Name(file)));
        }

        // After a restart the copy is checked (its SHA-256 read once) and used, not fetched again.
        using (var restarted = await FetchAsync(Cache(1 << 20, recorder), file))
        {
            Sha256(restarted.Path).ShouldBe(file.Sha256);
        }

        Opens(file).ShouldBe(1);
        recorder.Events.ShouldBe(["blob:miss", "blob:hit", "blob:hit"]);
        Files().ShouldBe([Name(file)], "no temporary file is left");
    }

    [Fact]
    public async Task A_truncated_or_overwritten_cached_copy_is_detected_and_replaced()
    {
        var recorder = new ReferenceCacheRecorder();
        var cache = Cache(1 << 20, recorder);
        var file = await StoreAsync("train.parquet", 5_000, seed: 2);
        string path;
        using (var lease = await FetchAsync(cache, file))
        {
            path = lease.Path;
        }

        // A partial file (its size is checked on every use).
        await File.WriteAllBytesAsync(path, (await File.ReadAllBytesAsync(path, Cancel))[..1000], Cancel);
        using (var lease = await FetchAsync(cache, file))
        {
            Sha256(lease.Path).ShouldBe(file.Sha256);
        }

        Opens(file).ShouldBe(2);

        // The same size with other bytes, in the process that verified the copy: its last-write time is not the one it
        // verified, so its SHA-256 is checked again at the next use.
        using (await FetchAsync(cache, file))
        {
        }

        var damaged = await File.ReadAllBytesAsync(path, Cancel);
        damaged[4321] ^= 0xff;
        await File.WriteAllBytesAsync(path, damaged, Cancel);
        using (var lease = await FetchAsync(cache, file))
        {
            Sha256(lease.Path).ShouldBe(file.Sha256);
        }

        Opens(file).ShouldBe(3);

        // Even with its last-write time put back: the SHA-256 is checked when a process first uses a copy it did not write.
        var written = File.GetLastWriteTimeUtc(path);
        damaged = await File.ReadAllBytesAsync(path, Cancel);
        damaged[17] ^= 0xff;
        await File.WriteAllBytesAsync(path, damaged, Cancel);
        File.SetLastWriteTimeUtc(path, written);
        using (var lease = await FetchAsync(Cache(1 << 20, recorder), file))
        {
            Sha256(lease.Path).ShouldBe(file.Sha256);
        }

        Opens(file).ShouldBe(4);
        recorder.Events.ShouldBe(["blob:miss", "blob:miss", "blob:hit", "blob:miss", "blob:miss"]);
        Files().ShouldBe([Name(file)]);
    }

    [Fact]
    public async Task An_empty_copy_under_the_name_as_a_process_stopped_while_removing_it_leaves_is_replaced()
    {
        // A process removing a file empties it under its exclusive lock first; one stopped before the removal leaves it empty.
        var recorder = new ReferenceCacheRecorder();
        var file = await StoreAsync("train.csv", 3_000, seed: 6);
        Directory.CreateDirectory(CacheFolder);
        await File.WriteAllBytesAsync(Path.Combine(CacheFolder, Name(file)), [], Cancel);

        using (var lease = await FetchAsync(Cache(1 << 20, recorder), file))
        {
            Sha256(lease.Path).ShouldBe(file.Sha256);
        }

        Opens(file).ShouldBe(1);
        recorder.Events.ShouldBe(["blob:miss"]);
        Files().ShouldBe([Name(file)]);
    }

    [Fact]
    public async Task A_stored_file_that_is_not_its_content_address_fails_and_nothing_is_cached()
    {
        var cache = Cache(1 << 20);
        var file = await StoreAsync("train.csv", 1_000, seed: 3);
        var other = new byte[1_000];
        await _store.PutAsync(DatasetStore.BlobPath(file.Sha256), new MemoryStream(other), Cancel);

        var failure = await Should.ThrowAsync<DriftInputException>(() => cache.BlobAsync(file, Open(file), Cancel));
        failure.Message.ShouldBe($"the dataset file 'train.csv' read from the store is 1000 bytes with SHA-256 {ContentAddressing.Sha256Hex(other)}, " +
            $"not the 1000 bytes of its content address {file.Sha256}: the stored copy is damaged");
        Files().ShouldBeEmpty();
    }

    [Fact]
    public async Task Eviction_keeps_the_total_within_the_bound_removing_the_least_recently_used_first_and_never_a_file_in_use()
    {
        var recorder = new ReferenceCacheRecorder();
        var cache = Cache(250, recorder);
        var a = await StoreAsync("a.csv", 100, seed: 10);
        var b = await StoreAsync("b.csv", 100, seed: 11);
        var c = await StoreAsync("c.csv", 100, seed: 12);
        var d = await StoreAsync("d.csv", 100, seed: 13);

        await UseAsync(cache, a);
        await UseAsync(cache, b);
        await UseAsync(cache, c);
        Files().ShouldBe([Name(b), Name(c)], "a, used first, made room for c");
        Total().ShouldBeLessThanOrEqualTo(250);

        await UseAsync(cache, b);
        await UseAsync(cache, d);
        Files().ShouldBe([Name(b), Name(d)], "b was used again after c, so c went");
        Total().ShouldBeLessThanOrEqualTo(250);

        // A window reads b while d is used again: b is then the least recently used, but in use, so d goes instead.
        _time.Advance(TimeSpan.FromMinutes(1));
        using (await FetchAsync(cache, b))
        {
            await UseAsync(cache, d);
            await UseAsync(cache, a);
        }

        Files().ShouldBe(new[] { Name(a), Name(b) }.Order(StringComparer.Ordinal));
        Total().ShouldBeLessThanOrEqualTo(250);
        recorder.Events.Where(e => e.StartsWith("evicted:", StringComparison.Ordinal)).ShouldBe([$"evicted:{Name(a)}", $"evicted:{Name(c)}", $"evicted:{Name(d)}"]);
        (Opens(a), Opens(b), Opens(c), Opens(d)).ShouldBe((2, 1, 1, 1));
    }

    [Fact]
    public async Task A_blob_larger_than_the_bound_is_not_cached_and_a_zero_bound_turns_the_cache_off()
    {
        var recorder = new ReferenceCacheRecorder();
        var file = await StoreAsync("big.csv", 1_000, seed: 4);
        (await Cache(999, recorder).BlobAsync(file, Open(file), Cancel)).ShouldBeNull();
        recorder.Events.ShouldBe(["blob:too_large"]);
        Files().ShouldBeEmpty();

        Directory.Delete(CacheFolder);
        (await Cache(0, recorder).BlobAsync(file, Open(file), Cancel)).ShouldBeNull();
        Directory.Exists(CacheFolder).ShouldBeFalse();
        Opens(file).ShouldBe(0, "the caller copies it, as without a cache");
    }

    [Fact]
    public async Task Concurrent_fetches_of_the_same_blob_give_one_valid_file_one_download_per_process()
    {
        var file = await StoreAsync("train.csv", 200_000, seed: 5);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _store.Gate = gate.Task;

        // Two caches on one folder stand for two processes: each downloads once, the last rename wins.
        var first = Cache(1 << 20);
        var second = Cache(1 << 20);
        var fetches = Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? first : second).BlobAsync(file, Open(file), Cancel)).ToList();
        gate.SetResult();
        var leases = await Task.WhenAll(fetches);

        Opens(file).ShouldBe(2);
        leases.Select(lease => lease!.Path).Distinct().ShouldBe([Path.Combine(CacheFolder, Name(file))]);
        Sha256(leases[0]!.Path).ShouldBe(file.Sha256);
        Files().ShouldBe([Name(file)]);
        foreach (var lease in leases)
        {
            lease!.Dispose();
        }
    }

    [Fact]
    public async Task Two_processes_filling_the_same_and_different_blobs_at_once_leave_only_whole_files()
    {
        var files = new List<DatasetFile>();
        for (var i = 0; i < 4; i++)
        {
            files.Add(await StoreAsync($"f{i}.csv", 150_000 + i, seed: 20 + i));
        }

        var own = new[] { await StoreAsync("g0.csv", 120_000, seed: 30), await StoreAsync("g1.parquet", 90_000, seed: 31) };

        // The first process's downloads stop half way, their temporary files written in part.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Cache(1 << 22);
        var fetches = files.Select(file => first.BlobAsync(file, async token => new HeldStream(await Open(file)(token), gate.Task), Cancel)).ToList();
        await Eventually.UntilAsync(() => Directory.GetFiles(CacheFolder, "tmp-*").Length == files.Count, TimeSpan.FromMilliseconds(20));
        Directory.GetFiles(CacheFolder, "tmp-*").Length.ShouldBe(files.Count);

        // A second process starts meanwhile: its start-up clean-up leaves those temporary files alone (they are not an
        // hour old), and it fetches the same files and two of its own.
        var second = Cache(1 << 22);
        Directory.GetFiles(CacheFolder, "tmp-*").Length.ShouldBe(files.Count);
        fetches.AddRange(files.Concat(own).Select(file => second.BlobAsync(file, Open(file), Cancel)));
        gate.SetResult();
        var leases = await Task.WhenAll(fetches);
        foreach (var (lease, file) in leases.Zip(files.Concat(files).Concat(own)))
        {
            lease.ShouldNotBeNull().Path.ShouldBe(Path.Combine(CacheFolder, Name(file)));
            Sha256(lease.Path).ShouldBe(file.Sha256);
            lease.Dispose();
        }

        Files().ShouldBe([.. files.Concat(own).Select(Name).Order(StringComparer.Ordinal)], "every file whole, no temporary file left");
        files.Select(Opens).ShouldAllBe(opens => opens == 2, "one download per process");

        // Both go on using the files without fetching them again.
        foreach (var file in files)
        {
            await UseAsync(first, file);
            await UseAsync(second, file);
        }

        files.Select(Opens).ShouldAllBe(opens => opens == 2);
    }

    [Fact]
    public async Task A_file_another_process_reads_is_not_evicted_by_it_and_is_once_the_lease_is_disposed()
    {
        // Two caches on one folder stand for two processes: the second does not know the first's pins, only its lock.
        // Each FileStream is its own open(2), so its own open file description, and flock(2) locks belong to that: the
        // two caches' locks exclude each other in one process as they would in two.
        var first = Cache(250);
        var recorder = new ReferenceCacheRecorder();
        var second = Cache(250, recorder);
        var a = await StoreAsync("a.csv", 100, seed: 40);
        var b = await StoreAsync("b.csv", 100, seed: 41);
        var c = await StoreAsync("c.csv", 100, seed: 42);
        var d = await StoreAsync("d.csv", 100, seed: 43);

        var lease = await FetchAsync(first, a);
        Should.Throw<IOException>(() => new FileStream(lease.Path, FileMode.Open, FileAccess.Write, FileShare.None).Dispose(), "the lease holds a shared lock");

        // The second fills the folder past its bound: a is the least recently used each time, but held, so b and c go.
        await UseAsync(second, b);
        await UseAsync(second, c);
        await UseAsync(second, d);
        Files().ShouldBe(new[] { Name(a), Name(d) }.Order(StringComparer.Ordinal));
        Sha256(lease.Path).ShouldBe(a.Sha256, "the window reads it whole, by its name, as DuckDB does");
        recorder.Events.Where(e => e.StartsWith("evicted:", StringComparison.Ordinal)).ShouldBe([$"evicted:{Name(b)}", $"evicted:{Name(c)}"]);

        // Disposed, the lease lets go of its lock, and a is removed first when room is needed again.
        lease.Dispose();
        using (new FileStream(Path.Combine(CacheFolder, Name(a)), FileMode.Open, FileAccess.Write, FileShare.None))
        {
        }

        await UseAsync(second, b);
        Files().ShouldBe(new[] { Name(b), Name(d) }.Order(StringComparer.Ordinal));
        Total().ShouldBeLessThanOrEqualTo(250);
        recorder.Events.Where(e => e.StartsWith("evicted:", StringComparison.Ordinal)).ShouldBe([$"evicted:{Name(b)}", $"evicted:{Name(c)}", $"evicted:{Name(a)}"]);
        (Opens(a), Opens(b), Opens(c), Opens(d)).ShouldBe((1, 2, 1, 1));
    }

    [Fact]
    public async Task A_download_that_finds_its_file_held_by_another_process_uses_that_copy_instead_of_replacing_it()
    {
        var file = await StoreAsync("shared.csv", 100, seed: 50);
        var x = await StoreAsync("x.csv", 100, seed: 51);
        var y = await StoreAsync("y.csv", 100, seed: 52);
        var z = await StoreAsync("z.csv", 100, seed: 53);
        var first = Cache(250);
        var second = Cache(250);
        var third = Cache(250);

        // The second's download stops half way; the first fetches the same file meanwhile and holds it.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var late = second.BlobAsync(file, async token => new HeldStream(await Open(file)(token), gate.Task), Cancel);
        await Eventually.UntilAsync(() => Directory.GetFiles(CacheFolder, "tmp-*").Length == 1, TimeSpan.FromMilliseconds(20));
        using var held = await FetchAsync(first, file);
        gate.SetResult();
        using (var lease = (await late).ShouldNotBeNull())
        {
            lease.Path.ShouldBe(held.Path);
            Sha256(lease.Path).ShouldBe(file.Sha256);
        }

        Opens(file).ShouldBe(2);
        Files().ShouldBe([Name(file)], "the second's copy was dropped");

        // The file under the name is still the one the first holds (not replaced by the second's copy, which nobody would
        // hold once the second's lease is disposed), so a third process filling the folder leaves it.
        await UseAsync(third, x);
        await UseAsync(third, y);
        await UseAsync(third, z);
        Files().ShouldBe(new[] { Name(file), Name(z) }.Order(StringComparer.Ordinal));
        Sha256(held.Path).ShouldBe(file.Sha256);
    }

    [Fact]
    public async Task A_scores_file_another_process_is_reading_is_not_evicted_by_it()
    {
        var first = Cache(1 << 20);
        await first.PutScoresAsync("key", new Dictionary<string, List<object?>>(StringComparer.Ordinal) { ["label"] = ["a", "b"] }, Cancel);
        var scores = Directory.GetFiles(CacheFolder).ShouldHaveSingleItem();
        var size = new FileInfo(scores).Length;
        var second = Cache(size + 150);
        var b = await StoreAsync("b.csv", 100, seed: 60);
        var c = await StoreAsync("c.csv", 100, seed: 61);

        // Opened as ScoresAsync reads it: any FileShare but None takes a shared lock, which other readers share.
        await using (new FileStream(scores, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            (await first.ScoresAsync("key", 2, Cancel)).ShouldNotBeNull()["label"].ShouldBe(["a", "b"], "readers share the lock");
            await UseAsync(second, b);
            await UseAsync(second, c);
            File.Exists(scores).ShouldBeTrue("the least recently used, but being read");
            Files().ShouldBe(new[] { Path.GetFileName(scores), Name(c) }.Order(StringComparer.Ordinal));
        }

        await UseAsync(second, b);
        Files().ShouldBe(new[] { Name(b), Name(c) }.Order(StringComparer.Ordinal));
    }

    /// <summary>A stream that gives its first read and then waits for <paramref name="gate"/>: a download under way.</summary>
    private sealed class HeldStream(Stream inner, Task gate) : Stream
    {
        private bool _started;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_started)
            {
                await gate.WaitAsync(cancellationToken);
            }

            _started = true;
            return await inner.ReadAsync(buffer[..Math.Min(buffer.Length, 4096)], cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    [Fact]
    public void Start_up_removes_temporary_files_a_crash_left_but_not_another_processs_download_in_progress()
    {
        Directory.CreateDirectory(CacheFolder);
        var crashed = Path.Combine(CacheFolder, "tmp-0123-blob-aa.csv");
        var running = Path.Combine(CacheFolder, "tmp-4567-blob-bb.csv");
        File.WriteAllText(crashed, "partial");
        File.WriteAllText(running, "partial");
        File.SetLastWriteTimeUtc(crashed, _time.GetUtcNow().UtcDateTime - TimeSpan.FromHours(2));
        File.SetLastWriteTimeUtc(running, _time.GetUtcNow().UtcDateTime - TimeSpan.FromMinutes(5));

        _ = Cache(1 << 20);
        Files().ShouldBe(["tmp-4567-blob-bb.csv"]);
    }

    [Fact]
    public async Task Scores_come_back_exactly_and_another_keys_a_wrong_row_counts_or_a_damaged_file_is_a_miss()
    {
        var recorder = new ReferenceCacheRecorder();
        var cache = Cache(1 << 20, recorder);
        var outputs = new Dictionary<string, List<object?>>(StringComparer.Ordinal)
        {
            ["label"] = ["a", null, "b"],
            ["probability[0]"] = [0.9, null, 1e-300],
            ["probability[1]"] = [0.1, 1 / 3.0, double.NaN],
        };
        await cache.PutScoresAsync("key", outputs, Cancel);

        var read = (await cache.ScoresAsync("key", 3, Cancel)).ShouldNotBeNull();
        read.Keys.ShouldBe(outputs.Keys);
        foreach (var (name, values) in outputs)
        {
            read[name].ShouldBe(values, name);
        }

        (await cache.ScoresAsync("key", 4, Cancel)).ShouldBeNull();
        (await cache.ScoresAsync("other key", 3, Cancel)).ShouldBeNull();
        var path = Directory.GetFiles(CacheFolder).ShouldHaveSingleItem();
        await File.WriteAllBytesAsync(path, (await File.ReadAllBytesAsync(path, Cancel))[..40], Cancel);
        (await cache.ScoresAsync("key", 3, Cancel)).ShouldBeNull();
        recorder.Events.ShouldBe(["scores:hit", "scores:miss", "scores:miss", "scores:miss"]);
    }

    public void Dispose() => _root.Delete(recursive: true);
}
