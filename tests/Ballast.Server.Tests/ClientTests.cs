using System.Net;
using Ballast.Client;

namespace Ballast.Tests;

public sealed class ClientTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_client_manages_keys_and_surfaces_server_errors_with_their_code_and_message()
    {
        await using var server = await RunningServer.StartAsync();
        var anonymous = BallastClient.Create(server.BaseAddress);

        (await anonymous.GetVersionAsync(Cancel)).Version.ShouldBe(BallastVersion.Current);
        var admin = await anonymous.CreateKeyAsync("root", "admin", Cancel);
        var client = BallastClient.Create(server.BaseAddress, admin.Token);
        await client.CreateKeyAsync("ci", "writer", Cancel);

        (await client.ListKeysAsync(cancellationToken: Cancel)).Select(key => key.Name).ShouldBe(["ci", "root"]);

        var conflict = await Should.ThrowAsync<BallastApiException>(() => client.CreateKeyAsync("ci", "reader", Cancel));
        conflict.Status.ShouldBe(HttpStatusCode.Conflict);
        conflict.Code.ShouldBe("RESOURCE_ALREADY_EXISTS");
        conflict.Message.ShouldContain("'ci' already exists");

        await client.RevokeKeyAsync("ci", Cancel);
        (await client.ListKeysAsync(includeRevoked: true, Cancel)).Single(key => key.Name == "ci").RevokedAt.ShouldNotBeNull();

        var unauthenticated = await Should.ThrowAsync<BallastApiException>(() => anonymous.ListKeysAsync(cancellationToken: Cancel));
        unauthenticated.Status.ShouldBe(HttpStatusCode.Unauthorized);
    }
}
