namespace Ballast.Tests;

/// <summary>
/// Addresses of the real services that scripts/test.sh starts (PostgreSQL, moto's S3 server, Redis).
/// Outside CI a missing service skips the tests that need it; in CI (CI=true) it fails them, loudly.
/// </summary>
public static class TestServices
{
    /// <summary>A <c>postgres://user@127.0.0.1:port/db</c> URI of a server where tests may create databases.</summary>
    public static string Postgres => Require("BALLAST_TEST_POSTGRES", "PostgreSQL");

    /// <summary>The <c>http://127.0.0.1:port</c> endpoint of moto_server.</summary>
    public static string S3Endpoint => Require("BALLAST_TEST_S3_ENDPOINT", "an S3 endpoint (moto_server)");

    /// <summary>A moto_server that checks credentials (started with INITIAL_NO_AUTH_ACTION_COUNT=0): unknown keys are refused.</summary>
    public static string S3AuthEndpoint => Require("BALLAST_TEST_S3_AUTH_ENDPOINT", "an S3 endpoint that checks credentials (moto_server with authentication)");

    /// <summary>A <c>redis://127.0.0.1:port</c> address of a Redis server (the feature store's scale-out online store).</summary>
    public static string Redis => Require("BALLAST_TEST_REDIS", "Redis (redis-server)");

    /// <summary>A file of <c>../shared/fixtures/</c> beside the repository (small real models and data sets made by other tools).</summary>
    public static string Fixture(string name)
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Ballast.slnx")))
            {
                var path = Path.GetFullPath(Path.Combine(folder.FullName, "..", "shared", "fixtures", name));
                return File.Exists(path) ? path : throw new FileNotFoundException($"Fixture {name} is not in ../shared/fixtures.", path);
            }
        }

        throw new DirectoryNotFoundException("The repository root (Ballast.slnx) is not above " + AppContext.BaseDirectory);
    }

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string Require(string variable, string what)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrWhiteSpace(value))
        {
            return value;
        }

        var message = $"{variable} is not set: these tests need {what}. Run them through ./scripts/test.sh, which starts it.";
        if (InCi)
        {
            Assert.Fail(message);
        }

        Assert.Skip(message);
        return "";
    }
}
