using System.Text.Json.Nodes;
using Ballast.Pipelines;
using Ballast.Pipelines.Steps;
using Ballast.Tracking;

namespace Ballast.Tests.Pipelines;

public sealed class PipelineValidationTests
{
    private static readonly Dictionary<string, IPipelineStep> Kinds = new IPipelineStep[] { new EchoStep(), new CommandStep(), new FailStep() }.ToDictionary(step => step.Kind);

    private static string Problem(PipelineSpec spec) => Should.Throw<TrackingException>(() => PipelineValidation.Validate(spec, Kinds)).Message;

    [Fact]
    public void A_cycle_is_refused_with_the_path_that_closes_it()
    {
        Problem(new PipelineSpec("loop", null, [
            new PipelineStepSpec("a", "echo", new JsonObject { ["x"] = "${{ steps.c.outputs.x }}" }),
            new PipelineStepSpec("b", "echo", Needs: ["a"]),
            new PipelineStepSpec("c", "echo", new JsonObject { ["x"] = "${{ steps.b.outputs.x }}" }),
        ])).ShouldBe("Invalid pipeline 'loop': steps: there is a cycle: a -> c -> b -> a.");
    }

    [Fact]
    public void Every_problem_is_listed_at_once()
    {
        Problem(new PipelineSpec("bad one", [new PipelineParameter("n", "integer"), new PipelineParameter("k", "int", "x")], [
            new PipelineStepSpec("a", "train"),
            new PipelineStepSpec("b", "echo", new JsonObject { ["x"] = "${{ steps.nope.outputs.y }}", ["y"] = "${{ params.missing }}", ["z"] = "${{ env.HOME }}" }, Needs: ["ghost"]),
            new PipelineStepSpec("c", "command", new JsonObject { ["args"] = "not a list" }, Retries: 50, Timeout: "soon"),
            new PipelineStepSpec("d", "echo", Timeout: "1200h", RetryBackoff: "999999999999h"),
        ], new PipelineSchedule("61 * * * *"))).ShouldBe(
            "Invalid pipeline 'bad one': name 'bad one' must be 1 to 63 letters, digits, '-' or '_', starting with a letter or digit; " +
            "parameters[0]: type 'integer' is not one of string, int, number, bool, dataset, model; parameters[1]: default \"x\" is not an integer; " +
            "steps[0] (a): kind 'train' is not known; known kinds: command, echo, fail; " +
            "steps[1] (b).with: '${{ env.HOME }}' is not ${{ params.NAME }} or ${{ steps.STEP.outputs.NAME }}; " +
            "steps[1] (b).with: ${{ steps.nope.outputs.y }} names no step of this pipeline; " +
            "steps[1] (b).with: ${{ params.missing }} names no parameter; declared: n, k; steps[1] (b).needs: 'ghost' is not a step of this pipeline; " +
            "steps[2] (c): with.command (the executable to run) is required; steps[2] (c): with.args must be a list; " +
            "steps[2] (c): retries 50 must be between 0 and 10; steps[2] (c): timeout 'soon' is not a positive duration such as 10s, 5m or 1h; " +
            "steps[3] (d): retry_backoff '999999999999h' is not a positive duration such as 10s, 5m or 1h; steps[3] (d): timeout '1200h' is longer than 30d; " +
            "schedule.cron '61 * * * *' is not a cron expression (5 fields, or 6 with seconds): Minutes: Value must be a number between 0 and 59 (all inclusive); parameter 'n' needs a default: scheduled runs pass no parameters.");
    }

    [Fact]
    public void A_cycle_a_bad_cron_a_bad_time_zone_and_bad_step_fields_are_reported_together()
    {
        var error = Should.Throw<TrackingException>(() => PipelineValidation.Validate(new PipelineSpec("many", null, [
            new PipelineStepSpec("a", "echo", Needs: ["b"], Timeout: "forever"),
            new PipelineStepSpec("b", "echo", new JsonObject { ["x"] = "${{ steps.a.outputs.x }}" }, Retries: 11),
            new PipelineStepSpec("b", "echo"),
            new PipelineStepSpec("c", "echo", new JsonObject { ["x"] = "${{ steps.c.outputs.x }}" }, Needs: ["ghost"]),
        ], new PipelineSchedule("every day", "Mars/Olympus")), Kinds));

        error.Problems.ShouldBe([
            "steps[2]: step 'b' is declared twice",
            "steps[0] (a): timeout 'forever' is not a positive duration such as 10s, 5m or 1h",
            "steps[1] (b): retries 11 must be between 0 and 10",
            "steps[3] (c).with: ${{ steps.c.outputs.x }} refers to the step itself",
            "steps[3] (c).needs: 'ghost' is not a step of this pipeline",
            "steps: there is a cycle: a -> b -> a",
            "schedule.cron 'every day' is not a cron expression (5 fields, or 6 with seconds): Minutes: Value must be a number between 0 and 59 (all inclusive)",
            "schedule.time_zone 'Mars/Olympus' is not a known time zone (an IANA id such as Europe/Paris)",
        ]);
        error.Message.ShouldBe($"Invalid pipeline 'many': {string.Join("; ", error.Problems)}.");
        Should.Throw<TrackingException>(() => PipelineValidation.Cron(new PipelineSchedule("every day", "Mars/Olympus"))).Message
            .ShouldBe(string.Join("; ", error.Problems.TakeLast(2)));
    }

    [Fact]
    public void Step_durations_take_the_common_grammar_positive_and_each_within_its_bound()
    {
        PipelineValidation.Validate(new PipelineSpec("ok", null, [new PipelineStepSpec("a", "echo", Timeout: "4w2d", RetryBackoff: "1m30s"), new PipelineStepSpec("b", "echo", Timeout: "1.5h")]), Kinds);
        Problem(new PipelineSpec("bad", null, [new PipelineStepSpec("a", "echo", Timeout: "30d1ms", RetryBackoff: "0s"), new PipelineStepSpec("b", "echo", Timeout: "1h 30m")])).ShouldBe(
            "Invalid pipeline 'bad': steps[0] (a): retry_backoff '0s' is not a positive duration such as 10s, 5m or 1h; steps[0] (a): timeout '30d1ms' is longer than 30d; " +
            "steps[1] (b): timeout '1h 30m' is not a positive duration such as 10s, 5m or 1h.");

        var rollout = new StartRolloutStep(null!); // validation reads only the inputs
        JsonObject Inputs(string poll) => new() { ["model"] = "models:/m/1", ["template"] = new JsonObject(), ["poll_interval"] = poll };
        rollout.Validate(Inputs("1m30s")).ShouldBeEmpty();
        rollout.Validate(Inputs("30d")).ShouldBeEmpty();
        rollout.Validate(Inputs("0s")).ShouldBe(["with.poll_interval must be a duration such as 5s"]);
        rollout.Validate(Inputs("5w")).ShouldBe(["with.poll_interval '5w' is longer than 30d"]);
    }

    [Fact]
    public void A_schedule_needs_a_known_time_zone_and_a_trigger_a_dataset()
    {
        Problem(new PipelineSpec("tz", null, [new PipelineStepSpec("a", "echo")], new PipelineSchedule("0 6 * * *", "Mars/Olympus"), [new PipelineTrigger()]))
            .ShouldBe("Invalid pipeline 'tz': schedule.time_zone 'Mars/Olympus' is not a known time zone (an IANA id such as Europe/Paris); triggers[0]: dataset is missing (the dataset whose new versions start a run).");
        PipelineValidation.Validate(new PipelineSpec("ok", null, [new PipelineStepSpec("a", "echo")], new PipelineSchedule("0 6 * * 1-5", "Europe/Paris")), Kinds).Name.ShouldBe("ok");
    }

    [Fact]
    public void Scheduled_and_triggered_pipelines_need_defaults_for_what_nobody_passes()
    {
        Problem(new PipelineSpec("s", [new PipelineParameter("epochs", "int")], [new PipelineStepSpec("a", "echo")], new PipelineSchedule("0 6 * * *")))
            .ShouldBe("Invalid pipeline 's': parameter 'epochs' needs a default: scheduled runs pass no parameters.");
        Problem(new PipelineSpec("t", [new PipelineParameter("data", "dataset"), new PipelineParameter("epochs", "int")], [new PipelineStepSpec("a", "echo")], Triggers: [new PipelineTrigger("churn")]))
            .ShouldBe("Invalid pipeline 't': parameter 'epochs' needs a default: a dataset trigger passes only its dataset parameter.");
        PipelineValidation.Validate(new PipelineSpec("u", [new PipelineParameter("data", "dataset")], [new PipelineStepSpec("a", "echo")], Triggers: [new PipelineTrigger("churn")]), Kinds);
    }

    [Fact]
    public void Order_puts_every_step_after_its_dependencies()
    {
        var order = PipelineValidation.Order([
            new PipelineStepSpec("deploy", "echo", new JsonObject { ["m"] = "${{ steps.train.outputs.m }}" }),
            new PipelineStepSpec("train", "echo", new JsonObject { ["d"] = "prefix-${{ steps.ingest.outputs.d }}" }),
            new PipelineStepSpec("ingest", "echo"),
            new PipelineStepSpec("notify", "echo", Needs: ["deploy"]),
        ]);
        order.Select(step => step.Name).ShouldBe(["ingest", "train", "deploy", "notify"]);
    }
}
