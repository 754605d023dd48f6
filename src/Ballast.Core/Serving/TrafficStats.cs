using System.Collections.Concurrent;
using System.Globalization;
using Ballast.Metadata;
using Dapper;

namespace Ballast.Serving;

/// <summary>
/// Latency buckets shared by every replica: bucket i holds latencies up to 0.1 ms × 1.25^i (64 buckets, up to ~127 s),
/// so a quantile read from merged buckets is within 25% of the true value.
/// </summary>
public static class LatencyBuckets
{
    public const int Count = 64;
    private const double First = 0.1;
    private const double Growth = 1.25;

    public static double UpperBound(int bucket) => First * Math.Pow(Growth, bucket);

    public static int Of(double milliseconds) =>
        milliseconds <= First ? 0 : Math.Min(Count - 1, (int)Math.Ceiling(Math.Log(milliseconds / First) / Math.Log(Growth)));

    /// <summary>The upper bound of the bucket holding the <paramref name="quantile"/> of the counts; 0 without any.</summary>
    public static double Quantile(IReadOnlyList<long> counts, double quantile)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var total = counts.Sum();
        if (total == 0)
        {
            return 0;
        }

        var target = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            seen += counts[i];
            if (seen >= target)
            {
                return UpperBound(i);
            }
        }

        return UpperBound(counts.Count - 1);
    }
}

/// <summary>
/// One variant's traffic over a window, from every replica: requests, server errors, rejected inputs (400) and latency,
/// every request counted; <see cref="ForcedRequests"/> and <see cref="ForcedErrors"/> are the part of them whose variant
/// the <c>Ballast-Variant</c> header forced (0 in rows written before the counts were kept).
/// </summary>
public sealed record VariantTraffic(string Variant, long Requests, long Errors, double LatencyMeanMs, double LatencyP50Ms, double LatencyP99Ms, long Rejected = 0, long Disagreed = 0,
    long ForcedRequests = 0, long ForcedErrors = 0)
{
    /// <summary>For a shadow: the share of its answers whose first output differed from what the caller got.</summary>
    public double DisagreementRate => Requests == 0 ? 0 : (double)Disagreed / Requests;

    public double ErrorRate => Requests == 0 ? 0 : (double)Errors / Requests;

    /// <summary>The share of requests the variant refused as bad input: a new model whose signature does not fit the traffic shows here.</summary>
    public double RejectionRate => Requests == 0 ? 0 : (double)Rejected / Requests;

    /// <summary>
    /// The share of failed requests among those the endpoint routed (its policy's choice or a pinned route), forced ones
    /// left out: a writer testing a variant is no unit of an experiment, so an experiment's <c>error_rate</c> guardrail reads this.
    /// </summary>
    public double RoutedErrorRate => Requests - ForcedRequests <= 0 ? 0 : (double)(Errors - ForcedErrors) / (Requests - ForcedRequests);
}

/// <summary>
/// Per-variant traffic counters shared by replicas, for guardrails and rollout analysis: each replica counts its
/// requests, server errors (5xx; a client's bad input is not the variant's fault) and latency histogram per endpoint,
/// variant and 10-second bucket in memory (no database call on the hot path), and about every second writes its
/// running totals for the buckets still open as its own rows; a window's numbers sum every replica's rows. Requests whose
/// variant the <c>Ballast-Variant</c> header forced are counted with the others and, apart, as forced, so that experiments
/// can leave them out.
/// </summary>
public sealed class TrafficStats(MetadataDatabase database, TimeProvider time)
{
    /// <summary>Counts are kept per 10-second bucket: the resolution of windows (an analysis interval of 10 s or more).</summary>
    public const long BucketMs = 10_000;

    private readonly string _instance = Guid.NewGuid().ToString("N")[..12];
    private readonly ConcurrentDictionary<(string Endpoint, string Variant, long Bucket), Counters> _open = new();

    /// <summary>
    /// Counts one answered, failed (<paramref name="error"/>) or refused (<paramref name="rejected"/>, bad input) request,
    /// <paramref name="forced"/> when the <c>Ballast-Variant</c> header chose its variant; the hot path's only cost.
    /// </summary>
    public void Record(string endpoint, string variant, double latencyMs, bool error, bool rejected = false, bool disagreed = false, bool forced = false)
    {
        var bucket = time.GetUtcNow().ToUnixTimeMilliseconds() / BucketMs * BucketMs;
        _open.GetOrAdd((endpoint, variant, bucket), _ => new Counters()).Add(latencyMs, error, rejected, disagreed, forced);
    }

    /// <summary>Writes this replica's totals of the open buckets, and forgets the buckets that ended before the last one.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var rows = _open.Select(entry => (entry.Key, Snapshot: entry.Value.Snapshot())).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        using (await database.WriterTurnAsync(cancellationToken).ConfigureAwait(false))
        await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO traffic_stats (endpoint, variant, bucket, instance, requests, errors, rejected, disagreed, forced_requests, forced_errors, latency_sum_ms, latency_buckets) " +
                "VALUES (@Endpoint, @Variant, @Bucket, @Instance, @Requests, @Errors, @Rejected, @Disagreed, @ForcedRequests, @ForcedErrors, @LatencySum, @Buckets) " +
                "ON CONFLICT (endpoint, variant, bucket, instance) DO UPDATE SET requests = excluded.requests, errors = excluded.errors, rejected = excluded.rejected, disagreed = excluded.disagreed, " +
                "forced_requests = excluded.forced_requests, forced_errors = excluded.forced_errors, latency_sum_ms = excluded.latency_sum_ms, latency_buckets = excluded.latency_buckets",
                rows.Select(row => new
                {
                    row.Key.Endpoint, row.Key.Variant, row.Key.Bucket, Instance = _instance, row.Snapshot.Requests, row.Snapshot.Errors, row.Snapshot.Rejected, row.Snapshot.Disagreed,
                    row.Snapshot.ForcedRequests, row.Snapshot.ForcedErrors, row.Snapshot.LatencySum, Buckets = Encode(row.Snapshot.Buckets),
                }), transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        // Totals of a bucket that ended are final once written; the current and the previous bucket stay open.
        var cutoff = (time.GetUtcNow().ToUnixTimeMilliseconds() / BucketMs * BucketMs) - BucketMs;
        foreach (var (key, _) in rows.Where(row => row.Key.Bucket < cutoff))
        {
            _open.TryRemove(key, out _);
        }
    }

    /// <summary>Each variant's traffic in the 10-second buckets overlapping [from, to] (Unix ms), summed over every replica.</summary>
    public Task<IReadOnlyList<VariantTraffic>> WindowAsync(string endpoint, long from, long to, CancellationToken cancellationToken = default) =>
        WindowAsync(endpoint, from, to, null, cancellationToken);

    /// <summary>As <see cref="WindowAsync(string, long, long, CancellationToken)"/>, counting the variants <paramref name="merge"/> maps under the name it maps them to (a preview with its mirrored copies).</summary>
    public async Task<IReadOnlyList<VariantTraffic>> WindowAsync(string endpoint, long from, long to, IReadOnlyDictionary<string, string>? merge, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string Variant, long Requests, long Errors, long Rejected, long Disagreed, long ForcedRequests, long ForcedErrors, double LatencySum, string Buckets)>(new CommandDefinition(
            "SELECT variant, requests, errors, rejected, disagreed, forced_requests, forced_errors, latency_sum_ms, latency_buckets FROM traffic_stats " +
            "WHERE endpoint = @endpoint AND bucket >= @first AND bucket <= @to",
            new { endpoint, first = from / BucketMs * BucketMs, to }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.GroupBy(row => merge?.GetValueOrDefault(row.Variant) ?? row.Variant, StringComparer.Ordinal).OrderBy(group => group.Key, StringComparer.Ordinal).Select(group =>
        {
            var buckets = new long[LatencyBuckets.Count];
            foreach (var row in group)
            {
                Decode(row.Buckets, buckets);
            }

            var requests = group.Sum(row => row.Requests);
            return new VariantTraffic(group.Key, requests, group.Sum(row => row.Errors), requests == 0 ? 0 : group.Sum(row => row.LatencySum) / requests,
                LatencyBuckets.Quantile(buckets, 0.5), LatencyBuckets.Quantile(buckets, 0.99), group.Sum(row => row.Rejected), group.Sum(row => row.Disagreed),
                group.Sum(row => row.ForcedRequests), group.Sum(row => row.ForcedErrors));
        }).ToList();
    }

    /// <summary>Sparse <c>bucket:count</c> pairs.</summary>
    private static string Encode(long[] buckets) =>
        string.Join(',', buckets.Select((count, bucket) => (count, bucket)).Where(pair => pair.count > 0).Select(pair => string.Create(CultureInfo.InvariantCulture, $"{pair.bucket}:{pair.count}")));

    private static void Decode(string text, long[] into)
    {
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            into[int.Parse(pair.AsSpan(0, colon), CultureInfo.InvariantCulture)] += long.Parse(pair.AsSpan(colon + 1), CultureInfo.InvariantCulture);
        }
    }

    private sealed class Counters
    {
        private readonly long[] _buckets = new long[LatencyBuckets.Count];
        private long _requests;
        private long _errors;
        private long _rejected;
        private long _disagreed;
        private long _forcedRequests;
        private long _forcedErrors;
        private long _latencyMicros;

        public void Add(double latencyMs, bool error, bool rejected, bool disagreed, bool forced)
        {
            if (disagreed)
            {
                Interlocked.Increment(ref _disagreed);
            }

            Interlocked.Increment(ref _requests);
            if (error)
            {
                Interlocked.Increment(ref _errors);
            }

            if (rejected)
            {
                Interlocked.Increment(ref _rejected);
            }

            Interlocked.Add(ref _latencyMicros, (long)(latencyMs * 1000));
            Interlocked.Increment(ref _buckets[LatencyBuckets.Of(latencyMs)]);

            // After the totals, and read before them: a snapshot never holds more forced requests or errors than in all.
            if (forced)
            {
                if (error)
                {
                    Interlocked.Increment(ref _forcedErrors);
                }

                Interlocked.Increment(ref _forcedRequests);
            }
        }

        public (long Requests, long Errors, long Rejected, long Disagreed, long ForcedRequests, long ForcedErrors, double LatencySum, long[] Buckets) Snapshot()
        {
            var forcedRequests = Interlocked.Read(ref _forcedRequests);
            var forcedErrors = Interlocked.Read(ref _forcedErrors);
            return (Interlocked.Read(ref _requests), Interlocked.Read(ref _errors), Interlocked.Read(ref _rejected), Interlocked.Read(ref _disagreed),
                forcedRequests, forcedErrors, Interlocked.Read(ref _latencyMicros) / 1000.0, (long[])_buckets.Clone());
        }
    }
}
