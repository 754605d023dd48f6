using System.Globalization;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ballast.Cli.Commands;

/// <summary><c>ballast experiments list|create</c> and <c>ballast runs search|show</c>: the MLflow tracking API from the terminal.</summary>
internal static class TrackingCommands
{
    private const string Api = "/api/2.0/mlflow";

    private static readonly string[] RunInfoFields = ["run_id", "run_name", "experiment_id", "status", "artifact_uri", "lifecycle_stage"];

    public static Command Experiments(TextWriter output)
    {
        var command = new Command("experiments", "List and create tracking experiments; show A/B experiment results.");

        var list = new ClientOptions();
        var all = new Option<bool>("--all") { Description = "Include deleted experiments." };
        var listPageSize = ClientOptions.PageSize();
        var listCommand = list.AddTo(new Command("list", "List experiments, newest first.") { all, listPageSize });
        listCommand.SetAction(async (parse, cancel) =>
        {
            var json = await list.Client(parse).PostListAsync($"{Api}/experiments/search", new JsonObject { ["view_type"] = parse.GetValue(all) ? "ALL" : "ACTIVE_ONLY" },
                "experiments", pageSize: parse.GetValue(listPageSize), cancellationToken: cancel).ConfigureAwait(false);
            return await list.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("ID", "NAME", "STAGE", "CREATED", "ARTIFACTS");
                foreach (var e in ClientOptions.Items(body, "experiments"))
                {
                    table.Add(ClientOptions.Text(e, "experiment_id"), ClientOptions.Text(e, "name"), ClientOptions.Text(e, "lifecycle_stage"), ClientOptions.Time(e, "creation_time"), ClientOptions.Text(e, "artifact_location"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(listCommand);

        var create = new ClientOptions();
        var name = new Argument<string>("name") { Description = "The experiment's name." };
        var location = new Option<string?>("--artifact-location") { Description = "Where its runs' artifacts go (default: served by Ballast)." };
        var createCommand = create.AddTo(new Command("create", "Create an experiment and print its id.") { name, location });
        createCommand.SetAction(async (parse, cancel) =>
        {
            var body = new JsonObject { ["name"] = parse.GetValue(name) };
            if (parse.GetValue(location) is { } artifactLocation)
            {
                body["artifact_location"] = artifactLocation;
            }

            var json = await create.Client(parse).PostJsonAsync($"{Api}/experiments/create", body, cancel).ConfigureAwait(false);
            return await create.PrintAsync(parse, output, json, created =>
            {
                var table = new TextTable("EXPERIMENT_ID");
                table.Add(ClientOptions.Text(created, "experiment_id"));
                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(createCommand);

        // A/B experiments on endpoints (/api/v1/experiments), as opposed to MLflow's tracking experiments above.
        var results = new ClientOptions();
        var experiment = new Argument<string>("name") { Description = "The A/B experiment." };
        var resultsCommand = results.AddTo(new Command("results", "Show an A/B experiment's results per variant and its decision.") { experiment });
        resultsCommand.SetAction(async (parse, cancel) =>
        {
            var json = await results.Client(parse).GetJsonAsync($"/api/v1/experiments/{Uri.EscapeDataString(parse.GetValue(experiment)!)}/results", cancel).ConfigureAwait(false);
            if (parse.GetValue(results.Json))
            {
                await output.WriteLineAsync(json.GetRawText()).ConfigureAwait(false);
                return BallastCli.Success;
            }

            var srm = json.TryGetProperty("srm", out var check) && check.ValueKind == JsonValueKind.Object
                ? $"; SRM p = {check.GetProperty("p_value").GetDouble():0.####}{(check.GetProperty("mismatch").GetBoolean() ? " MISMATCH" : "")}" : "";
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{ClientOptions.Text(json, "experiment")} on {ClientOptions.Text(json, "endpoint")} ({ClientOptions.Text(json, "metric")}, {ClientOptions.Text(json, "engine")}): {ClientOptions.Text(json, "decision")}" +
                $"{(json.GetProperty("provisional").GetBoolean() ? " (provisional)" : "")}; planned {ClientOptions.Text(json, "planned_samples")} per variant{srm}")).ConfigureAwait(false);
            if (json.TryGetProperty("cuped", out var regression) && regression.ValueKind == JsonValueKind.Object && regression.TryGetProperty("covariates", out _))
            {
                var covariates = ClientOptions.Items(regression, "covariates").Select(covariate => string.Create(CultureInfo.InvariantCulture,
                    $"{ClientOptions.Text(covariate, "covariate")}{(covariate.TryGetProperty("lookback", out var over) && over.ValueKind == JsonValueKind.String ? $" over {over.GetString()}" : "")} " +
                    $"(theta {Number(covariate, "theta")}{(covariate.TryGetProperty("dropped", out var dropped) && dropped.ValueKind == JsonValueKind.String ? $", left out: {dropped.GetString()}" : "")})"));
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"CUPED on {string.Join(", ", covariates)}: variance {Percent(regression, "variance_reduction").TrimStart('+')} lower, {ClientOptions.Text(regression, "units_with_covariate")} units with a pre-period value; means and lifts are adjusted")).ConfigureAwait(false);
            }
            else if (json.TryGetProperty("cuped", out var cuped) && cuped.ValueKind == JsonValueKind.Object)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"CUPED on {ClientOptions.Text(cuped, "covariate")} {(cuped.TryGetProperty("lookback", out var lookback) && lookback.ValueKind == JsonValueKind.String ? $"over the {lookback.GetString()} before the start" : "(every row of the table)")}: variance {Percent(cuped, "variance_reduction").TrimStart('+')} lower, theta {Number(cuped, "theta")}, {ClientOptions.Text(cuped, "units_with_covariate")} units with a pre-period value; means and lifts are adjusted")).ConfigureAwait(false);
            }

            await VariantTable(json).WriteAsync(output).ConfigureAwait(false);
            foreach (var metric in ClientOptions.Items(json, "secondary_metrics"))
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{Environment.NewLine}secondary metric {ClientOptions.Text(metric, "metric")} ({ClientOptions.Text(metric, "type")} from {ClientOptions.Text(metric, "source")}; p adjusted by {ClientOptions.Text(json, "correction")}):")).ConfigureAwait(false);
                await VariantTable(metric).WriteAsync(output).ConfigureAwait(false);
            }

            return BallastCli.Success;
        });
        command.Subcommands.Add(resultsCommand);

        var stop = new ClientOptions();
        var stopName = new Argument<string>("name") { Description = "The A/B experiment." };
        var stopCommand = stop.AddTo(new Command("stop", "Stop an A/B experiment's data collection now: its results count what happened until now and stay so.") { stopName });
        stopCommand.SetAction(async (parse, cancel) =>
        {
            var json = await stop.Client(parse).PostJsonAsync($"/api/v1/experiments/{Uri.EscapeDataString(parse.GetValue(stopName)!)}/stop", [], cancel).ConfigureAwait(false);
            await output.WriteLineAsync(parse.GetValue(stop.Json) ? json.GetRawText() : Decision(json)).ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(stopCommand);

        var conclude = new ClientOptions();
        var concludeName = new Argument<string>("name") { Description = "The A/B experiment." };
        var winner = new Option<string?>("--winner") { Description = "The winning variant (none: no winner, nothing ships)." };
        var reason = new Option<string?>("--reason") { Description = "Why: kept with the decision." };
        var apply = new Option<bool>("--apply") { Description = "Route all of the endpoint's traffic to the winner (the other variants stay at weight 0)." };
        var concludeCommand = conclude.AddTo(new Command("conclude", "Record an A/B experiment's decision (final): the winner or none, the reason, and the results now; stops it if running.")
        {
            concludeName, winner, reason, apply,
        });
        concludeCommand.SetAction(async (parse, cancel) =>
        {
            var body = new JsonObject { ["winner"] = parse.GetValue(winner), ["reason"] = parse.GetValue(reason) ?? "", ["apply"] = parse.GetValue(apply) };
            var json = await conclude.Client(parse).PostJsonAsync($"/api/v1/experiments/{Uri.EscapeDataString(parse.GetValue(concludeName)!)}/conclude", body, cancel).ConfigureAwait(false);
            await output.WriteLineAsync(parse.GetValue(conclude.Json) ? json.GetRawText() : Decision(json)).ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(concludeCommand);
        return command;
    }

    /// <summary>One line for an experiment's status: stopped (when, by whom) or concluded (the winner, the reason, whether traffic moved).</summary>
    private static string Decision(JsonElement json)
    {
        var name = json.TryGetProperty("experiment", out var spec) ? ClientOptions.Text(spec, "name") : "";
        if (json.TryGetProperty("conclusion", out var conclusion) && conclusion.ValueKind == JsonValueKind.Object)
        {
            var won = ClientOptions.Text(conclusion, "winner");
            var traffic = conclusion.TryGetProperty("applied_at", out _) ? $"; all traffic on {won}" : "";
            var why = ClientOptions.Text(conclusion, "reason");
            return $"{name}: concluded by {ClientOptions.Text(conclusion, "concluded_by")} at {ClientOptions.Time(conclusion, "concluded_at")}, " +
                $"winner {(won.Length == 0 ? "none" : won)}{traffic}{(why.Length == 0 ? "" : $" ({why})")}";
        }

        return $"{name}: {ClientOptions.Text(json, "status")} at {ClientOptions.Time(json, "stopped_at")} by {ClientOptions.Text(json, "stopped_by")}; results count [{ClientOptions.Time(json, "started_at")}, {ClientOptions.Time(json, "stopped_at")}]";
    }

    private static TextTable VariantTable(JsonElement results)
    {
        var table = new TextTable("VARIANT", "UNITS", "SHARE", "SAMPLES", "MEAN", "LIFT", "LIFT CI", "P / CHANCE", "VERDICT");
        foreach (var variant in ClientOptions.Items(results, "variants"))
        {
            var p = variant.TryGetProperty("adjusted_p_value", out _) ? $"p {Number(variant, "p_value")} (adj. {Number(variant, "adjusted_p_value")})"
                : variant.TryGetProperty("p_value", out _) ? "p " + Number(variant, "p_value") : variant.TryGetProperty("chance_to_win", out _) ? Percent(variant, "chance_to_win") : "";
            table.Add(ClientOptions.Text(variant, "variant"), ClientOptions.Text(variant, "units"), Percent(variant, "share").TrimStart('+'), ClientOptions.Text(variant, "samples"), Number(variant, "mean"),
                Percent(variant, "relative_lift"), variant.TryGetProperty("relative_lower", out _) ? $"[{Percent(variant, "relative_lower")}, {Percent(variant, "relative_upper")}]" : "", p,
                ClientOptions.Text(variant, "verdict") + (variant.TryGetProperty("guardrails_broken", out var broken) ? $" ({string.Join("; ", broken.EnumerateArray().Select(item => item.GetString()))})" : ""));
        }

        return table;
    }

    private static string Number(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("0.####", CultureInfo.InvariantCulture) : "";

    private static string Percent(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("+0.0%;-0.0%;0.0%", CultureInfo.InvariantCulture) : "";

    public static Command Runs(TextWriter output)
    {
        var command = new Command("runs", "Create, search and show runs.");

        var create = new ClientOptions();
        var createExperiment = new Option<string>("--experiment") { Description = "Experiment id or name.", DefaultValueFactory = _ => "0" };
        var runName = new Option<string?>("--name") { Description = "The run's name." };
        var inputs = new Option<string[]>("--input") { Description = "A dataset version the run trains on, e.g. churn@3 (repeatable); logged as an MLflow dataset input.", AllowMultipleArgumentsPerToken = true };
        var context = new Option<string>("--context") { Description = "The inputs' mlflow.data.context.", DefaultValueFactory = _ => "training" };
        var createCommand = create.AddTo(new Command("create", "Create a run, optionally with dataset versions as its inputs, and print its id.") { createExperiment, runName, inputs, context });
        createCommand.SetAction(async (parse, cancel) =>
        {
            var client = create.Client(parse);
            var datasets = new JsonArray();
            foreach (var reference in parse.GetValue(inputs) ?? [])
            {
                // Resolve every input before creating the run, so a wrong reference leaves nothing behind.
                var at = reference.LastIndexOf('@');
                var (name, version) = at < 0 ? (reference, "latest") : (reference[..at], reference[(at + 1)..]);
                var found = await client.GetJsonAsync($"/api/v1/datasets/{Uri.EscapeDataString(name)}/versions/{Uri.EscapeDataString(version)}", cancel).ConfigureAwait(false);
                var number = ClientOptions.Text(found, "version");
                var profile = found.TryGetProperty("row_count", out var rows) && rows.ValueKind == JsonValueKind.Number ? new JsonObject { ["num_rows"] = rows.GetInt64() }.ToJsonString() : null;
                datasets.Add(new JsonObject
                {
                    ["tags"] = new JsonArray(new JsonObject { ["key"] = "mlflow.data.context", ["value"] = parse.GetValue(context) }),
                    ["dataset"] = new JsonObject
                    {
                        ["name"] = name,
                        // MLflow keeps at most 36 characters of a digest; lineage matches the prefix to the version.
                        ["digest"] = ClientOptions.Text(found, "digest")[..36],
                        ["source_type"] = "ballast",
                        ["source"] = new JsonObject { ["uri"] = $"ballast-dataset:{name}@{number}" }.ToJsonString(),
                        ["profile"] = profile,
                    },
                });
            }

            var body = new JsonObject { ["experiment_id"] = await ExperimentIdAsync(client, parse.GetValue(createExperiment)!, cancel).ConfigureAwait(false) };
            if (parse.GetValue(runName) is { } named)
            {
                body["run_name"] = named;
            }

            var run = (await client.PostJsonAsync($"{Api}/runs/create", body, cancel).ConfigureAwait(false)).GetProperty("run");
            var runId = ClientOptions.Text(run.GetProperty("info"), "run_id");
            if (datasets.Count > 0)
            {
                await client.PostJsonAsync($"{Api}/runs/log-inputs", new JsonObject { ["run_id"] = runId, ["datasets"] = datasets }, cancel).ConfigureAwait(false);
            }

            await output.WriteLineAsync(parse.GetValue(create.Json) ? new JsonObject { ["run_id"] = runId, ["inputs"] = datasets.Count }.ToJsonString() : runId).ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(createCommand);

        var search = new ClientOptions();
        var experiment = new Option<string[]>("--experiment") { Description = "Experiment id or name (repeatable).", Required = true, AllowMultipleArgumentsPerToken = true };
        var filter = new Option<string?>("--filter") { Description = "MLflow filter, e.g. \"metrics.auc > 0.8 and params.model = 'lgbm'\"." };
        var orderBy = new Option<string[]>("--order-by") { Description = "Order, e.g. \"metrics.auc DESC\" (repeatable)." };
        var maxResults = new Option<int>("--max-results") { Description = "At most this many runs (read a page at a time).", DefaultValueFactory = _ => 100 };
        var searchPageSize = ClientOptions.PageSize();
        var searchCommand = search.AddTo(new Command("search", "Search runs with MLflow's filter grammar.") { experiment, filter, orderBy, maxResults, searchPageSize });
        searchCommand.SetAction(async (parse, cancel) =>
        {
            var client = search.Client(parse);
            var ids = new JsonArray();
            foreach (var value in parse.GetValue(experiment)!)
            {
                ids.Add(await ExperimentIdAsync(client, value, cancel).ConfigureAwait(false));
            }

            var limit = parse.GetValue(maxResults);
            if (limit < 1)
            {
                throw new CommandUsageException("--max-results must be at least 1");
            }

            var body = new JsonObject { ["experiment_ids"] = ids };
            if (parse.GetValue(filter) is { } text)
            {
                body["filter"] = text;
            }

            if (parse.GetValue(orderBy) is { Length: > 0 } order)
            {
                body["order_by"] = new JsonArray([.. order.Select(item => (JsonNode)JsonValue.Create(item)!)]);
            }

            var json = await client.PostListAsync($"{Api}/runs/search", body, "runs", limit, parse.GetValue(searchPageSize), cancellationToken: cancel).ConfigureAwait(false);
            return await search.PrintAsync(parse, output, json, RunsTable).ConfigureAwait(false);
        });
        command.Subcommands.Add(searchCommand);

        var show = new ClientOptions();
        var runId = new Argument<string>("run-id") { Description = "The run's id." };
        var showCommand = show.AddTo(new Command("show", "Show a run: info, params, latest metrics, tags.") { runId });
        showCommand.SetAction(async (parse, cancel) =>
        {
            var json = await show.Client(parse).GetJsonAsync($"{Api}/runs/get?run_id={Uri.EscapeDataString(parse.GetValue(runId)!)}", cancel).ConfigureAwait(false);
            return await show.PrintAsync(parse, output, json, body =>
            {
                var run = body.GetProperty("run");
                var info = run.GetProperty("info");
                var table = new TextTable("FIELD", "VALUE");
                foreach (var field in RunInfoFields)
                {
                    table.Add(field, ClientOptions.Text(info, field));
                }

                table.Add("start_time", ClientOptions.Time(info, "start_time"));
                table.Add("end_time", ClientOptions.Time(info, "end_time"));
                var data = run.GetProperty("data");
                foreach (var param in ClientOptions.Items(data, "params"))
                {
                    table.Add("params." + ClientOptions.Text(param, "key"), ClientOptions.Text(param, "value"));
                }

                foreach (var metric in ClientOptions.Items(data, "metrics"))
                {
                    table.Add("metrics." + ClientOptions.Text(metric, "key"), ClientOptions.Text(metric, "value"));
                }

                foreach (var tag in ClientOptions.Items(data, "tags"))
                {
                    table.Add("tags." + ClientOptions.Text(tag, "key"), ClientOptions.Text(tag, "value"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(showCommand);
        return command;
    }

    private static TextTable RunsTable(JsonElement body)
    {
        var table = new TextTable("RUN_ID", "NAME", "STATUS", "STARTED", "METRICS");
        foreach (var run in ClientOptions.Items(body, "runs"))
        {
            var info = run.GetProperty("info");
            var metrics = string.Join(" ", ClientOptions.Items(run.GetProperty("data"), "metrics").Select(m => $"{ClientOptions.Text(m, "key")}={ClientOptions.Text(m, "value")}"));
            table.Add(ClientOptions.Text(info, "run_id"), ClientOptions.Text(info, "run_name"), ClientOptions.Text(info, "status"), ClientOptions.Time(info, "start_time"), metrics);
        }

        return table;
    }

    private static async Task<string> ExperimentIdAsync(Ballast.Client.BallastClient client, string idOrName, CancellationToken cancel) =>
        idOrName.All(char.IsAsciiDigit) ? idOrName
            : ClientOptions.Text((await client.GetJsonAsync($"{Api}/experiments/get-by-name?experiment_name={Uri.EscapeDataString(idOrName)}", cancel).ConfigureAwait(false)).GetProperty("experiment"), "experiment_id");
}
