namespace Ballast.Monitoring;

/// <summary>What the <see cref="ReferenceCache"/> did, for metrics and logs (the server counts and logs them).</summary>
public interface IReferenceCacheObserver
{
    /// <summary>A <paramref name="kind"/> (<see cref="ReferenceCache.Blob"/> or <see cref="ReferenceCache.Scores"/> on disk, <see cref="ReferenceProfiles.Profile"/> or <see cref="ReferenceProfiles.Traffic"/> in memory) was found in the cache as <paramref name="file"/>.</summary>
    void Hit(string kind, string file);

    /// <summary>It was not, or its file was damaged: it is fetched (or computed) and cached as <paramref name="file"/>.</summary>
    void Miss(string kind, string file);

    /// <summary>It is larger than the cache's bound (<paramref name="bytes"/>), so it is used without being cached.</summary>
    void TooLarge(string kind, string file, long bytes);

    /// <summary>A file of <paramref name="bytes"/> was removed, the least recently used, to keep the cache within its bound.</summary>
    void Evicted(string file, long bytes);

    /// <summary>
    /// An in-memory entry of <paramref name="bytes"/> (estimated) of a <paramref name="kind"/> (<see cref="ReferenceProfiles.Profile"/>
    /// or <see cref="ReferenceProfiles.Traffic"/>) was dropped, the least recently used, to keep the <see cref="ReferenceProfiles"/> within its bound.
    /// </summary>
    void Dropped(string kind, string key, long bytes);
}
