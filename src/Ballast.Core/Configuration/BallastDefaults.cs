namespace Ballast.Configuration;

public static class BallastDefaults
{
    public const string DataDir = "./ballast-data";

    /// <summary>Loopback, so a fresh install is reachable only from this machine until keys are set up; 5000 as MLflow.</summary>
    public const string Listen = "http://127.0.0.1:5000";

    public const string SqliteFileName = "ballast.db";

    public const string ArtifactsFolder = "artifacts";

    /// <summary>32 MiB: large enough for batch scoring and metric batches; artifact uploads stream through their own routes.</summary>
    public const long MaxRequestBodyBytes = 32L * 1024 * 1024;

    /// <summary>Time given to in-flight requests to finish on shutdown (Kubernetes gives 30 s before SIGKILL).</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(25);
}
