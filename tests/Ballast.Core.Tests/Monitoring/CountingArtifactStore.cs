using System.Collections.Concurrent;
using Ballast.Storage;

namespace Ballast.Tests.Monitoring;

/// <summary>
/// A real artifact store that counts how often each path is opened for reading, and can hold an open until
/// <see cref="Gate"/> completes (so concurrent readers are sure to overlap). Everything else goes to the store.
/// </summary>
public sealed class CountingArtifactStore(IArtifactStore store) : IArtifactStore
{
    private readonly ConcurrentDictionary<string, int> _opens = new(StringComparer.Ordinal);

    /// <summary>Awaited before each open, when set.</summary>
    public Task? Gate { get; set; }

    public string Location => store.Location;

    /// <summary>How many times <paramref name="path"/> was opened for reading.</summary>
    public int Opens(string path) => _opens.GetValueOrDefault(path);

    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        _opens.AddOrUpdate(path, 1, (_, count) => count + 1);
        if (Gate is { } gate)
        {
            await gate.WaitAsync(cancellationToken);
        }

        return await store.OpenReadAsync(path, cancellationToken);
    }

    public Task<ArtifactEntry> PutAsync(string path, Stream content, CancellationToken cancellationToken = default) => store.PutAsync(path, content, cancellationToken);

    public IAsyncEnumerable<ArtifactEntry> ListAsync(string prefix, bool recursive = false, CancellationToken cancellationToken = default) => store.ListAsync(prefix, recursive, cancellationToken);

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) => store.ExistsAsync(path, cancellationToken);

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) => store.DeleteAsync(path, cancellationToken);

    public Task CheckAsync(CancellationToken cancellationToken = default) => store.CheckAsync(cancellationToken);
}

/// <summary>A reference cache observer that records what the cache did, as "kind:hit|miss|too_large|dropped" and "evicted:FILE".</summary>
public sealed class ReferenceCacheRecorder : Ballast.Monitoring.IReferenceCacheObserver
{
    private readonly ConcurrentQueue<string> _events = new();

    public IReadOnlyList<string> Events => [.. _events];

    public int Count(string what) => _events.Count(e => e == what);

    public void Hit(string kind, string file) => _events.Enqueue($"{kind}:hit");

    public void Miss(string kind, string file) => _events.Enqueue($"{kind}:miss");

    public void TooLarge(string kind, string file, long bytes) => _events.Enqueue($"{kind}:too_large");

    public void Evicted(string file, long bytes) => _events.Enqueue($"evicted:{file}");

    public void Dropped(string kind, string key, long bytes) => _events.Enqueue($"{kind}:dropped");
}
