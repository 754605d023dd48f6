using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Ballast.Client;

namespace Ballast.Cli.Commands;

/// <summary><c>ballast monitors list|windows|report|evaluate</c>: monitors of endpoints' traffic and their closed windows.</summary>
internal static class MonitorsCommand
{
    private const string Api = "/api/v1/monitors";

    public static Command Create(TextWriter output)
    {
        var command = new Command("monitors", "List monitors, their closed windows and each window's drift report (create them with `ballast apply -f` kind: Monitor).");

        var list = new ClientOptions();
        var listCommand = list.AddTo(new Command("list", "List monitors with their endpoint, window and reference."));
        listCommand.SetAction(async (parse, cancel) =>
        {
            var json = await list.Client(parse).GetJsonAsync(Api, cancel).ConfigureAwait(false);
            return await list.PrintAsync(parse, output, json, body => Table(ClientOptions.Items(body, "monitors"))).ConfigureAwait(false);
        });
        command.Subcommands.Add(listCommand);

        var windows = new ClientOptions();
        var windowsName = new Argument<string>("name") { Description = "The monitor." };
        var limit = ClientOptions.Limit("How many windows, newest first.");
        var windowsCommand = windows.AddTo(new Command("windows", "List a monitor's closed windows, newest first, with their verdicts.") { windowsName, limit });
        windowsCommand.SetAction(async (parse, cancel) =>
        {
            var json = await windows.Client(parse).GetListAsync($"{Api}/{Uri.EscapeDataString(parse.GetValue(windowsName)!)}/windows", "windows",
                parse.GetValue(limit), ClientOptions.MaxBeforePage, PageParameters.Before, cancel).ConfigureAwait(false);
            return await windows.PrintAsync(parse, output, json, body => WindowTable(ClientOptions.Items(body, "windows"))).ConfigureAwait(false);
        });
        command.Subcommands.Add(windowsCommand);

        var report = new ClientOptions();
        var reportName = new Argument<string>("name") { Description = "The monitor." };
        var reportWindow = new Argument<long>("window") { Description = "The window id (from `ballast monitors windows`)." };
        var format = new Option<string>("--format") { Description = "json, html or md (as `ballast drift`).", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "html", "md");
        var file = new Option<FileInfo?>("-o", "--output") { Description = "Write the report to this file instead of the terminal." };
        var reportCommand = report.AddTo(new Command("report", "Print a window's drift report.") { reportName, reportWindow, format, file });
        reportCommand.SetAction(async (parse, cancel) =>
        {
            var text = await report.Client(parse).GetTextAsync(string.Create(CultureInfo.InvariantCulture,
                $"{Api}/{Uri.EscapeDataString(parse.GetValue(reportName)!)}/windows/{parse.GetValue(reportWindow)}/report?format={parse.GetValue(format)}"), cancel).ConfigureAwait(false);
            if (parse.GetValue(file) is { } target)
            {
                await File.WriteAllTextAsync(target.FullName, text, cancel).ConfigureAwait(false);
                await output.WriteLineAsync($"wrote {target.FullName}").ConfigureAwait(false);
            }
            else
            {
                await output.WriteAsync(text).ConfigureAwait(false);
            }

            return BallastCli.Success;
        });
        command.Subcommands.Add(reportCommand);

        var evaluate = new ClientOptions();
        var evaluateName = new Argument<string>("name") { Description = "The monitor." };
        var evaluateCommand = evaluate.AddTo(new Command("evaluate", "Close the monitor's current window now and compute it.") { evaluateName });
        evaluateCommand.SetAction(async (parse, cancel) =>
        {
            var json = await evaluate.Client(parse).PostJsonAsync($"{Api}/{Uri.EscapeDataString(parse.GetValue(evaluateName)!)}/evaluate", [], cancel).ConfigureAwait(false);
            return await evaluate.PrintAsync(parse, output, json, body => WindowTable([body])).ConfigureAwait(false);
        });
        command.Subcommands.Add(evaluateCommand);
        return command;
    }

    /// <summary>The table of <c>monitors list</c> (and <c>get monitors</c>).</summary>
    internal static TextTable Table(IEnumerable<JsonElement> monitors)
    {
        var table = new TextTable("NAME", "ENDPOINT", "WINDOW", "REFERENCE");
        foreach (var monitor in monitors)
        {
            var window = monitor.GetProperty("window");
            var reference = monitor.GetProperty("reference");
            table.Add(ClientOptions.Text(monitor, "name"), ClientOptions.Text(monitor, "endpoint"),
                window.TryGetProperty("rows", out var rows) ? $"{rows.GetInt64()} rows" : ClientOptions.Text(window, "duration"),
                reference.TryGetProperty("dataset", out var dataset)
                    ? $"{dataset.GetString()}@{(reference.TryGetProperty("version", out var version) ? version.GetInt64().ToString(CultureInfo.InvariantCulture) : "latest")}"
                    : $"{ClientOptions.Text(reference, "from")} to {ClientOptions.Text(reference, "to")}");
        }

        return table;
    }

    private static TextTable WindowTable(IEnumerable<JsonElement> windows)
    {
        var table = new TextTable("ID", "START", "END", "ROWS", "STATUS", "DRIFT SHARE", "DRIFTED");
        foreach (var window in windows)
        {
            var metrics = window.GetProperty("metrics");
            var drifted = metrics.EnumerateObject()
                .Where(metric => metric.Name.StartsWith("drift.", StringComparison.Ordinal) && metric.Name.EndsWith(".drifted", StringComparison.Ordinal) && metric.Value.GetDouble() == 1)
                .Select(metric => metric.Name["drift.".Length..^".drifted".Length]);
            table.Add(ClientOptions.Text(window, "id"), ClientOptions.Time(window, "start"), ClientOptions.Time(window, "end"), ClientOptions.Text(window, "rows"), ClientOptions.Text(window, "status"),
                metrics.TryGetProperty("drift.share", out var share) ? share.GetDouble().ToString("0.###", CultureInfo.InvariantCulture) : "-", string.Join(" ", drifted));
        }

        return table;
    }
}
