namespace Ballast.Pipelines;

/// <summary>A step attempt failed for a reason worth showing as it is (a command's exit code, an aborted rollout…).</summary>
public sealed class StepFailedException(string message) : Exception(message);
