using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Tests.Tracking;

namespace Ballast.Tests;

/// <summary>The client commands (`experiments`, `runs`, `models`) run as processes against a real server.</summary>
public sealed class CliClientTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Experiments_runs_and_models_are_listed_searched_and_aliased_from_the_command_line()
    {
        await using var server = await RunningServer.StartAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        using var client = server.Client();

        var created = await CliProcess.RunAsync("experiments", "create", "cli-exp", "--url", url);
        created.ExitCode.ShouldBe(0, created.ToString());
        created.Output.ShouldContain("1");
        var experiments = await CliProcess.RunAsync("experiments", "list", "--url", url, "--json");
        JsonDocument.Parse(experiments.Output).RootElement.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ShouldContain("cli-exp");
        (await CliProcess.RunAsync("experiments", "list", "--url", url)).Output.ShouldStartWith("ID");

        foreach (var (name, auc) in new[] { ("low", 0.4), ("high", 0.9) })
        {
            var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "1", run_name = name })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
            await MlflowHttp.PostAsync(client, "runs/log-batch", new { run_id = runId, metrics = new[] { new { key = "auc", value = auc, timestamp = 1L, step = 0L } }, @params = new[] { new { key = "model", value = "lgbm" } } });
        }

        var search = await CliProcess.RunAsync("runs", "search", "--experiment", "cli-exp", "--filter", "metrics.auc > 0.5", "--order-by", "metrics.auc DESC", "--url", url, "--json");
        search.ExitCode.ShouldBe(0, search.ToString());
        var found = JsonDocument.Parse(search.Output).RootElement.GetProperty("runs");
        found.GetArrayLength().ShouldBe(1);
        var highId = found[0].GetProperty("info").GetProperty("run_id").GetString()!;
        var show = await CliProcess.RunAsync("runs", "show", highId, "--url", url);
        show.Output.ShouldContain("params.model");
        show.Output.ShouldContain("metrics.auc");

        await MlflowHttp.PostAsync(client, "registered-models/create", new { name = "churn" });
        await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "churn", source = $"runs:/{highId}/model", run_id = highId });
        var alias = await CliProcess.RunAsync("models", "alias", "set", "churn", "champion", "1", "--url", url);
        alias.ExitCode.ShouldBe(0, alias.ToString());
        alias.Output.ShouldBe("churn@champion -> version 1\n");
        var versions = await CliProcess.RunAsync("models", "versions", "churn", "--url", url, "--json");
        JsonDocument.Parse(versions.Output).RootElement.GetProperty("model_versions")[0].GetProperty("aliases")[0].GetString().ShouldBe("champion");
        (await CliProcess.RunAsync("models", "list", "--url", url)).Output.ShouldContain("champion=v1");
        (await CliProcess.RunAsync("models", "show", "churn", "--url", url)).Output.ShouldContain("aliases");
    }

    [Fact]
    public async Task Server_refusals_and_an_unreachable_server_are_one_line_errors_with_exit_code_1()
    {
        await using var server = await RunningServer.StartAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');

        var missing = await CliProcess.RunAsync("runs", "show", "0123456789abcdef0123456789abcdef", "--url", url);
        missing.ExitCode.ShouldBe(1, missing.ToString());
        missing.Error.ShouldBe("error: Run with id=0123456789abcdef0123456789abcdef not found\n");
        // Unknown names are errors, never an empty table or file.
        var noModel = await CliProcess.RunAsync("models", "versions", "nosuch", "--url", url);
        (noModel.ExitCode, noModel.Error).ShouldBe((1, "error: Registered Model with name=nosuch not found\n"));
        var noEndpoint = await CliProcess.RunAsync("predictions", "export", "--endpoint", "nosuch", "-o", Path.Combine(Path.GetTempPath(), $"ballast-nosuch-{Guid.NewGuid():N}.csv"), "--url", url);
        (noEndpoint.ExitCode, noEndpoint.Error).ShouldBe((1, "error: Endpoint 'nosuch' does not exist and has no logged predictions.\n"));
        var noMonitor = await CliProcess.RunAsync("monitors", "report", "nosuch", "1", "--url", url);
        (noMonitor.ExitCode, noMonitor.Error).ShouldBe((1, "error: Monitor 'nosuch' does not exist.\n"));

        using var client = server.Client();
        await client.PostAsJsonAsync("/api/v1/keys", new { name = "root", role = "admin" }, Cancel);
        var unauthenticated = await CliProcess.RunAsync("models", "list", "--url", url);
        unauthenticated.ExitCode.ShouldBe(1);
        unauthenticated.Error.ShouldContain("needs an API key");

        var unreachable = await CliProcess.RunAsync("experiments", "list", "--url", "http://127.0.0.1:1");
        unreachable.ExitCode.ShouldBe(1);
        unreachable.Error.ShouldStartWith("error: Cannot reach Ballast at http://127.0.0.1:1/");
        unreachable.Error.Trim().Split('\n').Length.ShouldBe(1);

        (await CliProcess.RunAsync("experiments", "list", "--url", "not a url")).ExitCode.ShouldBe(2);
    }
}
