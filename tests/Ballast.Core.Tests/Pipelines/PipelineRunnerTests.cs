using System.Text.Json.Nodes;
using Ballast.Metadata;
using Ballast.Pipelines;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Pipelines;

/// <summary>The runner on SQLite and PostgreSQL: DAG order, failure propagation, caching, retries, timeouts, cancel, resume, tracking.</summary>
public abstract class PipelineRunnerTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    private PipelineHarness _harness = null!;

    private PipelineHarness H => _harness ??= new PipelineHarness(Database, Time);

    public override async ValueTask DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }

        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private static PipelineStepSpec Step(string name, string kind, JsonObject? with = null, IReadOnlyList<string>? needs = null, int? retries = null, string? backoff = null, string? timeout = null) =>
        new(name, kind, with, needs, retries, backoff, timeout);

    [Fact]
    public async Task Steps_run_after_what_they_reference_and_values_flow_between_them()
    {
        // Declared backwards: the order comes from the references and needs, not from the list.
        await H.PutAsync(new PipelineSpec("flow", [new PipelineParameter("n", "int", 3)], [
            Step("last", "record", new JsonObject { ["total"] = "${{ steps.middle.outputs.n }}", ["text"] = "n=${{ steps.first.outputs.n }}" }),
            Step("middle", "record", new JsonObject { ["n"] = "${{ steps.first.outputs.n }}" }),
            Step("first", "record", new JsonObject { ["n"] = "${{ params.n }}" }),
            Step("side", "record", needs: ["first"]),
        ]));

        var run = await H.SettleAsync((await H.StartAsync("flow", new() { ["n"] = "42" })).RunId);

        run.Status.ShouldBe(PipelineRunStatuses.Succeeded, run.Error);
        run.Steps.Select(step => step.Step).ShouldBe(["middle", "first", "last", "side"], ignoreOrder: true);
        var order = H.Recorder.Started.ToList();
        order.IndexOf("first").ShouldBeLessThan(order.IndexOf("middle"));
        order.IndexOf("middle").ShouldBeLessThan(order.IndexOf("last"));
        order.IndexOf("first").ShouldBeLessThan(order.IndexOf("side"));
        var last = PipelineHarness.Step(run, "last").Outputs!;
        last["total"]!.GetValue<long>().ShouldBe(42, "a whole-string reference keeps the value's type");
        last["text"]!.GetValue<string>().ShouldBe("n=42");
    }

    [Fact]
    public async Task A_failed_step_skips_its_dependents_lets_independent_branches_finish_and_the_run_resumes_from_it()
    {
        var marker = Path.Combine(H.Folder, "fixed");
        await H.PutAsync(new PipelineSpec("broken", null, [
            Step("prepare", "echo", new JsonObject { ["x"] = 1 }),
            Step("train", "command", new JsonObject { ["command"] = "sh", ["args"] = new JsonArray("-c", $"echo training; test -f {marker} || {{ echo 'no data' >&2; exit 3; }}") }, needs: ["prepare"]),
            Step("register", "echo", new JsonObject { ["after"] = "${{ steps.train.outputs.missing }}" }, needs: ["train"]),
            Step("report", "echo", new JsonObject { ["x"] = "${{ steps.prepare.outputs.x }}" }),
        ]));

        var run = await H.SettleAsync((await H.StartAsync("broken")).RunId);

        run.Status.ShouldBe(PipelineRunStatuses.Failed);
        run.Error.ShouldBe("step 'train' failed: 'sh' exited with code 3");
        run.Steps.Select(step => (step.Step, step.Status)).ShouldBe([
            ("prepare", StepRunStatuses.Succeeded), ("train", StepRunStatuses.Failed), ("register", StepRunStatuses.Skipped), ("report", StepRunStatuses.Succeeded)]);
        PipelineHarness.Step(run, "register").Error.ShouldBe("skipped: it needs 'train', which failed");

        // The failure is inspectable: the log holds the command's output.
        var train = PipelineHarness.Step(run, "train");
        using (var reader = new StreamReader(await H.Artifacts.OpenReadAsync(train.LogPath!, Cancel)))
        {
            var log = await reader.ReadToEndAsync(Cancel);
            log.ShouldContain("training");
            log.ShouldContain("no data");
        }

        // Fix the cause, resume: only the failed and skipped steps run again.
        await File.WriteAllTextAsync(marker, "", Cancel);
        await H.Runner.ResumeAsync(run.RunId, Cancel);
        var resumed = await H.SettleAsync(run.RunId);
        resumed.Steps.Select(step => (step.Step, step.Status, step.Attempts)).ShouldBe([
            ("prepare", StepRunStatuses.Succeeded, 1), ("train", StepRunStatuses.Succeeded, 1), ("register", StepRunStatuses.Failed, 1), ("report", StepRunStatuses.Succeeded, 1)]);
        PipelineHarness.Step(resumed, "register").Error.ShouldBe("step 'train' has no output 'missing'; it has: ");
        (await Should.ThrowAsync<TrackingException>(() => H.Runner.ResumeAsync("nope", Cancel))).Message.ShouldBe("Pipeline run 'nope' does not exist.");
    }

    [Fact]
    public async Task An_unchanged_step_reuses_its_outputs_and_a_changed_input_file_runs_it_again()
    {
        var data = Path.Combine(H.Folder, "data.csv");
        await File.WriteAllTextAsync(data, "a,b\n1,2\n", Cancel);
        await H.PutAsync(new PipelineSpec("cached", null, [
            Step("copy", "command", new JsonObject
            {
                ["command"] = "sh", ["args"] = new JsonArray("-c", $"cp {data} out.csv"), ["inputs"] = new JsonArray(data), ["outputs"] = new JsonObject { ["table"] = "out.csv" },
            }),
            Step("use", "echo", new JsonObject { ["table"] = "${{ steps.copy.outputs.table }}" }),
        ]));

        var first = await H.SettleAsync((await H.StartAsync("cached")).RunId);
        var second = await H.SettleAsync((await H.StartAsync("cached")).RunId);
        await File.WriteAllTextAsync(data, "a,b\n1,3\n", Cancel);
        var third = await H.SettleAsync((await H.StartAsync("cached")).RunId);
        var forced = await H.SettleAsync((await H.StartAsync("cached", noCache: true)).RunId);

        first.Steps.Select(step => step.Status).ShouldBe([StepRunStatuses.Succeeded, StepRunStatuses.Succeeded]);
        second.Steps.Select(step => step.Status).ShouldBe([StepRunStatuses.Cached, StepRunStatuses.Cached]);
        PipelineHarness.Step(second, "copy").CachedFrom.ShouldBe(first.RunId);
        PipelineHarness.Step(second, "copy").Attempts.ShouldBe(0, "a cached step is not executed");
        PipelineHarness.Step(second, "copy").Outputs!["table"]!["sha256"]!.GetValue<string>().ShouldBe(PipelineHarness.Step(first, "copy").Outputs!["table"]!["sha256"]!.GetValue<string>());
        third.Steps.Select(step => step.Status).ShouldBe([StepRunStatuses.Succeeded, StepRunStatuses.Succeeded], "the input's content changed, and so did the output the next step reads");
        PipelineHarness.Step(third, "copy").CacheKey.ShouldNotBe(PipelineHarness.Step(first, "copy").CacheKey);
        forced.Steps.Select(step => step.Status).ShouldBe([StepRunStatuses.Succeeded, StepRunStatuses.Succeeded], "no_cache executes every step");

        // The output file is an artifact with the copied content.
        using var reader = new StreamReader(await H.Artifacts.OpenReadAsync(PipelineHarness.Step(third, "copy").Outputs!["table"]!["path"]!.GetValue<string>(), Cancel));
        (await reader.ReadToEndAsync(Cancel)).ShouldBe("a,b\n1,3\n");
    }

    [Fact]
    public async Task A_failing_step_is_retried_with_exponential_backoff_on_the_clock()
    {
        await H.PutAsync(new PipelineSpec("flaky", null, [
            Step("flaky", "fail", new JsonObject { ["message"] = "service unavailable", ["succeed_on_attempt"] = 3 }, retries: 3, backoff: "10s"),
            Step("hopeless", "fail", new JsonObject { ["message"] = "bad input" }, retries: 1, backoff: "1m"),
        ]));
        var runId = (await H.StartAsync("flaky")).RunId;
        var started = Time.GetUtcNow();

        var run = await H.SettleAsync(runId);
        (PipelineHarness.Step(run, "flaky").Status, PipelineHarness.Step(run, "flaky").Attempts).ShouldBe((StepRunStatuses.Queued, 1));
        PipelineHarness.Step(run, "flaky").NextAttemptAt.ShouldBe((started + TimeSpan.FromSeconds(10)).ToUnixTimeMilliseconds());
        PipelineHarness.Step(run, "flaky").Error.ShouldBe($"attempt 1 failed: service unavailable; retrying at {started + TimeSpan.FromSeconds(10):O}");

        // Not a millisecond early.
        Time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(1));
        PipelineHarness.Step(await H.SettleAsync(runId), "flaky").Attempts.ShouldBe(1);
        Time.Advance(TimeSpan.FromMilliseconds(1));
        run = await H.SettleAsync(runId);
        (PipelineHarness.Step(run, "flaky").Attempts, PipelineHarness.Step(run, "flaky").NextAttemptAt).ShouldBe((2, (started + TimeSpan.FromSeconds(30)).ToUnixTimeMilliseconds()), "the second wait is twice the first");

        Time.Advance(TimeSpan.FromSeconds(20));
        run = await H.SettleAsync(runId);
        (PipelineHarness.Step(run, "flaky").Status, PipelineHarness.Step(run, "flaky").Attempts).ShouldBe((StepRunStatuses.Succeeded, 3));
        PipelineHarness.Step(run, "flaky").Outputs!["attempt"]!.GetValue<int>().ShouldBe(3);

        Time.Advance(TimeSpan.FromSeconds(30));
        run = await H.SettleAsync(runId);
        (PipelineHarness.Step(run, "hopeless").Status, PipelineHarness.Step(run, "hopeless").Error).ShouldBe((StepRunStatuses.Failed, "bad input (after 2 attempts)"));
        run.Status.ShouldBe(PipelineRunStatuses.Failed);
    }

    [Fact]
    public async Task A_step_past_its_timeout_is_killed_and_fails()
    {
        await H.PutAsync(new PipelineSpec("slow", null, [Step("sleep", "command", new JsonObject { ["command"] = "sleep", ["args"] = new JsonArray("600") }, timeout: "5s")]));
        var runId = (await H.StartAsync("slow")).RunId;

        await H.Runner.TickAsync(Cancel);
        Time.Advance(TimeSpan.FromSeconds(5));
        var run = await H.SettleAsync(runId);

        (run.Status, PipelineHarness.Step(run, "sleep").Error).ShouldBe((PipelineRunStatuses.Failed, "timed out after 5s"));
    }

    [Fact]
    public async Task Cancelling_a_run_stops_its_running_step_and_cancels_the_rest()
    {
        await H.PutAsync(new PipelineSpec("long", null, [
            Step("sleep", "command", new JsonObject { ["command"] = "sleep", ["args"] = new JsonArray("600") }),
            Step("after", "echo", needs: ["sleep"]),
        ]));
        var runId = (await H.StartAsync("long")).RunId;
        await H.Runner.TickAsync(Cancel);
        (await H.Store.GetRunAsync(runId, Cancel)).Steps[0].Status.ShouldBe(StepRunStatuses.Running);

        await H.Runner.CancelAsync(runId, Cancel);
        var run = await H.SettleAsync(runId);

        run.Status.ShouldBe(PipelineRunStatuses.Cancelled);
        run.Steps.Select(step => (step.Step, step.Status)).ShouldBe([("sleep", StepRunStatuses.Cancelled), ("after", StepRunStatuses.Cancelled)]);
        (await Should.ThrowAsync<TrackingException>(() => H.Runner.CancelAsync(runId, Cancel))).Message.ShouldBe($"Pipeline run '{runId}' has already ended (cancelled).");
    }

    [Fact]
    public async Task A_step_interrupted_by_a_restart_is_retried_by_the_next_runner()
    {
        await H.PutAsync(new PipelineSpec("restart", null, [Step("sleep", "command", new JsonObject { ["command"] = "sh", ["args"] = new JsonArray("-c", "sleep 600") }, retries: 1, backoff: "1s")]));
        var runId = (await H.StartAsync("restart")).RunId;
        await H.Runner.TickAsync(Cancel);

        await H.RestartAsync();
        await H.Runner.TickAsync(Cancel);

        var step = (await H.Store.GetRunAsync(runId, Cancel)).Steps[0];
        (step.Status, step.Attempts).ShouldBe((StepRunStatuses.Queued, 1));
        step.Error.ShouldStartWith("attempt 1 failed: interrupted: the runner executing it stopped");
        await H.Runner.CancelAsync(runId, Cancel);
        await H.SettleAsync(runId);
    }

    [Fact]
    public async Task A_runner_that_lost_the_lease_abandons_its_steps_to_the_new_holder()
    {
        await H.PutAsync(new PipelineSpec("handover", null, [Step("sleep", "command", new JsonObject { ["command"] = "sleep", ["args"] = new JsonArray("600") }, retries: 1, backoff: "1s")]));
        var runId = (await H.StartAsync("handover")).RunId;
        await H.Runner.TickAsync(Cancel);

        await H.Runner.AbandonAsync();
        (await H.Store.GetRunAsync(runId, Cancel)).Steps[0].Status.ShouldBe(StepRunStatuses.Running, "nothing is written by the runner that lost the lease");
        await using var other = H.NewRunner();
        await other.TickAsync(Cancel);

        var step = (await H.Store.GetRunAsync(runId, Cancel)).Steps[0];
        (step.Status, step.Attempts).ShouldBe((StepRunStatuses.Queued, 1));
        Time.Advance(TimeSpan.FromSeconds(1));
        await other.TickAsync(Cancel);
        (await H.Store.GetRunAsync(runId, Cancel)).Steps[0].ShouldSatisfyAllConditions(s => s.Status.ShouldBe(StepRunStatuses.Running), s => s.Attempts.ShouldBe(2));
        await other.CancelAsync(runId, Cancel);
        await other.TickAsync(Cancel);
        await other.IdleAsync();
    }

    [Fact]
    public async Task Every_step_is_an_mlflow_run_with_params_metrics_outputs_and_links()
    {
        await H.PutAsync(new PipelineSpec("tracked", [new PipelineParameter("lr", "number", 0.1)], [
            Step("train", "command", new JsonObject
            {
                ["command"] = "sh", ["args"] = new JsonArray("-c", "echo '{\"accuracy\": 0.93, \"note\": \"ok\"}' > m.json; echo model > model.bin"),
                ["outputs"] = new JsonObject { ["model"] = "model.bin" }, ["metrics"] = "m.json",
            }),
            Step("check", "echo", new JsonObject { ["accuracy"] = "${{ steps.train.outputs.accuracy }}" }),
        ]));

        var run = await H.SettleAsync((await H.StartAsync("tracked")).RunId);

        run.Status.ShouldBe(PipelineRunStatuses.Succeeded, run.Error);
        var train = await H.Runs.GetAsync(PipelineHarness.Step(run, "train").TrackingRunId!, Cancel);
        (await H.Experiments.GetAsync(train.Info.ExperimentId, Cancel)).Name.ShouldBe("tracked");
        train.Info.Status.ShouldBe(RunStatuses.Finished);
        train.Data.Params.ShouldContain(new Param("lr", "0.1"));
        train.Data.Metrics.Single(metric => metric.Key == "accuracy").Value.ShouldBe(0.93);
        var tags = train.Data.Tags.ToDictionary(tag => tag.Key, tag => tag.Value);
        (tags[PipelineRunner.PipelineRunTag], tags[PipelineRunner.StepTag], tags["ballast.pipeline.output.note"]).ShouldBe((run.RunId, "train", "ok"));
        PipelineHarness.Step(run, "train").Outputs!["model"]!["uri"]!.GetValue<string>().ShouldBe($"{train.Info.ArtifactUri}/outputs/model/model.bin");

        var check = await H.Runs.GetAsync(PipelineHarness.Step(run, "check").TrackingRunId!, Cancel);
        check.Data.Tags.ShouldContain(new TrackingTag(PipelineRunner.UpstreamTag, train.Info.RunId));
        check.Data.Metrics.Single().Value.ShouldBe(0.93);
    }

    [Fact]
    public async Task Parameters_are_checked_against_their_types_and_defaults_fill_the_rest()
    {
        await H.PutAsync(new PipelineSpec("typed", [new PipelineParameter("epochs", "int"), new PipelineParameter("lr", "number", 0.1), new PipelineParameter("data", "dataset")],
            [Step("a", "echo")]));

        var error = await Should.ThrowAsync<TrackingException>(() => H.StartAsync("typed", new() { ["epochs"] = "ten", ["data"] = "nope", ["extra"] = "1" }));

        error.Message.ShouldBe("Cannot run pipeline 'typed': 'extra' is not a parameter of the pipeline (declared: epochs, lr, data); parameter 'epochs' (int): 'ten' is not an integer; " +
                               "parameter 'data' (dataset): Dataset 'nope' does not exist; `ballast data list` shows the datasets there are.");
        (await Should.ThrowAsync<TrackingException>(() => H.StartAsync("missing"))).Message.ShouldBe("Pipeline 'missing' does not exist.");
    }
}

public sealed class SqlitePipelineRunnerTests() : PipelineRunnerTests(DatabaseEngine.Sqlite);

public sealed class PostgresPipelineRunnerTests() : PipelineRunnerTests(DatabaseEngine.Postgres);
