using System.Text.Json.Nodes;
using Ballast.Metadata;
using Ballast.Pipelines;
using Ballast.Pipelines.Steps;
using Ballast.Rollouts;
using Ballast.Serving;
using Ballast.Tests.Metadata;

namespace Ballast.Tests.Pipelines;

/// <summary>The <c>rollout</c> step drives the real rollout controller and waits for its outcome, on a fake clock.</summary>
public abstract class RolloutStepTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    [Theory]
    [InlineData(true, "succeeded", null)]
    [InlineData(false, "failed", "rollout deploy-{0}-ship was aborted: canary looked wrong")]
    public async Task The_step_succeeds_with_the_rollout_and_fails_when_it_is_aborted(bool promote, string expected, string? error)
    {
        var endpoints = new EndpointStore(Database, Time);
        await endpoints.CreateAsync(new EndpointSpec("iris", null, [new VariantSpec("main", "models:/iris/1")]), Cancel);
        var controller = new RolloutController(Database, endpoints, new TrafficStats(Database, Time), Time);
        await using var harness = new PipelineHarness(Database, Time);
        await using var runner = new PipelineRunner(harness.Store, [new StartRolloutStep(controller)], harness.Experiments, harness.Runs, harness.Artifacts, Time,
            new PipelineRunnerOptions { WorkRoot = Path.Combine(harness.Folder, "work") });
        await harness.Store.PutAsync(PipelineValidation.Validate(new PipelineSpec("deploy", null, [new PipelineStepSpec("ship", "rollout", new JsonObject
        {
            ["model"] = "models:/iris/2",
            ["poll_interval"] = "5s",
            ["template"] = new JsonObject { ["endpoint"] = "iris", ["strategy"] = "canary", ["steps"] = new JsonArray(new JsonObject { ["setWeight"] = 50 }, new JsonObject { ["pause"] = new JsonObject() }) },
        })])), Cancel);
        var runId = (await harness.Launcher.LaunchAsync("deploy", new Dictionary<string, string>(), "manual", false, null, Cancel))!.RunId;
        var name = $"deploy-{runId[..8]}-ship";

        await runner.TickAsync(Cancel);
        var rollout = await Eventually.UntilAsync(async () => (await controller.ListAsync(Cancel)).SingleOrDefault(), rollout => rollout is not null, TimeSpan.FromMilliseconds(10));

        rollout.ShouldNotBeNull("the step started the rollout");
        rollout.Spec.Model.ShouldBe("models:/iris/2");
        await controller.TickAsync(Cancel);
        if (promote)
        {
            await controller.PromoteAsync(name, Cancel);
            await controller.TickAsync(Cancel);
        }
        else
        {
            await controller.AbortAsync(name, "canary looked wrong", Cancel);
        }

        // The step looks every 5 s of the clock; move it until the step has seen the outcome (bounded).
        for (var i = 0; i < 200 && (await harness.Store.GetRunAsync(runId, Cancel)).Steps[0].Status == StepRunStatuses.Running; i++)
        {
            Time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(10, Cancel);
        }

        await runner.IdleAsync();
        await runner.TickAsync(Cancel);
        var run = await harness.Store.GetRunAsync(runId, Cancel);

        (run.Status, run.Steps[0].Error).ShouldBe((expected, error is null ? null : string.Format(System.Globalization.CultureInfo.InvariantCulture, error, runId[..8])));
        if (promote)
        {
            run.Steps[0].Outputs!["phase"]!.GetValue<string>().ShouldBe(RolloutPhases.Succeeded);
            (await endpoints.GetAsync("iris", Cancel)).Spec.Variants.ShouldBe([new VariantSpec("main", "models:/iris/2", 100)]);
        }
    }
}

public sealed class SqliteRolloutStepTests() : RolloutStepTests(DatabaseEngine.Sqlite);

public sealed class PostgresRolloutStepTests() : RolloutStepTests(DatabaseEngine.Postgres);
