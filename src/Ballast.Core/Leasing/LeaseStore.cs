using Ballast.Metadata;
using Dapper;

namespace Ballast.Leasing;

/// <summary>
/// Leases for background controllers, as rows in the metadata database: at most one holder per name at a time;
/// the holder renews before <see cref="Lease.ExpiresAt"/>; once it expires (the holder died or stalled) any other
/// candidate takes it over. Acquire and renew are one conditional upsert, atomic on SQLite and PostgreSQL alike.
/// Expiry is judged by the caller's clock, so replicas' clocks should agree to well within the lease duration.
/// Every outcome (held, not held, or an attempt that failed) is told to the optional <see cref="ILeaseObserver"/>.
/// </summary>
public sealed class LeaseStore(MetadataDatabase database, TimeProvider time, ILeaseObserver? observer = null)
{
    /// <summary>Takes the lease if it is free or expired, renews it if <paramref name="holder"/> has it; null when another holder has it.</summary>
    public async Task<Lease?> TryAcquireAsync(string name, string holder, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(holder);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        try
        {
            var lease = await AcquireAsync(name, holder, duration, cancellationToken).ConfigureAwait(false);
            observer?.HeldChanged(name, lease is not null);
            return lease;
        }
        catch (Exception) when (observer is not null)
        {
            // Unreachable database or cancelled: this replica cannot know it still holds the lease.
            observer.HeldChanged(name, false);
            throw;
        }
    }

    private async Task<Lease?> AcquireAsync(string name, string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var expires = now + (long)duration.TotalMilliseconds;
        const string sql = """
            INSERT INTO leases (name, holder, epoch, acquired_at, expires_at) VALUES (@name, @holder, 1, @now, @expires)
            ON CONFLICT (name) DO UPDATE SET
                epoch = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > @now THEN leases.epoch ELSE leases.epoch + 1 END,
                acquired_at = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > @now THEN leases.acquired_at ELSE excluded.acquired_at END,
                holder = excluded.holder,
                expires_at = excluded.expires_at
            WHERE leases.holder = excluded.holder OR leases.expires_at <= @now
            """;
        int changed;
        using (await database.WriterTurnAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            changed = await connection.ExecuteAsync(new CommandDefinition(sql, new { name, holder, now, expires }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        if (changed == 0)
        {
            return null;
        }

        var lease = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        return lease is not null && lease.Holder == holder ? lease : null;
    }

    /// <summary>Gives the lease up at once so another candidate need not wait for expiry; false when <paramref name="holder"/> did not hold it.</summary>
    public async Task<bool> ReleaseAsync(string name, string holder, CancellationToken cancellationToken = default)
    {
        using var turn = await database.WriterTurnAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE leases SET expires_at = @now WHERE name = @name AND holder = @holder AND expires_at > @now",
            new { name, holder, now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (changed > 0)
        {
            observer?.HeldChanged(name, false);
        }

        return changed > 0;
    }

    /// <summary>The current holder of a lease, or null when nobody holds it (never taken, released or expired).</summary>
    public async Task<Lease?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<LeaseRow>(new CommandDefinition(
            "SELECT name AS Name, holder AS Holder, epoch AS Epoch, acquired_at AS AcquiredAt, expires_at AS ExpiresAt FROM leases WHERE name = @name",
            new { name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row is null || row.ExpiresAt <= time.GetUtcNow().ToUnixTimeMilliseconds())
        {
            return null;
        }

        return new Lease(row.Name, row.Holder, row.Epoch, DateTimeOffset.FromUnixTimeMilliseconds(row.AcquiredAt), DateTimeOffset.FromUnixTimeMilliseconds(row.ExpiresAt));
    }

    private sealed record LeaseRow(string Name, string Holder, long Epoch, long AcquiredAt, long ExpiresAt);
}
