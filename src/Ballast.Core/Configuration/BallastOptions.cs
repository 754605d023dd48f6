using System.Text;
using Ballast.Metadata;

namespace Ballast.Configuration;

/// <summary>Settings of a Ballast server process, from command-line options or BALLAST_* environment variables.</summary>
public sealed record BallastOptions
{
    public string DataDir { get; init; } = BallastDefaults.DataDir;

    /// <summary>One or more listen URLs, comma-separated, e.g. <c>http://127.0.0.1:5000</c>.</summary>
    public string Listen { get; init; } = BallastDefaults.Listen;

    /// <summary><c>sqlite:PATH</c> or <c>postgres://user:pass@host:port/db</c>; null means SQLite in the data dir.</summary>
    public string? Database { get; init; }

    /// <summary>A folder or <c>s3://bucket/prefix</c>; null means <c>&lt;data-dir&gt;/artifacts</c>.</summary>
    public string? Artifacts { get; init; }

    /// <summary>Serve without authentication even when listening beyond loopback.</summary>
    public bool Insecure { get; init; }

    /// <summary>The feature store's online store: null for the metadata database (embedded), or <c>redis://host:port[/db]</c>.</summary>
    public string? OnlineStore { get; init; }

    public string? S3Endpoint { get; init; }

    public string? S3Region { get; init; }

    public long MaxRequestBodyBytes { get; init; } = BallastDefaults.MaxRequestBodyBytes;

    /// <summary><c>text</c> (one line per event) or <c>json</c> (one JSON object per line, for log collectors).</summary>
    public string LogFormat { get; init; } = "text";

    public TimeSpan ShutdownTimeout { get; init; } = BallastDefaults.ShutdownTimeout;

    /// <summary>
    /// A secret of at least <see cref="BallastDefaults.DataProtectionKeyMinimumLength"/> characters that encrypts the
    /// dashboard's key ring in the metadata database (<c>BALLAST_DATA_PROTECTION_KEY</c>); null stores it unencrypted.
    /// Every replica needs the same one. Never logged or printed.
    /// </summary>
    public string? DataProtectionKey { get; init; }

    /// <summary>How often live dashboard pages refresh themselves in the browser; zero turns it off.</summary>
    public TimeSpan DashboardRefresh { get; init; } = BallastDefaults.DashboardRefresh;

    /// <summary>
    /// How long the prediction log keeps an hour of records once it is over (at least
    /// <see cref="BallastDefaults.MinPredictionRetention"/>); null keeps them forever.
    /// </summary>
    public TimeSpan? PredictionRetention { get; init; }

    /// <summary>
    /// The bound on the local cache of monitor references (<c>&lt;data-dir&gt;/cache/references</c>): dataset files read
    /// from the artifact store and their CBPE scores, least recently used removed first; 0 turns the cache off.
    /// </summary>
    public long ReferenceCacheBytes { get; init; } = BallastDefaults.ReferenceCacheBytes;

    /// <summary>
    /// The bound on the estimated memory of parsed monitor references kept between windows (a dataset reference's
    /// columns, a closed traffic reference's predictions), least recently used dropped first; 0 turns it off.
    /// </summary>
    public long ReferenceMemoryBytes { get; init; } = BallastDefaults.ReferenceMemoryBytes;

    public string DatabaseOrDefault => Database ?? "sqlite:" + Path.Combine(DataDir, BallastDefaults.SqliteFileName);

    public string ArtifactsOrDefault => Artifacts ?? Path.Combine(DataDir, BallastDefaults.ArtifactsFolder);

    /// <summary>The settings as <c>ToString</c> shows them: the database password and the data protection key masked.</summary>
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("DataDir = ").Append(DataDir).Append(", Listen = ").Append(Listen)
            .Append(", Database = ").Append(Database is null ? "" : DatabaseLocation.Redact(Database))
            .Append(", Artifacts = ").Append(Artifacts).Append(", Insecure = ").Append(Insecure)
            .Append(", OnlineStore = ").Append(OnlineStore is null ? "" : DatabaseLocation.Redact(OnlineStore))
            .Append(", S3Endpoint = ").Append(S3Endpoint).Append(", S3Region = ").Append(S3Region)
            .Append(", MaxRequestBodyBytes = ").Append(MaxRequestBodyBytes).Append(", LogFormat = ").Append(LogFormat)
            .Append(", ShutdownTimeout = ").Append(ShutdownTimeout)
            .Append(", DataProtectionKey = ").Append(DataProtectionKey is null ? "" : "***")
            .Append(", DashboardRefresh = ").Append(DashboardRefresh)
            .Append(", PredictionRetention = ").Append(PredictionRetention)
            .Append(", ReferenceCacheBytes = ").Append(ReferenceCacheBytes)
            .Append(", ReferenceMemoryBytes = ").Append(ReferenceMemoryBytes);
        return true;
    }
}
