using System.Data.Common;
using System.Text.Json;
using Ballast.Metadata;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Features;

/// <summary>
/// Feature set definitions in the metadata database, shared by every replica. View and service names are unique
/// across sets (a row each in <c>feature_names</c>, so two replicas cannot both take one). <see cref="Catalog"/> is
/// the resolved snapshot the scoring path reads; it is rebuilt after every change here and by <see cref="RefreshAsync"/>.
/// With <see cref="FeatureSourceChecks"/> (the server always has them), a set whose stream sources do not exist is refused.
/// </summary>
public sealed class FeatureStore(MetadataDatabase database, TimeProvider time, FeatureSourceChecks? sources = null)
{
    private FeatureCatalog _catalog = FeatureCatalog.Empty;

    public FeatureCatalog Catalog => Volatile.Read(ref _catalog);

    /// <summary>Creates or replaces a set; the revision moves only when the spec changes. Returns it and whether it changed.</summary>
    public async Task<(StoredFeatureSet Set, bool Changed)> PutAsync(FeatureSetSpec spec, CancellationToken cancellationToken = default)
    {
        spec = FeatureSetValidation.Validate(spec);
        if (sources is not null && await sources.ProblemsAsync(spec, Catalog, cancellationToken).ConfigureAwait(false) is { Count: > 0 } problems)
        {
            throw TrackingException.Invalid($"Invalid feature set '{spec.Name}'", problems);
        }

        var json = JsonSerializer.Serialize(spec, FeatureJsonContext.Default.FeatureSetSpec);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        bool changed;
        await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            changed = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO feature_sets (name, spec, revision, created_at, updated_at) VALUES (@Name, @json, 1, @now, @now) " +
                "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, revision = feature_sets.revision + 1, updated_at = excluded.updated_at WHERE feature_sets.spec <> excluded.spec",
                new { spec.Name, json, now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM feature_names WHERE feature_set = @Name", new { spec.Name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            var names = (spec.Views ?? []).Select(view => new { kind = "view", name = view.Name, set = spec.Name })
                .Concat((spec.Services ?? []).Select(service => new { kind = "service", name = service.Name, set = spec.Name })).ToList();
            foreach (var name in names)
            {
                var owner = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                    "SELECT feature_set FROM feature_names WHERE kind = @kind AND name = @name", name, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (owner is not null)
                {
                    throw TrackingException.AlreadyExists($"Invalid feature set '{spec.Name}': {name.kind} '{name.name}' is already declared by feature set '{owner}'; {name.kind} names are unique across sets.");
                }

                try
                {
                    await connection.ExecuteAsync(new CommandDefinition(
                        "INSERT INTO feature_names (kind, name, feature_set) VALUES (@kind, @name, @set)", name, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                }
                catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
                {
                    throw TrackingException.AlreadyExists($"Invalid feature set '{spec.Name}': {name.kind} '{name.name}' was declared by another feature set a moment ago.");
                }
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        return (await GetAsync(spec.Name, cancellationToken).ConfigureAwait(false), changed);
    }

    public async Task<StoredFeatureSet> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            "SELECT spec AS Spec, revision AS Revision, created_at AS CreatedAt, updated_at AS UpdatedAt FROM feature_sets WHERE name = @name",
            new { name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToStored() ?? throw TrackingException.NotFound($"Feature set '{name}' does not exist; `ballast features list` shows the sets there are.");
    }

    public async Task<IReadOnlyList<StoredFeatureSet>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT spec AS Spec, revision AS Revision, created_at AS CreatedAt, updated_at AS UpdatedAt FROM feature_sets ORDER BY name",
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => row.ToStored()).ToList();
    }

    /// <summary>Deletes a set (its online values stay until overwritten or expired); false when there was none.</summary>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        int deleted;
        await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM feature_names WHERE feature_set = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            deleted = await connection.ExecuteAsync(new CommandDefinition("DELETE FROM feature_sets WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        return deleted > 0;
    }

    /// <summary>Rebuilds <see cref="Catalog"/> from the database (other replicas' changes included).</summary>
    public async Task<FeatureCatalog> RefreshAsync(CancellationToken cancellationToken = default)
    {
        var sets = await ListAsync(cancellationToken).ConfigureAwait(false);
        var catalog = new FeatureCatalog(sets.Select(set => set.Spec).ToList());
        Volatile.Write(ref _catalog, catalog);
        return catalog;
    }

    private sealed class Row
    {
        public string Spec { get; set; } = "";

        public long Revision { get; set; }

        public long CreatedAt { get; set; }

        public long UpdatedAt { get; set; }

        public StoredFeatureSet ToStored() => new(JsonSerializer.Deserialize(Spec, FeatureJsonContext.Default.FeatureSetSpec)!, Revision, CreatedAt, UpdatedAt);
    }
}
