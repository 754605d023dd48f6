using System.Globalization;
using Ballast.Tracking;

namespace Ballast.Server.Dashboard;

/// <summary>
/// Experiments and runs (MLflow's tracking): the experiments; an experiment's runs searched with MLflow's filter and
/// order syntax, picked for comparison; a comparison of runs' params and metrics with their metric histories; one run.
/// </summary>
internal static class RunsPage
{
    public const int MaxRuns = 200;

    /// <summary>The run table shows this many params and metrics as columns (all of them are on the run's page).</summary>
    public const int MaxColumns = 8;

    public const int MaxCompared = 10;

    public static async Task<DashboardPage> ListAsync(DashboardContext context)
    {
        var page = await context.Service<ExperimentStore>().SearchAsync(new ExperimentSearch(MaxResults: 1000), context.Cancel).ConfigureAwait(false);
        var body = new Html().Table(["experiment", "id", "created", "updated"], page.Experiments.Select(e => new[]
        {
            Html.LinkCell(DashboardRoutes.Experiment(e.ExperimentId), e.Name), Html.Cell(e.ExperimentId), Html.Cell(Html.Time(e.CreationTime)), Html.Cell(Html.Time(e.LastUpdateTime)),
        }), "experiments", "No experiments yet.");
        return new DashboardPage("Experiments & runs", "experiments", body.ToString());
    }

    public static async Task<DashboardPage> ExperimentAsync(DashboardContext context)
    {
        var id = context.Http.GetRouteValue("id")!.ToString()!;
        var experiment = await context.Service<ExperimentStore>().GetAsync(id, context.Cancel).ConfigureAwait(false);
        var filter = context.Query("filter")?.Trim() ?? "";
        var order = context.Query("order_by")?.Trim() ?? "";
        var body = new Html();
        body.Raw($"<form class=\"search\" method=\"get\" action=\"{Html.Attribute(DashboardRoutes.Experiment(id))}\">")
            .Raw($"<input type=\"text\" id=\"filter\" name=\"filter\" value=\"{Html.Attribute(filter)}\" placeholder=\"metrics.accuracy &gt; 0.9 and params.model = 'lr'\"> ")
            .Raw($"<input type=\"text\" id=\"order_by\" name=\"order_by\" value=\"{Html.Attribute(order)}\" placeholder=\"metrics.accuracy DESC\"> ")
            .Raw("<button type=\"submit\">Search</button></form>")
            .Tag("p", "MLflow filter syntax: metrics.NAME, params.NAME, tags.NAME, attributes (status, run_name, start_time) with =, !=, <, >, LIKE, IN; joined with AND.", "class=\"muted\"");

        IReadOnlyList<Run> runs;
        try
        {
            runs = (await context.Service<RunStore>().SearchAsync(new RunSearch([id], filter.Length == 0 ? null : filter, order.Length == 0 ? null : [order], MaxRuns), context.Cancel).ConfigureAwait(false)).Runs;
        }
        catch (TrackingException exception) when (exception.Code != TrackingException.ResourceDoesNotExist)
        {
            body.Tag("p", exception.Message, "class=\"error\" id=\"search-error\"");
            return new DashboardPage($"Experiment {experiment.Name}", "experiments", body.ToString(), StatusCodes.Status400BadRequest);
        }

        var paramKeys = runs.SelectMany(r => r.Data.Params.Select(p => p.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(MaxColumns).ToList();
        var metricKeys = runs.SelectMany(r => r.Data.Metrics.Select(m => m.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(MaxColumns).ToList();
        body.Raw($"<form method=\"get\" action=\"{DashboardRoutes.Prefix}/runs/compare\">");
        body.Table(["compare", "run", "status", "started", .. paramKeys.Select(k => "params." + k), .. metricKeys.Select(k => "metrics." + k)], runs.Select(r =>
            new[]
            {
                Html.MarkupCell($"<input type=\"checkbox\" name=\"runs\" value=\"{Html.Attribute(r.Info.RunId)}\" aria-label=\"compare {Html.Attribute(r.Info.RunName ?? r.Info.RunId)}\">"),
                Html.LinkCell(DashboardRoutes.Run(r.Info.RunId), r.Info.RunName ?? r.Info.RunId), Html.Cell(r.Info.Status), Html.Cell(Html.Time(r.Info.StartTime)),
            }
            .Concat(paramKeys.Select(k => Html.Cell(r.Data.Params.FirstOrDefault(p => p.Key == k)?.Value)))
            .Concat(metricKeys.Select(k => Html.Cell(r.Data.Metrics.FirstOrDefault(m => m.Key == k)?.Value, "0.####")))), "runs", "No runs match.");
        body.Raw("<button type=\"submit\" class=\"primary\" id=\"compare\">Compare selected</button></form>");
        return new DashboardPage($"Experiment {experiment.Name}", "experiments", body.ToString());
    }

    public static async Task<DashboardPage> CompareAsync(DashboardContext context)
    {
        var ids = context.Http.Request.Query["runs"].Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!).Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count is < 1 or > MaxCompared)
        {
            throw new DashboardInputException($"Pick between 1 and {MaxCompared} runs to compare (got {ids.Count}).");
        }

        var store = context.Service<RunStore>();
        List<Run> runs = [];
        foreach (var id in ids)
        {
            runs.Add(await store.GetAsync(id, context.Cancel).ConfigureAwait(false));
        }

        var body = new Html();
        var names = runs.Select(r => r.Info.RunName ?? r.Info.RunId).ToList();
        var paramKeys = runs.SelectMany(r => r.Data.Params.Select(p => p.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        body.Tag("h2", "Parameters");
        body.Table(["parameter", .. names], paramKeys.Select(key =>
        {
            var values = runs.Select(r => r.Data.Params.FirstOrDefault(p => p.Key == key)?.Value).ToList();
            var differs = values.Distinct(StringComparer.Ordinal).Count() > 1;
            return new[] { differs ? Html.MarkupCell(Html.Encode(key) + " " + Html.Badge("differs", "warn")) : Html.Cell(key) }.Concat(values.Select(v => Html.Cell(v ?? "–")));
        }), "compare-params");

        var metricKeys = runs.SelectMany(r => r.Data.Metrics.Select(m => m.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        body.Tag("h2", "Metrics (latest)");
        body.Table(["metric", .. names], metricKeys.Select(key =>
            new[] { Html.Cell(key) }.Concat(runs.Select(r => Html.Cell(r.Data.Metrics.FirstOrDefault(m => m.Key == key)?.Value, "0.####")))), "compare-metrics");

        body.Tag("h2", "Metric histories");
        foreach (var key in metricKeys)
        {
            await HistoryChartAsync(context, body, key, runs, names).ConfigureAwait(false);
        }

        return new DashboardPage("Compare runs", "experiments", body.ToString());
    }

    public static async Task<DashboardPage> RunAsync(DashboardContext context)
    {
        var id = context.Http.GetRouteValue("id")!.ToString()!;
        var run = await context.Service<RunStore>().GetAsync(id, context.Cancel).ConfigureAwait(false);
        var body = new Html();
        body.Raw("<p>").Link(DashboardRoutes.Experiment(run.Info.ExperimentId), "← experiment").Raw("</p>");
        body.Raw("<dl class=\"facts\">").Tag("dt", "run id").Tag("dd", run.Info.RunId).Tag("dt", "status").Tag("dd", run.Info.Status)
            .Tag("dt", "started").Tag("dd", Html.Time(run.Info.StartTime)).Tag("dt", "ended").Tag("dd", run.Info.EndTime is { } end ? Html.Time(end) : "–")
            .Tag("dt", "user").Tag("dd", run.Info.UserId ?? "–").Raw("</dl>");
        body.Tag("h2", "Parameters");
        body.Table(["parameter", "value"], run.Data.Params.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new[] { Html.Cell(p.Key), Html.Cell(p.Value) }), "params");
        body.Tag("h2", "Metrics");
        body.Table(["metric", "latest", "step"], run.Data.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new[] { Html.Cell(m.Key), Html.Cell(m.Value, "0.######"), Html.Cell(m.Step, "0") }), "metrics");
        foreach (var key in run.Data.Metrics.Select(m => m.Key).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            await HistoryChartAsync(context, body, key, [run], [run.Info.RunName ?? run.Info.RunId]).ConfigureAwait(false);
        }

        body.Tag("h2", "Datasets");
        body.Table(["dataset", "digest", "context"], run.Inputs.Select(i => new[]
        {
            Html.Cell(i.Dataset.Name), Html.Cell(i.Dataset.Digest), Html.Cell(i.Tags.FirstOrDefault(t => t.Key == "mlflow.data.context")?.Value),
        }), "inputs", "No datasets logged.");
        body.Tag("h2", "Tags");
        body.Table(["tag", "value"], run.Data.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new[] { Html.Cell(t.Key), Html.Cell(t.Value) }), "tags");
        return new DashboardPage($"Run {run.Info.RunName ?? run.Info.RunId}", "experiments", body.ToString());
    }

    /// <summary>One chart per metric: each run's values by step.</summary>
    private static async Task HistoryChartAsync(DashboardContext context, Html body, string key, List<Run> runs, List<string> names)
    {
        var store = context.Service<RunStore>();
        var histories = new List<List<Metric>>();
        foreach (var run in runs)
        {
            var history = new List<Metric>();
            await foreach (var metric in store.StreamMetricHistoryAsync(run.Info.RunId, key, context.Cancel).ConfigureAwait(false))
            {
                history.Add(metric);
            }

            histories.Add(history);
        }

        var steps = histories.SelectMany(h => h.Select(m => m.Step)).Distinct().Order().ToList();
        var series = histories.Select((history, i) => new ChartSeries(names[i],
            steps.Select(step => history.LastOrDefault(m => m.Step == step) is { } m ? m.Value : (double?)null).ToList())).ToList();
        body.Raw(SvgChart.Lines("history-" + key, $"{key} by step", steps.Select(s => s.ToString(CultureInfo.InvariantCulture)).ToList(), series, "0.####"));
    }
}
