using System.CommandLine;
using Ballast.Configuration;
using Ballast.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace Ballast.Cli.Commands;

/// <summary><c>ballast server</c>: the API, serving and background controllers in one process.</summary>
internal static class ServerCommand
{
    public static Command Create(TextWriter output)
    {
        var dataDir = CommonOptions.DataDir();
        var database = CommonOptions.Database();
        var listen = new Option<string>("--listen")
        {
            Description = "URL(s) to listen on, comma-separated [env: BALLAST_LISTEN].",
            DefaultValueFactory = _ => CommonOptions.Environment("BALLAST_LISTEN") ?? BallastDefaults.Listen,
        };
        var artifacts = new Option<string?>("--artifacts")
        {
            Description = "Artifact store: a folder or s3://bucket/prefix (default: <data-dir>/artifacts) [env: BALLAST_ARTIFACTS]. " +
                          "S3 uses BALLAST_S3_ENDPOINT, AWS_REGION and the usual AWS credential variables.",
            DefaultValueFactory = _ => CommonOptions.Environment("BALLAST_ARTIFACTS"),
        };
        var onlineStore = new Option<string?>("--online-store")
        {
            Description = "Feature store online store: redis://host:port[/db] for scale-out (default: the metadata database) [env: BALLAST_ONLINE_STORE].",
            DefaultValueFactory = _ => CommonOptions.Environment("BALLAST_ONLINE_STORE"),
        };
        var insecure = new Option<bool>("--insecure")
        {
            Description = "Serve without authentication, even on non-loopback addresses [env: BALLAST_INSECURE].",
            DefaultValueFactory = _ => CommonOptions.EnvironmentFlag("BALLAST_INSECURE"),
        };
        var maxBody = new Option<long>("--max-request-body")
        {
            Description = "Largest request body accepted, in bytes [env: BALLAST_MAX_REQUEST_BODY].",
            DefaultValueFactory = _ => CommonOptions.EnvironmentInteger("BALLAST_MAX_REQUEST_BODY", BallastDefaults.MaxRequestBodyBytes),
        };
        var logFormat = new Option<string>("--log-format")
        {
            Description = "Log as 'text' or 'json' lines [env: BALLAST_LOG_FORMAT].",
            DefaultValueFactory = _ => CommonOptions.Environment("BALLAST_LOG_FORMAT") ?? "text",
        };

        var dashboardRefresh = new Option<double>("--dashboard-refresh")
        {
            Description = "Seconds between live dashboard pages' automatic refreshes; 0 turns them off [env: BALLAST_DASHBOARD_REFRESH]. " +
                          "The dashboard's key ring is encrypted at rest with BALLAST_DATA_PROTECTION_KEY when set (environment only: a secret).",
            DefaultValueFactory = _ => CommonOptions.EnvironmentNumber("BALLAST_DASHBOARD_REFRESH", BallastDefaults.DashboardRefresh.TotalSeconds),
        };
        var retention = new Option<double>("--prediction-retention-days")
        {
            Description = "Days the prediction log keeps each hour of records once it is over (at least 1); 0 keeps them forever [env: BALLAST_PREDICTION_RETENTION_DAYS].",
            DefaultValueFactory = _ => CommonOptions.EnvironmentNumber("BALLAST_PREDICTION_RETENTION_DAYS", 0),
        };
        var referenceCache = new Option<double>("--reference-cache-mb")
        {
            Description = "MiB of monitor references (dataset files, CBPE scores) cached in <data-dir>/cache/references; 0 turns it off [env: BALLAST_REFERENCE_CACHE_MB].",
            DefaultValueFactory = _ => CommonOptions.EnvironmentNumber("BALLAST_REFERENCE_CACHE_MB", BallastDefaults.ReferenceCacheBytes / (1024.0 * 1024)),
        };
        var referenceMemory = new Option<double>("--reference-memory-mb")
        {
            Description = "MiB (estimated) of parsed monitor references kept in memory between windows; 0 turns it off [env: BALLAST_REFERENCE_MEMORY_MB].",
            DefaultValueFactory = _ => CommonOptions.EnvironmentNumber("BALLAST_REFERENCE_MEMORY_MB", BallastDefaults.ReferenceMemoryBytes / (1024.0 * 1024)),
        };
        var command = new Command("server", "Run the Ballast server (tracking, registry, serving, monitoring, controllers).")
        {
            dataDir, listen, database, artifacts, onlineStore, insecure, maxBody, logFormat, dashboardRefresh, retention, referenceCache, referenceMemory,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new BallastOptions
            {
                DataDir = parse.GetValue(dataDir)!,
                Listen = parse.GetValue(listen)!,
                Database = parse.GetValue(database),
                Artifacts = parse.GetValue(artifacts),
                OnlineStore = parse.GetValue(onlineStore),
                Insecure = parse.GetValue(insecure),
                MaxRequestBodyBytes = parse.GetValue(maxBody),
                LogFormat = parse.GetValue(logFormat)!,
                S3Endpoint = CommonOptions.Environment("BALLAST_S3_ENDPOINT"),
                S3Region = CommonOptions.Environment("AWS_REGION") ?? CommonOptions.Environment("AWS_DEFAULT_REGION"),
                DataProtectionKey = CommonOptions.Environment("BALLAST_DATA_PROTECTION_KEY"),
                // Out of range (or not a number) becomes a value the validator names, never a silent default.
                DashboardRefresh = parse.GetValue(dashboardRefresh) is var refresh && double.IsFinite(refresh) && refresh >= 0 && refresh <= BallastDefaults.MaxDashboardRefresh.TotalSeconds
                    ? TimeSpan.FromSeconds(refresh) : TimeSpan.FromSeconds(-1),
                // 0 keeps everything; anything else not a positive number of days becomes a value the validator names.
                PredictionRetention = parse.GetValue(retention) switch
                {
                    0 => null,
                    var days when double.IsFinite(days) && days > 0 && days < 100_000 => TimeSpan.FromDays(days),
                    _ => TimeSpan.Zero,
                },
                // Negative (or not a number) becomes a value the validator names.
                ReferenceCacheBytes = parse.GetValue(referenceCache) is var megabytes && double.IsFinite(megabytes) && megabytes >= 0 && megabytes < 1L << 40
                    ? (long)(megabytes * 1024 * 1024) : -1,
                ReferenceMemoryBytes = parse.GetValue(referenceMemory) is var memory && double.IsFinite(memory) && memory >= 0 && memory < 1L << 40
                    ? (long)(memory * 1024 * 1024) : -1,
            };
            await using var app = await BallastServer.StartAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"Ballast {BallastVersion.Current} listening on {string.Join(", ", app.BoundAddresses())}").ConfigureAwait(false);
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return BallastCli.Success;
        });
        return command;
    }
}
