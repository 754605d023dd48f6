using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Ballast.Cli.Commands;

internal static class VersionCommand
{
    public static Command Create(TextWriter output)
    {
        var json = CommonOptions.Json();
        var command = new Command("version", "Print the Ballast version.") { json };
        command.SetAction(async parse =>
        {
            var text = parse.GetValue(json)
                ? JsonSerializer.Serialize(new VersionOutput(BallastVersion.Current, RuntimeInformation.FrameworkDescription), CliJsonContext.Default.VersionOutput)
                : $"ballast {BallastVersion.Current} ({RuntimeInformation.FrameworkDescription})";
            await output.WriteLineAsync(text).ConfigureAwait(false);
            return BallastCli.Success;
        });
        return command;
    }
}

internal sealed record VersionOutput(string Version, string Runtime);
