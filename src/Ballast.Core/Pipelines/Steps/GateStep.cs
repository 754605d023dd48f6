using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Training;

namespace Ballast.Pipelines.Steps;

/// <summary>
/// <c>kind: gate</c>: decides with <see cref="Gate"/> whether <c>with.candidate</c> (an evaluate step's metrics) may
/// replace <c>with.champion</c> (its champion_metrics; null for the first model, which is held to absolute bounds
/// alone): <c>metrics</c> (a list of <c>{metric, min, max, must_improve, min_improvement, min_relative_improvement,
/// direction}</c>), <c>max_latency_ms</c> (measured on <c>model</c> scoring a batch of <c>sample</c>) and
/// <c>max_size_bytes</c> (of <c>model</c>). Outputs: <c>passed</c>, <c>decision</c> (every check with its numbers),
/// <c>summary</c>. A rejected candidate fails the step with the summary, stopping the run before it registers or
/// rolls out, unless <c>fail_on_reject: false</c>.
/// </summary>
public sealed class GateStep : IPipelineStep
{
    private static readonly string[] Known = ["candidate", "champion", "metrics", "max_latency_ms", "max_size_bytes", "model", "sample", "fail_on_reject"];
    private static readonly string[] MetricFields = ["metric", "min", "max", "must_improve", "min_improvement", "min_relative_improvement", "direction"];

    private readonly TimeProvider _time;

    public GateStep(TimeProvider time) => _time = time;

    public string Kind => "gate";

    public IReadOnlyList<string> Validate(JsonObject inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var problems = new List<string>();
        StepInputs.CheckKnown(inputs, Known, Kind, problems);
        StepInputs.CheckRequired(inputs, "candidate", "the candidate's metrics, e.g. ${{ steps.evaluate.outputs.metrics }}", problems);
        StepInputs.CheckNumber(inputs, "max_latency_ms", problems, 0, exclusiveMin: true);
        StepInputs.CheckNumber(inputs, "max_size_bytes", problems, 0, whole: true, exclusiveMin: true);
        StepInputs.CheckBool(inputs, "fail_on_reject", problems);
        if (inputs["sample"] is not null && inputs["model"] is null)
        {
            problems.Add("with.sample is only used with with.model (the model whose latency is measured)");
        }

        if (inputs["max_latency_ms"] is not null && (inputs["model"] is null || inputs["sample"] is null))
        {
            problems.Add("with.max_latency_ms needs with.model and with.sample (a file of rows to score) to measure the latency");
        }

        if (inputs["metrics"] is { } metrics && !StepInputs.IsReference(metrics))
        {
            if (metrics is not JsonArray list)
            {
                problems.Add($"with.metrics must be a list of {{metric, min, max, must_improve, …}} objects, not {metrics.ToJsonString()}");
            }
            else
            {
                for (var i = 0; i < list.Count; i++)
                {
                    if (list[i] is not JsonObject entry)
                    {
                        problems.Add($"with.metrics[{i}] must be an object, not {list[i]?.ToJsonString() ?? "null"}");
                        continue;
                    }

                    foreach (var key in entry.Select(pair => pair.Key).Where(key => !MetricFields.Contains(key)))
                    {
                        problems.Add($"with.metrics[{i}].{key} is not a gate field ({string.Join(", ", MetricFields)})");
                    }
                }

                if (problems.Count == 0 && !list.Any(StepInputs.IsReference))
                {
                    var spec = ReadSpec(inputs, out var error);
                    problems.AddRange(spec is null ? [error!] : spec.Validate().Select(problem => "with." + problem));
                }
            }
        }

        if (inputs["metrics"] is null && inputs["max_latency_ms"] is null && inputs["max_size_bytes"] is null)
        {
            problems.Add("the gate checks nothing: give with.metrics, with.max_latency_ms or with.max_size_bytes");
        }

        return problems;
    }

    public async Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var spec = ReadSpec(context.With, out var error) ?? throw new StepFailedException(error!);
        if (spec.Validate() is { Count: > 0 } problems)
        {
            throw new StepFailedException(ProblemList.Join(problems));
        }

        var candidate = StepInputs.ReadMetrics(context.With["candidate"], "candidate") ?? throw new StepFailedException("input 'candidate' is empty");
        var champion = StepInputs.ReadMetrics(context.With["champion"], "champion");
        GuardrailMeasurement? guardrails = null;
        if (context.With["model"] is not null)
        {
            var model = await StepInputs.LocalFileAsync(context, "model").ConfigureAwait(false);
            if (context.With["sample"] is not null)
            {
                var sample = await StepInputs.LocalFileAsync(context, "sample").ConfigureAwait(false);
                try
                {
                    guardrails = await Task.Run(() => ModelGuardrails.Measure(model, sample, _time), context.CancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is TrainingInputException or Runtime.ModelInputException or Runtime.ModelLoadException)
                {
                    throw new StepFailedException($"cannot measure the model's latency on the sample: {exception.Message}");
                }
            }
            else
            {
                guardrails = new GuardrailMeasurement(null, new FileInfo(model).Length);
            }
        }

        var decision = Gate.Decide(spec, candidate, champion, guardrails);
        var decisionJson = JsonNode.Parse(JsonSerializer.Serialize(decision, TrainingJsonContext.Default.GateDecision))!;
        await context.Log.WriteLineAsync($"gate {decision.Summary}").ConfigureAwait(false);
        foreach (var check in decision.Checks)
        {
            await context.Log.WriteLineAsync($"  {check.Outcome,-7} {check.Kind,-9} {check.Reason}").ConfigureAwait(false);
        }

        if (!decision.Passed && StepInputs.ReadBool(context, "fail_on_reject", true))
        {
            throw new StepFailedException($"the gate rejected the candidate: {decision.Summary}");
        }

        return new Dictionary<string, JsonNode?>
        {
            ["passed"] = decision.Passed,
            ["decision"] = decisionJson,
            ["summary"] = decision.Summary,
        };
    }

    private static GateSpec? ReadSpec(JsonObject inputs, out string? error)
    {
        error = null;
        var json = new JsonObject
        {
            ["metrics"] = inputs["metrics"]?.DeepClone() ?? new JsonArray(),
            ["max_latency_ms"] = StepInputs.NumberOf(inputs["max_latency_ms"]),
            ["max_size_bytes"] = StepInputs.NumberOf(inputs["max_size_bytes"]) is { } size ? (long)size : null,
        };
        try
        {
            return json.Deserialize(TrainingJsonContext.Default.GateSpec) ?? throw new JsonException("empty");
        }
        catch (JsonException exception)
        {
            error = $"with.metrics cannot be read as gate checks: {exception.Message}";
            return null;
        }
    }
}
