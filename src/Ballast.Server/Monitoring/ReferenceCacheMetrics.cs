using Ballast.Monitoring;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Ballast.Server.Monitoring;

/// <summary>
/// <c>ballast_monitor_reference_cache_hits_total{kind}</c> and <c>_misses_total{kind}</c> (kind <c>blob</c>: a dataset
/// file; <c>scores</c>: its CBPE scores by a model version; in memory, <c>profile</c>: a dataset reference's parsed
/// columns; <c>traffic</c>: a traffic reference's predictions), <c>_evictions_total</c> (files) and
/// <c>ballast_monitor_reference_memory_dropped_total{kind}</c> (in-memory entries), and a debug line for each.
/// </summary>
public sealed partial class ReferenceCacheMetrics(ILogger<ReferenceCacheMetrics> logger) : IReferenceCacheObserver
{
    private static readonly Counter Hits = Metrics.CreateCounter("ballast_monitor_reference_cache_hits_total",
        "Monitor references found in the local reference cache, by kind (blob: a dataset file; scores: its CBPE scores by a model version; " +
        "in memory, profile: a dataset reference's parsed columns; traffic: a traffic reference's predictions).",
        new CounterConfiguration { LabelNames = ["kind"] });

    private static readonly Counter Misses = Metrics.CreateCounter("ballast_monitor_reference_cache_misses_total",
        "Monitor references not in the local reference cache (fetched from the artifact store, scored by the model, or read and parsed again), by kind.",
        new CounterConfiguration { LabelNames = ["kind"] });

    private static readonly Counter Evictions = Metrics.CreateCounter("ballast_monitor_reference_cache_evictions_total",
        "Files removed from the local reference cache, least recently used first, to keep it within --reference-cache-mb.");

    private static readonly Counter DroppedEntries = Metrics.CreateCounter("ballast_monitor_reference_memory_dropped_total",
        "Parsed monitor references dropped from memory, least recently used first, to keep them within --reference-memory-mb, by kind (profile or traffic).",
        new CounterConfiguration { LabelNames = ["kind"] });

    public void Hit(string kind, string file)
    {
        Hits.WithLabels(kind).Inc();
        LogHit(logger, kind, file);
    }

    public void Miss(string kind, string file)
    {
        Misses.WithLabels(kind).Inc();
        LogMiss(logger, kind, file);
    }

    public void TooLarge(string kind, string file, long bytes)
    {
        // An in-memory entry's miss was counted when it was looked up; a file's is counted here.
        if (kind is ReferenceCache.Blob or ReferenceCache.Scores)
        {
            Misses.WithLabels(kind).Inc();
        }

        LogTooLarge(logger, kind, file, bytes);
    }

    public void Evicted(string file, long bytes)
    {
        Evictions.Inc();
        LogEvicted(logger, file, bytes);
    }

    public void Dropped(string kind, string key, long bytes)
    {
        DroppedEntries.WithLabels(kind).Inc();
        LogDropped(logger, kind, key, bytes);
    }

    [LoggerMessage(1, LogLevel.Debug, "Reference cache hit ({Kind}): {File}")]
    private static partial void LogHit(ILogger logger, string kind, string file);

    [LoggerMessage(2, LogLevel.Debug, "Reference cache miss ({Kind}): {File}")]
    private static partial void LogMiss(ILogger logger, string kind, string file);

    [LoggerMessage(3, LogLevel.Debug, "Reference cache: {File} ({Kind}, {Bytes} bytes) is larger than the cache and is not kept")]
    private static partial void LogTooLarge(ILogger logger, string kind, string file, long bytes);

    [LoggerMessage(4, LogLevel.Debug, "Reference cache evicted {File} ({Bytes} bytes, least recently used)")]
    private static partial void LogEvicted(ILogger logger, string file, long bytes);

    [LoggerMessage(5, LogLevel.Debug, "Reference memory dropped {Key} ({Kind}, about {Bytes} bytes, least recently used)")]
    private static partial void LogDropped(ILogger logger, string kind, string key, long bytes);
}
