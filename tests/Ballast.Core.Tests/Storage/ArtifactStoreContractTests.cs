using Ballast.Storage;

namespace Ballast.Tests.Storage;

/// <summary>
/// The artifact store's contract: every test here runs on a local folder and on a real S3 endpoint
/// (<see cref="FileArtifactStoreTests"/>, <see cref="S3ArtifactStoreTests"/>).
/// </summary>
public abstract class ArtifactStoreContractTests : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;

    // Above the S3 store's 8 MiB part size, so S3 runs these through a multipart upload.
    private const int MultipartSize = 9 * MiB + 123;
    private const int MidUpload = 8 * MiB + 512 * 1024;

    protected IArtifactStore Store { get; private set; } = null!;

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A fresh, empty store whose root lies inside a sandbox that the test owns.</summary>
    protected abstract Task<IArtifactStore> CreateStoreAsync();

    /// <summary>Every file or key in the sandbox that lies outside the store's root.</summary>
    protected abstract Task<IReadOnlyList<string>> ListOutsideRootAsync();

    /// <summary>Writes begun but neither finished nor cleaned up (temporary files, open multipart uploads).</summary>
    protected abstract Task<int> CountUnfinishedWritesAsync();

    public virtual async ValueTask InitializeAsync() => Store = await CreateStoreAsync();

    public virtual ValueTask DisposeAsync()
    {
        (Store as IDisposable)?.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65_537)]
    [InlineData(8 * MiB)]
    [InlineData(8 * MiB + 1)]
    [InlineData(20 * MiB + 7)]
    public async Task Put_then_read_returns_the_same_bytes_and_reports_their_size_and_sha256(int size)
    {
        var content = SeededStream.Bytes(size, seed: (ulong)size + 1);

        var entry = await Store.PutAsync("models/fraud/model.onnx", new SeededStream(size, (ulong)size + 1), Cancel);

        entry.Path.ShouldBe("models/fraud/model.onnx");
        entry.IsDirectory.ShouldBeFalse();
        entry.Size.ShouldBe(size);
        entry.Sha256.ShouldBe(ContentAddressing.Sha256Hex(content));
        (await ReadAllAsync("models/fraud/model.onnx")).ShouldBe(content);
    }

    // A local folder cannot be a file too; S3 keys could (a and a/b), so writers that take client paths check first and
    // both stores refuse alike.
    [Fact]
    public async Task A_file_does_not_fit_where_a_folder_is_or_below_a_file()
    {
        await PutAsync("run/model/f.txt", "model");

        var folder = await Should.ThrowAsync<InvalidArtifactPathException>(() => Store.EnsureFileFitsAsync("run/model", Cancel));
        folder.Message.ShouldBe("Invalid artifact path 'run/model': it is a folder of artifacts, which a file cannot replace; upload files below it instead.");
        var below = await Should.ThrowAsync<InvalidArtifactPathException>(() => Store.EnsureFileFitsAsync("run/model/f.txt/sub/x", Cancel));
        below.Message.ShouldBe("Invalid artifact path 'run/model/f.txt/sub/x': 'f.txt' is a file, so nothing can be stored below it.");

        await Store.EnsureFileFitsAsync("run/model/f.txt", Cancel);
        await Store.EnsureFileFitsAsync("run/model/g.txt", Cancel);
        await Store.EnsureFileFitsAsync("run/mod", Cancel);
        await Store.EnsureFileFitsAsync("other", Cancel);
        (await ListAsync("", recursive: true)).Select(e => e.Path).ShouldBe(["run/model/f.txt"]);
    }

    [Fact]
    public async Task Put_over_an_existing_artifact_replaces_its_content()
    {
        await PutAsync("a.txt", "first version, the longer one");
        var second = await PutAsync("a.txt", "second");

        (await ReadTextAsync("a.txt")).ShouldBe("second");
        second.Size.ShouldBe(6);
        (await ListAsync("", recursive: true)).Select(e => e.Path).ShouldBe(["a.txt"]);
    }

    [Fact]
    public async Task A_reader_during_a_write_sees_the_previous_content_whole_never_a_part_of_the_new()
    {
        var first = SeededStream.Bytes(1000, seed: 1);
        var second = SeededStream.Bytes(MultipartSize, seed: 2);
        await Store.PutAsync("model.bin", new MemoryStream(first), Cancel);

        var source = new ScriptedStream(second) { PauseAt = MidUpload };
        var writing = Store.PutAsync("model.bin", source, Cancel);
        await source.Paused.WaitAsync(Cancel);

        (await ReadAllAsync("model.bin")).ShouldBe(first);
        source.Resume();
        await writing;
        (await ReadAllAsync("model.bin")).ShouldBe(second);
        (await CountUnfinishedWritesAsync()).ShouldBe(0);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(MidUpload)]
    public async Task A_write_whose_source_fails_keeps_the_previous_content_and_leaves_nothing_behind(int failAt)
    {
        await PutAsync("model.bin", "version 1");

        var source = new ScriptedStream(SeededStream.Bytes(MultipartSize, seed: 3)) { FailAt = failAt };
        await Should.ThrowAsync<IOException>(() => Store.PutAsync("model.bin", source, Cancel));

        (await ReadTextAsync("model.bin")).ShouldBe("version 1");
        (await CountUnfinishedWritesAsync()).ShouldBe(0);
    }

    [Fact]
    public async Task A_cancelled_write_creates_nothing_and_leaves_nothing_behind()
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        var source = new ScriptedStream(SeededStream.Bytes(MultipartSize, seed: 4)) { PauseAt = MidUpload };
        var writing = Store.PutAsync("model.bin", source, cancel.Token);
        await source.Paused.WaitAsync(Cancel);

        await cancel.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(() => writing);
        (await Store.ExistsAsync("model.bin", Cancel)).ShouldBeFalse();
        (await CountUnfinishedWritesAsync()).ShouldBe(0);
    }

    [Fact]
    public async Task Non_recursive_listing_returns_the_files_and_sub_folders_directly_inside_ordered_by_path()
    {
        foreach (var path in new[] { "run/metrics.json", "run/model/model.onnx", "run/model.txt", "run/a/b/c.bin", "run/.hidden", "other/x.txt", "top.txt" })
        {
            await PutAsync(path, path);
        }

        var entries = await ListAsync("run");

        entries.Select(e => (e.Path, e.IsDirectory)).ShouldBe(
        [
            ("run/.hidden", false),
            ("run/a", true),
            ("run/metrics.json", false),
            ("run/model", true),
            ("run/model.txt", false),
        ]);
        entries.Single(e => e.Path == "run/metrics.json").Size.ShouldBe("run/metrics.json".Length);
        entries.Where(e => e.IsDirectory).ShouldAllBe(e => e.Size == null);
        (await ListAsync("run/")).ShouldBe(entries, "a trailing '/' names the same folder");
        (await ListAsync("")).Select(e => (e.Path, e.IsDirectory)).ShouldBe([("other", true), ("run", true), ("top.txt", false)]);
    }

    [Fact]
    public async Task Recursive_listing_returns_every_file_below_the_folder_ordered_by_path_and_no_folders()
    {
        foreach (var path in new[] { "run/z.txt", "run/model/model.onnx", "run/model.txt", "run/a/b/c.bin", "runs.txt", "other/x.txt" })
        {
            await PutAsync(path, path);
        }

        var entries = await ListAsync("run", recursive: true);

        entries.Select(e => e.Path).ShouldBe(["run/a/b/c.bin", "run/model.txt", "run/model/model.onnx", "run/z.txt"]);
        entries.ShouldAllBe(e => !e.IsDirectory && e.Size > 0);
        (await ListAsync("", recursive: true)).Count.ShouldBe(6);
    }

    [Fact]
    public async Task Listing_a_missing_folder_or_a_file_yields_nothing()
    {
        await PutAsync("a/b.txt", "x");

        (await ListAsync("missing")).ShouldBeEmpty();
        (await ListAsync("missing/deeper", recursive: true)).ShouldBeEmpty();
        (await ListAsync("a/b.txt")).ShouldBeEmpty();
        (await ListAsync("a/b")).ShouldBeEmpty("a prefix of a name is not a folder");
    }

    [Fact]
    public async Task Listing_an_empty_store_yields_nothing()
    {
        (await ListAsync("")).ShouldBeEmpty();
        (await ListAsync("", recursive: true)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Exists_and_delete_follow_the_artifact()
    {
        (await Store.ExistsAsync("a/b.txt", Cancel)).ShouldBeFalse();
        await PutAsync("a/b.txt", "x");
        (await Store.ExistsAsync("a/b.txt", Cancel)).ShouldBeTrue();
        (await Store.ExistsAsync("a", Cancel)).ShouldBeFalse("a folder is not an artifact");

        (await Store.DeleteAsync("a/b.txt", Cancel)).ShouldBeTrue();
        (await Store.ExistsAsync("a/b.txt", Cancel)).ShouldBeFalse();
        (await Store.DeleteAsync("a/b.txt", Cancel)).ShouldBeFalse("there is nothing left to delete");
        (await Store.DeleteAsync("never/was.txt", Cancel)).ShouldBeFalse();
    }

    [Fact]
    public async Task Deleting_the_last_file_of_a_folder_removes_the_folder_from_listings()
    {
        await PutAsync("keep.txt", "k");
        await PutAsync("a/b/c.txt", "x");

        await Store.DeleteAsync("a/b/c.txt", Cancel);

        (await ListAsync("")).Select(e => e.Path).ShouldBe(["keep.txt"]);
        (await ListAsync("", recursive: true)).Select(e => e.Path).ShouldBe(["keep.txt"]);
    }

    [Fact]
    public async Task Opening_a_missing_artifact_throws_ArtifactNotFoundException()
    {
        await PutAsync("folder/file.txt", "x");

        (await Should.ThrowAsync<ArtifactNotFoundException>(() => Store.OpenReadAsync("missing.txt", Cancel))).ArtifactPathValue.ShouldBe("missing.txt");
        await Should.ThrowAsync<ArtifactNotFoundException>(() => Store.OpenReadAsync("folder", Cancel));
        await Should.ThrowAsync<ArtifactNotFoundException>(() => Store.OpenReadAsync("folder/missing/deeper.txt", Cancel));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../outside.txt")]
    [InlineData("a/../b")]
    [InlineData("a/..")]
    [InlineData("./a")]
    [InlineData("/etc/passwd")]
    [InlineData("C:/x")]
    [InlineData("a\\b")]
    [InlineData("..\\outside.txt")]
    [InlineData("a\0b")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("")]
    public async Task Paths_that_could_escape_the_root_are_rejected_and_create_nothing(string path)
    {
        var outsideBefore = await ListOutsideRootAsync();

        await Should.ThrowAsync<InvalidArtifactPathException>(() => Store.PutAsync(path, new MemoryStream([1, 2, 3]), Cancel));
        await Should.ThrowAsync<InvalidArtifactPathException>(() => Store.OpenReadAsync(path, Cancel));
        await Should.ThrowAsync<InvalidArtifactPathException>(() => Store.ExistsAsync(path, Cancel));
        await Should.ThrowAsync<InvalidArtifactPathException>(() => Store.DeleteAsync(path, Cancel));
        if (path is not ("" or "a/"))
        {
            // "" and "a/" name folders (the root, "a") well enough; every other one is no folder either.
            await Should.ThrowAsync<InvalidArtifactPathException>(async () => await ListAsync(path));
            await Should.ThrowAsync<InvalidArtifactPathException>(() => Store.PutContentAddressedAsync(new MemoryStream([1]), path, Cancel));
        }

        (await ListOutsideRootAsync()).ShouldBe(outsideBefore);
        (await ListAsync("", recursive: true)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Content_addressed_puts_store_the_same_bytes_once_under_their_sha256()
    {
        var bytes = "the same dataset file"u8.ToArray();
        var sha = ContentAddressing.Sha256Hex(bytes);
        var spoolsBefore = CountSpoolFiles();

        var first = await Store.PutContentAddressedAsync(new MemoryStream(bytes), cancellationToken: Cancel);
        var second = await Store.PutContentAddressedAsync(new MemoryStream(bytes), cancellationToken: Cancel);
        var other = await Store.PutContentAddressedAsync(new MemoryStream("different bytes"u8.ToArray()), "datasets/blobs", Cancel);

        first.Path.ShouldBe($"sha256/{sha[..2]}/{sha}");
        first.Sha256.ShouldBe(sha);
        first.Size.ShouldBe(bytes.Length);
        second.ShouldBe(first with { LastModified = second.LastModified });
        other.Path.ShouldStartWith("datasets/blobs/");
        (await ListAsync("sha256", recursive: true)).Select(e => e.Path).ShouldBe([first.Path], "stored once");
        (await ReadAllAsync(first.Path)).ShouldBe(bytes);
        CountSpoolFiles().ShouldBe(spoolsBefore, "the local spool file is removed");
    }

    [Fact]
    public async Task Check_passes_on_a_usable_store()
    {
        await Store.CheckAsync(Cancel);
        (await ListAsync("", recursive: true)).ShouldBeEmpty("checking leaves nothing behind");
    }

    [Fact]
    public async Task A_200_MB_artifact_round_trips_with_bounded_memory()
    {
        const long size = 200L * MiB;
        const ulong seed = 20_260_101;
        string expected;
        await using (var reference = new SeededStream(size, seed))
        {
            expected = await ContentAddressing.Sha256HexAsync(reference, Cancel);
        }

        using var memory = ManagedMemoryWatch.Start();
        ArtifactEntry written;
        await using (var source = new SeededStream(size, seed))
        {
            written = await Store.PutAsync("big/model.bin", source, Cancel);
        }

        string read;
        await using (var stream = await Store.OpenReadAsync("big/model.bin", Cancel))
        {
            read = await ContentAddressing.Sha256HexAsync(stream, Cancel);
        }

        var growth = memory.PeakGrowthBytes;
        TestContext.Current.TestOutputHelper?.WriteLine($"Managed heap peak growth: {growth / (double)MiB:0.0} MiB");

        written.Size.ShouldBe(size);
        written.Sha256.ShouldBe(expected);
        read.ShouldBe(expected);
        (await ListAsync("big")).Single().Size.ShouldBe(size);
        growth.ShouldBeLessThan(64L * MiB, $"the managed heap grew by {growth / MiB} MiB while moving {size / MiB} MiB");
    }

    protected Task<ArtifactEntry> PutAsync(string path, string text) =>
        Store.PutAsync(path, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)), Cancel);

    protected async Task<byte[]> ReadAllAsync(string path)
    {
        await using var stream = await Store.OpenReadAsync(path, Cancel);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Cancel);
        return copy.ToArray();
    }

    protected async Task<string> ReadTextAsync(string path) => System.Text.Encoding.UTF8.GetString(await ReadAllAsync(path));

    protected async Task<List<ArtifactEntry>> ListAsync(string prefix, bool recursive = false) =>
        await Store.ListAsync(prefix, recursive, Cancel).ToListAsync(Cancel);

    private static int CountSpoolFiles() => Directory.EnumerateFiles(Path.GetTempPath(), "ballast-spool-*").Count();
}
