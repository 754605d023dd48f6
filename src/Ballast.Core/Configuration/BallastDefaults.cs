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

    /// <summary>
    /// Live dashboard pages fetch themselves again this often: the traffic counters behind them are flushed every few
    /// seconds, so refreshing much faster shows nothing new and only costs queries.
    /// </summary>
    public static readonly TimeSpan DashboardRefresh = TimeSpan.FromSeconds(15);

    /// <summary>The longest refresh interval accepted; beyond it a manual reload is what people do anyway.</summary>
    public static readonly TimeSpan MaxDashboardRefresh = TimeSpan.FromHours(1);

    /// <summary>The shortest prediction log retention accepted: a day, so that no monitor window or export of the day misses its records.</summary>
    public static readonly TimeSpan MinPredictionRetention = TimeSpan.FromDays(1);

    /// <summary>
    /// 2 GiB of monitor references (dataset files and their CBPE scores) kept in <c>&lt;data-dir&gt;/cache/references</c>:
    /// a few large training sets, while a window of traffic and its scratch files are what the disk mostly holds.
    /// </summary>
    public const long ReferenceCacheBytes = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// 256 MiB of parsed monitor references kept in memory (<see cref="Monitoring.ReferenceProfiles"/>): about ten
    /// references of 100,000 rows × 10 numeric columns with their Parquet projections, so a window reads none of them again.
    /// </summary>
    public const long ReferenceMemoryBytes = 256L * 1024 * 1024;

    /// <summary>The reference cache's folder under the data dir.</summary>
    public const string ReferenceCacheFolder = "cache/references";

    /// <summary>32 characters of <c>openssl rand -base64 32</c> carry 192 bits; shorter data protection keys are refused.</summary>
    public const int DataProtectionKeyMinimumLength = 32;
}
