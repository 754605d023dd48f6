using BenchmarkDotNet.Attributes;
using Ballast.Storage;

namespace Ballast.Benchmarks;

/// <summary>
/// What the local artifact store's guarantees cost over a plain file copy: SHA-256 while streaming, a temporary
/// file and an atomic rename; and content addressing, which spools once more to learn the address first.
/// </summary>
[MemoryDiagnoser]
public class ArtifactPutBenchmarks
{
    private byte[] _content = [];
    private string _root = "";
    private IArtifactStore _store = null!;

    [Params(64 * 1024, 16 * 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _content = new byte[Size];
        new Random(42).NextBytes(_content);
        _root = Directory.CreateTempSubdirectory("ballast-bench-").FullName;
        _store = ArtifactStoreFactory.Create(Path.Combine(_root, "store"), null, null);
        Directory.CreateDirectory(Path.Combine(_root, "raw"));
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [Benchmark(Baseline = true, Description = "raw FileStream copy")]
    public async Task RawCopy()
    {
        await using var source = new MemoryStream(_content, writable: false);
        await using var target = new FileStream(Path.Combine(_root, "raw", "model.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 81_920, FileOptions.Asynchronous);
        await source.CopyToAsync(target);
    }

    [Benchmark(Description = "FileArtifactStore.PutAsync")]
    public async Task<ArtifactEntry> Put()
    {
        await using var source = new MemoryStream(_content, writable: false);
        return await _store.PutAsync("models/model.bin", source);
    }

    [Benchmark(Description = "PutContentAddressedAsync")]
    public async Task<ArtifactEntry> PutContentAddressed()
    {
        await using var source = new MemoryStream(_content, writable: false);
        return await _store.PutContentAddressedAsync(source);
    }
}
