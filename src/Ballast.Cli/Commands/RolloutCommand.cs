using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Cli.Manifests;
using Ballast.Client;

namespace Ballast.Cli.Commands;

/// <summary><c>ballast rollout start -f FILE | status NAME | promote | abort | pause | resume | history | analyses | list</c>: canary rollouts.</summary>
internal static class RolloutCommand
{
    private const string Api = "/api/v1/rollouts";

    public static Command Create(TextWriter output)
    {
        var command = new Command("rollout", "Start, follow and steer canary rollouts.");

        var start = new ClientOptions();
        var file = new Option<string>("--file", "-f") { Description = "The rollout as YAML or JSON (- for standard input).", Required = true };
        var startCommand = start.AddTo(new Command("start", "Start a canary rollout from a file.") { file });
        startCommand.SetAction(async (parse, cancel) =>
        {
            var body = await ReadAsync(parse.GetValue(file)!, cancel).ConfigureAwait(false);
            var json = await start.Client(parse).PostJsonAsync(Api, body, cancel).ConfigureAwait(false);
            await output.WriteLineAsync(parse.GetValue(start.Json) ? json.GetRawText() : Line(json)).ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(startCommand);

        var status = new ClientOptions();
        var statusName = new Argument<string>("name") { Description = "The rollout." };
        var statusCommand = status.AddTo(new Command("status", "Phase, step, canary weight, message and the analysis so far.") { statusName });
        statusCommand.SetAction(async (parse, cancel) =>
        {
            var json = await status.Client(parse).GetJsonAsync($"{Api}/{Uri.EscapeDataString(parse.GetValue(statusName)!)}", cancel).ConfigureAwait(false);
            if (parse.GetValue(status.Json))
            {
                await output.WriteLineAsync(json.GetRawText()).ConfigureAwait(false);
                return BallastCli.Success;
            }

            await output.WriteLineAsync(Line(json)).ConfigureAwait(false);
            foreach (var measurement in ClientOptions.Items(json, "analysis"))
            {
                await output.WriteLineAsync($"  {ClientOptions.Time(measurement, "at")}  {ClientOptions.Text(measurement, "outcome")}: {ClientOptions.Text(measurement, "reason")}").ConfigureAwait(false);
            }

            return BallastCli.Success;
        });
        command.Subcommands.Add(statusCommand);

        foreach (var (verb, description) in new[]
        {
            ("promote", "Skip the current pause (or an inconclusive analysis) and go on with the next step."),
            ("pause", "Pause the rollout where it is."),
            ("resume", "Resume a paused rollout."),
            ("abort", "Abort: all traffic back to the stable variant."),
        })
        {
            var options = new ClientOptions();
            var name = new Argument<string>("name") { Description = "The rollout." };
            var verbCommand = options.AddTo(new Command(verb, description) { name });
            verbCommand.SetAction(async (parse, cancel) =>
            {
                var json = await options.Client(parse).PostJsonAsync($"{Api}/{Uri.EscapeDataString(parse.GetValue(name)!)}/{verb}", [], cancel).ConfigureAwait(false);
                await output.WriteLineAsync(parse.GetValue(options.Json) ? json.GetRawText() : Line(json)).ConfigureAwait(false);
                return BallastCli.Success;
            });
            command.Subcommands.Add(verbCommand);
        }

        var history = new ClientOptions();
        var historyName = new Argument<string>("name") { Description = "The rollout." };
        var historyCommand = history.AddTo(new Command("history", "Every transition: when, phase, step, weight and why.") { historyName });
        historyCommand.SetAction(async (parse, cancel) =>
        {
            var json = await history.Client(parse).GetJsonAsync($"{Api}/{Uri.EscapeDataString(parse.GetValue(historyName)!)}/history", cancel).ConfigureAwait(false);
            return await history.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("TIME", "PHASE", "STEP", "WEIGHT", "MESSAGE");
                foreach (var item in ClientOptions.Items(body, "history"))
                {
                    table.Add(ClientOptions.Time(item, "at"), ClientOptions.Text(item, "phase"), ClientOptions.Text(item, "step"), ClientOptions.Text(item, "weight"), ClientOptions.Text(item, "message"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(historyCommand);

        var analyses = new ClientOptions();
        var analysesName = new Argument<string>("name") { Description = "The rollout." };
        var limit = ClientOptions.Limit("How many analysis runs, newest first.");
        var analysesCommand = analyses.AddTo(new Command("analyses", "Every ended analysis run, newest first: its step, outcome and reason, and each measurement per metric.") { analysesName, limit });
        analysesCommand.SetAction(async (parse, cancel) =>
        {
            var json = await analyses.Client(parse).GetListAsync($"{Api}/{Uri.EscapeDataString(parse.GetValue(analysesName)!)}/analyses", "analyses",
                parse.GetValue(limit), ClientOptions.MaxBeforePage, PageParameters.Before, cancel).ConfigureAwait(false);
            if (parse.GetValue(analyses.Json))
            {
                await output.WriteLineAsync(json.GetRawText()).ConfigureAwait(false);
                return BallastCli.Success;
            }

            var any = false;
            foreach (var run in ClientOptions.Items(json, "analyses"))
            {
                any = true;
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"analysis {ClientOptions.Text(run, "id")} of step {run.GetProperty("step").GetInt32()} ({ClientOptions.Text(run, "variant")}): {ClientOptions.Text(run, "outcome")}, " +
                    $"{ClientOptions.Time(run, "started_at")} to {ClientOptions.Time(run, "ended_at")}: {ClientOptions.Text(run, "message")}")).ConfigureAwait(false);
                var table = new TextTable("  MEASURED", "FROM", "METRIC", "CONDITION", "VALUE", "RESULT");
                foreach (var measurement in ClientOptions.Items(run, "measurements"))
                {
                    foreach (var metric in ClientOptions.Items(measurement, "metrics"))
                    {
                        table.Add("  " + ClientOptions.Time(measurement, "at"), ClientOptions.Time(measurement, "from"), ClientOptions.Text(metric, "name"), ClientOptions.Text(metric, "condition"),
                            metric.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("0.####", CultureInfo.InvariantCulture) : "-",
                            ClientOptions.Text(metric, "result"));
                    }
                }

                await table.WriteAsync(output).ConfigureAwait(false);
            }

            if (!any)
            {
                await output.WriteLineAsync($"{parse.GetValue(analysesName)}: no analysis has ended yet").ConfigureAwait(false);
            }

            return BallastCli.Success;
        });
        command.Subcommands.Add(analysesCommand);

        var list = new ClientOptions();
        var listCommand = list.AddTo(new Command("list", "Every rollout with its phase."));
        listCommand.SetAction(async (parse, cancel) =>
        {
            var json = await list.Client(parse).GetJsonAsync(Api, cancel).ConfigureAwait(false);
            return await list.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("NAME", "ENDPOINT", "MODEL", "PHASE", "STEP", "WEIGHT", "MESSAGE");
                foreach (var item in ClientOptions.Items(body, "rollouts"))
                {
                    table.Add(ClientOptions.Text(item, "name"), ClientOptions.Text(item, "endpoint"), ClientOptions.Text(item, "model"), ClientOptions.Text(item, "phase"),
                        ClientOptions.Text(item, "step"), ClientOptions.Text(item, "weight"), ClientOptions.Text(item, "message"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(listCommand);
        return command;
    }

    /// <summary>One line of a rollout's state; its message in parentheses unless it only repeats the weight (a setWeight step's "canary weight N%").</summary>
    private static string Line(JsonElement json)
    {
        var weight = $"canary weight {ClientOptions.Text(json, "weight")}%";
        var message = ClientOptions.Text(json, "message");
        return $"{ClientOptions.Text(json, "name")}: {ClientOptions.Text(json, "phase")}, step {ClientOptions.Text(json, "step")}, {weight}{(message.Length == 0 || message == weight ? "" : $" ({message})")}";
    }

    /// <summary>
    /// The rollout file as the API's JSON body: YAML (one document) or JSON (by extension, else when it starts with
    /// <c>{</c> or <c>[</c>), which is read as strictly as <c>ballast apply</c> reads a JSON manifest and the server a body.
    /// </summary>
    private static async Task<JsonObject> ReadAsync(string path, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = path == "-" ? await Console.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false) : await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new CommandUsageException($"Cannot read {path}: {exception.Message}");
        }

        try
        {
            var documents = ManifestReader.IsJson(path, text) ? null : ManifestYaml.Read(text);
            var node = documents is null ? ManifestReader.ParseJson(text, path) : documents.Count > 0 ? documents[0].Content : null;
            var rollout = node as JsonObject ?? throw new CommandUsageException($"{path}: a rollout is one object (name, endpoint, model, strategy, steps, analysis)");
            // A misspelt field (failureLimit as failurelimit) would silently take its default on the server.
            var unknown = new List<string>();
            ManifestFields.FindUnknown(rollout, ManifestJsonContext.Default.RolloutSpec, "", unknown);
            return unknown.Count == 0 ? rollout : throw new CommandUsageException(string.Join(Environment.NewLine, unknown.Select(problem => $"{path}: {problem}")));
        }
        catch (Exception exception) when (exception is JsonException or YamlDotNet.Core.YamlException)
        {
            throw new CommandUsageException($"{path}: {exception.Message}");
        }
    }
}
