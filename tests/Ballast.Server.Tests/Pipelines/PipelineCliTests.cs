using System.Net.Http.Json;
using System.Text.Json;
using Ballast.Client;

namespace Ballast.Tests.Pipelines;

/// <summary><c>ballast apply -f pipeline.yaml</c> and <c>ballast pipelines …</c> as a user runs them, against a real server.</summary>
public sealed class PipelineCliTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Apply_run_with_params_and_wait_then_runs_logs_and_a_failing_run_exit_codes()
    {
        await using var server = await RunningServer.StartAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        var file = Path.Combine(server.DataDir, "pipeline.yaml");
        await File.WriteAllTextAsync(file, """
            kind: Pipeline
            name: hello
            parameters:
              - {name: who, type: string, default: world}
              - {name: times, type: int, default: 1}
            steps:
              - name: greet
                kind: command
                with:
                  command: sh
                  args: ["-c", "for i in $(seq ${{ params.times }}); do echo hello ${{ params.who }}; done; echo '{\"greetings\": ${{ params.times }}}' > m.json"]
                  metrics: m.json
              - name: check
                kind: fail
                with: {message: "not enough greetings: ${{ steps.greet.outputs.greetings }}"}
                needs: [greet]
                retries: 0
            """, Cancel);

        var applied = await CliProcess.RunAsync("apply", "-f", file, "--url", url);
        applied.ExitCode.ShouldBe(0, applied.ToString());
        applied.Output.ShouldContain("pipeline/hello: created");
        (await CliProcess.RunAsync("apply", "-f", file, "--url", url)).Output.ShouldContain("pipeline/hello: unchanged");

        var failed = await CliProcess.RunAsync("pipelines", "run", "hello", "--param", "who=ballast", "-p", "times=2", "--wait", "--url", url);
        failed.ExitCode.ShouldBe(1, failed.ToString());
        failed.Output.ShouldContain("failed (step 'check' failed: not enough greetings: 2)");
        failed.Output.ShouldContain("greetings=2");

        var runs = await CliProcess.RunAsync("pipelines", "runs", "hello", "--json", "--url", url);
        runs.ExitCode.ShouldBe(0, runs.ToString());
        var runId = JsonDocument.Parse(runs.Output).RootElement.GetProperty("runs")[0].GetProperty("run_id").GetString()!;
        var logs = await CliProcess.RunAsync("pipelines", "logs", runId, "--step", "greet", "--url", url);
        logs.Output.ShouldContain("hello ballast\nhello ballast\n");

        var bad = await CliProcess.RunAsync("pipelines", "run", "hello", "--param", "times=lots", "--url", url);
        bad.ExitCode.ShouldBe(1);
        bad.Error.ShouldContain("Cannot run pipeline 'hello': parameter 'times' (int): 'lots' is not an integer.");
        (await CliProcess.RunAsync("pipelines", "run", "hello", "--param", "oops", "--url", url)).ExitCode.ShouldBe(2);

        using var client = server.Client();
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/hello/runs", Cancel)).GetProperty("runs").GetArrayLength().ShouldBe(1, "the refused runs were not queued");
        // A second run: `pipelines runs` reads every page (of one here), and --limit stops it.
        var second = await CliProcess.RunAsync("pipelines", "run", "hello", "--wait", "--url", url);
        second.ExitCode.ShouldBe(1, second.ToString());
        var all = await client.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/hello/runs", Cancel);
        var ids = all.GetProperty("runs").EnumerateArray().Select(run => run.GetProperty("run_id").GetString()).ToList();
        ids.Count.ShouldBe(2);
        all.TryGetProperty("next_before", out _).ShouldBeFalse("one page holds both");
        var paged = new List<string?>();
        await foreach (var run in new BallastClient(client).GetAllAsync("/api/v1/pipelines/hello/runs", "runs", pageSize: 1, parameters: PageParameters.Before, cancellationToken: Cancel))
        {
            paged.Add(run.GetProperty("run_id").GetString());
        }

        paged.ShouldBe(ids);
        var newest = JsonDocument.Parse((await CliProcess.RunAsync("pipelines", "runs", "hello", "--limit", "1", "--json", "--url", url)).Output).RootElement;
        newest.GetProperty("runs").EnumerateArray().Single().GetProperty("run_id").GetString().ShouldBe(ids[0]);
        var listed = await CliProcess.RunAsync("get", "pipelines", "--url", url);
        listed.Output.ShouldContain("hello");

        // What a Kubernetes Job's pod runs: one attempt of a step, against the server's database and artifacts.
        var database = "sqlite:" + Path.Combine(server.DataDir, Ballast.Configuration.BallastDefaults.SqliteFileName);
        var artifacts = Path.Combine(server.DataDir, Ballast.Configuration.BallastDefaults.ArtifactsFolder);
        var scratch = Path.Combine(server.DataDir, "pod");
        var step = await CliProcess.RunAsync("pipelines", "step", "--run", runId, "--step", "greet", "--attempt", "2", "--database", database, "--artifacts", artifacts, "--data-dir", scratch);
        step.ExitCode.ShouldBe(0, step.ToString());
        step.Output.ShouldContain("hello ballast\nhello ballast\n");
        step.Output.ShouldContain("step greet succeeded with outputs: greetings");
        var stored = Directory.GetFiles(artifacts, "attempt-2.json", SearchOption.AllDirectories).ShouldHaveSingleItem();
        JsonDocument.Parse(await File.ReadAllTextAsync(stored, Cancel)).RootElement.GetProperty("greetings").GetInt32().ShouldBe(2);
        var failing = await CliProcess.RunAsync("pipelines", "step", "--run", runId, "--step", "check", "--database", database, "--artifacts", artifacts, "--data-dir", scratch);
        failing.ExitCode.ShouldBe(1, failing.ToString());
        failing.Error.ShouldContain("error: not enough greetings: 2");
    }

    [Fact]
    public async Task Apply_lists_every_problem_of_a_pipeline_at_once_and_stores_nothing()
    {
        await using var server = await RunningServer.StartAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        var file = Path.Combine(server.DataDir, "pipeline.yaml");
        await File.WriteAllTextAsync(file, """
            kind: Pipeline
            name: many
            steps:
              - {name: train, kind: echo, with: {model: "${{ steps.deploy.outputs.model }}"}, timeout: forever, retries: 11}
              - {name: deploy, kind: echo, needs: [train]}
            schedule: {cron: "0 6 * * *", time_zone: Mars/Olympus}
            """, Cancel);
        const string Problems = "Invalid pipeline 'many': steps[0] (train): retries 11 must be between 0 and 10; "
            + "steps[0] (train): timeout 'forever' is not a positive duration such as 10s, 5m or 1h; steps: there is a cycle: train -> deploy -> train; "
            + "schedule.time_zone 'Mars/Olympus' is not a known time zone (an IANA id such as Europe/Paris).";

        var dry = await CliProcess.RunAsync("apply", "-f", file, "--dry-run", "--url", url);
        dry.ExitCode.ShouldBe(1, dry.ToString());
        dry.Output.ShouldContain($"pipeline/many: invalid\n  ! {Problems}\n");

        var applied = await CliProcess.RunAsync("apply", "-f", file, "--url", url);
        applied.ExitCode.ShouldBe(1, applied.ToString());
        applied.Error.ShouldContain($"error: pipeline/many: {Problems}");
        using var client = server.Client();
        (await client.GetAsync("/api/v1/pipelines/many", Cancel)).StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Pipelines_skipped_prints_the_starts_max_active_runs_skipped_as_a_table_or_json()
    {
        await using var server = await RunningServer.StartAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        using var client = server.Client();

        // Every second; the first run stays under way (its step waits an hour to retry), so the next occurrences are skipped.
        var steps = new object[] { new { name = "wait", kind = "fail", retries = 1, retry_backoff = "1h", with = new { message = "not yet" } } };
        (await client.PutAsJsonAsync("/api/v1/pipelines/busy", new Dictionary<string, object>
        {
            ["max_active_runs"] = 1, ["steps"] = steps, ["schedule"] = new { cron = "* * * * * *", time_zone = "UTC" },
        }, Cancel)).EnsureSuccessStatusCode();
        await Eventually.UntilAsync(
            async () => (await client.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/busy/skipped-starts", Cancel)).GetProperty("skipped_starts").GetArrayLength(),
            count => count >= 2, TimeSpan.FromMilliseconds(100));
        (await client.PutAsJsonAsync("/api/v1/pipelines/busy", new Dictionary<string, object> { ["max_active_runs"] = 1, ["steps"] = steps }, Cancel)).EnsureSuccessStatusCode();

        var table = await CliProcess.RunAsync("pipelines", "skipped", "busy", "--url", url);
        table.ExitCode.ShouldBe(0, table.ToString());
        var lines = table.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldStartWith("AT");
        lines[0].ShouldContain("TRIGGER");
        lines[0].ShouldContain("REASON");
        lines.Length.ShouldBeGreaterThanOrEqualTo(3, table.ToString());
        lines.Skip(1).ShouldAllBe(line => line.Contains(" schedule ", StringComparison.Ordinal) && line.Contains("schedule:", StringComparison.Ordinal)
            && line.Contains("Pipeline 'busy' has 1 run(s) under way, its max_active_runs is 1: ", StringComparison.Ordinal));

        var json = await CliProcess.RunAsync("pipelines", "skipped", "busy", "--limit", "1", "--json", "--url", url);
        json.ExitCode.ShouldBe(0, json.ToString());
        var newest = JsonDocument.Parse(json.Output).RootElement.GetProperty("skipped_starts").EnumerateArray().ShouldHaveSingleItem();
        newest.GetProperty("dedupe_key").GetString()!.ShouldStartWith("schedule:");
        newest.GetProperty("trigger").GetString().ShouldBe("schedule");
        table.Output.ShouldContain(newest.GetProperty("dedupe_key").GetString()!);
        lines[1].ShouldContain(newest.GetProperty("dedupe_key").GetString()!, customMessage: "newest first");

        var unknown = await CliProcess.RunAsync("pipelines", "skipped", "nosuch", "--url", url);
        (unknown.ExitCode, unknown.Error).ShouldBe((1, "error: Pipeline 'nosuch' does not exist.\n"));
        (await CliProcess.RunAsync("pipelines", "skipped", "busy", "--limit", "0", "--url", url)).ExitCode.ShouldBe(2);

        var run = (await client.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/busy/runs", Cancel)).GetProperty("runs").EnumerateArray().ShouldHaveSingleItem();
        (await client.PostAsync($"/api/v1/pipeline-runs/{run.GetProperty("run_id").GetString()}/cancel", null, Cancel)).EnsureSuccessStatusCode();
    }
}
