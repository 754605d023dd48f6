using System.Text.RegularExpressions;

namespace Ballast.Tests.Deploy;

/// <summary>
/// The Dockerfile's promises, read from the file (no Docker daemon here to build it): multi-stage, the same publish
/// command the published-output tests run, a non-root user, a health check through the binary, a data volume.
/// </summary>
public sealed partial class DockerfileTests
{
    private static readonly string Dockerfile = DeployFiles.Read("Dockerfile");

    [Fact]
    public void It_builds_with_the_sdk_and_runs_on_the_aspnet_runtime()
    {
        From().Matches(Dockerfile).Select(m => m.Groups[1].Value).ShouldBe(["mcr.microsoft.com/dotnet/sdk:10.0", "mcr.microsoft.com/dotnet/aspnet:10.0"]);
        Dockerfile.ShouldContain(PublishedServerTests.PublishCommand + " --no-restore -o /app");
        Dockerfile.ShouldContain("COPY --from=build /app ./");
    }

    [Fact]
    public void It_runs_as_a_non_root_user_with_a_health_check_and_a_data_volume()
    {
        var runtime = Dockerfile[Dockerfile.IndexOf("AS runtime", StringComparison.Ordinal)..];
        runtime.ShouldContain("USER $APP_UID");
        runtime.ShouldContain("libgomp1");
        runtime.ShouldContain("VOLUME [\"/var/lib/ballast\"]");
        runtime.ShouldContain("BALLAST_DATA_DIR=/var/lib/ballast");
        runtime.ShouldContain("DOTNET_EnableDiagnostics=0", customMessage: "no diagnostic IPC files: the root filesystem may be read-only");
        runtime.ShouldContain("DOTNET_TC_DelaySingleProcMultiplier=1", customMessage: "on one CPU, tier 1 after ~20 s of load, not ~50 s (bench/serving/warmup.sh)");
        runtime.ShouldContain("HEALTHCHECK");
        runtime.ShouldContain("CMD [\"ballast\", \"health\"");
        runtime.ShouldContain("ENTRYPOINT [\"ballast\"]");
    }

    [Fact]
    public void The_build_context_leaves_out_build_outputs_and_tests()
    {
        var ignored = DeployFiles.Read(".dockerignore").Split('\n').Select(line => line.Trim()).ToHashSet();
        ignored.ShouldContain("**/bin/");
        ignored.ShouldContain("**/obj/");
        ignored.ShouldContain(".git/");
        ignored.ShouldContain("tests/");
        // What the build stage copies must not be ignored.
        foreach (var copied in new[] { "src/", "global.json", "Directory.Build.props", "Directory.Packages.props" })
        {
            ignored.ShouldNotContain(copied);
        }
    }

    [GeneratedRegex(@"^FROM (\S+)", RegexOptions.Multiline)]
    private static partial Regex From();
}
