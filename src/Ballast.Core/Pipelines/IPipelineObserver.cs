namespace Ballast.Pipelines;

/// <summary>Told when steps and runs end (the server counts them as Prometheus metrics).</summary>
public interface IPipelineObserver
{
    /// <summary>A step run ended as <paramref name="status"/> (succeeded, failed, cached, skipped, cancelled) or an attempt failed and will be retried (<c>retrying</c>); <paramref name="duration"/> for executed attempts.</summary>
    void StepEnded(string pipeline, string kind, string status, TimeSpan? duration);

    void RunEnded(string pipeline, string status);
}
