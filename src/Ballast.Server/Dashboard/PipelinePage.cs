using System.Globalization;
using Ballast.Pipelines;
using Ballast.Storage;

namespace Ballast.Server.Dashboard;

/// <summary>Pipelines: each pipeline's recent runs; a run's DAG coloured by step status (cached steps marked), its steps and their logs.</summary>
internal static class PipelinePage
{
    public const int RecentRuns = 10;

    /// <summary>A step's log is shown up to its last 64 KiB (the whole log is at /api/v1/pipeline-runs/{id}/logs).</summary>
    public const int LogTailBytes = 64 * 1024;

    public static async Task<DashboardPage> ListAsync(DashboardContext context)
    {
        var store = context.Service<PipelineStore>();
        var body = new Html();
        var pipelines = await store.ListAsync(context.Cancel).ConfigureAwait(false);
        if (pipelines.Count == 0)
        {
            body.Tag("p", "No pipelines yet: store one with `ballast apply -f pipeline.yaml`.", "class=\"muted\" id=\"no-pipelines\"");
        }

        foreach (var pipeline in pipelines)
        {
            var spec = pipeline.Spec;
            body.Tag("h2", spec.Name);
            body.Tag("p", $"{spec.Steps?.Count ?? 0} steps" + (spec.Schedule?.Cron is { } cron ? $"; schedule {cron} ({spec.Schedule.TimeZone ?? "UTC"})" : "")
                + (spec.Triggers is { Count: > 0 } triggers ? $"; triggered by new versions of {string.Join(", ", triggers.Select(t => t.Dataset))}" : ""), "class=\"muted\"");
            var runs = await store.ListRunsAsync(spec.Name, RecentRuns, cancellationToken: context.Cancel).ConfigureAwait(false);
            body.Table(["run", "status", "trigger", "created", "duration", "steps"], runs.Select(run => new[]
            {
                Html.LinkCell(DashboardRoutes.PipelineRun(run.RunId), run.RunId), Html.MarkupCell(StatusBadge(run.Status)), Html.Cell(run.Trigger), Html.Cell(Html.Time(run.CreatedAt)),
                Html.Cell(Duration(run.StartedAt, run.FinishedAt)),
                Html.MarkupCell(string.Join(" ", run.Steps.OrderBy(s => s.Position).Select(s => StatusBadge(s.Status, s.Step)))),
            }), "runs-" + spec.Name, "No runs yet.");
        }

        return new DashboardPage("Pipelines", "pipelines", body.ToString());
    }

    public static async Task<DashboardPage> RunAsync(DashboardContext context)
    {
        var id = context.Http.GetRouteValue("id")!.ToString()!;
        var run = await context.Service<PipelineStore>().GetRunAsync(id, context.Cancel).ConfigureAwait(false);
        var body = new Html();
        body.Raw("<dl class=\"facts\">").Tag("dt", "pipeline").Tag("dd", run.Pipeline).Tag("dt", "status").Raw($"<dd id=\"run-status\">{StatusBadge(run.Status)}</dd>")
            .Tag("dt", "trigger").Tag("dd", run.Trigger).Tag("dt", "created").Tag("dd", Html.Time(run.CreatedAt))
            .Tag("dt", "duration").Tag("dd", Duration(run.StartedAt, run.FinishedAt))
            .Tag("dt", "parameters").Tag("dd", run.Parameters.Count == 0 ? "–" : string.Join(", ", run.Parameters.Select(p => $"{p.Key}={p.Value?.ToJsonString()}")));
        if (run.Error is { } error)
        {
            body.Tag("dt", "error").Tag("dd", error);
        }

        body.Raw("</dl>");
        var specs = (run.Spec.Steps ?? []).ToDictionary(s => s.Name, StringComparer.Ordinal);
        var steps = run.Steps.ToDictionary(s => s.Step, StringComparer.Ordinal);
        var depth = new Dictionary<string, int>(StringComparer.Ordinal);
        int Depth(string step) => depth.TryGetValue(step, out var known) ? known
            : depth[step] = specs.TryGetValue(step, out var spec) && PipelineValidation.Dependencies(spec).Where(specs.ContainsKey).ToList() is { Count: > 0 } needs ? needs.Max(Depth) + 1 : 0;
        var nodes = specs.Keys.Select(name =>
        {
            var status = steps.GetValueOrDefault(name)?.Status ?? StepRunStatuses.Queued;
            return new GraphNode(name, $"{name} ({status})", status, Depth(name));
        }).ToList();
        var edges = specs.Values.SelectMany(spec => PipelineValidation.Dependencies(spec).Where(specs.ContainsKey).Select(need => (need, spec.Name))).ToList();
        body.Tag("h2", "Steps");
        body.Raw(SvgChart.Graph("dag", "The run's steps and their dependencies, coloured by status (cached steps reused an earlier run's outputs)", nodes, edges));
        body.Table(["step", "kind", "status", "attempts", "started", "duration", "outputs", "error", "tracking run"], run.Steps.OrderBy(s => s.Position).Select(s => new[]
        {
            Html.Cell(s.Step), Html.Cell(specs.GetValueOrDefault(s.Step)?.Kind),
            Html.MarkupCell(StatusBadge(s.Status) + (s.CachedFrom is { } from ? $" <span class=\"muted\">from <a href=\"{Html.Attribute(DashboardRoutes.PipelineRun(from))}\">{Html.Encode(from)}</a></span>" : "")),
            Html.Cell(s.Attempts, "0"), Html.Cell(s.StartedAt is { } started ? Html.Time(started) : "–"), Html.Cell(Duration(s.StartedAt, s.FinishedAt)),
            Html.Cell(s.Outputs is null ? "" : string.Join(", ", s.Outputs.Select(o => $"{o.Key}={o.Value?.ToJsonString()}"))), Html.Cell(s.Error),
            s.TrackingRunId is { } tracking ? Html.LinkCell(DashboardRoutes.Run(tracking), tracking) : Html.Cell("–"),
        }), "steps");

        body.Tag("h2", "Logs");
        var artifacts = context.Service<IArtifactStore>();
        foreach (var step in run.Steps.OrderBy(s => s.Position).Where(s => s.LogPath is not null))
        {
            body.Tag("h3", step.Step);
            body.Tag("pre", await TailAsync(artifacts, step.LogPath!, context.Cancel).ConfigureAwait(false), $"id=\"log-{Html.Attribute(step.Step)}\"");
        }

        if (run.Steps.All(s => s.LogPath is null))
        {
            body.Tag("p", "No step has written a log (cached and built-in steps may not).", "class=\"muted\"");
        }

        return new DashboardPage($"Pipeline run {run.RunId}", "pipelines", body.ToString(), Live: true);
    }

    private static async Task<string> TailAsync(IArtifactStore artifacts, string path, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await artifacts.OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
            var buffer = new Queue<char>();
            using var reader = new StreamReader(stream);
            var chunk = new char[8192];
            int read;
            var dropped = false;
            while ((read = await reader.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                for (var i = 0; i < read; i++)
                {
                    buffer.Enqueue(chunk[i]);
                    if (buffer.Count > LogTailBytes)
                    {
                        buffer.Dequeue();
                        dropped = true;
                    }
                }
            }

            return (dropped ? "… (earlier lines cut; the whole log is at /api/v1/pipeline-runs/…/logs)\n" : "") + new string([.. buffer]);
        }
        catch (ArtifactNotFoundException)
        {
            return "(the log is no longer stored)";
        }
    }

    private static string Duration(long? start, long? end) =>
        start is { } s && end is { } e ? TimeSpan.FromMilliseconds(e - s).ToString(@"hh\:mm\:ss\.f", CultureInfo.InvariantCulture) : start is null ? "–" : "running";

    private static string StatusBadge(string status, string? label = null) => Html.Badge(label is null ? status : $"{label}: {status}", status switch
    {
        StepRunStatuses.Succeeded => "ok",
        StepRunStatuses.Cached => "info",
        StepRunStatuses.Failed => "bad",
        StepRunStatuses.Cancelled or StepRunStatuses.Skipped or PipelineRunStatuses.Cancelling => "warn",
        _ => "info",
    });
}
