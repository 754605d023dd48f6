using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ballast.Cli.Commands;

/// <summary><c>ballast models list|show|versions|alias set</c>: the model registry from the terminal.</summary>
internal static class ModelsCommand
{
    private const string Api = "/api/2.0/mlflow";

    public static Command Create(TextWriter output)
    {
        var command = new Command("models", "List registered models, their versions and aliases.");

        var list = new ClientOptions();
        var filter = new Option<string?>("--filter") { Description = "MLflow filter, e.g. \"name LIKE 'churn%'\"." };
        var listPageSize = ClientOptions.PageSize();
        var listCommand = list.AddTo(new Command("list", "List registered models.") { filter, listPageSize });
        listCommand.SetAction(async (parse, cancel) =>
        {
            var path = $"{Api}/registered-models/search" + (parse.GetValue(filter) is { } text ? "?filter=" + Uri.EscapeDataString(text) : "");
            var json = await list.Client(parse).GetListAsync(path, "registered_models", pageSize: parse.GetValue(listPageSize), cancellationToken: cancel).ConfigureAwait(false);
            return await list.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("NAME", "LATEST", "ALIASES", "UPDATED", "DESCRIPTION");
                foreach (var model in ClientOptions.Items(body, "registered_models"))
                {
                    table.Add(ClientOptions.Text(model, "name"),
                        string.Join(" ", ClientOptions.Items(model, "latest_versions").Select(LatestVersion)),
                        Aliases(model), ClientOptions.Time(model, "last_updated_timestamp"), ClientOptions.Text(model, "description"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(listCommand);

        var show = new ClientOptions();
        var showName = new Argument<string>("name") { Description = "The registered model." };
        var showCommand = show.AddTo(new Command("show", "Show a registered model.") { showName });
        showCommand.SetAction(async (parse, cancel) =>
        {
            var json = await show.Client(parse).GetJsonAsync($"{Api}/registered-models/get?name={Uri.EscapeDataString(parse.GetValue(showName)!)}", cancel).ConfigureAwait(false);
            return await show.PrintAsync(parse, output, json, body =>
            {
                var model = body.GetProperty("registered_model");
                var table = new TextTable("FIELD", "VALUE");
                table.Add("name", ClientOptions.Text(model, "name"));
                table.Add("description", ClientOptions.Text(model, "description"));
                table.Add("created", ClientOptions.Time(model, "creation_timestamp"));
                table.Add("updated", ClientOptions.Time(model, "last_updated_timestamp"));
                table.Add("aliases", Aliases(model));
                foreach (var tag in ClientOptions.Items(model, "tags"))
                {
                    table.Add("tags." + ClientOptions.Text(tag, "key"), ClientOptions.Text(tag, "value"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(showCommand);

        var versions = new ClientOptions();
        var versionsName = new Argument<string>("name") { Description = "The registered model." };
        var versionsPageSize = ClientOptions.PageSize();
        var versionsCommand = versions.AddTo(new Command("versions", "List a model's versions, newest first.") { versionsName, versionsPageSize });
        versionsCommand.SetAction(async (parse, cancel) =>
        {
            var name = parse.GetValue(versionsName)!;
            var client = versions.Client(parse);
            // An unknown model is an error (404), not an empty list.
            await client.GetJsonAsync($"{Api}/registered-models/get?name={Uri.EscapeDataString(name)}", cancel).ConfigureAwait(false);
            var filterText = Uri.EscapeDataString($"name = '{name.Replace("'", "''", StringComparison.Ordinal)}'");
            var json = await client.GetListAsync($"{Api}/model-versions/search?filter={filterText}", "model_versions",
                pageSize: parse.GetValue(versionsPageSize), cancellationToken: cancel).ConfigureAwait(false);
            return await versions.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("VERSION", "STAGE", "ALIASES", "RUN_ID", "CREATED", "SOURCE");
                foreach (var version in ClientOptions.Items(body, "model_versions"))
                {
                    table.Add(ClientOptions.Text(version, "version"), ClientOptions.Text(version, "current_stage"),
                        string.Join(",", ClientOptions.Items(version, "aliases").Select(alias => alias.GetString())),
                        ClientOptions.Text(version, "run_id"), ClientOptions.Time(version, "creation_timestamp"), ClientOptions.Text(version, "source"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(versionsCommand);

        var card = new ClientOptions();
        var cardName = new Argument<string>("name") { Description = "The registered model." };
        var cardVersion = new Argument<string>("version") { Description = "The version." };
        var cardCommand = card.AddTo(new Command("card", "Print a version's model card as Markdown (or JSON with --json).") { cardName, cardVersion });
        cardCommand.SetAction(async (parse, cancel) =>
        {
            var path = $"/api/v1/models/{Uri.EscapeDataString(parse.GetValue(cardName)!)}/versions/{Uri.EscapeDataString(parse.GetValue(cardVersion)!)}/card";
            var client = card.Client(parse);
            var text = parse.GetValue(card.Json)
                ? (await client.GetJsonAsync(path, cancel).ConfigureAwait(false)).GetRawText()
                : await client.GetTextAsync(path + "?format=markdown", cancel).ConfigureAwait(false);
            await output.WriteLineAsync(text.TrimEnd()).ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(cardCommand);

        var register = new ClientOptions();
        var registerName = new Argument<string>("name") { Description = "The registered model (created when new)." };
        var registerFile = new Argument<string>("file") { Description = "The model file (.onnx)." };
        var flavor = new Option<string?>("--flavor") { Description = "onnx or mlnet (default: from the file name, .onnx or .zip)." };
        var runId = new Option<string?>("--run") { Description = "The run that trained it (lineage)." };
        var description = new Option<string?>("--description") { Description = "What this version is." };
        var featureService = new Option<string?>("--feature-service") { Description = "The feature service the model was trained on (recorded on the version and its card)." };
        var registerCommand = register.AddTo(new Command("register", "Register a model file as a new version (its signature is read from the model); prints the version.")
            { registerName, registerFile, flavor, runId, description, featureService });
        registerCommand.SetAction(async (parse, cancel) =>
        {
            var path = parse.GetValue(registerFile)!;
            if (!File.Exists(path))
            {
                throw new CommandUsageException($"There is no model file at {Path.GetFullPath(path)}.");
            }

            using var form = new MultipartFormDataContent();
            await using var stream = File.OpenRead(path);
            using var file = new StreamContent(stream);
            form.Add(file, "file", Path.GetFileName(path));
            foreach (var (field, value) in new[] { ("flavor", parse.GetValue(flavor)), ("run_id", parse.GetValue(runId)), ("description", parse.GetValue(description)), ("feature_service", parse.GetValue(featureService)) })
            {
                if (value is not null)
                {
                    form.Add(new StringContent(value), field);
                }
            }

            var json = await register.Client(parse).PostFormAsync($"/api/v1/models/{Uri.EscapeDataString(parse.GetValue(registerName)!)}/versions", form, cancel).ConfigureAwait(false);
            await output.WriteLineAsync(parse.GetValue(register.Json) ? json.GetRawText() : ClientOptions.Text(json, "version")).ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(registerCommand);

        var alias = new Command("alias", "Point aliases (champion, challenger, …) at versions.");
        var set = new ClientOptions();
        var setName = new Argument<string>("name") { Description = "The registered model." };
        var setAlias = new Argument<string>("alias") { Description = "The alias, e.g. champion." };
        var setVersion = new Argument<string>("version") { Description = "The version it points at." };
        var setCommand = set.AddTo(new Command("set", "Point an alias at a version (moving it if it pointed elsewhere).") { setName, setAlias, setVersion });
        setCommand.SetAction(async (parse, cancel) =>
        {
            await set.Client(parse).PostJsonAsync($"{Api}/registered-models/alias",
                new JsonObject { ["name"] = parse.GetValue(setName), ["alias"] = parse.GetValue(setAlias), ["version"] = parse.GetValue(setVersion) }, cancel).ConfigureAwait(false);
            await output.WriteLineAsync($"{parse.GetValue(setName)}@{parse.GetValue(setAlias)} -> version {parse.GetValue(setVersion)}").ConfigureAwait(false);
            return BallastCli.Success;
        });
        alias.Subcommands.Add(setCommand);
        command.Subcommands.Add(alias);
        return command;
    }

    /// <summary>A latest version as "v3", with its MLflow stage when it has one: "v2 (Production)".</summary>
    private static string LatestVersion(JsonElement version)
    {
        var stage = ClientOptions.Text(version, "current_stage");
        return stage is "" or "None" ? $"v{ClientOptions.Text(version, "version")}" : $"v{ClientOptions.Text(version, "version")} ({stage})";
    }

    private static string Aliases(JsonElement model) =>
        string.Join(",", ClientOptions.Items(model, "aliases").Select(a => $"{ClientOptions.Text(a, "alias")}=v{ClientOptions.Text(a, "version")}"));
}
