using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ballast.Cli.Commands;

/// <summary><c>ballast endpoints create|list|show|delete</c>: serving endpoints from the terminal.</summary>
internal static class EndpointsCommand
{
    private const string Api = "/api/v1/endpoints";

    public static Command Create(TextWriter output)
    {
        var command = new Command("endpoints", "Create, list, show and delete serving endpoints.");

        var create = new ClientOptions();
        var name = new Argument<string>("name") { Description = "The endpoint (lowercase letters, digits, '-')." };
        var model = new Option<string>("--model") { Description = "models:/NAME/VERSION or models:/NAME@ALIAS.", Required = true };
        var createCommand = create.AddTo(new Command("create", "Create a one-variant endpoint serving a model version.") { name, model });
        createCommand.SetAction(async (parse, cancel) =>
        {
            var body = new JsonObject
            {
                ["name"] = parse.GetValue(name),
                ["variants"] = new JsonArray(new JsonObject { ["name"] = "main", ["model"] = parse.GetValue(model), ["weight"] = 100 }),
            };
            var json = await create.Client(parse).PostJsonAsync(Api, body, cancel).ConfigureAwait(false);
            var status = json.GetProperty("status");
            var serving = string.Join(", ", ClientOptions.Items(status, "serving").Select(v => ClientOptions.Text(v, "model")));
            var problem = ClientOptions.Text(status, "problem");
            // Stored either way; an endpoint that serves nothing yet (an alias not set) says so rather than "serving" nothing.
            await output.WriteLineAsync(parse.GetValue(create.Json) ? json.GetRawText()
                : serving.Length == 0 && problem is { Length: > 0 } ? $"{ClientOptions.Text(json, "name")}: stored, not served: {problem}"
                : $"{ClientOptions.Text(json, "name")}: serving {serving}" + (problem is { Length: > 0 } ? $" (not ready: {problem})" : "")).ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(createCommand);

        var list = new ClientOptions();
        var listCommand = list.AddTo(new Command("list", "List endpoints with the model versions they serve."));
        listCommand.SetAction(async (parse, cancel) =>
        {
            var json = await list.Client(parse).GetJsonAsync(Api, cancel).ConfigureAwait(false);
            return await list.PrintAsync(parse, output, json, body => Table(ClientOptions.Items(body, "endpoints"))).ConfigureAwait(false);
        });
        command.Subcommands.Add(listCommand);

        var show = new ClientOptions();
        var showName = new Argument<string>("name") { Description = "The endpoint." };
        var showCommand = show.AddTo(new Command("show", "Show an endpoint: its spec, revision and serving status.") { showName });
        showCommand.SetAction(async (parse, cancel) =>
        {
            var json = await show.Client(parse).GetJsonAsync($"{Api}/{Uri.EscapeDataString(parse.GetValue(showName)!)}", cancel).ConfigureAwait(false);
            return await show.PrintAsync(parse, output, json, Fields).ConfigureAwait(false);
        });
        command.Subcommands.Add(showCommand);

        var delete = new ClientOptions();
        var deleteName = new Argument<string>("name") { Description = "The endpoint." };
        var deleteCommand = delete.AddTo(new Command("delete", "Delete an endpoint.") { deleteName });
        deleteCommand.SetAction(async (parse, cancel) =>
        {
            await delete.Client(parse).DeleteAsync($"{Api}/{Uri.EscapeDataString(parse.GetValue(deleteName)!)}", cancel).ConfigureAwait(false);
            await output.WriteLineAsync($"deleted {parse.GetValue(deleteName)}").ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(deleteCommand);
        return command;
    }

    /// <summary>
    /// The table of <c>endpoints show</c>: a row per field in the API's order, a row per variant and shadow ("variant a:
    /// models:/iris/1, weight 90"), the status's fields, times as dates, and a policy's settings as compact JSON.
    /// </summary>
    private static TextTable Fields(JsonElement endpoint)
    {
        var table = new TextTable("FIELD", "VALUE");
        foreach (var field in endpoint.EnumerateObject())
        {
            switch (field.Name)
            {
                case "variants" or "shadows":
                    foreach (var variant in field.Value.EnumerateArray())
                    {
                        table.Add($"{field.Name[..^1]} {ClientOptions.Text(variant, "name")}", string.Join(", ", variant.EnumerateObject()
                            .Where(property => property.Name != "name" && property.Value.ValueKind != JsonValueKind.Null)
                            .Select(property => property.Name is "model" or "url" ? ClientOptions.Text(variant, property.Name) : $"{property.Name} {Value(property.Value)}")));
                    }

                    break;
                case "status":
                    table.Add("ready", ClientOptions.Text(field.Value, "ready"));
                    table.Add("served revision", ClientOptions.Text(field.Value, "served_revision"));
                    table.Add("serving", string.Join(" ", ClientOptions.Items(field.Value, "serving").Select(v => $"{ClientOptions.Text(v, "name")}={ClientOptions.Text(v, "model")}")));
                    if (ClientOptions.Text(field.Value, "problem") is { Length: > 0 } problem)
                    {
                        table.Add("problem", problem);
                    }

                    break;
                case "created_at" or "updated_at":
                    table.Add(field.Name[..^3], ClientOptions.Time(endpoint, field.Name));
                    break;
                default:
                    if (field.Value.ValueKind != JsonValueKind.Null)
                    {
                        table.Add(field.Name, Value(field.Value));
                    }

                    break;
            }
        }

        return table;

        static string Value(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : value.GetRawText();
    }

    /// <summary>The table of <c>endpoints list</c> (and <c>get endpoints</c>).</summary>
    internal static TextTable Table(IEnumerable<JsonElement> endpoints)
    {
        var table = new TextTable("NAME", "POLICY", "READY", "SERVING", "REVISION", "UPDATED");
        foreach (var endpoint in endpoints)
        {
            var status = endpoint.GetProperty("status");
            table.Add(ClientOptions.Text(endpoint, "name"), ClientOptions.Text(endpoint, "policy"), ClientOptions.Text(status, "ready"),
                string.Join(" ", ClientOptions.Items(status, "serving").Select(v => $"{ClientOptions.Text(v, "name")}={ClientOptions.Text(v, "model")}")),
                ClientOptions.Text(endpoint, "revision"), ClientOptions.Time(endpoint, "updated_at"));
        }

        return table;
    }
}
