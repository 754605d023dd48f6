using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ballast.Cli.Commands;

/// <summary>
/// <c>ballast features list|online|materialize|training-set|consistency</c>: the feature store (define feature sets with
/// <c>ballast apply -f</c>, kind: FeatureSet).
/// </summary>
internal static class FeaturesCommand
{
    private const string Api = "/api/v1/features";

    public static Command Create(TextWriter output)
    {
        var command = new Command("features", "The feature store: online lookups, materialization, point-in-time training sets, consistency (define sets with `ballast apply -f`, kind: FeatureSet).");

        var list = new ClientOptions();
        var listCommand = list.AddTo(new Command("list", "List feature sets with their entities, views and services."));
        listCommand.SetAction(async (parse, cancel) =>
        {
            var json = await list.Client(parse).GetJsonAsync(Api, cancel).ConfigureAwait(false);
            return await list.PrintAsync(parse, output, json, body => Table(ClientOptions.Items(body, "feature_sets"))).ConfigureAwait(false);
        });
        command.Subcommands.Add(listCommand);

        var online = new ClientOptions();
        var onlineService = new Option<string>("--service") { Description = "The feature service.", Required = true };
        var onlineEntity = new Option<string[]>("--entity") { Description = "An entity key (repeat for several).", Required = true, AllowMultipleArgumentsPerToken = true };
        var onlineCommand = online.AddTo(new Command("online", "Look up entities' features of a service in the online store.") { onlineService, onlineEntity });
        onlineCommand.SetAction(async (parse, cancel) =>
        {
            var entities = new JsonArray(parse.GetValue(onlineEntity)!.Select(key => (JsonNode?)JsonValue.Create(key)).ToArray());
            var json = await online.Client(parse).PostJsonAsync($"{Api}/online", new JsonObject { ["service"] = parse.GetValue(onlineService), ["entities"] = entities }, cancel).ConfigureAwait(false);
            return await online.PrintAsync(parse, output, json, body => OnlineTable(ClientOptions.Items(body, "rows"))).ConfigureAwait(false);
        });
        command.Subcommands.Add(onlineCommand);

        var materialize = new ClientOptions();
        var until = new Option<string?>("--until") { Description = "Materialize values with event time up to this RFC 3339 time (default: now)." };
        var views = new Option<string[]>("--view") { Description = "Only this view (repeat for several; default: every view).", AllowMultipleArgumentsPerToken = true };
        var materializeCommand = materialize.AddTo(new Command("materialize", "Copy the latest feature values from the offline store into the online store, incrementally.") { until, views });
        materializeCommand.SetAction(async (parse, cancel) =>
        {
            var body = new JsonObject();
            if (parse.GetValue(until) is { } time)
            {
                body["until"] = time;
            }

            if (parse.GetValue(views) is { Length: > 0 } names)
            {
                body["views"] = new JsonArray(names.Select(name => (JsonNode?)JsonValue.Create(name)).ToArray());
            }

            var json = await materialize.Client(parse).PostJsonAsync($"{Api}/materialize", body, cancel).ConfigureAwait(false);
            return await materialize.PrintAsync(parse, output, json, answer => MaterializeTable(ClientOptions.Items(answer, "views"))).ConfigureAwait(false);
        });
        command.Subcommands.Add(materializeCommand);

        var training = new ClientOptions();
        var trainingService = new Option<string>("--service") { Description = "The feature service whose features to join.", Required = true };
        var entitiesFile = new Option<FileInfo>("--entities") { Description = "Entity rows: CSV, TSV or Parquet with the join key and a timestamp column (other columns, e.g. labels, are kept).", Required = true };
        var timestampColumn = new Option<string?>("--timestamp-column") { Description = "The entity rows' time column (default: event_timestamp)." };
        var outputFile = new Option<FileInfo>("-o", "--output") { Description = "The Parquet file to write.", Required = true };
        var trainingCommand = training.AddTo(new Command("training-set", "Build a point-in-time correct training set: each entity row joined with the latest feature values at or before its time, within TTL.")
            { trainingService, entitiesFile, timestampColumn, outputFile });
        trainingCommand.SetAction(async (parse, cancel) =>
        {
            var entities = parse.GetValue(entitiesFile)!;
            if (!entities.Exists)
            {
                throw new CommandUsageException($"--entities '{entities.FullName}' does not exist");
            }

            var contentType = Path.GetExtension(entities.Name).ToUpperInvariant() switch
            {
                ".CSV" => "text/csv",
                ".TSV" or ".TAB" => "text/tab-separated-values",
                ".PARQUET" or ".PQ" => "application/vnd.apache.parquet",
                _ => throw new CommandUsageException($"--entities '{entities.Name}' is not a .csv, .tsv or .parquet file"),
            };
            var query = $"{Api}/training-set?service={Uri.EscapeDataString(parse.GetValue(trainingService)!)}"
                        + (parse.GetValue(timestampColumn) is { } column ? $"&timestamp_column={Uri.EscapeDataString(column)}" : "");
            var target = parse.GetValue(outputFile)!;
            var client = training.Client(parse);
            IReadOnlyDictionary<string, string> headers;
            await using (var source = entities.OpenRead())
            {
                headers = await PartialFile.WriteAsync(target.FullName, destination => client.ExchangeFileAsync(query, source, contentType, destination, cancel)).ConfigureAwait(false);
            }

            var rows = headers.GetValueOrDefault("Ballast-Rows") ?? "?";
            var sources = headers.GetValueOrDefault("Ballast-Sources") ?? "";
            if (parse.GetValue(training.Json))
            {
                await output.WriteLineAsync(new JsonObject { ["output"] = target.FullName, ["rows"] = long.TryParse(rows, CultureInfo.InvariantCulture, out var count) ? count : null, ["sources"] = sources }.ToJsonString()).ConfigureAwait(false);
            }
            else
            {
                await output.WriteLineAsync($"wrote {target.FullName}: {rows} rows (features from {sources})").ConfigureAwait(false);
            }

            return BallastCli.Success;
        });
        command.Subcommands.Add(trainingCommand);

        var consistency = new ClientOptions();
        var consistencyService = new Option<string>("--service") { Description = "The feature service to check.", Required = true };
        var sample = new Option<int>("--sample") { Description = "Entities to sample per view.", DefaultValueFactory = _ => 100 };
        var seed = new Option<int>("--seed") { Description = "Seed of the sample (the same seed, the same entities).", DefaultValueFactory = _ => 0 };
        var consistencyCommand = consistency.AddTo(new Command("consistency", "Compare online values with an offline recomputation for a sample of entities (skew rate).") { consistencyService, sample, seed });
        consistencyCommand.SetAction(async (parse, cancel) =>
        {
            var json = await consistency.Client(parse).PostJsonAsync(string.Create(CultureInfo.InvariantCulture,
                $"{Api}/consistency?service={Uri.EscapeDataString(parse.GetValue(consistencyService)!)}&sample={parse.GetValue(sample)}&seed={parse.GetValue(seed)}"), [], cancel).ConfigureAwait(false);
            return await consistency.PrintAsync(parse, output, json, ConsistencyTable).ConfigureAwait(false);
        });
        command.Subcommands.Add(consistencyCommand);
        return command;
    }

    /// <summary>The table of <c>features list</c> (and <c>get featuresets</c>).</summary>
    internal static TextTable Table(IEnumerable<JsonElement> sets)
    {
        var table = new TextTable("NAME", "ENTITIES", "VIEWS", "SERVICES", "REVISION");
        foreach (var set in sets)
        {
            table.Add(ClientOptions.Text(set, "name"), Names(set, "entities"), Names(set, "views"), Names(set, "services"), ClientOptions.Text(set, "revision"));
        }

        return table;
    }

    private static string Names(JsonElement set, string property) =>
        set.TryGetProperty(property, out var items) && items.ValueKind == JsonValueKind.Array
            ? string.Join(" ", items.EnumerateArray().Select(item => ClientOptions.Text(item, "name")))
            : "-";

    private static TextTable OnlineTable(IEnumerable<JsonElement> rows)
    {
        var table = new TextTable("ENTITY", "FEATURES", "MISSING");
        foreach (var row in rows)
        {
            var features = row.GetProperty("features").EnumerateObject().Select(feature => $"{feature.Name}={feature.Value.GetRawText()}");
            var missing = row.GetProperty("missing").EnumerateArray().Select(name => name.GetString());
            table.Add(ClientOptions.Text(row, "entity"), string.Join(" ", features), string.Join(" ", missing));
        }

        return table;
    }

    private static TextTable MaterializeTable(IEnumerable<JsonElement> views)
    {
        var table = new TextTable("VIEW", "SOURCE", "FROM", "UNTIL", "ROWS", "CHANGED");
        foreach (var view in views)
        {
            table.Add(ClientOptions.Text(view, "view"), ClientOptions.Text(view, "source"), ClientOptions.Time(view, "from"), ClientOptions.Time(view, "until"),
                ClientOptions.Text(view, "rows"), ClientOptions.Text(view, "changed"));
        }

        return table;
    }

    private static TextTable ConsistencyTable(JsonElement report)
    {
        var table = new TextTable("VIEW", "SOURCE", "SAMPLED", "SKEWED", "EXAMPLES");
        foreach (var view in ClientOptions.Items(report, "views"))
        {
            table.Add(ClientOptions.Text(view, "view"), ClientOptions.Text(view, "source"), ClientOptions.Text(view, "sampled"), ClientOptions.Text(view, "skewed"),
                string.Join("; ", view.GetProperty("examples").EnumerateArray().Select(example => example.GetString())));
        }

        table.Add("(all)", "", ClientOptions.Text(report, "sampled"), ClientOptions.Text(report, "skewed"),
            "skew rate " + report.GetProperty("skew_rate").GetDouble().ToString("0.####", CultureInfo.InvariantCulture));
        return table;
    }
}
