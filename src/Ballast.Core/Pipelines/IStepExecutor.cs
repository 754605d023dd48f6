using System.Text.Json.Nodes;

namespace Ballast.Pipelines;

/// <summary>Where a step attempt runs: in this process (<see cref="InProcessStepExecutor"/>) or as a Kubernetes Job.</summary>
public interface IStepExecutor
{
    Task<IReadOnlyDictionary<string, JsonNode?>> ExecuteAsync(IPipelineStep kind, StepContext context);
}

/// <summary>The default: the step runs in the runner's process.</summary>
public sealed class InProcessStepExecutor : IStepExecutor
{
    public static InProcessStepExecutor Instance { get; } = new();

    public Task<IReadOnlyDictionary<string, JsonNode?>> ExecuteAsync(IPipelineStep kind, StepContext context)
    {
        ArgumentNullException.ThrowIfNull(kind);
        return kind.RunAsync(context);
    }
}
