using System.CommandLine;

namespace Ballast.Cli.Commands;

/// <summary><c>ballast predictions export</c>: an endpoint's logged predictions with their feedback, to Parquet or CSV.</summary>
internal static class PredictionsCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("predictions", "Export logged predictions.");
        var options = new ClientOptions();
        var endpoint = new Option<string>("--endpoint") { Description = "The endpoint.", Required = true };
        var from = new Option<string?>("--from") { Description = "Earliest time, ISO 8601 (2026-11-25T00:00:00Z) or Unix ms." };
        var to = new Option<string?>("--to") { Description = "Latest time, ISO 8601 or Unix ms." };
        var file = new Option<string>("--output", "-o") { Description = "FILE.parquet or FILE.csv.", Required = true };
        var export = options.AddTo(new Command("export", "Write an endpoint's predictions (inputs, outputs, variant, model, latency, outcome, reward) to a file, in write order.") { endpoint, from, to, file });
        export.SetAction(async (parse, cancel) =>
        {
            var target = Path.GetFullPath(parse.GetValue(file)!);
            var format = Path.GetExtension(target).TrimStart('.').ToLowerInvariant() switch
            {
                "parquet" => "parquet",
                "csv" => "csv",
                _ => throw new CommandUsageException($"-o {target}: name a .parquet or .csv file"),
            };
            var path = ClientOptions.WithQuery("/api/v1/predictions/export", ("endpoint", parse.GetValue(endpoint)), ("format", format), ("from", parse.GetValue(from)), ("to", parse.GetValue(to)));
            var client = options.Client(parse);
            await PartialFile.WriteAsync(target, stream => client.DownloadAsync(path, stream, cancel)).ConfigureAwait(false);
            await output.WriteLineAsync($"{parse.GetValue(endpoint)} -> {target}").ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(export);
        return command;
    }
}
