using Ballast.Datasets;
using Ballast.Metadata;
using Dapper;

namespace Ballast.Features;

/// <summary>
/// What one view's materialization did: the dataset version read, the event-time range (from, until] it covered, rows
/// read and rows that changed the online store; <see cref="Error"/> when it failed (and the other views went on);
/// <see cref="SkippedRows"/> of a stream whose entity key is none of the entity's (an int64 entity's 1.5), and
/// <see cref="Skipped"/> saying why with examples.
/// </summary>
public sealed record MaterializationResult(string View, string Source, long? From, long Until, long Rows, int Changed, string? Error = null, long SkippedRows = 0, string? Skipped = null);

/// <summary>
/// Copies the latest feature values per entity from the offline store into the online store, incrementally: each view
/// remembers the event time it was materialized up to (its watermark, per dataset version), so the next run reads only
/// rows after it; a new version of the source dataset starts from the beginning again. A stream view (prediction log,
/// KPIs) reads the rows after its watermark, less <see cref="StreamLateness"/> for late arrivals. Runs are idempotent: the online
/// store keeps the newer value, and the watermark moves only after the rows are written, so a crash replays safely.
/// </summary>
public sealed class FeatureMaterializer(FeatureStore definitions, DatasetStore datasets, OfflineStore offline, IOnlineStore online, MetadataDatabase database, TimeProvider time)
{
    public const int BatchSize = 1000;

    /// <summary>
    /// How far before its watermark a stream view is read again: covers a prediction log rolled up to a minute late on
    /// another replica, requests in flight across the watermark and KPI transactions committing late.
    /// </summary>
    public static readonly TimeSpan StreamLateness = TimeSpan.FromMinutes(5);

    public IOnlineStore Online => online;

    /// <summary>Materializes the named views (every view when null) up to <paramref name="until"/> (Unix ms, inclusive).</summary>
    public async Task<IReadOnlyList<MaterializationResult>> MaterializeAsync(long until, IReadOnlyCollection<string>? views = null, CancellationToken cancellationToken = default)
    {
        var catalog = await definitions.RefreshAsync(cancellationToken).ConfigureAwait(false);
        var selected = views is null ? catalog.Views.Values.OrderBy(view => view.Name, StringComparer.Ordinal).ToList() : views.Select(catalog.View).ToList();
        var results = new List<MaterializationResult>();
        foreach (var view in selected)
        {
            try
            {
                results.Add(await MaterializeViewAsync(view, until, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // One broken view (its dataset gone, a column renamed) must not keep the others' online values from moving.
                results.Add(new MaterializationResult(view.Name, view.Spec.Source?.Dataset ?? view.Spec.Source?.StreamName ?? "", null, until, 0, 0, exception.Message));
            }
        }

        return results;
    }

    private async Task<MaterializationResult> MaterializeViewAsync(ResolvedView view, long until, CancellationToken cancellationToken)
    {
        var spec = view.Spec.Source!;
        ResolvedView pinned;
        string reference, digest;
        if (spec.IsStream)
        {
            // A stream has no versions: its watermark holds while the view reads the same stream.
            (pinned, reference, digest) = (view, spec.StreamName, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes($"{spec.StreamName}\n{spec.EntityColumn}"))));
        }
        else
        {
            var version = await datasets.GetVersionAsync(DatasetReference.Parse(spec.Dataset!), cancellationToken).ConfigureAwait(false);
            // Read exactly the version resolved here, even if a newer one arrives meanwhile.
            (pinned, reference, digest) = (view with { Spec = view.Spec with { Source = new FeatureSourceSpec(version.Reference) } }, version.Reference, version.Digest);
        }

        Watermark? watermark;
        await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            watermark = await connection.QuerySingleOrDefaultAsync<Watermark>(new CommandDefinition(
                "SELECT source_digest AS SourceDigest, watermark AS Value FROM feature_materializations WHERE view_name = @Name", new { view.Name },
                cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        long? after = watermark is not null && watermark.SourceDigest == digest ? watermark.Value : null;
        if (after is { } done && done >= until)
        {
            return new MaterializationResult(view.Name, reference, done, until, 0, 0);
        }

        // A stream's rows can arrive a little after their event time (another replica's prediction log rolls each minute;
        // a KPI is timed before its transaction commits): re-read that much before the watermark. The online store keeps
        // the newer value, so rows read twice change nothing.
        var from = spec.IsStream && after is { } mark ? mark - (long)StreamLateness.TotalMilliseconds : after;
        var changed = 0;
        var (_, rows, skippedRows, skipped) = await offline.LatestAsync(pinned, from, until, BatchSize, async batch =>
            changed += await online.WriteAsync(view.Name, batch, cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO feature_materializations (view_name, source_digest, watermark, rows_written, updated_at) VALUES (@Name, @digest, @until, @changed, @now) " +
                "ON CONFLICT (view_name) DO UPDATE SET source_digest = excluded.source_digest, watermark = excluded.watermark, " +
                "rows_written = feature_materializations.rows_written + excluded.rows_written, updated_at = excluded.updated_at",
                new { view.Name, digest, until, changed = (long)changed, now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        return new MaterializationResult(view.Name, reference, from, until, rows, changed, SkippedRows: skippedRows, Skipped: skipped);
    }

    private sealed class Watermark
    {
        public string SourceDigest { get; set; } = "";

        public long Value { get; set; }
    }
}
