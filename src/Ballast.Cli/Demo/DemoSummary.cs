using System.Globalization;
using Spectre.Console;

namespace Ballast.Cli.Demo;

/// <summary>The demo's closing tables: accuracy per phase and model, the timeline of what happened, and where to look next.</summary>
internal static class DemoSummary
{
    public static void Write(IAnsiConsole console, DemoScenario scenario, WebhookReceiver receiver, string address, string? failure)
    {
        var accuracy = new Table().Title("Accuracy by phase (from the outcomes that came back)").AddColumns("phase", "model", "requests", "accuracy");
        foreach (var phase in scenario.Accuracy)
        {
            accuracy.AddRow(phase.Phase, phase.Model, phase.Requests.ToString("N0", CultureInfo.InvariantCulture), phase.Accuracy.ToString("0.000", CultureInfo.InvariantCulture));
        }

        console.Write(accuracy);
        var timeline = new Table().Title("What happened").AddColumns("at", "event");
        foreach (var (at, what) in scenario.Events.Where(item => !item.What.StartsWith("  ", StringComparison.Ordinal) || item.What.Contains("canary", StringComparison.Ordinal)))
        {
            timeline.AddRow(at.ToString(@"mm\:ss", CultureInfo.InvariantCulture), Markup.Escape(what.Trim()));
        }

        console.Write(timeline);
        console.MarkupLine($"Alert notifications received: {receiver.Received.Count} ({string.Join(", ", receiver.Received.Select(alert => alert.Status))})");
        console.MarkupLine($"Dashboard: {Markup.Escape(address)}/   API: {Markup.Escape(address)}/openapi/v1.json   MLflow: MLFLOW_TRACKING_URI={Markup.Escape(address)}");
        console.MarkupLine(failure is null ? "[bold green]The loop closed: drift detected, retrained, gated, canaried, promoted, accuracy recovered.[/]" : $"[bold red]Demo failed:[/] {Markup.Escape(failure)}");
    }
}
