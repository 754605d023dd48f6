using System.Text.Json.Nodes;

namespace Ballast.Pipelines;

/// <summary>
/// A kind of step (<c>command</c>, <c>register</c>, <c>promote</c>, <c>rollout</c>, …). Implementations are registered in
/// DI as <see cref="IPipelineStep"/> and found by <see cref="Kind"/>, so a feature adds its steps without touching the runner.
/// </summary>
public interface IPipelineStep
{
    /// <summary>The name written as a step's <c>kind:</c>.</summary>
    string Kind { get; }

    /// <summary>
    /// Whether an unchanged step may reuse an earlier run's outputs. False for steps whose point is a side effect
    /// (registering, moving an alias, a rollout): a new run does them again unless the step sets <c>cache: true</c>.
    /// </summary>
    bool Cacheable => true;

    /// <summary>
    /// The problems of a step's inputs as written (strings may still be <c>${{ … }}</c> references, so check only what
    /// does not depend on them); empty when they are fine. Checked when the pipeline is stored.
    /// </summary>
    IReadOnlyList<string> Validate(JsonObject inputs);

    /// <summary>Runs one attempt; returns the outputs (scalars, <see cref="StepOutputs.File"/> objects, model versions). A thrown exception fails the attempt.</summary>
    Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context);
}
