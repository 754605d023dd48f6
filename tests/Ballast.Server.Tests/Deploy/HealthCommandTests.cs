namespace Ballast.Tests.Deploy;

/// <summary><c>ballast health</c>, the container's health check, against a real server.</summary>
public sealed class HealthCommandTests
{
    [Fact]
    public async Task Health_exits_0_for_a_live_and_ready_server()
    {
        await using var server = await RunningServer.StartAsync();
        var live = await CliProcess.RunAsync("health", "--url", server.BaseAddress.ToString());
        live.ExitCode.ShouldBe(0, live.ToString());
        live.Output.ShouldContain("/health 200 {\"status\":\"ok\"}");

        var ready = await CliProcess.RunAsync("health", "--url", server.BaseAddress.ToString(), "--ready");
        ready.ExitCode.ShouldBe(0, ready.ToString());
        ready.Output.ShouldContain("/v2/health/ready 200");
    }

    [Fact]
    public async Task Health_exits_1_when_not_ready()
    {
        // An endpoint whose model does not exist is stored but not served: the server is alive and not ready.
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        using var created = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(client, "/api/v1/endpoints",
            new { name = "ghost", variants = new[] { new { name = "a", model = "models:/ghost/1" } } }, TestContext.Current.CancellationToken);
        created.StatusCode.ShouldBe(System.Net.HttpStatusCode.Created);

        (await CliProcess.RunAsync("health", "--url", server.BaseAddress.ToString())).ExitCode.ShouldBe(0);
        var ready = await CliProcess.RunAsync("health", "--url", server.BaseAddress.ToString(), "--ready");
        ready.ExitCode.ShouldBe(1, ready.ToString());
        ready.Output.ShouldContain("/v2/health/ready 503");
    }

    [Theory]
    [InlineData("--url", "ftp://127.0.0.1", "--url 'ftp://127.0.0.1' is not an http:// or https:// URL")]
    [InlineData("--timeout", "0", "--timeout must be between 0 and 300 seconds, not 0")]
    public async Task Bad_options_are_usage_errors(string option, string value, string message)
    {
        var result = await CliProcess.RunAsync("health", option, value);
        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain(message);
    }
}
