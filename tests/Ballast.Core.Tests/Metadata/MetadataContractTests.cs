using Ballast.Leasing;
using Ballast.Metadata;
using Ballast.Security;
using Dapper;

namespace Ballast.Tests.Metadata;

/// <summary>
/// The metadata store's contract: every test here runs on SQLite and on a real PostgreSQL
/// (<see cref="SqliteMetadataTests"/>, <see cref="PostgresMetadataTests"/>).
/// </summary>
public abstract class MetadataContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    [Fact]
    public async Task Migrations_applied_twice_change_nothing()
    {
        var before = await AppliedVersionsAsync();
        await MetadataMigrator.MigrateAsync(Database, Cancel);
        await MetadataMigrator.MigrateAsync(Database, Cancel);

        (await AppliedVersionsAsync()).ShouldBe(before);
        before.ShouldContain(MetadataMigrator.LatestVersion);
    }

    [Fact]
    public async Task Migrations_started_at_once_by_many_instances_all_succeed_on_a_fresh_database()
    {
        var (location, drop) = await TestDatabases.CreateAsync(Engine);
        try
        {
            var runs = Enumerable.Range(0, 6).Select(async _ =>
            {
                await using var database = new MetadataDatabase(location);
                await MetadataMigrator.MigrateAsync(database, Cancel);
            });
            await Task.WhenAll(runs);

            await using var check = new MetadataDatabase(location);
            await using var connection = await check.OpenAsync(Cancel);
            var versions = (await connection.QueryAsync<long>("SELECT \"Version\" FROM \"VersionInfo\"")).ToList();
            versions.ShouldBe(versions.Distinct().ToList(), "each migration is recorded once");
            versions.ShouldContain(MetadataMigrator.LatestVersion);
        }
        finally
        {
            await drop();
        }
    }

    [Fact]
    public async Task A_lease_has_one_holder_until_it_expires_then_another_takes_it_over()
    {
        var leases = new LeaseStore(Database, Time);
        var first = await leases.TryAcquireAsync("rollouts", "replica-a", TimeSpan.FromSeconds(30), Cancel);
        first.ShouldNotBeNull();
        first.Epoch.ShouldBe(1);

        (await leases.TryAcquireAsync("rollouts", "replica-b", TimeSpan.FromSeconds(30), Cancel)).ShouldBeNull();
        (await leases.GetAsync("rollouts", Cancel))!.Holder.ShouldBe("replica-a");

        // replica-a dies: it stops renewing. Just before expiry the lease is still its own.
        Time.Advance(TimeSpan.FromSeconds(29));
        (await leases.TryAcquireAsync("rollouts", "replica-b", TimeSpan.FromSeconds(30), Cancel)).ShouldBeNull();

        Time.Advance(TimeSpan.FromSeconds(1));
        (await leases.GetAsync("rollouts", Cancel)).ShouldBeNull();
        var takeover = await leases.TryAcquireAsync("rollouts", "replica-b", TimeSpan.FromSeconds(30), Cancel);
        takeover.ShouldNotBeNull();
        takeover.Holder.ShouldBe("replica-b");
        takeover.Epoch.ShouldBe(2, "a change of holder fences the old one");

        // The old holder comes back: it cannot reclaim a lease it lost.
        (await leases.TryAcquireAsync("rollouts", "replica-a", TimeSpan.FromSeconds(30), Cancel)).ShouldBeNull();
    }

    [Fact]
    public async Task The_lease_observer_is_told_each_replica_whether_it_holds_the_lease()
    {
        var a = new RecordingLeaseObserver();
        var b = new RecordingLeaseObserver();
        var replicaA = new LeaseStore(Database, Time, a);
        var replicaB = new LeaseStore(Database, Time, b);

        await replicaA.TryAcquireAsync("alerts", "a", TimeSpan.FromSeconds(15), Cancel);
        await replicaB.TryAcquireAsync("alerts", "b", TimeSpan.FromSeconds(15), Cancel);
        a.Held.ShouldBe([("alerts", true)]);
        b.Held.ShouldBe([("alerts", false)]);

        // a stalls past expiry: b takes over, and a learns it lost the lease on its next attempt.
        Time.Advance(TimeSpan.FromSeconds(15));
        await replicaB.TryAcquireAsync("alerts", "b", TimeSpan.FromSeconds(15), Cancel);
        await replicaA.TryAcquireAsync("alerts", "a", TimeSpan.FromSeconds(15), Cancel);
        b.Held[^1].ShouldBe(("alerts", true));
        a.Held[^1].ShouldBe(("alerts", false));

        // Releasing tells the holder it no longer holds it; a cancelled attempt counts as not held.
        (await replicaB.ReleaseAsync("alerts", "b", Cancel)).ShouldBeTrue();
        b.Held[^1].ShouldBe(("alerts", false));
        await replicaB.TryAcquireAsync("alerts", "b", TimeSpan.FromSeconds(15), Cancel);
        b.Held[^1].ShouldBe(("alerts", true));
        await Should.ThrowAsync<OperationCanceledException>(() => replicaB.TryAcquireAsync("alerts", "b", TimeSpan.FromSeconds(15), new CancellationToken(canceled: true)));
        b.Held[^1].ShouldBe(("alerts", false));
    }

    private sealed class RecordingLeaseObserver : ILeaseObserver
    {
        public List<(string Name, bool Held)> Held { get; } = [];

        public void HeldChanged(string name, bool held) => Held.Add((name, held));
    }

    [Fact]
    public async Task Renewing_a_lease_extends_it_and_keeps_its_epoch()
    {
        var leases = new LeaseStore(Database, Time);
        var first = await leases.TryAcquireAsync("monitors", "a", TimeSpan.FromSeconds(10), Cancel);
        Time.Advance(TimeSpan.FromSeconds(8));
        var renewed = await leases.TryAcquireAsync("monitors", "a", TimeSpan.FromSeconds(10), Cancel);

        renewed.ShouldNotBeNull();
        renewed.Epoch.ShouldBe(first!.Epoch);
        renewed.AcquiredAt.ShouldBe(first.AcquiredAt);
        renewed.ExpiresAt.ShouldBe(Time.GetUtcNow().AddSeconds(10));

        Time.Advance(TimeSpan.FromSeconds(8));
        (await leases.TryAcquireAsync("monitors", "b", TimeSpan.FromSeconds(10), Cancel)).ShouldBeNull("the renewal moved the expiry");
    }

    [Fact]
    public async Task A_released_lease_can_be_taken_at_once_and_only_its_holder_can_release_it()
    {
        var leases = new LeaseStore(Database, Time);
        await leases.TryAcquireAsync("pipelines", "a", TimeSpan.FromMinutes(1), Cancel);

        (await leases.ReleaseAsync("pipelines", "b", Cancel)).ShouldBeFalse();
        (await leases.ReleaseAsync("pipelines", "a", Cancel)).ShouldBeTrue();
        (await leases.TryAcquireAsync("pipelines", "b", TimeSpan.FromMinutes(1), Cancel))!.Holder.ShouldBe("b");
    }

    [Fact]
    public async Task Competing_holders_racing_for_a_free_lease_yield_exactly_one_winner()
    {
        for (var round = 0; round < 5; round++)
        {
            var name = $"race-{round}";
            var attempts = Enumerable.Range(0, 8).Select(async holder =>
            {
                // Separate database objects, as separate replicas would have.
                await using var replica = new MetadataDatabase(Location);
                return await new LeaseStore(replica, Time).TryAcquireAsync(name, $"holder-{holder}", TimeSpan.FromSeconds(30), Cancel);
            });
            var results = await Task.WhenAll(attempts);

            var winners = results.Where(lease => lease is not null).ToList();
            winners.Count.ShouldBe(1);
            (await new LeaseStore(Database, Time).GetAsync(name, Cancel))!.Holder.ShouldBe(winners[0]!.Holder);
        }
    }

    [Fact]
    public async Task An_api_key_authenticates_until_revoked_and_its_secret_is_not_stored()
    {
        var keys = new ApiKeyStore(Database, Time);
        var created = await keys.CreateAsync("ci", ApiKeyRole.Writer, Cancel);

        created.Token.ShouldStartWith(ApiKeyStore.TokenPrefix);
        var key = await keys.AuthenticateAsync(created.Token, Cancel);
        key.ShouldNotBeNull();
        key.Name.ShouldBe("ci");
        key.Role.ShouldBe(ApiKeyRole.Writer);

        await using (var connection = await Database.OpenAsync(Cancel))
        {
            var stored = await connection.QuerySingleAsync<string>("SELECT hash FROM api_keys WHERE name = 'ci'");
            // blst_<id>_<secret>: the id has no '_', the secret (base64url) may.
            var secret = created.Token[(created.Token.IndexOf('_', ApiKeyStore.TokenPrefix.Length) + 1)..];
            secret.Length.ShouldBeGreaterThan(20);
            stored.ShouldNotContain(secret);
        }

        (await keys.RevokeAsync("ci", Cancel)).ShouldBeTrue();
        (await keys.AuthenticateAsync(created.Token, Cancel)).ShouldBeNull();
        (await keys.RevokeAsync("ci", Cancel)).ShouldBeFalse("nothing live is left to revoke");
    }

    [Theory]
    [InlineData("")]
    [InlineData("blst_")]
    [InlineData("blst_abc")]
    [InlineData("blst_abc_")]
    [InlineData("Bearer blst_abc_def")]
    [InlineData("not-a-key")]
    public async Task Malformed_or_unknown_tokens_do_not_authenticate(string token)
    {
        var keys = new ApiKeyStore(Database, Time);
        await keys.CreateAsync("someone", ApiKeyRole.Admin, Cancel);
        (await keys.AuthenticateAsync(token, Cancel)).ShouldBeNull();
    }

    [Fact]
    public async Task A_token_with_a_wrong_secret_does_not_authenticate()
    {
        var keys = new ApiKeyStore(Database, Time);
        var created = await keys.CreateAsync("svc", ApiKeyRole.Reader, Cancel);
        var last = created.Token[^1] == 'A' ? 'B' : 'A';
        (await keys.AuthenticateAsync(created.Token[..^1] + last, Cancel)).ShouldBeNull();
    }

    [Fact]
    public async Task Key_names_are_unique_among_live_keys_and_free_again_once_revoked()
    {
        var keys = new ApiKeyStore(Database, Time);
        await keys.CreateAsync("deploy", ApiKeyRole.Writer, Cancel);
        await Should.ThrowAsync<ApiKeyNameTakenException>(() => keys.CreateAsync("deploy", ApiKeyRole.Reader, Cancel));

        await keys.RevokeAsync("deploy", Cancel);
        var again = await keys.CreateAsync("deploy", ApiKeyRole.Admin, Cancel);

        (await keys.ListAsync(cancellationToken: Cancel)).Select(key => (key.Name, key.Role)).ShouldBe([("deploy", ApiKeyRole.Admin)]);
        (await keys.ListAsync(includeRevoked: true, Cancel)).Count.ShouldBe(2);
        (await keys.AuthenticateAsync(again.Token, Cancel)).ShouldNotBeNull();
    }

    [Fact]
    public async Task Creating_one_name_concurrently_makes_exactly_one_key()
    {
        var attempts = Enumerable.Range(0, 6).Select(async _ =>
        {
            await using var replica = new MetadataDatabase(Location);
            try
            {
                await new ApiKeyStore(replica, Time).CreateAsync("race", ApiKeyRole.Reader, Cancel);
                return true;
            }
            catch (ApiKeyNameTakenException)
            {
                return false;
            }
        });

        (await Task.WhenAll(attempts)).Count(created => created).ShouldBe(1);
    }

    [Theory]
    [InlineData("", "a key needs a name")]
    [InlineData("has space", "may contain only")]
    [InlineData("slash/name", "may contain only")]
    public async Task Bad_key_names_are_refused_with_the_reason(string name, string reason)
    {
        var keys = new ApiKeyStore(Database, Time);
        var error = await Should.ThrowAsync<ArgumentException>(() => keys.CreateAsync(name, ApiKeyRole.Reader, Cancel));
        error.Message.ShouldContain(reason);
    }

    private async Task<List<long>> AppliedVersionsAsync()
    {
        await using var connection = await Database.OpenAsync(Cancel);
        return (await connection.QueryAsync<long>("SELECT \"Version\" FROM \"VersionInfo\" ORDER BY \"Version\"")).ToList();
    }
}

public sealed class SqliteMetadataTests() : MetadataContractTests(DatabaseEngine.Sqlite)
{
    [Fact]
    public async Task Sqlite_runs_in_wal_mode_with_foreign_keys()
    {
        await using var connection = await Database.OpenAsync(Cancel);
        (await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode")).ShouldBe("wal");
        (await connection.ExecuteScalarAsync<long>("PRAGMA foreign_keys")).ShouldBe(1);
        (await connection.ExecuteScalarAsync<long>("PRAGMA busy_timeout")).ShouldBeGreaterThan(0);
    }
}

public sealed class PostgresMetadataTests() : MetadataContractTests(DatabaseEngine.Postgres);
