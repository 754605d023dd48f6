using Ballast.Features;
using Ballast.Metadata;
using Ballast.Tests.Metadata;

namespace Ballast.Tests.Features;

/// <summary>
/// The online store's contract, run on the embedded store (SQLite and PostgreSQL) and on Redis: newer values win, older
/// and identical writes change nothing, reads keep the keys' order with null for unknown keys, views are separate.
/// </summary>
public abstract class OnlineStoreContractTests : IAsyncLifetime
{
    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    protected abstract Task<IOnlineStore> OpenAsync();

    private IOnlineStore _store = null!;

    public virtual async ValueTask InitializeAsync() => _store = await OpenAsync();

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_newer_value_replaces_and_an_older_or_identical_one_changes_nothing()
    {
        (await _store.WriteAsync("stats", [new OnlineRow("1", 1000, """{"spend":1.5}"""), new OnlineRow("2", 1000, """{"spend":2}""")], Cancel)).ShouldBe(2);
        (await _store.WriteAsync("stats", [new OnlineRow("1", 1000, """{"spend":1.5}""")], Cancel)).ShouldBe(0, "replaying the same row is idempotent");
        (await _store.WriteAsync("stats", [new OnlineRow("1", 999, """{"spend":0.5}""")], Cancel)).ShouldBe(0, "an older value never replaces a newer one");
        (await _store.WriteAsync("stats", [new OnlineRow("1", 2000, """{"spend":3}""")], Cancel)).ShouldBe(1);

        var rows = await _store.ReadAsync("stats", ["2", "missing", "1"], Cancel);

        rows.ShouldBe([new OnlineRow("2", 1000, """{"spend":2}"""), null, new OnlineRow("1", 2000, """{"spend":3}""")]);
    }

    [Fact]
    public async Task Views_are_separate_and_deleting_one_leaves_the_others()
    {
        await _store.WriteAsync("a", [new OnlineRow("k", 1, """{"x":1}"""), new OnlineRow("k:2", 1, """{"x":2}""")], Cancel);
        await _store.WriteAsync("a_b", [new OnlineRow("k", 1, """{"y":"b"}""")], Cancel);

        (await _store.DeleteViewAsync("a", Cancel)).ShouldBe(2);

        (await _store.ReadAsync("a", ["k", "k:2"], Cancel)).ShouldBe([null, null]);
        (await _store.ReadAsync("a_b", ["k"], Cancel)).ShouldBe([new OnlineRow("k", 1, """{"y":"b"}""")]);
    }

    [Fact]
    public async Task Many_keys_are_read_in_one_call_in_order()
    {
        var rows = Enumerable.Range(0, 1200).Select(i => new OnlineRow($"key-{i}", i, $$"""{"i":{{i}}}""")).ToList();
        (await _store.WriteAsync("bulk", rows, Cancel)).ShouldBe(1200);

        var keys = Enumerable.Range(0, 1200).Reverse().Select(i => $"key-{i}").ToList();
        var read = await _store.ReadAsync("bulk", keys, Cancel);

        read.Select(row => row!.EntityKey).ShouldBe(keys);
        read[0]!.Values.ShouldBe("""{"i":1199}""");
    }
}

public abstract class EmbeddedOnlineStoreContractTests(DatabaseEngine engine) : OnlineStoreContractTests
{
    private Func<Task> _drop = () => Task.CompletedTask;
    private MetadataDatabase? _database;

    protected override async Task<IOnlineStore> OpenAsync()
    {
        (var location, _drop) = await TestDatabases.CreateAsync(engine);
        _database = await MetadataMigrator.OpenMigratedAsync(location, Cancel);
        return new EmbeddedOnlineStore(_database, TimeProvider.System);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        await _drop();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteOnlineStoreContractTests() : EmbeddedOnlineStoreContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresOnlineStoreContractTests() : EmbeddedOnlineStoreContractTests(DatabaseEngine.Postgres);

/// <summary>Redis from scripts/services.sh (BALLAST_TEST_REDIS); each test uses its own key prefix.</summary>
public sealed class RedisOnlineStoreContractTests : OnlineStoreContractTests
{
    private RedisOnlineStore? _redis;

    protected override async Task<IOnlineStore> OpenAsync()
    {
        _redis = await RedisOnlineStore.ConnectAsync(TestServices.Redis, $"ballast-test:{Guid.NewGuid():N}:");
        return _redis;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
