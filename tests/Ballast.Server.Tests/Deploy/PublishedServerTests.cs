using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Ballast.Tests.Deploy;

/// <summary>
/// What the container image runs, without a Docker daemon: the Dockerfile's own publish command, its output started
/// from a clean folder (version, a server that answers its health checks and stops on SIGTERM), and the native
/// libraries' dependencies checked against what the runtime image provides.
/// </summary>
public sealed class PublishedServerTests(PublishedServerTests.PublishedOutput published) : IClassFixture<PublishedServerTests.PublishedOutput>
{
    /// <summary>The Dockerfile's publish command (without its --no-restore and output folder).</summary>
    public const string PublishCommand = "dotnet publish src/Ballast.Cli/Ballast.Cli.csproj -c Release -r linux-x64 --self-contained false";

    /// <summary>Libraries of the aspnet runtime image (glibc, libstdc++, libgcc) and libgomp1, which the Dockerfile installs.</summary>
    private static readonly HashSet<string> ProvidedLibraries =
    [
        "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "ld-linux-x86-64.so.2",
        "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1", "libgomp.so.1",
    ];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_published_ballast_prints_its_version_from_a_clean_folder()
    {
        var folder = Directory.CreateTempSubdirectory("ballast-clean-").FullName;
        var (code, output) = await DeployFiles.RunAsync(published.Ballast, ["version", "--json"], folder);
        code.ShouldBe(0, output);
        JsonDocument.Parse(output).RootElement.GetProperty("version").GetString().ShouldBe(BallastVersion.Current);
        Directory.EnumerateFileSystemEntries(folder).ShouldBeEmpty("version writes nothing");
    }

    [Fact]
    public async Task The_published_server_starts_in_a_clean_folder_answers_health_checks_and_stops_on_sigterm()
    {
        var folder = Directory.CreateTempSubdirectory("ballast-clean-").FullName;
        var url = $"http://127.0.0.1:{FreePort()}";
        var info = new ProcessStartInfo(published.Ballast) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "server", "--listen", url })
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in info.Environment.Keys.Where(name => name.StartsWith("BALLAST_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        using var server = Process.Start(info)!;
        var output = server.StandardOutput.ReadToEndAsync(Cancel);
        var error = server.StandardError.ReadToEndAsync(Cancel);
        try
        {
            // `ballast health` is the image's HEALTHCHECK: poll it, bounded, until the server listens.
            var healthy = false;
            for (var attempt = 0; attempt < 240 && !healthy && !server.HasExited; attempt++)
            {
                healthy = (await DeployFiles.RunAsync(published.Ballast, ["health", "--url", url, "--timeout", "2"], folder)).ExitCode == 0;
                if (!healthy)
                {
                    await Task.Delay(250, Cancel);
                }
            }

            healthy.ShouldBeTrue($"the server did not become healthy; exited: {server.HasExited}");
            var ready = await DeployFiles.RunAsync(published.Ballast, ["health", "--url", url, "--ready"], folder);
            ready.ExitCode.ShouldBe(0, ready.Output);
            ready.Output.ShouldContain("/v2/health/ready 200");

            using var client = new HttpClient { BaseAddress = new Uri(url) };
            var version = await client.GetFromJsonAsync<JsonElement>("/version", Cancel);
            version.GetProperty("database").GetString().ShouldBe("sqlite");
            var metrics = await MetricsExposition.UntilAsync(client, "ballast_controller_lease_held{lease=\"rollouts\"} 1", TimeSpan.FromMilliseconds(100));
            metrics.ShouldContain("ballast_controller_lease_held{lease=\"rollouts\"} 1", customMessage: "the controllers run and report their lease");
            File.Exists(Path.Combine(folder, "ballast-data", "ballast.db")).ShouldBeTrue("the default data folder is made in the working folder");

            var (killCode, killOutput) = await DeployFiles.RunAsync("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            killCode.ShouldBe(0, killOutput);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
            timeout.CancelAfter(TimeSpan.FromMinutes(1));
            await server.WaitForExitAsync(timeout.Token);
            server.ExitCode.ShouldBe(0, await error);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
            }

            await output;
        }

        var unreachable = await DeployFiles.RunAsync(published.Ballast, ["health", "--url", url, "--timeout", "2"], folder);
        unreachable.ExitCode.ShouldBe(1, unreachable.Output);
        unreachable.Output.ShouldContain("unreachable");
    }

    [Fact]
    public async Task The_native_libraries_need_only_what_the_runtime_image_provides()
    {
        var readelf = DeployFiles.OnPath("readelf");
        if (readelf is null)
        {
            var message = "readelf (binutils) is not installed: cannot list the native libraries' dependencies";
            if (TestServices.InCi)
            {
                Assert.Fail(message);
            }

            Assert.Skip(message);
        }

        var libraries = Directory.GetFiles(published.Folder, "*.so", SearchOption.AllDirectories);
        libraries.Select(Path.GetFileName).ShouldContain("lib_lightgbm.so");
        var needed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var library in libraries)
        {
            var (code, output) = await DeployFiles.RunAsync(readelf!, ["-d", library]);
            code.ShouldBe(0, output);
            foreach (var line in output.Split('\n').Where(line => line.Contains("(NEEDED)", StringComparison.Ordinal)))
            {
                var name = line[(line.IndexOf('[', StringComparison.Ordinal) + 1)..line.IndexOf(']', StringComparison.Ordinal)];
                needed.TryAdd(name, Path.GetFileName(library));
            }
        }

        needed.Keys.Where(name => !ProvidedLibraries.Contains(name)).ShouldBeEmpty("libraries the runtime image lacks (add their package to the Dockerfile)");
        needed.ShouldContainKey("libgomp.so.1", "LightGBM's OpenMP runtime: why the Dockerfile installs libgomp1");
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    /// <summary>Publishes once for the class, with the Dockerfile's command, to a temporary folder.</summary>
    public sealed class PublishedOutput : IAsyncLifetime
    {
        public string Folder { get; } = Directory.CreateTempSubdirectory("ballast-publish-").FullName;

        public string Ballast => Path.Combine(Folder, "ballast");

        public async ValueTask InitializeAsync()
        {
            var args = PublishCommand.Split(' ').Skip(1).Concat(["-o", Folder, "-nologo", "--disable-build-servers", "-p:UseSharedCompilation=false"]);
            var (code, output) = await DeployFiles.RunAsync("dotnet", args, limit: TimeSpan.FromMinutes(10));
            code.ShouldBe(0, output);
        }

        public ValueTask DisposeAsync()
        {
            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (IOException)
            {
                // Left to the OS's temp cleaning.
            }

            return ValueTask.CompletedTask;
        }
    }
}
