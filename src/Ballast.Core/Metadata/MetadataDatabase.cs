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
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose() => _postgres?.Dispose();
}
