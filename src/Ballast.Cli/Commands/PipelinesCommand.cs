using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Client;

namespace Ballast.Cli.Commands;

/// <summary>
/// <c>ballast pipelines list | run NAME [--param k=v]… [--no-cache] [--wait] | runs NAME | skipped NAME [--limit N] | status RUN | logs RUN [--step S] | cancel RUN | resume RUN</c>.
/// Pipelines themselves are stored with <c>ballast apply -f</c> (<c>kind: Pipeline</c>).
/// </summary>
internal static class PipelinesCommand
{
    private const string Api = "/api/v1/pipelines";
    private const string RunsApi = "/api/v1/pipeline-runs";

    /// <summary>The largest page of a pipeline's runs the server serves (?limit=).</summary>
    private const int MaxRunsPage = 200;

    /// <summary>How often <c>--wait</c> looks at the run.</summary>
    private static readonly TimeSpan WaitPoll = TimeSpan.FromSeconds(1);

    public static Command Create(TextWriter output)
    {
        var command = new Command("pipelines", "Run pipelines and follow their runs (store them with `ballast apply -f pipeline.yaml`).");

        var list = new ClientOptions();
        var listCommand = list.AddTo(new Command("list", "Every pipeline with its steps and schedule."));
        listCommand.SetAction(async (parse, cancel) =>
        {
            var json = await list.Client(parse).GetJsonAsync(Api, cancel).ConfigureAwait(false);
            return await list.PrintAsync(parse, output, json, PipelineTable).ConfigureAwait(false);
        });
        command.Subcommands.Add(listCommand);

        var run = new ClientOptions();
        var runName = new Argument<string>("name") { Description = "The pipeline." };
        var parameters = new Option<string[]>("--param", "-p") { Description = "A parameter value as NAME=VALUE (repeat for more).", AllowMultipleArgumentsPerToken = false };
        var noCache = new Option<bool>("--no-cache") { Description = "Execute every step, even those whose inputs are unchanged." };
        var wait = new Option<bool>("--wait") { Description = "Wait for the run to end; exit 1 when it failed or was cancelled." };
        var runCommand = run.AddTo(new Command("run", "Start a run of a pipeline.") { runName, parameters, noCache, wait });
        runCommand.SetAction(async (parse, cancel) =>
        {
            var values = new JsonObject();
            foreach (var pair in parse.GetValue(parameters) ?? [])
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    throw new CommandUsageException($"--param '{pair}' is not NAME=VALUE");
                }

                if (values.ContainsKey(pair[..equals]))
                {
                    throw new CommandUsageException($"--param {pair[..equals]} is given twice");
                }

                values[pair[..equals]] = pair[(equals + 1)..];
            }

            var client = run.Client(parse);
            var json = await client.PostJsonAsync($"{Api}/{Uri.EscapeDataString(parse.GetValue(runName)!)}/runs",
                new JsonObject { ["parameters"] = values, ["no_cache"] = parse.GetValue(noCache) }, cancel).ConfigureAwait(false);
            if (!parse.GetValue(wait))
            {
                await output.WriteLineAsync(parse.GetValue(run.Json) ? json.GetRawText() : $"run {ClientOptions.Text(json, "run_id")} queued").ConfigureAwait(false);
                return BallastCli.Success;
            }

            var runId = ClientOptions.Text(json, "run_id");
            if (!parse.GetValue(run.Json))
            {
                await output.WriteLineAsync($"run {runId} queued; waiting for it to end").ConfigureAwait(false);
            }

            while (ClientOptions.Text(json, "status") is not ("succeeded" or "failed" or "cancelled"))
            {
                await Task.Delay(WaitPoll, cancel).ConfigureAwait(false);
                json = await client.GetJsonAsync($"{RunsApi}/{runId}", cancel).ConfigureAwait(false);
            }

            await PrintRunAsync(parse, run, output, json).ConfigureAwait(false);
            return ClientOptions.Text(json, "status") == "succeeded" ? BallastCli.Success : BallastCli.Failure;
        });
        command.Subcommands.Add(runCommand);

        var runs = new ClientOptions();
        var runsName = new Argument<string>("name") { Description = "The pipeline." };
        var runsLimit = ClientOptions.OptionalLimit("At most this many runs, newest first (default: all of them).");
        var runsCommand = runs.AddTo(new Command("runs", "The pipeline's runs, newest first.") { runsName, runsLimit });
        runsCommand.SetAction(async (parse, cancel) =>
        {
            var json = await runs.Client(parse).GetListAsync($"{Api}/{Uri.EscapeDataString(parse.GetValue(runsName)!)}/runs", "runs",
                parse.GetValue(runsLimit), MaxRunsPage, PageParameters.Before, cancel).ConfigureAwait(false);
            return await runs.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("RUN", "STATUS", "TRIGGER", "CREATED", "FINISHED", "STEPS", "ERROR");
                foreach (var item in ClientOptions.Items(body, "runs"))
                {
                    var steps = ClientOptions.Items(item, "steps").GroupBy(step => ClientOptions.Text(step, "status")).Select(group => $"{group.Count()} {group.Key}");
                    table.Add(ClientOptions.Text(item, "run_id"), ClientOptions.Text(item, "status"), ClientOptions.Text(item, "trigger"), ClientOptions.Time(item, "created_at"),
                        ClientOptions.Time(item, "finished_at"), string.Join(", ", steps), ClientOptions.Text(item, "error"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(runsCommand);

        var skipped = new ClientOptions();
        var skippedName = new Argument<string>("name") { Description = "The pipeline." };
        var skippedLimit = ClientOptions.OptionalLimit("At most this many, newest first (default: all of them).");
        var skippedCommand = skipped.AddTo(new Command("skipped", "Schedule occurrences and dataset versions that max_active_runs skipped, newest first.") { skippedName, skippedLimit });
        skippedCommand.SetAction(async (parse, cancel) =>
        {
            var json = await skipped.Client(parse).GetListAsync($"{Api}/{Uri.EscapeDataString(parse.GetValue(skippedName)!)}/skipped-starts", "skipped_starts",
                parse.GetValue(skippedLimit), MaxRunsPage, PageParameters.Before, cancel).ConfigureAwait(false);
            return await skipped.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("AT", "TRIGGER", "KEY", "REASON");
                foreach (var item in ClientOptions.Items(body, "skipped_starts"))
                {
                    table.Add(ClientOptions.Time(item, "at"), ClientOptions.Text(item, "trigger"), ClientOptions.Text(item, "dedupe_key"), ClientOptions.Text(item, "reason"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(skippedCommand);

        var status = new ClientOptions();
        var statusRun = new Argument<string>("run") { Description = "The run id." };
        var statusCommand = status.AddTo(new Command("status", "A run and its steps: status, attempts, outputs, errors.") { statusRun });
        statusCommand.SetAction(async (parse, cancel) =>
        {
            var json = await status.Client(parse).GetJsonAsync($"{RunsApi}/{Uri.EscapeDataString(parse.GetValue(statusRun)!)}", cancel).ConfigureAwait(false);
            await PrintRunAsync(parse, status, output, json).ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(statusCommand);

        var logs = new ClientOptions();
        var logsRun = new Argument<string>("run") { Description = "The run id." };
        var step = new Option<string?>("--step", "-s") { Description = "Only this step's log." };
        var logsCommand = logs.AddTo(new Command("logs", "The steps' logs (a command's stdout and stderr).") { logsRun, step });
        logsCommand.SetAction(async (parse, cancel) =>
        {
            var query = parse.GetValue(step) is { } name ? $"?step={Uri.EscapeDataString(name)}" : "";
            await output.WriteAsync(await logs.Client(parse).GetTextAsync($"{RunsApi}/{Uri.EscapeDataString(parse.GetValue(logsRun)!)}/logs{query}", cancel).ConfigureAwait(false)).ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(logsCommand);

        foreach (var (verb, description) in new[] { ("cancel", "Cancel a run: queued steps at once, running ones within a second."), ("resume", "Resume a failed or cancelled run from its failed steps.") })
        {
            var options = new ClientOptions();
            var id = new Argument<string>("run") { Description = "The run id." };
            var verbCommand = options.AddTo(new Command(verb, description) { id });
            verbCommand.SetAction(async (parse, cancel) =>
            {
                var json = await options.Client(parse).PostJsonAsync($"{RunsApi}/{Uri.EscapeDataString(parse.GetValue(id)!)}/{verb}", [], cancel).ConfigureAwait(false);
                await output.WriteLineAsync(parse.GetValue(options.Json) ? json.GetRawText() : $"run {ClientOptions.Text(json, "run_id")}: {ClientOptions.Text(json, "status")}").ConfigureAwait(false);
                return BallastCli.Success;
            });
            command.Subcommands.Add(verbCommand);
        }

        command.Subcommands.Add(StepCommand(output));
        return command;
    }

    /// <summary>
    /// <c>ballast pipelines step --run RUN --step STEP --attempt N</c>: what a Kubernetes Job's pod runs. It reaches the
    /// metadata database and artifact store like the server (BALLAST_DATABASE, BALLAST_ARTIFACTS, …), runs the one step
    /// attempt here, prints its log to stdout and stores its outputs for the runner that created the Job.
    /// </summary>
    private static Command StepCommand(TextWriter output)
    {
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "Scratch folder [env: BALLAST_DATA_DIR] (default: a temporary folder).",
            DefaultValueFactory = _ => CommonOptions.Environment("BALLAST_DATA_DIR") ?? Path.Combine(Path.GetTempPath(), "ballast-step"),
        };
        var database = CommonOptions.Database();
        var artifacts = new Option<string?>("--artifacts")
        {
            Description = "Artifact store: a folder or s3://bucket/prefix [env: BALLAST_ARTIFACTS].",
            DefaultValueFactory = _ => CommonOptions.Environment("BALLAST_ARTIFACTS"),
        };
        var runId = new Option<string>("--run") { Description = "The pipeline run.", Required = true };
        var step = new Option<string>("--step") { Description = "The step.", Required = true };
        var attempt = new Option<int>("--attempt") { Description = "The attempt number.", DefaultValueFactory = _ => 1 };
        var command = new Command("step", "Run one step attempt of a pipeline run in this process (what a Kubernetes Job runs).") { dataDir, database, artifacts, runId, step, attempt };
        command.SetAction(async (parse, cancel) =>
        {
            var options = new Ballast.Configuration.BallastOptions
            {
                DataDir = parse.GetValue(dataDir)!,
                Database = parse.GetValue(database),
                Artifacts = parse.GetValue(artifacts),
                S3Endpoint = CommonOptions.Environment("BALLAST_S3_ENDPOINT"),
                S3Region = CommonOptions.Environment("AWS_REGION") ?? CommonOptions.Environment("AWS_DEFAULT_REGION"),
            };
            var server = await Ballast.Server.BallastServer.PrepareAsync(options, cancellationToken: cancel).ConfigureAwait(false);
            await using var app = Ballast.Server.BallastServer.Build(server);
            var runner = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Ballast.Pipelines.PipelineRunner>(app.Services);
            try
            {
                var outputs = await runner.RunStepHereAsync(parse.GetValue(runId)!, parse.GetValue(step)!, parse.GetValue(attempt), output, cancel).ConfigureAwait(false);
                await output.WriteLineAsync($"step {parse.GetValue(step)} succeeded with outputs: {string.Join(", ", outputs.Keys)}").ConfigureAwait(false);
                return BallastCli.Success;
            }
            catch (Ballast.Pipelines.StepFailedException exception)
            {
                await Console.Error.WriteLineAsync($"error: {exception.Message}").ConfigureAwait(false);
                return BallastCli.Failure;
            }
        });
        return command;
    }

    public static TextTable PipelineTable(JsonElement body)
    {
        var table = new TextTable("NAME", "STEPS", "SCHEDULE", "NEXT RUN", "TRIGGERS");
        foreach (var item in ClientOptions.Items(body, "pipelines"))
        {
            var spec = item.GetProperty("pipeline");
            var schedule = spec.TryGetProperty("schedule", out var value) ? $"{ClientOptions.Text(value, "cron")} {ClientOptions.Text(value, "time_zone")}".Trim() : "";
            table.Add(ClientOptions.Text(spec, "name"), string.Join(" ", ClientOptions.Items(spec, "steps").Select(s => ClientOptions.Text(s, "name"))), schedule,
                ClientOptions.Time(item, "next_scheduled_at"), string.Join(", ", ClientOptions.Items(spec, "triggers").Select(t => $"dataset {ClientOptions.Text(t, "dataset")}")));
        }

        return table;
    }

    private static async Task PrintRunAsync(ParseResult parse, ClientOptions options, TextWriter output, JsonElement json)
    {
        if (parse.GetValue(options.Json))
        {
            await output.WriteLineAsync(json.GetRawText()).ConfigureAwait(false);
            return;
        }

        await output.WriteLineAsync($"run {ClientOptions.Text(json, "run_id")} of {ClientOptions.Text(json, "pipeline")}: {ClientOptions.Text(json, "status")}" +
            (ClientOptions.Text(json, "error") is { Length: > 0 } error ? $" ({error})" : "")).ConfigureAwait(false);
        var table = new TextTable("STEP", "KIND", "STATUS", "ATTEMPTS", "OUTPUTS", "ERROR");
        foreach (var item in ClientOptions.Items(json, "steps"))
        {
            var outputs = item.TryGetProperty("outputs", out var values) && values.ValueKind == JsonValueKind.Object
                ? string.Join(", ", values.EnumerateObject().Select(pair => $"{pair.Name}={Describe(pair.Value)}"))
                : "";
            table.Add(ClientOptions.Text(item, "step"), ClientOptions.Text(item, "kind"), ClientOptions.Text(item, "status"), ClientOptions.Text(item, "attempts"), outputs, ClientOptions.Text(item, "error"));
        }

        await table.WriteAsync(output).ConfigureAwait(false);
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object when value.TryGetProperty("uri", out var uri) => uri.GetString() ?? "",
        JsonValueKind.String => value.GetString() ?? "",
        _ => value.GetRawText(),
    };
}
