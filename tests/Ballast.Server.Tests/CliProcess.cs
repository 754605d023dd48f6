using System.Diagnostics;
using System.Text;

namespace Ballast.Tests;

/// <summary>Runs the real <c>ballast</c> executable (the built Ballast.Cli) as a child process.</summary>
public static class CliProcess
{
    public static string EntryAssembly => Path.Combine(AppContext.BaseDirectory, "ballast.dll");

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(EntryAssembly);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Isolate from the developer's own settings.
        foreach (var name in new[] { "BALLAST_DATA_DIR", "BALLAST_LISTEN", "BALLAST_DATABASE", "BALLAST_ARTIFACTS", "BALLAST_INSECURE" })
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[name] = value;
        }

        return info;
    }

    public static async Task<CliResult> RunAsync(params string[] args) => await RunAsync(args, null);

    public static async Task<CliResult> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment, string? workingDirectory = null, TimeSpan? limit = null)
    {
        using var process = Process.Start(StartInfo(args, environment, workingDirectory))!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
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

        return new CliResult(process.ExitCode, await output, await error);
    }
}

public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => new StringBuilder().Append("exit ").Append(ExitCode).Append("\nstdout: ").Append(Output).Append("\nstderr: ").Append(Error).ToString();
}
