using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Ballast.Metadata;
using Ballast.Tests.Metadata;

namespace Ballast.Tests;

/// <summary>The <c>ballast</c> executable as a user runs it: exit codes, one-line errors, JSON output.</summary>
public sealed class CliTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Version_prints_the_version_and_exits_0()
    {
        var result = await CliProcess.RunAsync("version", "--json");
        result.ExitCode.ShouldBe(0, result.ToString());
        JsonDocument.Parse(result.Output).RootElement.GetProperty("version").GetString().ShouldBe(BallastVersion.Current);
    }

    [Theory]
    [InlineData("server")]
    [InlineData("keys")]
    [InlineData("keys", "create")]
    [InlineData("version")]
    public async Task Every_command_has_help(params string[] command)
    {
        var result = await CliProcess.RunAsync([.. command, "--help"], null);
        result.ExitCode.ShouldBe(0, result.ToString());
        result.Output.ShouldContain("Usage:");
    }

    [Fact]
    public async Task An_unknown_option_is_a_usage_error_with_exit_code_2()
    {
        var result = await CliProcess.RunAsync("server", "--no-such-option");
        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain("--no-such-option");
    }

    [Fact]
    public async Task Bad_configuration_is_reported_all_at_once_on_one_line_with_exit_code_2()
    {
        var dataDir = Directory.CreateTempSubdirectory("ballast-cli-").FullName;
        var result = await CliProcess.RunAsync(["server", "--data-dir", dataDir, "--listen", "nonsense", "--database", "mysql://x@y/z", "--artifacts", "s3://"], null);

        result.ExitCode.ShouldBe(2, result.ToString());
        var lines = result.Error.Trim().Split('\n');
        lines.Length.ShouldBe(1, result.Error);
        lines[0].ShouldStartWith("error: Invalid configuration:");
        lines[0].ShouldContain("--listen 'nonsense'");
        lines[0].ShouldContain("--database");
        lines[0].ShouldContain("--artifacts");
    }

    [Fact]
    public async Task A_setting_in_the_environment_that_is_not_a_number_is_refused_not_replaced_by_the_default()
    {
        // What Helm renders for a large number passed through `quote` alone (deploy/helm/ballast/templates/configmap.yaml).
        var dataDir = Directory.CreateTempSubdirectory("ballast-cli-").FullName;
        var result = await CliProcess.RunAsync(["server", "--data-dir", dataDir], new Dictionary<string, string?> { ["BALLAST_MAX_REQUEST_BODY"] = "3.3554432e+07" });

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain("--max-request-body (BALLAST_MAX_REQUEST_BODY) must be a positive whole number of bytes");
    }

    [Fact]
    public async Task Listening_beyond_loopback_without_keys_is_refused_with_exit_code_2()
    {
        var dataDir = Directory.CreateTempSubdirectory("ballast-cli-").FullName;
        var result = await CliProcess.RunAsync("server", "--data-dir", dataDir, "--listen", "http://0.0.0.0:5001");

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain("Refusing to listen on http://0.0.0.0:5001 without API keys");
    }

    [Fact]
    public async Task An_unreachable_database_is_one_line_without_a_stack_trace_unless_verbose()
    {
        var dataDir = Directory.CreateTempSubdirectory("ballast-cli-").FullName;
        string[] args = ["server", "--data-dir", dataDir, "--database", "postgres://ballast:secret@127.0.0.1:1/ballast"];

        var quiet = await CliProcess.RunAsync(args, null);
        quiet.ExitCode.ShouldBe(1, quiet.ToString());
        quiet.Error.Trim().Split('\n').Length.ShouldBe(1, quiet.Error);
        quiet.Error.ShouldContain("Cannot use the metadata database postgres://ballast@127.0.0.1:1/ballast");
        quiet.Error.ShouldNotContain("secret");
        quiet.Error.ShouldNotContain("   at ");

        var verbose = await CliProcess.RunAsync([.. args, "--verbose"], null);
        verbose.ExitCode.ShouldBe(1);
        verbose.Error.ShouldContain("   at ");
    }

    [Fact]
    public async Task Keys_are_created_once_listed_and_revoked()
    {
        var dataDir = Directory.CreateTempSubdirectory("ballast-cli-").FullName;

        var created = await CliProcess.RunAsync("keys", "create", "--name", "ci", "--role", "writer", "--data-dir", dataDir, "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var token = JsonDocument.Parse(created.Output).RootElement.GetProperty("token").GetString();
        token.ShouldStartWith("blst_");

        var list = await CliProcess.RunAsync("keys", "list", "--data-dir", dataDir, "--json");
        list.ExitCode.ShouldBe(0, list.ToString());
        list.Output.ShouldNotContain(token!, Case.Sensitive, "the secret is shown once, at creation");
        var keys = JsonDocument.Parse(list.Output).RootElement;
        keys.GetArrayLength().ShouldBe(1);
        keys[0].GetProperty("name").GetString().ShouldBe("ci");
        keys[0].GetProperty("role").GetString().ShouldBe("writer");

        var table = await CliProcess.RunAsync("keys", "list", "--data-dir", dataDir);
        table.Output.ShouldStartWith("NAME");

        (await CliProcess.RunAsync("keys", "revoke", "ci", "--data-dir", dataDir)).ExitCode.ShouldBe(0);
        var again = await CliProcess.RunAsync("keys", "revoke", "ci", "--data-dir", dataDir);
        again.ExitCode.ShouldBe(1);
        again.Error.ShouldBe("error: There is no live API key named 'ci'.\n");
    }

    [Fact]
    public async Task Keys_left_to_the_default_data_dir_refuse_when_it_holds_no_store_and_make_none()
    {
        var folder = Directory.CreateTempSubdirectory("ballast-cli-").FullName;
        foreach (var args in new[] { new[] { "keys", "create", "--name", "admin", "--role", "admin" }, ["keys", "list"], ["keys", "revoke", "admin"] })
        {
            var refused = await CliProcess.RunAsync(args, null, folder);
            refused.ExitCode.ShouldBe(2, refused.ToString());
            refused.Error.ShouldBe($"error: No Ballast store in {Path.Combine(folder, "ballast-data")} (the default --data-dir, ./ballast-data in the current folder). " +
                "Run the command where the server keeps its data, or name the server's store with --data-dir or --database (BALLAST_DATA_DIR, BALLAST_DATABASE); " +
                "a store named that does not exist yet is created.\n");
        }

        Directory.Exists(Path.Combine(folder, "ballast-data")).ShouldBeFalse("nothing is made in the folder the command ran from");

        // Named, a new store is made (the first key before the first server); then the default finds it.
        (await CliProcess.RunAsync(["keys", "create", "--name", "admin", "--role", "admin", "--data-dir", "ballast-data"], null, folder)).ExitCode.ShouldBe(0);
        (await CliProcess.RunAsync(["keys", "create", "--name", "ci", "--role", "writer"], null, folder)).ExitCode.ShouldBe(0);
        var list = await CliProcess.RunAsync(["keys", "list", "--json"], new Dictionary<string, string?>(), folder);
        list.ExitCode.ShouldBe(0, list.ToString());
        JsonDocument.Parse(list.Output).RootElement.EnumerateArray().Select(key => key.GetProperty("name").GetString()).ShouldBe(["admin", "ci"], ignoreOrder: true);
        var other = Directory.CreateTempSubdirectory("ballast-cli-").FullName;
        (await CliProcess.RunAsync(["keys", "list"], new Dictionary<string, string?> { ["BALLAST_DATA_DIR"] = other }, folder)).ExitCode.ShouldBe(0, "BALLAST_DATA_DIR names a store as --data-dir does");
    }

    [Theory]
    [InlineData("--role", "owner", "owner")]
    [InlineData("--name", "bad name", "may contain only")]
    public async Task Keys_create_refuses_bad_input_with_exit_code_2(string option, string value, string message)
    {
        var dataDir = Directory.CreateTempSubdirectory("ballast-cli-").FullName;
        string[] args = option == "--role"
            ? ["keys", "create", "--name", "x", "--role", value, "--data-dir", dataDir]
            : ["keys", "create", "--name", value, "--role", "reader", "--data-dir", dataDir];
        var result = await CliProcess.RunAsync(args, null);

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain(message);
    }

    [Theory]
    [InlineData(DatabaseEngine.Sqlite)]
    [InlineData(DatabaseEngine.Postgres)]
    public async Task Two_processes_migrating_one_fresh_database_at_once_both_succeed(DatabaseEngine engine)
    {
        var (location, drop) = await TestDatabases.CreateAsync(engine);
        try
        {
            var database = engine == DatabaseEngine.Sqlite ? location.Display : DatabaseUri(location);
            var runs = await Task.WhenAll(
                CliProcess.RunAsync(["keys", "list", "--database", database], null),
                CliProcess.RunAsync(["keys", "list", "--database", database], null));

            foreach (var run in runs)
            {
                run.ExitCode.ShouldBe(0, run.ToString());
            }

            await using var check = await MetadataMigrator.OpenMigratedAsync(location, Cancel);
            await using var connection = await check.OpenAsync(Cancel);
            var versions = (await Dapper.SqlMapper.QueryAsync<long>(connection, "SELECT \"Version\" FROM \"VersionInfo\"")).ToList();
            versions.ShouldBe(versions.Distinct().ToList(), "each migration is recorded once");
            versions.Max().ShouldBe(MetadataMigrator.LatestVersion);
        }
        finally
        {
            await drop();
        }
    }

    [Fact]
    public async Task The_server_starts_with_no_arguments_answers_and_stops_cleanly_on_sigterm()
    {
        var workingDirectory = Directory.CreateTempSubdirectory("ballast-cli-").FullName;
        var port = FreePort();
        using var process = Process.Start(CliProcess.StartInfo(["server"], new Dictionary<string, string?> { ["BALLAST_LISTEN"] = $"http://127.0.0.1:{port}" }, workingDirectory))!;
        var error = process.StandardError.ReadToEndAsync(Cancel);
        try
        {
            string? line;
            do
            {
                line = await process.StandardOutput.ReadLineAsync(Cancel).AsTask().WaitAsync(TimeSpan.FromMinutes(1), Cancel);
            }
            while (line is not null && !line.StartsWith("Ballast ", StringComparison.Ordinal));

            if (line is null)
            {
                Assert.Fail($"the server exited early: {await error}");
            }

            line.ShouldContain($"listening on http://127.0.0.1:{port}");
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            (await client.GetAsync("/health", Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
            File.Exists(Path.Combine(workingDirectory, "ballast-data", "ballast.db")).ShouldBeTrue("the default data dir is ./ballast-data");

            using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync(Cancel);
            }

            await process.WaitForExitAsync(Cancel).WaitAsync(TimeSpan.FromMinutes(1), Cancel);
            process.ExitCode.ShouldBe(0, await error);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static string DatabaseUri(DatabaseLocation location)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(location.ConnectionString);
        return $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
