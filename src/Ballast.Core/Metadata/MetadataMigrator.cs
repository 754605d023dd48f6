using FluentMigrator.Runner;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Ballast.Metadata;

/// <summary>
/// Applies the FluentMigrator migrations of this assembly. Idempotent, and safe when several processes start
/// at once: on PostgreSQL the run holds a session advisory lock; on SQLite an exclusive lock file beside the
/// database. The second process waits, then finds nothing left to apply.
/// </summary>
public static class MetadataMigrator
{
    /// <summary>Arbitrary constant naming Ballast's migration lock among advisory locks ("BALLAST1").</summary>
    private const long PostgresLockKey = 0x42414C4C41535431;

    /// <summary>The newest migration version this build knows.</summary>
    public static long LatestVersion => typeof(MetadataMigrator).Assembly.GetTypes()
        .Select(type => type.GetCustomAttributes(typeof(FluentMigrator.MigrationAttribute), false).Cast<FluentMigrator.MigrationAttribute>().FirstOrDefault())
        .Max(attribute => attribute?.Version ?? 0);

    /// <summary>Opens the database and brings its schema up to date; the caller owns the result.</summary>
    public static async Task<MetadataDatabase> OpenMigratedAsync(DatabaseLocation location, CancellationToken cancellationToken = default)
    {
        var database = new MetadataDatabase(location);
        try
        {
            await MigrateAsync(database, cancellationToken).ConfigureAwait(false);
            return database;
        }
        catch
        {
            await database.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public static async Task MigrateAsync(MetadataDatabase database, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        try
        {
            if (database.Engine == DatabaseEngine.Postgres)
            {
                await using var connection = (NpgsqlConnection)await database.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({PostgresLockKey})", connection))
                {
                    await take.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                try
                {
                    Run(database);
                }
                finally
                {
                    await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({PostgresLockKey})", connection);
                    await release.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            else
            {
                var file = new SqliteConnectionStringBuilder(database.Location.ConnectionString).DataSource;
                await using var fileLock = await MetadataLock.TakeFileLockAsync(file + ".migrate-lock", cancellationToken).ConfigureAwait(false);
                await EnableWalAsync(database, cancellationToken).ConfigureAwait(false);
                Run(database);
            }
        }
        catch (Exception exception) when (exception is not MetadataUnavailableException and not OperationCanceledException)
        {
            throw new MetadataUnavailableException(database.Describe(exception), exception);
        }
    }

    private static void Run(MetadataDatabase database)
    {
        var services = new ServiceCollection()
            .AddFluentMigratorCore()
            .ConfigureRunner(runner =>
            {
                if (database.Engine == DatabaseEngine.Postgres)
                {
                    runner.AddPostgres();
                }
                else
                {
                    runner.AddSQLite();
                }

                runner.WithGlobalConnectionString(database.Location.ConnectionString)
                    .ScanIn(typeof(MetadataMigrator).Assembly).For.Migrations();
            })
            .BuildServiceProvider(validateScopes: false);
        using (services)
        {
            using var scope = services.CreateScope();
            scope.ServiceProvider.GetRequiredService<IMigrationRunner>().MigrateUp();
        }
    }

    /// <summary>WAL lets readers proceed while one connection writes; the mode is stored in the file, so set once.</summary>
    private static async Task EnableWalAsync(MetadataDatabase database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL;";
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
