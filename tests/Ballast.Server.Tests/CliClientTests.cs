using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Client;
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
        var list = (await CliProcess.RunAsync("models", "list", "--url", url)).Output;
        list.ShouldContain("champion=v1");
        list.ShouldNotContain("None"); // a version without a stage is just "v1"
        await MlflowHttp.PostAsync(client, "model-versions/transition-stage", new { name = "churn", version = "1", stage = "Production" });
        (await CliProcess.RunAsync("models", "list", "--url", url)).Output.ShouldContain("v1 (Production)");
        (await CliProcess.RunAsync("models", "show", "churn", "--url", url)).Output.ShouldContain("aliases");
    }

    [Fact]
    public async Task Lists_follow_page_tokens_to_the_end_and_runs_search_still_stops_at_max_results()
    {
        await using var server = await RunningServer.StartAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        using var client = server.Client();
        const int Count = 5;
        var runIds = new List<string>();
        for (var i = 0; i < Count; i++)
        {
            await MlflowHttp.PostAsync(client, "experiments/create", new { name = $"paged-{i}" });
            await MlflowHttp.PostAsync(client, "registered-models/create", new { name = $"paged-model-{i}" });
            var runId = (await MlflowHttp.PostAsync(client, "runs/create", new { experiment_id = "1", run_name = $"run-{i}" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
            await MlflowHttp.PostAsync(client, "runs/log-batch", new { run_id = runId, metrics = new[] { new { key = "auc", value = 0.5 + i / 10.0, timestamp = 1L, step = 0L } } });
            await MlflowHttp.PostAsync(client, "model-versions/create", new { name = "paged-model-0", source = $"runs:/{runId}/model", run_id = runId });
            runIds.Add(runId);
        }

        // Pages of 2: three requests for five or six items, each with the token of the one before.
        async Task<List<string>> ListAsync(string items, string field, params string[] args)
        {
            var result = await CliProcess.RunAsync([.. args, "--page-size", "2", "--url", url, "--json"]);
            result.ExitCode.ShouldBe(0, result.ToString());
            return [.. JsonDocument.Parse(result.Output).RootElement.GetProperty(items).EnumerateArray().Select(item => item.GetProperty(field).GetString()!)];
        }

        (await ListAsync("experiments", "name", "experiments", "list")).Order().ShouldBe(["Default", .. Enumerable.Range(0, Count).Select(i => $"paged-{i}")]);
        (await ListAsync("registered_models", "name", "models", "list")).Order().ShouldBe(Enumerable.Range(0, Count).Select(i => $"paged-model-{i}"));
        (await ListAsync("model_versions", "version", "models", "versions", "paged-model-0")).Select(int.Parse).Order().ShouldBe(Enumerable.Range(1, Count));
        var table = await CliProcess.RunAsync("experiments", "list", "--page-size", "2", "--url", url);
        table.Output.TrimEnd('\n').Split('\n').Length.ShouldBe(1 + 1 + Count, table.Output);

        // Runs: all of them across pages, and --max-results still stops the list, mid-page, in the search's order.
        var byAuc = Enumerable.Reverse(runIds).ToList();
        var runs = await CliProcess.RunAsync("runs", "search", "--experiment", "paged-0", "--order-by", "metrics.auc DESC", "--page-size", "2", "--url", url, "--json");
        JsonDocument.Parse(runs.Output).RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_id").GetString()).ShouldBe(byAuc);
        var three = await CliProcess.RunAsync("runs", "search", "--experiment", "paged-0", "--order-by", "metrics.auc DESC", "--max-results", "3", "--page-size", "2", "--url", url, "--json");
        JsonDocument.Parse(three.Output).RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_id").GetString()).ShouldBe(byAuc.Take(3));

        // The client's helper pages Ballast's own lists too: the audit trail, with its snake_case parameters.
        var ballast = new BallastClient(client);
        var everything = await client.GetFromJsonAsync<JsonElement>("/api/v1/audit?max_results=1000", Cancel);
        var ids = everything.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).ToList();
        ids.Count.ShouldBe(2 * Count);
        var paged = new List<long>();
        await foreach (var audit in ballast.GetAllAsync("/api/v1/audit", "events", pageSize: 3, parameters: PageParameters.Ballast, cancellationToken: Cancel))
        {
            paged.Add(audit.GetProperty("id").GetInt64());
        }

        paged.ShouldBe(ids);
        var limited = new List<long>();
        await foreach (var audit in ballast.GetAllAsync("/api/v1/audit?resource_type=model_version", "events", limit: 4, pageSize: 3, parameters: PageParameters.Ballast, cancellationToken: Cancel))
        {
            limited.Add(audit.GetProperty("id").GetInt64());
        }

        limited.Count.ShouldBe(4);
        var merged = await ballast.GetListAsync("/api/v1/audit", "events", pageSize: 3, parameters: PageParameters.Ballast, cancellationToken: Cancel);
        merged.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).ShouldBe(ids);
        merged.TryGetProperty("next_page_token", out _).ShouldBeFalse("one answer for the whole list");
        (await ballast.GetListAsync("/api/v1/audit", "events", limit: 0, parameters: PageParameters.Ballast, cancellationToken: Cancel)).GetRawText().ShouldBe("{\"events\":[]}");

        // ballast audit: the same trail, filtered, every page of it, as JSON or a table.
        var versionEvents = await CliProcess.RunAsync("audit", "--resource-type", "model_version", "--url", url, "--json");
        versionEvents.ExitCode.ShouldBe(0, versionEvents.ToString());
        JsonDocument.Parse(versionEvents.Output).RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("resource").GetString())
            .ShouldBe(Enumerable.Range(1, Count).Reverse().Select(version => $"paged-model-0/{version}"));
        var trail = await CliProcess.RunAsync("audit", "--resource", "paged-model-3", "--url", url);
        trail.ExitCode.ShouldBe(0, trail.ToString());
        var lines = trail.Output.TrimEnd('\n').Split('\n');
        lines.Length.ShouldBe(2, trail.Output);
        lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["TIME", "ACTOR", "ACTION", "RESOURCE", "DETAILS"]);
        lines[1].ShouldContain("registered_model paged-model-3");
        (await CliProcess.RunAsync("audit", "--resource-type", "run", "--url", url)).ExitCode.ShouldBe(2, "registered_model or model_version");
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
        var exported = Path.Combine(Path.GetTempPath(), $"ballast-nosuch-{Guid.NewGuid():N}.csv");
        var noEndpoint = await CliProcess.RunAsync("predictions", "export", "--endpoint", "nosuch", "-o", exported, "--url", url);
        (noEndpoint.ExitCode, noEndpoint.Error).ShouldBe((1, "error: Endpoint 'nosuch' does not exist and has no logged predictions.\n"));
        (File.Exists(exported), File.Exists(exported + ".partial")).ShouldBe((false, false), "a refused export leaves no file behind");
        // An error about the file names the file asked for, not the temporary name it is written under.
        var noFolder = Path.Combine(Path.GetTempPath(), $"ballast-missing-{Guid.NewGuid():N}", "predictions.csv");
        var unwritable = await CliProcess.RunAsync("predictions", "export", "--endpoint", "nosuch", "-o", noFolder, "--url", url);
        (unwritable.ExitCode, unwritable.Error).ShouldBe((1, $"error: Could not find a part of the path '{noFolder}'.\n"));
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
