using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Client;

namespace Ballast.Cli.Commands;

/// <summary><c>ballast alerts list | history RULE | silence RULE --for 2h --comment … | silences | unsilence ID | deliveries</c>.</summary>
internal static class AlertsCommand
{
    /// <summary>The largest page the alert history and delivery log serve (?limit=).</summary>
    private const int MaxPage = 1000;

    private const string Api = "/api/v1/alerts";

    public static Command Create(TextWriter output)
    {
        var command = new Command("alerts", "Follow alerts, silence them, and see their notifications' deliveries.");

        var list = new ClientOptions();
        var state = new Option<string?>("--state") { Description = "Only alerts in this state: inactive, pending, firing or resolved." };
        var source = new Option<string?>("--source") { Description = "Only alerts of rules on this source (monitor)." };
        var listCommand = list.AddTo(new Command("list", "Every rule's alert now: state, value, windows in a row, since when.") { state, source });
        listCommand.SetAction(async (parse, cancel) =>
        {
            var json = await list.Client(parse).GetJsonAsync(ClientOptions.WithQuery(Api, ("state", parse.GetValue(state)), ("source", parse.GetValue(source))), cancel).ConfigureAwait(false);
            return await list.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("RULE", "SOURCE", "SEVERITY", "STATE", "VALUE", "WINDOWS", "WINDOW", "SINCE", "SILENCED", "HEALTH");
                foreach (var item in ClientOptions.Items(body, "alerts"))
                {
                    // A rule whose monitor was deleted (or no longer reports its metric) is not evaluated: say why.
                    var health = ClientOptions.Text(item, "health");
                    table.Add(ClientOptions.Text(item, "rule"), ClientOptions.Text(item, "source"), ClientOptions.Text(item, "severity"), ClientOptions.Text(item, "state"),
                        ClientOptions.Text(item, "value"), ClientOptions.Text(item, "windows"), ClientOptions.Text(item, "window"), Time(item, "starts_at"),
                        item.TryGetProperty("silenced", out var silenced) && silenced.GetBoolean() ? "yes" : "",
                        item.TryGetProperty("error", out var error) && error.ValueKind == System.Text.Json.JsonValueKind.String ? $"{health}: {error.GetString()}" : health);
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(listCommand);

        var history = new ClientOptions();
        var historyRule = new Argument<string>("rule") { Description = "The alert rule." };
        var historyLimit = ClientOptions.OptionalLimit("At most this many transitions, newest first (default: all of them).");
        var historyCommand = history.AddTo(new Command("history", "A rule's transitions, newest first.") { historyRule, historyLimit });
        historyCommand.SetAction(async (parse, cancel) =>
        {
            var json = await history.Client(parse).GetListAsync($"{Api}/{Uri.EscapeDataString(parse.GetValue(historyRule)!)}/history", "history",
                parse.GetValue(historyLimit), MaxPage, PageParameters.Before, cancel).ConfigureAwait(false);
            return await history.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("TIME", "FROM", "TO", "VALUE", "WINDOW", "NOTIFIED");
                foreach (var item in ClientOptions.Items(body, "history"))
                {
                    var silenced = item.TryGetProperty("silenced", out var s) && s.GetBoolean();
                    table.Add(Time(item, "at"), ClientOptions.Text(item, "from"), ClientOptions.Text(item, "to"), ClientOptions.Text(item, "value"), ClientOptions.Text(item, "window"),
                        silenced ? "silenced" : Notified(item));
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(historyCommand);

        var silence = new ClientOptions();
        var silenceRule = new Argument<string>("rule") { Description = "The alert rule to silence." };
        var duration = new Option<string>("--for") { Description = "How long, such as 30m or 2h.", Required = true };
        var comment = new Option<string>("--comment") { Description = "Why (shown with the silence).", Required = true };
        var createdBy = new Option<string?>("--created-by") { Description = "Who silences (default: $USER; without it, the API key's name)." };
        var silenceCommand = silence.AddTo(new Command("silence", "Silence a rule's alerts for a while: they change state but notify nobody.") { silenceRule, duration, comment, createdBy });
        silenceCommand.SetAction(async (parse, cancel) =>
        {
            var body = new JsonObject
            {
                ["rule"] = parse.GetValue(silenceRule),
                ["duration"] = parse.GetValue(duration),
                ["comment"] = parse.GetValue(comment),
                ["created_by"] = parse.GetValue(createdBy) ?? Environment.GetEnvironmentVariable("USER"),
            };
            var json = await silence.Client(parse).PostJsonAsync($"{Api}/silences", body, cancel).ConfigureAwait(false);
            await output.WriteLineAsync(parse.GetValue(silence.Json) ? json.GetRawText()
                : $"silence {ClientOptions.Text(json, "id")}: {ClientOptions.Text(json, "rule")} until {Time(json, "ends_at")}").ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(silenceCommand);

        var silences = new ClientOptions();
        var expired = new Option<bool>("--expired") { Description = "Include silences that have ended." };
        var silencesCommand = silences.AddTo(new Command("silences", "Silences not yet ended.") { expired });
        silencesCommand.SetAction(async (parse, cancel) =>
        {
            var json = await silences.Client(parse).GetJsonAsync($"{Api}/silences{(parse.GetValue(expired) ? "?expired=true" : "")}", cancel).ConfigureAwait(false);
            return await silences.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("ID", "RULE", "MATCHERS", "STARTS", "ENDS", "BY", "COMMENT");
                foreach (var item in ClientOptions.Items(body, "silences"))
                {
                    var matchers = item.TryGetProperty("matchers", out var m) && m.ValueKind == JsonValueKind.Object
                        ? string.Join(",", m.EnumerateObject().Select(p => $"{p.Name}={p.Value.GetString()}")) : "";
                    table.Add(ClientOptions.Text(item, "id"), ClientOptions.Text(item, "rule"), matchers, Time(item, "starts_at"), Time(item, "ends_at"),
                        ClientOptions.Text(item, "created_by"), ClientOptions.Text(item, "comment"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(silencesCommand);

        var unsilence = new ClientOptions();
        var silenceId = new Argument<string>("id") { Description = "The silence's id (ballast alerts silences)." };
        var unsilenceCommand = unsilence.AddTo(new Command("unsilence", "Expire a silence now.") { silenceId });
        unsilenceCommand.SetAction(async (parse, cancel) =>
        {
            await unsilence.Client(parse).DeleteAsync($"{Api}/silences/{Uri.EscapeDataString(parse.GetValue(silenceId)!)}", cancel).ConfigureAwait(false);
            await output.WriteLineAsync($"silence {parse.GetValue(silenceId)} expired").ConfigureAwait(false);
            return BallastCli.Success;
        });
        command.Subcommands.Add(unsilenceCommand);

        var deliveries = new ClientOptions();
        var deliveriesRule = new Option<string?>("--rule") { Description = "Only this rule's deliveries." };
        var deliveriesLimit = ClientOptions.OptionalLimit("At most this many attempts, newest first (default: the whole log).");
        var deliveriesCommand = deliveries.AddTo(new Command("deliveries", "Notification delivery attempts, newest first: outcome, status code, error.") { deliveriesRule, deliveriesLimit });
        deliveriesCommand.SetAction(async (parse, cancel) =>
        {
            var rule = parse.GetValue(deliveriesRule);
            var json = await deliveries.Client(parse).GetListAsync($"{Api}/deliveries{(rule is null ? "" : "?rule=" + Uri.EscapeDataString(rule))}", "deliveries",
                parse.GetValue(deliveriesLimit), MaxPage, PageParameters.Before, cancel).ConfigureAwait(false);
            return await deliveries.PrintAsync(parse, output, json, body =>
            {
                var table = new TextTable("TIME", "RULE", "KIND", "TARGET", "ATTEMPT", "OUTCOME", "STATUS", "ERROR");
                foreach (var item in ClientOptions.Items(body, "deliveries"))
                {
                    table.Add(Time(item, "at"), ClientOptions.Text(item, "rule"), ClientOptions.Text(item, "kind"), ClientOptions.Text(item, "target"), ClientOptions.Text(item, "attempt"),
                        ClientOptions.Text(item, "outcome"), ClientOptions.Text(item, "status_code"), ClientOptions.Text(item, "error"));
                }

                return table;
            }).ConfigureAwait(false);
        });
        command.Subcommands.Add(deliveriesCommand);
        return command;
    }

    /// <summary>An ISO 8601 time of the answer as <c>yyyy-MM-dd HH:mm:ssZ</c>; <c>-</c> when absent.</summary>
    private static string Time(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var time)
            ? time.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture)
            : "-";

    /// <summary>How many notifications a transition sent (or will), and how many it skipped: "1", "0 (1 skipped)".</summary>
    private static string Notified(JsonElement item) =>
        item.TryGetProperty("skipped_notifications", out var skipped) && skipped.TryGetInt32(out var count) && count > 0
            ? $"{ClientOptions.Text(item, "notifications")} ({count.ToString(CultureInfo.InvariantCulture)} skipped)"
            : ClientOptions.Text(item, "notifications");
}
