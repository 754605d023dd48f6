using System.CommandLine;

namespace Ballast.Cli.Commands;

/// <summary><c>ballast predictions export</c>: an endpoint's logged predictions with their feedback, to Parquet or CSV, as stored or flat (<c>--flat</c>).</summary>
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
        var flat = new Option<bool>("--flat")
        {
            Description = "One row per scored row (a request of N rows gives N) with a column per input feature and output value, as the ingest step and monitors "
                + "name them, and outcome, reward; the answers callers got (not shadows' copies). Without it, one row per request as stored (tensors as JSON).",
        };
        var featureNames = new Option<string?>("--feature-names")
        {
            Description = "With --flat: names for input tensors' columns, a JSON object or @FILE holding one: {\"features\": [\"age\", \"income\"]}.",
        };
        var export = options.AddTo(new Command("export", "Write an endpoint's predictions (inputs, outputs, variant, model, latency, outcome, reward) to a file, in write order.")
        {
            endpoint, from, to, file, flat, featureNames,
        });
        export.SetAction(async (parse, cancel) =>
        {
            var target = Path.GetFullPath(parse.GetValue(file)!);
            var format = Path.GetExtension(target).TrimStart('.').ToLowerInvariant() switch
            {
                "parquet" => "parquet",
                "csv" => "csv",
                _ => throw new CommandUsageException($"-o {target}: name a .parquet or .csv file"),
            };
            var names = await FeatureNamesAsync(parse.GetValue(featureNames), parse.GetValue(flat), cancel).ConfigureAwait(false);
            var path = ClientOptions.WithQuery("/api/v1/predictions/export", ("endpoint", parse.GetValue(endpoint)), ("format", format), ("from", parse.GetValue(from)), ("to", parse.GetValue(to)),
                ("layout", parse.GetValue(flat) ? "flat" : null), ("feature_names", names));
            var client = options.Client(parse);
            await PartialFile.WriteAsync(target, stream => client.DownloadAsync(path, stream, cancel)).ConfigureAwait(false);
            await output.WriteLineAsync($"{parse.GetValue(endpoint)} -> {target}").ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(export);
        return command;
    }

    /// <summary>
    /// The <c>--feature-names</c> JSON (given, or read from the file after <c>@</c>) as it is sent, checked first as the
    /// server checks it; null when not given.
    /// </summary>
    private static async Task<string?> FeatureNamesAsync(string? value, bool flat, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            return null;
        }

        if (!flat)
        {
            throw new CommandUsageException("--feature-names names the columns of --flat; add --flat");
        }

        var json = value;
        if (value.StartsWith('@'))
        {
            try
            {
                json = await File.ReadAllTextAsync(value[1..], cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new CommandUsageException($"--feature-names: cannot read {value[1..]}: {exception.Message}");
            }
        }

        try
        {
            Ballast.Monitoring.WindowTable.ParseFeatureNames(json);
        }
        catch (Ballast.Tracking.TrackingException exception)
        {
            throw new CommandUsageException($"--feature-names: {exception.Message}");
        }

        return json;
    }
}
