using Ballast.Metadata;
using Ballast.Storage;

namespace Ballast.Configuration;

/// <summary>Checks every setting up front and reports every problem at once, each naming the option and the reason.</summary>
public static class BallastOptionsValidator
{
    public static IReadOnlyList<string> Validate(BallastOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        if (string.IsNullOrWhiteSpace(options.DataDir))
        {
            errors.Add("--data-dir must not be empty");
        }
        else if (File.Exists(options.DataDir))
        {
            errors.Add($"--data-dir '{options.DataDir}' is a file, not a folder");
        }

        foreach (var problem in ListenAddresses.Validate(options.Listen))
        {
            errors.Add($"--listen {problem}");
        }

        if (!DatabaseLocation.TryParse(options.DatabaseOrDefault, out _, out var databaseError))
        {
            errors.Add($"--database {databaseError}");
        }

        if (!ArtifactLocation.TryParse(options.ArtifactsOrDefault, out var artifactsError))
        {
            errors.Add($"--artifacts {artifactsError}");
        }

        if (options.S3Endpoint is { } endpoint
            && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add($"BALLAST_S3_ENDPOINT '{endpoint}' is not an http:// or https:// URL");
        }

        if (options.OnlineStore is { } online
            && (!Uri.TryCreate(online, UriKind.Absolute, out var redis) || redis.Scheme != "redis" || string.IsNullOrEmpty(redis.Host)))
        {
            errors.Add($"--online-store '{online}' is not a redis://host:port address (leave it out for the embedded store in the metadata database)");
        }

        if (options.MaxRequestBodyBytes <= 0)
        {
            errors.Add("--max-request-body (BALLAST_MAX_REQUEST_BODY) must be a positive whole number of bytes");
        }

        if (options.LogFormat is not ("text" or "json"))
        {
            errors.Add($"--log-format must be 'text' or 'json', not '{options.LogFormat}'");
        }

        // The key itself is never echoed: only its length is wrong.
        if (options.DataProtectionKey is { } secret && secret.Trim().Length < BallastDefaults.DataProtectionKeyMinimumLength)
        {
            errors.Add($"BALLAST_DATA_PROTECTION_KEY must be at least {BallastDefaults.DataProtectionKeyMinimumLength} characters (generate one with `openssl rand -base64 32`)");
        }

        if (options.DashboardRefresh < TimeSpan.Zero || options.DashboardRefresh > BallastDefaults.MaxDashboardRefresh)
        {
            errors.Add($"--dashboard-refresh must be between 0 (off) and {BallastDefaults.MaxDashboardRefresh.TotalSeconds:0} seconds");
        }

        if (options.PredictionRetention is { } retention && retention < BallastDefaults.MinPredictionRetention)
        {
            errors.Add($"--prediction-retention-days must be at least {BallastDefaults.MinPredictionRetention.TotalDays:0} (or 0 to keep every record)");
        }

        if (options.ReferenceCacheBytes < 0)
        {
            errors.Add("--reference-cache-mb must be a number of MiB (0 turns the monitors' reference cache off)");
        }

        if (options.ReferenceMemoryBytes < 0)
        {
            errors.Add("--reference-memory-mb must be a number of MiB (0 turns the monitors' in-memory reference profiles off)");
        }

        return errors;
    }
}
