namespace Ballast.Pipelines;

public sealed record PipelineRunnerOptions
{
    /// <summary>Steps running at once in this process, over all runs (the machine's cores are shared with serving).</summary>
    public int MaxConcurrentSteps { get; init; } = 4;

    /// <summary>Where attempts get their scratch folders and logs before the logs are stored as artifacts.</summary>
    public string WorkRoot { get; init; } = Path.Combine(Path.GetTempPath(), "ballast-pipelines");

    /// <summary>The first retry's delay when a step sets none; each next retry waits twice as long (Argo's default factor).</summary>
    public TimeSpan DefaultRetryBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between two attempts, however many retries came before.</summary>
    public TimeSpan MaxRetryBackoff { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Told when steps and runs end; null: nobody.</summary>
    public IPipelineObserver? Observer { get; init; }
}
