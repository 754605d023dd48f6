using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ballast.Metadata;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Serving;

/// <summary>A regime signal's latest value, posted at <see cref="PostedAt"/> (Unix ms).</summary>
public sealed record EndpointSignal(string Name, double Value, long PostedAt);

/// <summary>A stored endpoint: its validated spec, and a revision that grows with every change.</summary>
public sealed record StoredEndpoint(EndpointSpec Spec, long Revision, long CreatedAt, long UpdatedAt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EndpointSpec))]
internal sealed partial class EndpointJsonContext : JsonSerializerContext;

/// <summary>Endpoints in the metadata database, shared by every replica.</summary>
public sealed class EndpointStore(MetadataDatabase database, TimeProvider time)
{
    public async Task<StoredEndpoint> CreateAsync(EndpointSpec spec, CancellationToken cancellationToken = default)
    {
        spec = EndpointValidation.Validate(spec);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO endpoints (name, spec, revision, created_at, updated_at) VALUES (@Name, @Spec, 1, @now, @now)",
                new { spec.Name, Spec = Serialize(spec), now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
        {
            throw TrackingException.AlreadyExists($"Endpoint '{spec.Name}' already exists; PUT /api/v1/endpoints/{spec.Name} (or `ballast apply`) changes it.");
        }

        return new StoredEndpoint(spec, 1, now, now);
    }

    /// <summary>Creates or replaces; the revision only moves when the spec changes. Returns the endpoint and whether it changed.</summary>
    public async Task<(StoredEndpoint Endpoint, bool Changed)> PutAsync(EndpointSpec spec, CancellationToken cancellationToken = default)
    {
        spec = EndpointValidation.Validate(spec);
        var json = Serialize(spec);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO endpoints (name, spec, revision, created_at, updated_at) VALUES (@Name, @json, 1, @now, @now) " +
            "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, revision = endpoints.revision + 1, updated_at = excluded.updated_at WHERE endpoints.spec <> excluded.spec",
            new { spec.Name, json, now }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
        return (await GetAsync(spec.Name, cancellationToken).ConfigureAwait(false), changed);
    }

    public async Task<StoredEndpoint> GetAsync(string name, CancellationToken cancellationToken = default) =>
        await FindAsync(name, cancellationToken).ConfigureAwait(false) ?? throw TrackingException.NotFound($"Endpoint '{name}' does not exist.");

    public async Task<StoredEndpoint?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            "SELECT spec AS Spec, revision AS Revision, created_at AS CreatedAt, updated_at AS UpdatedAt FROM endpoints WHERE name = @name",
            new { name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToEndpoint();
    }

    public async Task<IReadOnlyList<StoredEndpoint>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT spec AS Spec, revision AS Revision, created_at AS CreatedAt, updated_at AS UpdatedAt FROM endpoints ORDER BY name", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => row.ToEndpoint()).ToList();
    }

    /// <summary>Deletes the endpoint with what it learned (bandit arms, regime signals, an adaptive ensemble's members' record): a new endpoint of the same name starts fresh.</summary>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (await connection.ExecuteAsync(new CommandDefinition("DELETE FROM endpoints WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 0)
        {
            throw TrackingException.NotFound($"Endpoint '{name}' does not exist.");
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM endpoint_signals WHERE endpoint = @name; DELETE FROM prediction_assignments WHERE endpoint = @name; DELETE FROM bandit_arm_totals WHERE endpoint = @name; DELETE FROM ensemble_member_predictions WHERE endpoint = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores a signal value posted for a regime endpoint (the newest per name wins); every replica applies it on refresh.</summary>
    public async Task<EndpointSignal> PostSignalAsync(string endpoint, string name, double value, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO endpoint_signals (endpoint, name, value, posted_at) VALUES (@endpoint, @name, @value, @now) " +
            "ON CONFLICT (endpoint, name) DO UPDATE SET value = excluded.value, posted_at = excluded.posted_at",
            new { endpoint, name, value, now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new EndpointSignal(name, value, now);
    }

    public async Task<EndpointSignal?> GetSignalAsync(string endpoint, string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QuerySingleOrDefaultAsync<EndpointSignal>(new CommandDefinition(
            "SELECT name AS Name, value AS Value, posted_at AS PostedAt FROM endpoint_signals WHERE endpoint = @endpoint AND name = @name",
            new { endpoint, name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    private static string Serialize(EndpointSpec spec) => JsonSerializer.Serialize(spec, EndpointJsonContext.Default.EndpointSpec);

    private sealed class Row
    {
        public string Spec { get; set; } = "";

        public long Revision { get; set; }

        public long CreatedAt { get; set; }

        public long UpdatedAt { get; set; }

        public StoredEndpoint ToEndpoint() => new(JsonSerializer.Deserialize(Spec, EndpointJsonContext.Default.EndpointSpec)!, Revision, CreatedAt, UpdatedAt);
    }
}
