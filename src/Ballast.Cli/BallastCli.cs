using System.CommandLine;
using Ballast.Cli.Commands;
using Ballast.Configuration;

namespace Ballast.Cli;

/// <summary>
/// The <c>ballast</c> command line. Exit codes: 0 success, 1 failure, 2 usage or configuration error (and 3 for
/// <c>ballast drift --fail-on-drift</c> when the dataset drifts, and for <c>ballast validate</c> when an expectation fails).
/// Errors go to stderr as one line; <c>--verbose</c> adds the stack trace.
/// </summary>
public static class BallastCli
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int UsageError = 2;

    public static RootCommand CreateRootCommand(TextWriter output)
    {
        var root = new RootCommand("Ballast: track, register, serve, monitor and roll out tabular models, in one executable.")
        {
            CommonOptions.Verbose,
        };
        root.Subcommands.Add(ServerCommand.Create(output));
        root.Subcommands.Add(DemoCommand.Create(output));
        root.Subcommands.Add(VersionCommand.Create(output));
        root.Subcommands.Add(HealthCommand.Create(output));
        root.Subcommands.Add(KeysCommand.Create(output));
        root.Subcommands.Add(AuditCommand.Create(output));
        root.Subcommands.Add(TrackingCommands.Experiments(output));
        root.Subcommands.Add(TrackingCommands.Runs(output));
        root.Subcommands.Add(ModelsCommand.Create(output));
        root.Subcommands.Add(DataCommand.Create(output));
        root.Subcommands.Add(EndpointsCommand.Create(output));
        root.Subcommands.Add(PredictionsCommand.Create(output));
        root.Subcommands.Add(RolloutCommand.Create(output));
        root.Subcommands.Add(AlertsCommand.Create(output));
        root.Subcommands.Add(MonitorsCommand.Create(output));
        root.Subcommands.Add(PipelinesCommand.Create(output));
        root.Subcommands.Add(FeaturesCommand.Create(output));
        root.Subcommands.Add(StatsCommand.Create(output));
        root.Subcommands.Add(DriftCommand.Create(output));
        root.Subcommands.Add(ValidateCommand.Create(output));
        root.Subcommands.Add(ApplyCommand.Create(output));
        root.Subcommands.Add(GetCommand.Create(output));
        root.Subcommands.Add(DeleteCommand.Create(output));
        var convert = new Command(Ballast.Serving.WalConverterProcess.Command) { Hidden = true };
        convert.SetAction(async (_, cancellationToken) =>
        {
            await Ballast.Serving.WalConverterProcess.ServeAsync(Console.In, Console.Out, cancellationToken).ConfigureAwait(false);
            return Success;
        });
        root.Subcommands.Add(convert);
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var root = CreateRootCommand(output);
        // No response files: an argument starting with '@' is the value it says (--feature-names @names.json reads the
        // file itself), not a file of arguments spliced into the command line.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors)
            {
                await error.WriteLineAsync($"error: {OneLine(problem.Message)} (see 'ballast {string.Join(' ', CommandPath(parse))} --help')").ConfigureAwait(false);
            }

            return UsageError;
        }

        var verbose = parse.GetValue(CommonOptions.Verbose);
        try
        {
            // Termination signals are left to the commands (the server drains in-flight requests on SIGTERM).
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null, Output = output, Error = error }).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            var code = exception is BallastStartupException { IsConfigurationError: true } or CommandUsageException ? UsageError : Failure;
            // A server's refusal is reported with its own message (MLflow's or problem+json's), which says what to fix.
            await error.WriteLineAsync("error: " + OneLine(exception.Message)).ConfigureAwait(false);
            if (verbose)
            {
                await error.WriteLineAsync(exception.ToString()).ConfigureAwait(false);
            }

            return code;
        }
    }

    private static Stack<string> CommandPath(ParseResult parse)
    {
        var names = new Stack<string>();
        for (var command = parse.CommandResult; command is not null; command = command.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (command.Command is not RootCommand)
            {
                names.Push(command.Command.Name);
            }
        }

        return names;
    }

    private static string OneLine(string message) => string.Join(' ', message.Split(["\r\n", "\n", "\t"], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>A command was used wrongly in a way the parser cannot see (exit code 2).</summary>
public sealed class CommandUsageException(string message) : Exception(message);
