using System.Net;
using System.Text.RegularExpressions;
using Ballast.Configuration;
using Ballast.Metadata;
using Ballast.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Tests.Dashboard;

/// <summary>
/// Two real servers on one metadata database, as two replicas behind a load balancer: they start at once and end with
/// one key ring, and a session cookie and a form token issued by one are accepted by the other. With
/// BALLAST_DATA_PROTECTION_KEY the ring's secrets are encrypted at rest, and a replica without that key, or with
/// another, refuses to start with the reason. On SQLite (two processes on one file) and on PostgreSQL.
/// </summary>
public abstract partial class DashboardReplicaTests(DatabaseEngine engine) : EngineServerTest(engine)
{
    private const string Secret = "0123456789abcdef0123456789abcdef-ring";

    private readonly string _sqlite = Path.Combine(Directory.CreateTempSubdirectory("ballast-replicas-").FullName, "ballast.db");

    private Task<RunningServer> ReplicaAsync(string? secret = null) =>
        StartServerAsync(options => (Engine == DatabaseEngine.Sqlite ? options with { Database = "sqlite:" + _sqlite } : options) with { DataProtectionKey = secret });

    [Fact]
    public async Task Replicas_started_at_once_share_one_key_ring_and_accept_each_others_sessions_and_forms()
    {
        var starting = new[] { ReplicaAsync(), ReplicaAsync() };
        await Task.WhenAll(starting);
        await using var first = await starting[0];
        await using var second = await starting[1];

        var ring = first.App.Services.GetRequiredService<KeyRingStore>().List();
        ring.Count.ShouldBe(1, "one replica created the first key; the other found it");
        ring[0].Xml.ShouldContain("<masterKey", Case.Sensitive, "without BALLAST_DATA_PROTECTION_KEY the secret is stored as the framework wrote it");

        await SignInOnOneUseOnTheOtherAsync(first, second);
        await SignInOnOneUseOnTheOtherAsync(second, first);
    }

    [Fact]
    public async Task An_encrypted_key_ring_is_shared_by_replicas_with_the_same_key_and_refused_without_it()
    {
        await using var first = await ReplicaAsync(Secret);
        var stored = first.App.Services.GetRequiredService<KeyRingStore>().List().ShouldHaveSingleItem().Xml;
        stored.ShouldContain("encryptedSecret");
        stored.ShouldContain("AES-256-GCM");
        stored.ShouldNotContain("<masterKey", Case.Sensitive);
        stored.ShouldNotContain(Secret, Case.Sensitive);

        await using (var second = await ReplicaAsync(Secret))
        {
            await SignInOnOneUseOnTheOtherAsync(first, second);
        }

        var none = await Should.ThrowAsync<BallastStartupException>(() => ReplicaAsync());
        none.IsConfigurationError.ShouldBeTrue();
        none.Message.ShouldStartWith("Invalid configuration: a key of the dashboard's key ring cannot be read: The dashboard's key ring in the metadata database is encrypted (key fingerprint ");
        none.Message.ShouldEndWith("): set BALLAST_DATA_PROTECTION_KEY to the key it was encrypted with.");

        var other = await Should.ThrowAsync<BallastStartupException>(() => ReplicaAsync("another-key-another-key-another-key"));
        other.Message.ShouldContain("was encrypted with another BALLAST_DATA_PROTECTION_KEY (fingerprint ");
        other.Message.ShouldNotContain("another-key-another-key", Case.Sensitive, "the secret is never echoed");

        var tooShort = await Should.ThrowAsync<BallastStartupException>(() => ReplicaAsync("short"));
        tooShort.Message.ShouldBe("Invalid configuration: BALLAST_DATA_PROTECTION_KEY must be at least 32 characters (generate one with `openssl rand -base64 32`).");
    }

    [Fact]
    public async Task Keys_a_single_node_kept_in_its_data_folder_are_taken_into_the_empty_database()
    {
        var dataDir = Directory.CreateTempSubdirectory("ballast-upgrade-").FullName;
        var folder = new DirectoryInfo(Path.Combine(dataDir, "dashboard-keys"));
        var before = DataProtectionProvider.Create(folder, builder => builder.SetApplicationName("ballast")).CreateProtector("Ballast.Dashboard.Session.v1").Protect("issued before the upgrade");

        await using var server = await StartServerAsync(options => options with { DataDir = dataDir });
        server.App.Services.GetRequiredService<KeyRingStore>().List().ShouldHaveSingleItem().Name.ShouldStartWith("key-");
        server.App.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Ballast.Dashboard.Session.v1").Unprotect(before).ShouldBe("issued before the upgrade");
    }

    /// <summary>Signs in through <paramref name="issuer"/>'s form, then uses that session and a form token of its pages on <paramref name="other"/>.</summary>
    private static async Task SignInOnOneUseOnTheOtherAsync(RunningServer issuer, RunningServer other)
    {
        var key = (await issuer.App.Services.GetRequiredService<ApiKeyStore>().CreateAsync("replica-" + Guid.NewGuid().ToString("N")[..8], ApiKeyRole.Reader, Cancel)).Token;
        // Cookies are per host, not per port (RFC 6265): both loopback servers see the same cookie jar, as one site behind a balancer would.
        var jar = new CookieContainer();
        using var handler = new HttpClientHandler { CookieContainer = jar, AllowAutoRedirect = false };
        using var browser = new HttpClient(handler);

        var form = await browser.GetStringAsync(new Uri(issuer.BaseAddress, "/ui/login"), Cancel);
        using (var signIn = await browser.PostAsync(new Uri(issuer.BaseAddress, "/ui/login"), Form(CsrfField().Match(form).Groups[1].Value, ("api_key", key), ("return", "/ui/")), Cancel))
        {
            signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect, await signIn.Content.ReadAsStringAsync(Cancel));
        }

        // The issuer's page carries the sign-out form with its anti-forgery token; the other replica reads the session.
        var page = await browser.GetStringAsync(new Uri(issuer.BaseAddress, "/ui/"), Cancel);
        var token = CsrfField().Match(page).Groups[1].Value;
        using (var elsewhere = await browser.GetAsync(new Uri(other.BaseAddress, "/ui/"), Cancel))
        {
            elsewhere.StatusCode.ShouldBe(HttpStatusCode.OK, "the session cookie of one replica is good on the other");
            (await elsewhere.Content.ReadAsStringAsync(Cancel)).ShouldContain("<span id=\"user\">replica-");
        }

        using var signOut = await browser.PostAsync(new Uri(other.BaseAddress, "/ui/logout"), Form(token), Cancel);
        signOut.StatusCode.ShouldBe(HttpStatusCode.Redirect, "the other replica accepts the form token: " + await signOut.Content.ReadAsStringAsync(Cancel));
        signOut.Headers.Location!.ToString().ShouldBe("/ui/login");
    }

    private static FormUrlEncodedContent Form(string csrf, params (string Name, string Value)[] fields) =>
        new(new Dictionary<string, string>(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))) { ["csrf"] = csrf });

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();
}

public sealed class SqliteDashboardReplicaTests() : DashboardReplicaTests(DatabaseEngine.Sqlite);

public sealed class PostgresDashboardReplicaTests() : DashboardReplicaTests(DatabaseEngine.Postgres);
