using BenchmarkDotNet.Attributes;
using Ballast.Metadata;
using Ballast.Security;
using Dapper;

namespace Ballast.Benchmarks;

/// <summary>
/// The per-request cost of checking an API key on SQLite (indexed lookup + HMAC-SHA256 + constant-time compare)
/// against the floor: opening a pooled connection and running <c>SELECT 1</c>.
/// </summary>
[MemoryDiagnoser]
public class ApiKeyBenchmarks
{
    private string _folder = "";
    private MetadataDatabase _database = null!;
    private ApiKeyStore _keys = null!;
    private string _token = "";

    [GlobalSetup]
    public async Task Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ballast-bench-").FullName;
        _database = await MetadataMigrator.OpenMigratedAsync(DatabaseLocation.Parse("sqlite:" + Path.Combine(_folder, "ballast.db")));
        _keys = new ApiKeyStore(_database, TimeProvider.System);
        for (var i = 0; i < 1000; i++)
        {
            await _keys.CreateAsync($"key-{i}", ApiKeyRole.Reader);
        }

        _token = (await _keys.CreateAsync("bench", ApiKeyRole.Writer)).Token;
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _database.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "open + SELECT 1")]
    public async Task<long> SelectOne()
    {
        await using var connection = await _database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT 1");
    }

    [Benchmark(Description = "AuthenticateAsync (1001 keys)")]
    public Task<ApiKey?> Authenticate() => _keys.AuthenticateAsync(_token);
}
