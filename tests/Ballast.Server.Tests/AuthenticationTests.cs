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
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var detail = problem.GetProperty("detail").GetString()!;
        detail.ShouldContain("name: key name 'has space' may contain only");
        detail.ShouldContain("role: must be one of reader, writer, admin, not 'owner'");
        var errors = problem.GetProperty("errors").EnumerateArray().Select(error => error.GetString()!).ToList();
        errors.Count.ShouldBe(2);
        errors[1].ShouldBe("role: must be one of reader, writer, admin, not 'owner'");

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

    [Fact]
    public async Task Scoring_without_a_key_is_open_until_the_first_key_then_needs_one_and_roles_still_hold()
    {
        await using var server = await RunningServer.StartAsync();
        using var anonymous = server.Client();
        await Serving.ServingHelpers.RegisterIrisAsync(anonymous, times: 2);
        (await anonymous.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } } }, Cancel))
            .StatusCode.ShouldBe(HttpStatusCode.OK);

        // Open: the anonymous user is an admin, so it may force a variant; a key that is sent is checked all the same.
        for (var i = 0; i < 3; i++)
        {
            (await InferAsync(anonymous)).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await InferAsync(anonymous, "/endpoints/iris/invocations")).StatusCode.ShouldBe(HttpStatusCode.OK);
            using var forced = await InferAsync(anonymous, variant: "b");
            forced.StatusCode.ShouldBe(HttpStatusCode.OK);
            forced.Headers.GetValues("Ballast-Variant").Single().ShouldBe("b");
        }

        using (var wrong = server.Client("blst_nope_nope"))
        {
            (await InferAsync(wrong)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        var admin = await CreateKeyAsync(anonymous, "root", "admin");
        using var adminClient = server.Client(admin);
        var reader = await CreateKeyAsync(adminClient, "reader", "reader");

        // Closed at once, and on every later request (the gate's cached answer then says keys exist).
        for (var i = 0; i < 3; i++)
        {
            using var refused = await InferAsync(anonymous);
            refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            refused.Headers.WwwAuthenticate.ToString().ShouldBe("Bearer");
            (await InferAsync(anonymous, "/endpoints/iris/invocations")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            (await anonymous.GetAsync("/v2/models/iris", Cancel)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            (await anonymous.GetAsync("/v2/health/live", Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK, "liveness never needs a key");
        }

        using var readerClient = server.Client(reader);
        (await InferAsync(readerClient)).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var readerForced = await InferAsync(readerClient, variant: "b");
        readerForced.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await readerForced.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe("Forcing a variant with Ballast-Variant needs the role 'writer' or higher; this API key ('reader') has the role 'reader'.");
        (await InferAsync(adminClient, variant: "b")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_insecure_server_scores_without_a_key_even_when_keys_exist_but_still_checks_a_key_that_is_sent()
    {
        await using var server = await RunningServer.StartAsync(options => options with { Insecure = true });
        using var anonymous = server.Client();
        await Serving.ServingHelpers.RegisterIrisAsync(anonymous);
        (await anonymous.PutAsJsonAsync("/api/v1/endpoints/iris", new { variants = new[] { new { name = "a", model = "models:/iris/1" } } }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await CreateKeyAsync(anonymous, "root", "admin");

        (await InferAsync(anonymous)).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var wrong = server.Client("garbage");
        (await InferAsync(wrong)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    private static async Task<HttpResponseMessage> InferAsync(HttpClient client, string path = "/v2/models/iris/infer", string? variant = null)
    {
        object body = path.StartsWith("/v2", StringComparison.Ordinal)
            ? new { inputs = new[] { Serving.ServingHelpers.IrisRow } }
            : new { instances = new[] { new[] { 5.1, 3.5, 1.4, 0.2 } } };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (variant is not null)
        {
            request.Headers.Add("Ballast-Variant", variant);
        }

        return await client.SendAsync(request, Cancel);
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
