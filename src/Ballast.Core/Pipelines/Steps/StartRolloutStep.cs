using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Rollouts;
using Ballast.Tracking;

namespace Ballast.Pipelines.Steps;

/// <summary>
/// <c>kind: rollout</c>: starts a canary (or blue/green) rollout of <c>with.model</c> from <c>with.template</c> (a rollout
/// body without <c>model</c>, as <c>ballast rollout start</c> takes; <c>name</c> defaults to <c>PIPELINE-RUN-STEP</c>) through
/// the rollout controller, and waits for its outcome, looking every <c>with.poll_interval</c> (default 5s):
/// Succeeded is the step's success (outputs <c>rollout</c>, <c>phase</c>); Aborted fails the step with the rollout's reason.
/// A paused rollout keeps the step waiting (bound it with the step's <c>timeout</c>).
/// </summary>
public sealed class StartRolloutStep(RolloutController rollouts) : IPipelineStep
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(5);

    public bool Cacheable => false;

    public string Kind => "rollout";

    public IReadOnlyList<string> Validate(JsonObject inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var problems = new List<string>();
        if (inputs["model"] is null)
        {
            problems.Add("with.model (a register step's output or models:/NAME/VERSION) is required");
        }

        if (inputs["template"] is not JsonObject)
        {
            problems.Add("with.template (the rollout: endpoint, strategy, steps, analysis) is required");
        }

        if (inputs["poll_interval"] is JsonValue interval)
        {
            if (!interval.TryGetValue<string>(out var text) || PipelineValidation.Duration(text) is not { } poll)
            {
                problems.Add("with.poll_interval must be a duration such as 5s");
            }
            else if (poll > PipelineValidation.MaxTimeout)
            {
                // Longer than a timer can wait: the step would fail at its first wait instead of here.
                problems.Add($"with.poll_interval '{text}' is longer than {Durations.Format(PipelineValidation.MaxTimeout)}");
            }
        }

        return problems;
    }

    public async Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (name, version) = ModelInputs.Read(context.With["model"], "model");
        var template = context.With["template"] as JsonObject ?? throw new StepFailedException("input 'template' must be a rollout object");
        RolloutSpec spec;
        try
        {
            spec = template.Deserialize(RolloutJsonContext.Default.RolloutSpec) ?? throw new StepFailedException("input 'template' is empty");
        }
        catch (JsonException exception)
        {
            throw new StepFailedException($"input 'template' is not a rollout: {exception.Message}");
        }

        var rolloutName = string.IsNullOrEmpty(spec.Name) ? $"{context.Pipeline}-{context.RunId[..8]}-{context.Step}".ToLowerInvariant().Replace('_', '-') : spec.Name;
        if (rolloutName.Length > 63)
        {
            rolloutName = rolloutName[..63].TrimEnd('-');
        }

        var poll = context.Text("poll_interval") is { } text ? PipelineValidation.Duration(text)!.Value : DefaultPollInterval;
        StoredRollout rollout;
        try
        {
            rollout = await rollouts.GetAsync(rolloutName, context.CancellationToken).ConfigureAwait(false);
            await context.Log.WriteLineAsync($"rollout {rolloutName} exists already ({rollout.State.Phase}): following it (a retry of this step)").ConfigureAwait(false);
        }
        catch (TrackingException missing) when (missing.Code == TrackingException.ResourceDoesNotExist)
        {
            rollout = await rollouts.StartAsync(spec with { Name = rolloutName, Model = $"models:/{name}/{version}" }, context.CancellationToken).ConfigureAwait(false);
            await context.Log.WriteLineAsync($"started rollout {rolloutName}: models:/{name}/{version} on endpoint {rollout.Spec.Endpoint}").ConfigureAwait(false);
        }

        var seen = rollout.State.History.Count;
        while (true)
        {
            foreach (var transition in rollout.State.History.Skip(seen))
            {
                await context.Log.WriteLineAsync($"[{DateTimeOffset.FromUnixTimeMilliseconds(transition.At):O}] {transition.Phase} step {transition.Step} weight {transition.Weight}%: {transition.Message}").ConfigureAwait(false);
            }

            seen = rollout.State.History.Count;
            switch (rollout.State.Phase)
            {
                case RolloutPhases.Succeeded:
                    return new Dictionary<string, JsonNode?> { ["rollout"] = rolloutName, ["phase"] = rollout.State.Phase, ["model"] = StepOutputs.Model(name, version) };
                case RolloutPhases.Aborted:
                    throw new StepFailedException($"rollout {rolloutName} was aborted: {rollout.State.Message}");
            }

            await Task.Delay(poll, context.Time, context.CancellationToken).ConfigureAwait(false);
            rollout = await rollouts.GetAsync(rolloutName, context.CancellationToken).ConfigureAwait(false);
        }
    }
}
