using System.CommandLine;
using Ballast.Cli.Demo;
using Ballast.Client;
using Ballast.Configuration;
using Ballast.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Ballast.Cli.Commands;

/// <summary>
/// <c>ballast demo</c>: the whole loop on the embedded default, nothing else to install. Starts a server on a fresh data
/// folder, then drives it as a team would (<see cref="DemoScenario"/>); prints live progress and a summary, and keeps
/// serving until Ctrl+C unless <c>--exit</c>. Exit code 1 when a stage does not happen as expected.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(TextWriter output)
    {
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder for the demo's database and artifacts (default: a fresh folder in the system's temp folder)." };
        var listen = new Option<string>("--listen")
        {
            Description = "Where the demo's server listens (port 0: any free port).",
            DefaultValueFactory = _ => BallastDefaults.Listen,
        };
        var fast = new Option<bool>("--fast") { Description = "Small data, short windows and pauses: the loop in under a minute (for tests)." };
        var exit = new Option<bool>("--exit") { Description = "Exit when the loop is done instead of serving until Ctrl+C." };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic data (the same seed tells the same story).", DefaultValueFactory = _ => 42 };
        var command = new Command("demo", "Run the whole loop on synthetic loan data: train, deploy, monitor, drift alert, retrain, gate, canary, promote.")
        {
            dataDir, listen, fast, exit, seed,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
            if (Console.IsOutputRedirected)
            {
                console.Profile.Width = 160; // a log file, not a terminal: fewer wrapped lines
            }

            var folder = parse.GetValue(dataDir) ?? Path.Combine(Path.GetTempPath(), $"ballast-demo-{Guid.NewGuid():N}"[..21]);
            if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            {
                throw new CommandUsageException($"--data-dir {folder} is not empty; the demo starts from a fresh folder.");
            }

            var work = Directory.CreateDirectory(Path.Combine(folder, "demo")).FullName;
            var options = new BallastOptions { DataDir = folder, Listen = parse.GetValue(listen)! };
            var time = TimeProvider.System;
            // The demo's own lines tell the story; the server logs only warnings and errors (not that the throwaway
            // folder's dashboard key ring is unencrypted).
            await using var app = await BallastServer.StartAsync(options, time, configureServices: services =>
                services.Configure<LoggerFilterOptions>(filter =>
                {
                    filter.MinLevel = LogLevel.Warning;
                    filter.Rules.Add(new LoggerFilterRule(null, "Ballast.Server.Security.KeyRingStartup", LogLevel.Error, null));
                }), cancellationToken: cancellationToken).ConfigureAwait(false);
            var address = app.BoundAddresses()[0];
            await using var receiver = await WebhookReceiver.StartAsync(DemoScenario.Secret, time, cancellationToken).ConfigureAwait(false);
            console.MarkupLine($"[bold]Ballast {Markup.Escape(BallastVersion.Current)} demo[/]: server {Markup.Escape(address)}, data in {Markup.Escape(folder)}, alert receiver {Markup.Escape(receiver.Url.ToString())}");

            var scenario = new DemoScenario(BallastClient.Create(new Uri(address)), console, parse.GetValue(fast) ? DemoSettings.Fast : DemoSettings.Full,
                parse.GetValue(seed), work, receiver, time);
            var failure = (string?)null;
            try
            {
                await scenario.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is DemoFailedException or BallastApiException)
            {
                failure = exception.Message;
            }

            DemoSummary.Write(console, scenario, receiver, address, failure);
            if (failure is null && !parse.GetValue(exit))
            {
                console.MarkupLine($"Serving on {Markup.Escape(address)} until Ctrl+C (dashboard: {Markup.Escape(address)}/).");
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C: the server drains and stops below.
                }
            }

            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            return failure is null ? BallastCli.Success : BallastCli.Failure;
        });
        return command;
    }
}
