using Ballast.Metadata;

namespace Ballast.Tests.Metadata;

/// <summary>
/// The per-connection settings are applied once per native connection and survive the pool: a connection taken
/// back from the pool still waits for writers, syncs NORMAL and compares LIKE case-sensitively.
/// </summary>
public sealed class SqliteSettingsTests : DatabaseTest
{
    public SqliteSettingsTests()
        : base(DatabaseEngine.Sqlite)
    {
    }

    [Fact]
    public async Task Every_connection_has_the_settings_whether_new_or_pooled()
    {
        for (var open = 0; open < 3; open++)
        {
            await using var connection = await Database.OpenAsync(Cancel);
            (await ScalarAsync(connection, "PRAGMA busy_timeout")).ShouldBe(15_000L);
            (await ScalarAsync(connection, "PRAGMA synchronous")).ShouldBe(1L, "NORMAL");
            (await ScalarAsync(connection, "SELECT 'A' LIKE 'a'")).ShouldBe(0L, "LIKE is case-sensitive");
        }

        using var synchronous = Database.Open();
        (await ScalarAsync(synchronous, "PRAGMA busy_timeout")).ShouldBe(15_000L);
    }

    private static async Task<object?> ScalarAsync(System.Data.Common.DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Cancel);
    }
}
