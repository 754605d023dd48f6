using Npgsql;
using Microsoft.Data.Sqlite;

namespace Ballast.Metadata;

/// <summary>
/// A named lock across every process that uses one metadata database, held until disposed: on PostgreSQL a session
/// advisory lock on a connection of its own; on SQLite an exclusive lock file beside the database. A second taker
/// waits (on SQLite for at most <see cref="SqliteWait"/>). For short start-up sections, never for request paths.
/// </summary>
public sealed class MetadataLock : IAsyncDisposable
{
    private static readonly TimeSpan SqliteWait = TimeSpan.FromMinutes(2);

    private readonly NpgsqlConnection? _connection;
    private readonly long _key;
    private readonly FileStream? _file;

    private MetadataLock(NpgsqlConnection? connection, long key, FileStream? file)
    {
        _connection = connection;
        _key = key;
        _file = file;
    }

    /// <summary>Takes the lock <paramref name="name"/> (letters, digits and dashes), waiting while another process holds it.</summary>
    public static async Task<MetadataLock> AcquireAsync(MetadataDatabase database, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (database.Engine != DatabaseEngine.Postgres)
        {
            var file = new SqliteConnectionStringBuilder(database.Location.ConnectionString).DataSource;
            return new MetadataLock(null, 0, await TakeFileLockAsync($"{file}.{name}-lock", cancellationToken).ConfigureAwait(false));
        }

        var key = PostgresKey(name);
        var connection = (NpgsqlConnection)await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var take = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection);
            take.Parameters.AddWithValue("key", key);
            await take.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new MetadataLock(connection, key, null);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The advisory lock key of a name: "BALL" then the first four bytes of its SHA-256, stable across builds.</summary>
    private static long PostgresKey(string name)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name));
        return (0x42414C4CL << 32) | System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(hash);
    }

    // The lock file stays after use: deleting it would let two waiters lock two different files.
    internal static async Task<FileStream> TakeFileLockAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)SqliteWait.TotalMilliseconds;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            try
            {
                await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", _connection);
                release.Parameters.AddWithValue("key", _key);
                await release.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                // Closing the session releases the lock too, should the unlock have failed.
                await _connection.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }
    }
}
