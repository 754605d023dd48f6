using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Metadata;
using Ballast.Security;

namespace Ballast.Tests;

public sealed class AuthenticationTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_loopback_server_without_keys_is_open_and_creating_the_first_key_closes_it()
    {
        await using var server = await RunningServer.StartAsync();
        using var anonymous = server.Client();

        (await anonymous.GetAsync("/api/v1/keys", Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var admin = await CreateKeyAsync(anonymous, "root", "admin");

        using var response = await anonymous.GetAsync("/api/v1/keys", Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().ShouldBe("Bearer");
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!.ShouldContain("Authorization: Bearer");

        using var withKey = server.Client(admin);
        (await withKey.GetAsync("/api/v1/keys", Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_key_with_too_low_a_role_gets_403_naming_both_roles()
    {
        await using var server = await StartWithKeysAsync();
        using var reader = server.Server.Client(server.Reader);
        using var response = await reader.GetAsync("/api/v1/keys", Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString();
        detail.ShouldBe("This API key has the role 'reader'; this request needs 'admin' or higher.");
    }

    [Fact]
    public async Task A_revoked_key_gets_401_at_once()
    {
        await using var server = await StartWithKeysAsync();
        using var admin = server.Server.Client(server.Admin);
        (await admin.GetAsync("/api/v1/keys", Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);

        (await admin.DeleteAsync("/api/v1/keys/root", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        using var response = await admin.GetAsync("/api/v1/keys", Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("The API key is invalid or has been revoked.");
    }

    [Theory]
    [InlineData("blst_nope_nope")]
    [InlineData("garbage")]
    public async Task A_wrong_key_gets_401_even_where_anonymous_access_is_allowed(string token)
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client(token);
        (await client.GetAsync("/api/v1/keys", Cancel)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await client.GetAsync("/health", Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK, "liveness never needs a key");
    }

    [Fact]
    public async Task Key_administration_validates_its_input_and_reports_conflicts()
    {
        await using var server = await StartWithKeysAsync();
        using var admin = server.Server.Client(server.Admin);

        using var bad = await admin.PostAsJsonAsync("/api/v1/keys", new { name = "has space", role = "owner" }, Cancel);
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var detail = (await bad.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!;
        detail.ShouldContain("name: key name 'has space' may contain only");
        detail.ShouldContain("role: must be one of reader, writer, admin, not 'owner'");

        using var taken = await admin.PostAsJsonAsync("/api/v1/keys", new { name = "reader", role = "reader" }, Cancel);
        taken.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await taken.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("code").GetString().ShouldBe("RESOURCE_ALREADY_EXISTS");

        (await admin.DeleteAsync("/api/v1/keys/nobody", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Keys_created_outside_the_server_are_honoured_without_a_restart()
    {
        await using var server = await StartWithKeysAsync();
        await using var database = await MetadataMigrator.OpenMigratedAsync(DatabaseLocation.Parse("sqlite:" + Path.Combine(server.Server.DataDir, "ballast.db")), Cancel);
        var created = await new ApiKeyStore(database, TimeProvider.System).CreateAsync("from-cli", ApiKeyRole.Admin, Cancel);

        using var client = server.Server.Client(created.Token);
        (await client.GetAsync("/api/v1/keys", Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static async Task<string> CreateKeyAsync(HttpClient client, string name, string role)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/keys", new { name, role }, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        body.GetProperty("name").GetString().ShouldBe(name);
        return body.GetProperty("token").GetString()!;
    }

    private static async Task<KeyedServer> StartWithKeysAsync()
    {
        var server = await RunningServer.StartAsync();
        using var anonymous = server.Client();
        var admin = await CreateKeyAsync(anonymous, "root", "admin");
        using var adminClient = server.Client(admin);
        var reader = await CreateKeyAsync(adminClient, "reader", "reader");
        return new KeyedServer(server, admin, reader);
    }

    private sealed record KeyedServer(RunningServer Server, string Admin, string Reader) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }
}
