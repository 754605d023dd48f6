using System.Data.Common;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Ballast.Metadata;

/// <summary>
/// Opens connections to the metadata database. SQLite connections run in WAL mode with a busy timeout and
/// foreign keys on and LIKE case-sensitive (as on PostgreSQL and in MLflow's filter grammar), so readers never block the writer and concurrent writers wait instead of failing with
/// "database is locked". PostgreSQL connections come from one pooled <see cref="NpgsqlDataSource"/>.
/// </summary>
public sealed class MetadataDatabase : IAsyncDisposable, IDisposable
{
    /// <summary>
    /// Per-connection settings (a writer waits up to 15 s for another writer); they stay with the native connection,
    /// which the pool reuses.
    /// </summary>
    private const string SqliteSettings = "PRAGMA busy_timeout = 15000; PRAGMA synchronous = NORMAL; PRAGMA case_sensitive_like = ON;";

    /// <summary>
    /// Native SQLite connections that already carry <see cref="SqliteSettings"/>. Microsoft.Data.Sqlite pools them,
    /// so a pooled open skips the three statements (most of an embedded point lookup's cost otherwise).
    /// </summary>
    private static readonly ConditionalWeakTable<object, object> Settled = new();

    private readonly NpgsqlDataSource? _postgres;

    // SQLite has one writer at a time; a writer that finds another sleeps in SQLite's busy handler, holding its thread.
    // Writers in this process that take a turn here wait for each other without a thread instead (see WriterTurnAsync).
    private readonly SemaphoreSlim _sqliteWriter = new(1, 1);

    public MetadataDatabase(DatabaseLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        Location = location;
        if (location.Engine == DatabaseEngine.Postgres)
        {
            _postgres = NpgsqlDataSource.Create(location.ConnectionString);
        }
        else
        {
            var folder = Path.GetDirectoryName(new SqliteConnectionStringBuilder(location.ConnectionString).DataSource);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }
        }
    }

    public DatabaseLocation Location { get; }

    public DatabaseEngine Engine => Location.Engine;

    /// <summary>Opens a connection; failures to reach the database become <see cref="MetadataUnavailableException"/> with a readable reason.</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        DbConnection? connection = null;
        try
        {
            if (_postgres is not null)
            {
                return await _postgres.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            }

            var sqlite = new SqliteConnection(Location.ConnectionString);
            connection = sqlite;
            await sqlite.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (NeedsSettings(sqlite))
            {
                await using var command = sqlite.CreateCommand();
                command.CommandText = SqliteSettings;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                MarkSettled(sqlite);
            }

            return connection;
        }
        catch (Exception exception) when (exception is DbException or SocketException or TimeoutException or IOException or UnauthorizedAccessException)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            throw new MetadataUnavailableException(Describe(exception), exception);
        }
    }

    /// <summary>
    /// Waits, without holding a thread, until no other writer of this process that takes turns is writing to SQLite, and
    /// keeps the turn until disposed; immediate on PostgreSQL (row locks, no single writer). The frequent background
    /// writers take turns (the serving flush, leases, traffic counters, prediction log watermarks): otherwise a lease
    /// renewal arriving during a large flush slept on a request thread in SQLite's busy handler until the flush committed.
    /// A writer that takes a turn keeps its write transactions short, so that those waiting are not held long.
    /// </summary>
    public async ValueTask<WriterTurn> WriterTurnAsync(CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            return default;
        }

        await _sqliteWriter.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new WriterTurn(_sqliteWriter);
    }

    /// <summary>
    /// <see cref="WriterTurnAsync"/> for a writer on a thread of its own (the serving flush, whose SQLite calls are
    /// synchronous anyway): waiting here keeps its work on that thread rather than continuing on the request thread pool.
    /// </summary>
    public WriterTurn WriterTurn(CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            return default;
        }

        _sqliteWriter.Wait(cancellationToken);
        return new WriterTurn(_sqliteWriter);
    }

    /// <summary>
    /// Opens a connection synchronously, for the few callers behind synchronous framework interfaces (the Data
    /// Protection key repository); everything else uses <see cref="OpenAsync"/>.
    /// </summary>
    public DbConnection Open()
    {
        DbConnection? connection = null;
        try
        {
            if (_postgres is not null)
            {
                return _postgres.OpenConnection();
            }

            var sqlite = new SqliteConnection(Location.ConnectionString);
            connection = sqlite;
            sqlite.Open();
            if (NeedsSettings(sqlite))
            {
                using var command = sqlite.CreateCommand();
                command.CommandText = SqliteSettings;
                command.ExecuteNonQuery();
                MarkSettled(sqlite);
            }

            return connection;
        }
        catch (Exception exception) when (exception is DbException or SocketException or TimeoutException or IOException or UnauthorizedAccessException)
        {
            connection?.Dispose();
            throw new MetadataUnavailableException(Describe(exception), exception);
        }
    }

    private static bool NeedsSettings(SqliteConnection connection) =>
        connection.Handle is not { } handle || !Settled.TryGetValue(handle, out _);

    private static void MarkSettled(SqliteConnection connection)
    {
        if (connection.Handle is { } handle)
        {
            Settled.AddOrUpdate(handle, Settled);
        }
    }

    /// <summary>One line explaining why the database could not be used.</summary>
    public string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var root = exception;
        while (root.InnerException is not null && root is not PostgresException)
        {
            root = root.InnerException;
        }

        var reason = root switch
        {
            PostgresException { SqlState: "28P01" or "28000" } => "the server rejected the user name or password",
            PostgresException { SqlState: "3D000" } => "the database does not exist",
            PostgresException postgres => postgres.MessageText,
            SocketException socket => socket.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused (is PostgreSQL running there?)" : socket.Message,
            SqliteException sqlite => sqlite.Message,
            _ => root.Message,
        };
        return $"Cannot use the metadata database {Location.Display}: {reason.TrimEnd('.')}.";
    }

    public async ValueTask DisposeAsync()
    {
        _sqliteWriter.Dispose();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _sqliteWriter.Dispose();
        _postgres?.Dispose();
    }
}
