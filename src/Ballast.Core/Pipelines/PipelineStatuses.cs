namespace Ballast.Pipelines;

/// <summary>The states of a pipeline run. <c>cancelling</c> lasts until its running steps have stopped.</summary>
public static class PipelineRunStatuses
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Cancelling = "cancelling";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinished(string status) => status is Succeeded or Failed or Cancelled;
}

/// <summary>The states of one step of a run: <c>cached</c> reused a previous run's outputs without executing; <c>skipped</c> had a failed dependency.</summary>
public static class StepRunStatuses
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cached = "cached";
    public const string Skipped = "skipped";
    public const string Cancelled = "cancelled";

    public static bool IsDone(string status) => status is Succeeded or Cached;

    public static bool IsFinished(string status) => status is Succeeded or Cached or Failed or Skipped or Cancelled;
}
