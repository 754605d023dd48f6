using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ballast.Storage;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Serving;

/// <summary>
/// What a compacted segment replaces, kept beside it in its hour folder as <c>compacted-&lt;stamp&gt;.json</c>:
/// <see cref="Covers"/> names, in the same folder, every segment (and earlier compacted segment) whose rows it holds,
/// including what those earlier ones covered.
/// </summary>
public sealed record CompactionManifest(string Segment, IReadOnlyList<string> Covers, long Rows, long CreatedAt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CompactionManifest))]
internal sealed partial class CompactionJsonContext : JsonSerializerContext;

/// <summary>
/// What one compaction pass did, for logs and metrics: <see cref="HoursExpired"/> counts the hours deleted past the
/// retention (their files are in <see cref="FilesDeleted"/>); <see cref="LastError"/> names the last folder that failed and why.
/// </summary>
public sealed record CompactionResult(int HoursCompacted, int SegmentsCompacted, long Rows, int FilesDeleted, int FoldersFailed = 0, string? LastError = null, int HoursExpired = 0);

/// <summary>A span of an endpoint's prediction log that the retention keeps whatever its age (a monitor's traffic reference); Unix milliseconds, <see cref="To"/> excluded.</summary>
public sealed record KeptRange(string Endpoint, long From, long To);

/// <summary>
/// Merges the prediction log's segments of each past hour into one Parquet file (a few for a busy hour,
/// <see cref="DefaultMaxMergeBytes"/>), so that readers of long ranges open a file per hour instead of one per minute and
/// replica (a busy day is thousands of segments). Files are written once and never changed, so readers may list a
/// folder while it is compacted:
/// <list type="bullet">
/// <item>the merged file <c>compacted-&lt;stamp&gt;.parquet</c> is written first, its manifest (<see cref="CompactionManifest"/>)
/// second; a merged file counts only once its manifest is there, and then readers skip every file the manifest covers
/// (<see cref="Readable"/>);</item>
/// <item>covered files are deleted only <see cref="Grace"/> after the manifest, so a reader that listed the folder before
/// still finds what it listed;</item>
/// <item>a segment that reappears under a covered name (a replica rolling again a write-ahead file a crash left) is
/// skipped as covered; a segment that arrives late under a new name is read beside the merged file and merged into the
/// next one, whose manifest covers the previous merged file and everything it covered.</item>
/// </list>
/// Hours are compacted once they ended <see cref="Settle"/> ago. One replica compacts (under a lease); should two ever
/// race, readers take one of two manifests covering the same files, the same one every time, and the other is deleted.
/// </summary>
public sealed class PredictionCompaction(IArtifactStore artifacts, TimeProvider time, long maxMergeBytes = PredictionCompaction.DefaultMaxMergeBytes)
{
    public const string Prefix = "compacted-";

    /// <summary>
    /// The most input one merged file takes (a busy hour becomes a few files of about this size rather than one that
    /// takes its whole size in scratch space and one long upload); a file this large is not merged again.
    /// </summary>
    public const long DefaultMaxMergeBytes = 256L * 1024 * 1024;

    /// <summary>An hour is compacted once it ended this long ago: replicas roll their files at least every minute.</summary>
    public static TimeSpan Settle { get; } = TimeSpan.FromMinutes(15);

    /// <summary>Files a manifest covers are deleted this long after it was written (readers that listed before still read them).</summary>
    public static TimeSpan Grace { get; } = TimeSpan.FromHours(1);

    /// <summary>How long an hour's records are kept once the hour is over; null keeps them forever (the server's <c>--prediction-retention-days</c>).</summary>
    public TimeSpan? Retention { get; init; }

    /// <summary>The spans the retention never deletes, asked for at every pass (the server's: monitors' traffic references).</summary>
    public Func<CancellationToken, Task<IReadOnlyList<KeptRange>>>? Kept { get; init; }

    private const string HourFormat = "yyyy-MM-dd-HH";
    private const string StampFormat = "yyyyMMddHHmmssfff";

    // Manifests read, by path: each is written once and never changed, so a pass reads only the new ones.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CompactionManifest> _manifests = new(StringComparer.Ordinal);

    /// <summary>
    /// Compacts every past hour of every endpoint that has more than one file to read, deletes covered files past their
    /// grace, and deletes the hours over for longer than <see cref="Retention"/>. A folder that fails (an unreadable
    /// segment, the store unreachable) is counted and left for the next pass; the others go on.
    /// </summary>
    public async Task<CompactionResult> CompactAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var folders = await HourFoldersAsync(artifacts, PredictionLog.SegmentFolder, hour => hour + TimeSpan.FromHours(1) + Settle <= now, cancellationToken).ConfigureAwait(false);
        var result = new CompactionResult(0, 0, 0, 0);
        var kept = Retention is null || Kept is null ? [] : await Kept(cancellationToken).ConfigureAwait(false);
        foreach (var (folder, files) in folders)
        {
            try
            {
                result = Retention is { } retention && FolderHour(folder) is var hour && hour + TimeSpan.FromHours(1) + retention <= now && !IsKept(folder, hour, kept)
                    ? await ExpireFolderAsync(folder, files.Keys, result, cancellationToken).ConfigureAwait(false)
                    : await CompactFolderAsync(folder, files, now, result, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                result = result with { FoldersFailed = result.FoldersFailed + 1, LastError = $"{folder}: {exception.Message}" };
            }
        }

        return result;
    }

    /// <summary>Deletes an hour past the retention; manifests first, so that a reader listing meanwhile never reads a merged file and files it covers.</summary>
    private async Task<CompactionResult> ExpireFolderAsync(string folder, IEnumerable<string> names, CompactionResult result, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var name in names.OrderBy(name => IsManifest(name) ? 0 : 1))
        {
            deleted += await artifacts.DeleteAsync($"{folder}/{name}", cancellationToken).ConfigureAwait(false) ? 1 : 0;
        }

        return result with { FilesDeleted = result.FilesDeleted + deleted, HoursExpired = result.HoursExpired + 1 };
    }

    /// <summary>Whether a kept span of the folder's endpoint overlaps its hour.</summary>
    private static bool IsKept(string folder, DateTimeOffset hour, IReadOnlyList<KeptRange> kept)
    {
        var endpoint = folder[(PredictionLog.SegmentFolder.Length + 1)..folder.LastIndexOf('/')];
        var start = hour.ToUnixTimeMilliseconds();
        var end = start + (long)TimeSpan.FromHours(1).TotalMilliseconds;
        return kept.Any(range => range.Endpoint == endpoint && range.From < end && range.To > start);
    }

    private static DateTimeOffset FolderHour(string folder) =>
        DateTimeOffset.ParseExact(folder[(folder.LastIndexOf('/') + 1)..], HourFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private async Task<CompactionResult> CompactFolderAsync(string folder, SortedDictionary<string, long> files, DateTimeOffset now, CompactionResult result, CancellationToken cancellationToken)
    {
        var names = files.Keys;
        var deleted = await DeleteCoveredAsync(folder, names, now, cancellationToken).ConfigureAwait(false);
        result = result with { FilesDeleted = result.FilesDeleted + deleted };
        if (deleted > 0)
        {
            return result; // the next pass compacts what is left, from a fresh listing
        }

        var (readable, inForce) = await ResolveAsync(artifacts, folder, names, _manifests, cancellationToken).ConfigureAwait(false);
        var batches = Batches(readable, files, maxMergeBytes);
        foreach (var batch in batches)
        {
            var rows = await MergeAsync(folder, batch, inForce, now, cancellationToken).ConfigureAwait(false);
            result = result with { SegmentsCompacted = result.SegmentsCompacted + batch.Count, Rows = result.Rows + rows };
        }

        return result with { HoursCompacted = result.HoursCompacted + (batches.Count > 0 ? 1 : 0) };
    }

    /// <summary>
    /// The readable files of a folder to merge, in order, in groups of at least two whose sizes add up to at most
    /// <paramref name="maxBytes"/>; a file of that size or more is left as it is.
    /// </summary>
    internal static List<List<string>> Batches(List<string> readable, IReadOnlyDictionary<string, long> sizes, long maxBytes)
    {
        var batches = new List<List<string>>();
        var batch = new List<string>();
        var bytes = 0L;
        foreach (var name in readable)
        {
            var size = sizes.GetValueOrDefault(name);
            if (size >= maxBytes)
            {
                continue;
            }

            if (bytes + size > maxBytes)
            {
                batches.Add(batch);
                (batch, bytes) = ([], 0);
            }

            batch.Add(name);
            bytes += size;
        }

        batches.Add(batch);
        return batches.Where(group => group.Count > 1).ToList();
    }

    /// <summary>
    /// The files below <paramref name="prefix"/> by folder (path to names and sizes, both in order), for folders named by
    /// an hour (<c>yyyy-MM-dd-HH</c>, UTC) that <paramref name="include"/> takes.
    /// </summary>
    internal static async Task<SortedDictionary<string, SortedDictionary<string, long>>> HourFoldersAsync(IArtifactStore artifacts, string prefix, Func<DateTimeOffset, bool> include, CancellationToken cancellationToken)
    {
        var folders = new SortedDictionary<string, SortedDictionary<string, long>>(StringComparer.Ordinal);
        await foreach (var entry in artifacts.ListAsync(prefix, recursive: true, cancellationToken).ConfigureAwait(false))
        {
            var slash = entry.Path.LastIndexOf('/');
            var folder = slash > 0 ? entry.Path[..slash] : "";
            if (entry.IsDirectory
                || !DateTimeOffset.TryParseExact(folder[(folder.LastIndexOf('/') + 1)..], HourFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var hour)
                || !include(hour))
            {
                continue;
            }

            if (!folders.TryGetValue(folder, out var files))
            {
                folders[folder] = files = new SortedDictionary<string, long>(StringComparer.Ordinal);
            }

            files[entry.Path[(slash + 1)..]] = entry.Size ?? 0;
        }

        return folders;
    }

    /// <summary>
    /// The files of one hour folder that readers read (names in the folder, in order): the merged files of the manifests
    /// in force and every segment none of them covers. A merged file without its manifest (being written, or left by a
    /// failed pass) is not read. A manifest is in force when its merged file is there and no manifest in force covers it;
    /// of two that cover a file in common (a race), the one covering more wins, then the first by name.
    /// </summary>
    internal static (List<string> Readable, List<CompactionManifest> InForce) Readable(IReadOnlyCollection<string> names, IEnumerable<CompactionManifest> manifests)
    {
        var present = names.ToHashSet(StringComparer.Ordinal);
        var valid = manifests.Where(manifest => present.Contains(manifest.Segment)).ToList();
        var superseded = valid.SelectMany(manifest => manifest.Covers).ToHashSet(StringComparer.Ordinal);
        var covered = new HashSet<string>(StringComparer.Ordinal);
        var inForce = new List<CompactionManifest>();
        foreach (var manifest in valid.Where(manifest => !superseded.Contains(manifest.Segment))
                     .OrderByDescending(manifest => manifest.Covers.Count).ThenBy(manifest => manifest.Segment, StringComparer.Ordinal))
        {
            if (!manifest.Covers.Any(covered.Contains))
            {
                inForce.Add(manifest);
                covered.UnionWith(manifest.Covers);
            }
        }

        var readable = inForce.Select(manifest => manifest.Segment)
            .Concat(names.Where(name => name.EndsWith(".parquet", StringComparison.Ordinal) && !name.StartsWith(Prefix, StringComparison.Ordinal) && !covered.Contains(name)))
            .Order(StringComparer.Ordinal).ToList();
        return (readable, inForce);
    }

    /// <summary>
    /// As <see cref="Readable"/>, reading the folder's manifests from the store (one that vanished since the listing is
    /// ignored), or from <paramref name="cache"/>, by path, when given: a manifest is written once and never changed.
    /// </summary>
    internal static async Task<(List<string> Readable, List<CompactionManifest> InForce)> ResolveAsync(IArtifactStore artifacts, string folder, IReadOnlyCollection<string> names,
        System.Collections.Concurrent.ConcurrentDictionary<string, CompactionManifest>? cache, CancellationToken cancellationToken)
    {
        var manifests = new List<CompactionManifest>();
        foreach (var path in names.Where(IsManifest).Select(name => $"{folder}/{name}"))
        {
            if (cache?.TryGetValue(path, out var known) == true)
            {
                manifests.Add(known);
                continue;
            }

            try
            {
                await using var stream = await artifacts.OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
                if (await JsonSerializer.DeserializeAsync(stream, CompactionJsonContext.Default.CompactionManifest, cancellationToken).ConfigureAwait(false) is { Segment: not null, Covers: not null } manifest)
                {
                    manifests.Add(manifest);
                    cache?.TryAdd(path, manifest);
                }
            }
            catch (ArtifactNotFoundException)
            {
                // Deleted after the listing: its merged file was covered by a newer manifest, which covers what it did.
            }
        }

        return Readable(names, manifests);
    }

    private static bool IsManifest(string name) => name.StartsWith(Prefix, StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal);

    /// <summary>
    /// Deletes what the folder's manifests in force cover, once they are older than <see cref="Grace"/>, with the
    /// manifests of covered merged files; and, once their stamp is older than that, merged files no manifest in force
    /// names or covers (a lost race, a pass that failed before its manifest) and manifests whose merged file is gone.
    /// </summary>
    private async Task<int> DeleteCoveredAsync(string folder, IReadOnlyCollection<string> names, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (_, inForce) = await ResolveAsync(artifacts, folder, names, _manifests, cancellationToken).ConfigureAwait(false);
        var present = names.ToHashSet(StringComparer.Ordinal);
        var due = new List<string>();
        foreach (var manifest in inForce.Where(manifest => manifest.CreatedAt <= (now - Grace).ToUnixTimeMilliseconds()))
        {
            // A merged file before its manifest: a reader never takes a manifest whose merged file is gone.
            foreach (var name in manifest.Covers.Where(present.Contains))
            {
                due.Add(name);
                if (name.StartsWith(Prefix, StringComparison.Ordinal))
                {
                    due.Add(ManifestOf(name));
                }
            }
        }

        // Merged files neither in force nor covered by one, and manifests without their merged file.
        var kept = inForce.SelectMany(manifest => manifest.Covers.Append(manifest.Segment)).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names.Where(name => name.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var merged = IsManifest(name) ? name[..^".json".Length] + ".parquet" : name;
            if ((IsManifest(name) ? !present.Contains(merged) : !kept.Contains(merged)) && StampOf(name) is { } stamp && stamp <= now - Grace)
            {
                due.Add(merged);
                due.Add(ManifestOf(merged));
            }
        }

        var deleted = 0;
        foreach (var name in due.Where(present.Contains).Distinct(StringComparer.Ordinal))
        {
            if (await artifacts.DeleteAsync($"{folder}/{name}", cancellationToken).ConfigureAwait(false))
            {
                deleted++;
            }
        }

        return deleted;
    }

    /// <summary>Writes the merged file of <paramref name="readable"/> (some of a folder's readable files), then its manifest; returns its rows.</summary>
    private async Task<long> MergeAsync(string folder, List<string> readable, List<CompactionManifest> inForce, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "ballast-compact-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            var files = new List<string>(readable.Count);
            foreach (var segment in readable)
            {
                files.Add(await artifacts.LocalFileAsync($"{folder}/{segment}", Path.Combine(scratch, files.Count.ToString(CultureInfo.InvariantCulture) + ".parquet"), cancellationToken).ConfigureAwait(false));
            }

            var merged = Path.Combine(scratch, "merged.parquet");
            // Synchronous and CPU-heavy: on a thread of its own at a low priority, as the log's conversions.
            var rows = await Task.Factory.StartNew(
                () =>
                {
                    BackgroundPriority.LowerCurrentThread();
                    return Merge(files, merged);
                },
                cancellationToken,
                TaskCreationOptions.LongRunning | TaskCreationOptions.RunContinuationsAsynchronously,
                TaskScheduler.Default).ConfigureAwait(false);

            var name = Prefix + now.UtcDateTime.ToString(StampFormat, CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
            await using (var content = File.OpenRead(merged))
            {
                await artifacts.PutAsync($"{folder}/{name}.parquet", content, cancellationToken).ConfigureAwait(false);
            }

            var covers = readable.Concat(inForce.Where(manifest => readable.Contains(manifest.Segment)).SelectMany(manifest => manifest.Covers))
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var manifest = new CompactionManifest(name + ".parquet", covers, rows, now.ToUnixTimeMilliseconds());
            using var json = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(manifest, CompactionJsonContext.Default.CompactionManifest));
            await artifacts.PutAsync($"{folder}/{name}.json", json, cancellationToken).ConfigureAwait(false);
            return rows;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>Merges segments of any shape into one with every current column; checks that every row made it.</summary>
    private static long Merge(List<string> files, string merged)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        Execute(connection, "SET threads = 1; SET memory_limit = '256MB';");
        var list = string.Join(", ", files.Select(Literal));
        var expected = Query(connection, $"SELECT sum(num_rows)::BIGINT FROM parquet_file_metadata([{list}])", reader => reader.Read() ? Int(reader, 0) : 0);
        Execute(connection, $"COPY (SELECT * FROM {PredictionSegments.Relation(files)}) TO {Literal(merged)} (FORMAT parquet, COMPRESSION zstd)");
        var written = Query(connection, $"SELECT sum(num_rows)::BIGINT FROM parquet_file_metadata({Literal(merged)})", reader => reader.Read() ? Int(reader, 0) : 0);
        return written == expected ? written : throw new InvalidOperationException($"compaction wrote {written} rows of {expected}");
    }

    private static string ManifestOf(string merged) => merged[..^".parquet".Length] + ".json";

    private static DateTimeOffset? StampOf(string merged) =>
        merged.Length > Prefix.Length + StampFormat.Length
        && DateTimeOffset.TryParseExact(merged.AsSpan(Prefix.Length, StampFormat.Length), StampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var stamp)
            ? stamp
            : null;
}
