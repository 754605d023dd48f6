using Ballast.Metadata;
using Npgsql;

namespace Ballast.Tests.Metadata;

/// <summary>Fresh, empty metadata databases for tests: a temporary SQLite file, or a new database on the test PostgreSQL server.</summary>
public static class TestDatabases
{
    public static async Task<(DatabaseLocation Location, Func<Task> Drop)> CreateAsync(DatabaseEngine engine)
    {
        if (engine == DatabaseEngine.Sqlite)
        {
            var folder = Directory.CreateTempSubdirectory("ballast-sqlite-").FullName;
            var location = DatabaseLocation.Parse("sqlite:" + Path.Combine(folder, "ballast.db"));
            return (location, () =>
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(folder, recursive: true);
                return Task.CompletedTask;
            });
        }

        var server = DatabaseLocation.Parse(TestServices.Postgres);
        var name = "ballast_test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = new NpgsqlConnection(server.ConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name };
        var uri = new Uri(TestServices.Postgres);
        var databaseUri = $"postgres://{uri.UserInfo}@{uri.Host}:{uri.Port}/{name}";
        return (DatabaseLocation.Parse(databaseUri), async () =>
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(server.ConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        });
    }
}
