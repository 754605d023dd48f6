using System.CommandLine;
using Ballast.Client;

namespace Ballast.Cli.Commands;

/// <summary>
/// <c>ballast audit [--resource-type T] [--resource NAME[/VERSION]] [--actor KEY] [--limit N]</c>: the registry's audit
/// trail (<c>GET /api/v1/audit</c>), newest first, every page of it unless limited.
/// </summary>
internal static class AuditCommand
{
    /// <summary>The largest page the audit trail serves (max_results).</summary>
    private const int MaxPage = 1000;

    public static Command Create(TextWriter output)
    {
        var client = new ClientOptions();
        var resourceType = new Option<string?>("--resource-type") { Description = "registered_model or model_version." };
        resourceType.AcceptOnlyFromAmong("registered_model", "model_version");
        var resource = new Option<string?>("--resource") { Description = "A model's name, or NAME/VERSION for one version." };
        var actor = new Option<string?>("--actor") { Description = "The API key's name that made the change (anonymous without keys)." };
        var limit = ClientOptions.OptionalLimit("At most this many events, newest first (default: all of them).");
        var command = client.AddTo(new Command("audit", "Registry changes, newest first, with who made them.") { resourceType, resource, actor, limit });
        command.SetAction(async (parse, cancel) =>
        {
            var path = ClientOptions.WithQuery("/api/v1/audit", ("resource_type", parse.GetValue(resourceType)), ("resource", parse.GetValue(resource)), ("actor", parse.GetValue(actor)));
            var json = await client.Client(parse).GetListAsync(path, "events",
                parse.GetValue(limit), MaxPage, PageParameters.Ballast, cancel).ConfigureAwait(false);
            return await client.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("TIME", "ACTOR", "ACTION", "RESOURCE", "DETAILS");
                foreach (var item in ClientOptions.Items(body, "events"))
                {
                    table.Add(ClientOptions.Text(item, "occurred_at"), ClientOptions.Text(item, "actor"), ClientOptions.Text(item, "action"),
                        $"{ClientOptions.Text(item, "resource_type")} {ClientOptions.Text(item, "resource")}", ClientOptions.Text(item, "details"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        return command;
    }
}
