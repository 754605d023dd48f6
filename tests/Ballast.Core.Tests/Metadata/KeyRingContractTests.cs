using Ballast.Metadata;
using Ballast.Security;
using Dapper;

namespace Ballast.Tests.Metadata;

/// <summary>
/// The key ring's table and lock (<see cref="KeyRingStore"/>, migration 21), on SQLite and on a real PostgreSQL: what
/// one replica adds every other reads back, in order, and the lock admits one holder at a time across processes.
/// </summary>
public abstract class KeyRingContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    [Fact]
    public async Task Elements_added_by_one_replica_are_read_back_by_another_in_the_order_they_were_added()
    {
        var first = new KeyRingStore(Database, Time);
        first.List().ShouldBeEmpty();
        first.Add("key-1", "<key id=\"1\" />");
        Time.Advance(TimeSpan.FromSeconds(5));
        first.Add("revocation-1", "<revocation><key id=\"1\" /></revocation>");

        await using var other = new MetadataDatabase(Location);
        var elements = new KeyRingStore(other, Time).List();
        elements.Select(e => (e.Name, e.Xml)).ShouldBe([("key-1", "<key id=\"1\" />"), ("revocation-1", "<revocation><key id=\"1\" /></revocation>")]);
        elements[0].CreatedAt.ShouldBe(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        elements[1].CreatedAt.ShouldBe(new DateTimeOffset(2026, 11, 25, 12, 0, 5, TimeSpan.Zero));
        elements[0].Id.ShouldBeLessThan(elements[1].Id);
    }

    [Fact]
    public void A_large_element_is_stored_whole()
    {
        var store = new KeyRingStore(Database, Time);
        var xml = "<key>" + new string('x', 100_000) + "</key>";
        store.Add("key-big", xml);
        store.List().ShouldHaveSingleItem().Xml.ShouldBe(xml);
    }

    [Fact]
    public void Nameless_or_overlong_elements_are_refused()
    {
        var store = new KeyRingStore(Database, Time);
        Should.Throw<ArgumentException>(() => store.Add(" ", "<key />"));
        Should.Throw<ArgumentException>(() => store.Add("key-1", ""));
        Should.Throw<ArgumentOutOfRangeException>(() => store.Add(new string('k', KeyRingStore.MaxNameLength + 1), "<key />"));
        store.List().ShouldBeEmpty();
    }

    [Fact]
    public async Task The_lock_admits_one_replica_at_a_time()
    {
        var inside = 0;
        var most = 0;
        var holders = Enumerable.Range(0, 5).Select(async replica =>
        {
            await using var database = new MetadataDatabase(Location);
            var store = new KeyRingStore(database, Time);
            await using (await store.LockAsync(Cancel))
            {
                var now = Interlocked.Increment(ref inside);
                InterlockedMax(ref most, now);
                // Work under the lock that yields, so that a broken lock would let another replica in meanwhile.
                await using var connection = await database.OpenAsync(Cancel);
                await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM data_protection_keys");
                if (store.List().Count == 0)
                {
                    store.Add($"key-{replica}", "<key />");
                }

                Interlocked.Decrement(ref inside);
            }
        });
        await Task.WhenAll(holders);

        most.ShouldBe(1);
        new KeyRingStore(Database, Time).List().Count.ShouldBe(1, "the first holder added the key; the others found it");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}

public sealed class SqliteKeyRingTests() : KeyRingContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresKeyRingTests() : KeyRingContractTests(DatabaseEngine.Postgres);
