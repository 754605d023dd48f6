using System.Globalization;
using Ballast.Alerts;
using Ballast.Monitoring;
using Ballast.Statistics;
using Ballast.Statistics.Drift;
using Ballast.Statistics.Performance;

namespace Ballast.Server.Dashboard;

/// <summary>
/// Monitoring: the monitors; for one, drift per feature over its windows (a heat map), performance from feedback and
/// estimated (CBPE) over time with CBPE's expected confusion-matrix cells, model metrics and business KPIs on one time
/// axis with their correlation, data-quality violations, latency and errors, and the per-segment / fairness numbers;
/// and a window's report.
/// </summary>
internal static class MonitorPage
{
    /// <summary>The monitor page charts its newest windows, up to this many.</summary>
    public const int Windows = 30;

    public static async Task<DashboardPage> ListAsync(DashboardContext context)
    {
        var store = context.Service<MonitorStore>();
        var firing = (await context.Service<AlertStore>().ListStatesAsync(AlertStates.Firing, cancellationToken: context.Cancel).ConfigureAwait(false))
            .ToLookup(alert => alert.Source, StringComparer.Ordinal);
        var rows = new List<IEnumerable<string>>();
        foreach (var monitor in await store.ListAsync(context.Cancel).ConfigureAwait(false))
        {
            var newest = await store.WindowsAsync(monitor.Spec.Name, 1, cancellationToken: context.Cancel).ConfigureAwait(false);
            var last = newest.Count > 0 ? newest[0] : null;
            rows.Add([
                Html.LinkCell(DashboardRoutes.Monitor(monitor.Spec.Name), monitor.Spec.Name), Html.LinkCell(DashboardRoutes.Endpoint(monitor.Spec.Endpoint!), monitor.Spec.Endpoint),
                Html.Cell(WindowText(monitor.Spec.Window)), Html.Cell(last is null ? "–" : Html.Time(last.End)),
                Html.MarkupCell(last is null ? "–" : StatusBadge(last.Status)), Html.Cell(last is not null && last.Results.Metrics.TryGetValue("drift.share", out var share) ? Html.Percent(share) : "–", "num"),
                Html.MarkupCell(string.Join(" ", firing[monitor.Spec.Name].Select(alert => Html.Badge(alert.Rule, "bad")))),
            ]);
        }

        var body = new Html().Table(["monitor", "endpoint", "window", "last window end", "status", "drifted columns", "firing alerts"], rows, "monitors",
            "No monitors yet: create one with `ballast apply -f monitor.yaml`.");
        return new DashboardPage("Monitoring", "monitoring", body.ToString());
    }

    public static async Task<DashboardPage> RenderAsync(DashboardContext context)
    {
        var name = context.Http.GetRouteValue("name")!.ToString()!;
        var store = context.Service<MonitorStore>();
        var monitor = await store.GetAsync(name, context.Cancel).ConfigureAwait(false);
        var windows = (await store.WindowsAsync(name, Windows, cancellationToken: context.Cancel).ConfigureAwait(false)).OrderBy(w => w.Start).ThenBy(w => w.Id).ToList();
        var labels = windows.Select(w => "#" + w.Id.ToString(CultureInfo.InvariantCulture)).ToList();
        var body = new Html();
        body.Raw("<dl class=\"facts\">").Tag("dt", "endpoint").Raw($"<dd><a href=\"{Html.Attribute(DashboardRoutes.Endpoint(monitor.Spec.Endpoint!))}\">{Html.Encode(monitor.Spec.Endpoint)}</a></dd>")
            .Tag("dt", "window").Tag("dd", WindowText(monitor.Spec.Window))
            .Tag("dt", "reference").Tag("dd", ReferenceText(monitor.Spec.Reference)).Raw("</dl>");

        if (windows.Count == 0)
        {
            body.Tag("p", "No window has closed yet.", "class=\"muted\" id=\"no-windows\"");
            return new DashboardPage($"Monitor {name}", "monitoring", body.ToString(), Live: true);
        }

        body.Tag("p", $"Windows #{windows[0].Id} ({Html.Time(windows[0].Start)}) to #{windows[^1].Id} ({Html.Time(windows[^1].End)}); the charts' x axis is the window.", "class=\"muted\"");
        DriftHeatMap(body, windows, labels);
        ChartMetrics(body, windows, labels, "performance", "Performance from feedback and estimated (CBPE, shaded: ± 3 sampling errors)",
            key => (key.StartsWith("performance.", StringComparison.Ordinal) && key != "performance.labelled_rows") || IsEstimate(key));
        EstimatedConfusion(body, windows, labels, monitor.Spec.Estimated);
        MetricsAndKpis(body, windows, labels);
        ChartMetrics(body, windows, labels, "quality", "Data-quality violations (share of rows)",
            key => key.StartsWith("quality.", StringComparison.Ordinal),
            "No data-quality checks report on this monitor's windows.");
        ChartMetrics(body, windows, labels, "latency", "Latency (ms)", key => key.StartsWith("latency.", StringComparison.Ordinal));
        ChartMetrics(body, windows, labels, "errors", "Error rate", key => key == "errors.rate");
        Segments(body, windows, labels);

        body.Tag("h2", "Windows");
        body.Table(["window", "start", "end", "rows", "status", "drifted columns", "message"], windows.AsEnumerable().Reverse().Select(w => new[]
        {
            Html.LinkCell(DashboardRoutes.MonitorWindow(name, w.Id), "#" + w.Id.ToString(CultureInfo.InvariantCulture)), Html.Cell(Html.Time(w.Start)), Html.Cell(Html.Time(w.End)),
            Html.Cell(w.Rows, "0"), Html.MarkupCell(StatusBadge(w.Status)),
            Html.Cell(w.Results.Metrics.TryGetValue("drift.share", out var share) ? Html.Percent(share) : "–", "num"), Html.Cell(w.Results.Message),
        }), "windows");
        return new DashboardPage($"Monitor {name}", "monitoring", body.ToString(), Live: true);
    }

    public static async Task<DashboardPage> WindowAsync(DashboardContext context)
    {
        var name = context.Http.GetRouteValue("name")!.ToString()!;
        if (!long.TryParse(context.Http.GetRouteValue("id")!.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            throw new DashboardInputException($"The window id '{context.Http.GetRouteValue("id")}' is not a number.");
        }

        var window = await context.Service<MonitorStore>().GetWindowAsync(name, id, context.Cancel).ConfigureAwait(false);
        var body = new Html();
        body.Raw("<p>").Link(DashboardRoutes.Monitor(name), "← monitor " + name).Raw("</p>");
        body.Raw("<dl class=\"facts\">").Tag("dt", "period").Tag("dd", $"{Html.Time(window.Start)} – {Html.Time(window.End)}")
            .Tag("dt", "rows").Tag("dd", window.Rows.ToString(CultureInfo.InvariantCulture))
            .Tag("dt", "status").Raw($"<dd>{StatusBadge(window.Status)}</dd>");
        if (window.Results.Message is { } message)
        {
            body.Tag("dt", "message").Tag("dd", message);
        }

        body.Raw("</dl>");
        if (window.Results.Drift is { } report)
        {
            var result = report.Result;
            body.Tag("h2", "Drift");
            body.Tag("p", $"{result.DriftedFeatures} of {result.Features.Count} columns drifted ({Html.Percent(result.DriftShare)}); dataset drift: {(result.DatasetDrift ? "yes" : "no")}. " +
                $"Reference {report.Reference} ({report.ReferenceRows} rows) vs current {report.Current} ({report.CurrentRows} rows).", "id=\"drift-summary\"");
            body.Table(["column", "type", "method", "statistic", "p-value", "score", "threshold", "drifted"], result.Features.Select(f => new[]
            {
                Html.Cell(f.Name), Html.Cell(f.Type.ToString().ToLowerInvariant()), Html.Cell(f.Method), Html.Cell(f.Statistic, "0.####"), Html.Cell(f.PValue, "0.####"),
                Html.Cell(f.Score, "0.####"), Html.Cell(f.Threshold, "0.####"), Html.MarkupCell(f.Drifted ? Html.Badge("drifted", "bad") : Html.Badge("no", "ok")),
            }), "drift");
            body.Tag("h2", "Distributions: reference vs current");
            foreach (var distribution in report.Distributions)
            {
                body.Raw(SvgChart.Bars("distribution-" + distribution.Name, $"{distribution.Name}: share of rows per {(distribution.Binned ? "bin" : "category")}",
                    distribution.Labels.Take(distribution.Reference.Count).ToList(),
                    [new ChartSeries("reference", distribution.Reference.Select(v => (double?)v).ToList()), new ChartSeries("current", distribution.Current.Select(v => (double?)v).ToList())], "0.##"));
            }

            if (report.Skipped.Count > 0)
            {
                body.Tag("h2", "Not compared");
                body.Table(["column", "reason"], report.Skipped.Select(s => new[] { Html.Cell(s.Name), Html.Cell(s.Reason) }), "skipped");
            }
        }

        body.Tag("h2", "All metrics");
        body.Table(["metric", "value"], window.Results.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new[] { Html.Cell(m.Key), Html.Cell(m.Value, "0.######") }), "metrics");
        return new DashboardPage($"Monitor {name}: window #{id}", "monitoring", body.ToString());
    }

    private static void DriftHeatMap(Html body, List<StoredMonitorWindow> windows, List<string> labels)
    {
        var features = windows.SelectMany(w => w.Results.Drift?.Result.Features.Select(f => f.Name) ?? []).Distinct(StringComparer.Ordinal).ToList();
        body.Tag("h2", "Drift per feature over windows");
        if (features.Count == 0)
        {
            body.Tag("p", "No window compared columns with the reference yet.", "class=\"muted\"");
            return;
        }

        var lookup = windows.Select(w => (w.Results.Drift?.Result.Features ?? []).ToDictionary(f => f.Name, StringComparer.Ordinal)).ToList();
        body.Raw(SvgChart.HeatMap("drift-heatmap", "Drift per feature (darker: stronger evidence of drift; red border: drifted)", features, labels, (r, c) =>
            lookup[c].TryGetValue(features[r], out var drift)
                ? (Strength(drift), drift.Drifted, $"{drift.Name} in {labels[c]}: {drift.Method} score {drift.Score.ToString("0.####", CultureInfo.InvariantCulture)} vs threshold {drift.Threshold.ToString("0.####", CultureInfo.InvariantCulture)}{(drift.Drifted ? " (drifted)" : "")}")
                : (null, false, $"{features[r]} not compared in {labels[c]}")));
    }

    /// <summary>
    /// How strongly a column's score points at drift, in [0, 1]: below 0.5 while under the threshold (how close), from
    /// 0.6 once past it. Tests drift when the p-value falls below the threshold; distances when they rise above it.
    /// </summary>
    internal static double Strength(FeatureDrift drift)
    {
        var ratio = drift.PValue is not null
            ? (drift.Score <= 0 ? double.PositiveInfinity : drift.Threshold / drift.Score)
            : (drift.Threshold <= 0 ? double.PositiveInfinity : drift.Score / drift.Threshold);
        return drift.Drifted ? 0.6 + (0.4 * Math.Clamp((ratio - 1) / 4, 0, 1)) : 0.5 * Math.Clamp(ratio, 0, 1);
    }

    private static void ChartMetrics(Html body, List<StoredMonitorWindow> windows, List<string> labels, string id, string title, Func<string, bool> include, string? empty = null)
    {
        var names = windows.SelectMany(w => w.Results.Metrics.Keys).Where(include).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        body.Tag("h2", title);
        if (names.Count == 0)
        {
            body.Tag("p", empty ?? "No window has these numbers (no feedback, or no estimator configured).", $"class=\"muted\" id=\"no-{id}\"");
            return;
        }

        body.Raw(SvgChart.Lines(id, title, labels, names.Select(n => Series(windows, n)).ToList(), "0.###"));
    }

    /// <summary>A CBPE estimate of a rate (<c>estimated.accuracy</c>, …), not its sampling error, the confusion-matrix cells (charted apart) or the rows and calibration flag.</summary>
    private static bool IsEstimate(string key) => MonitorMetricNames.EstimatedRates.Contains(key);

    /// <summary>A metric over the windows; an estimate with a sampling error gets NannyML's band, ± 3 sampling errors clipped to [0, 1].</summary>
    private static ChartSeries Series(List<StoredMonitorWindow> windows, string metric) =>
        new(metric, Values(windows, metric), IsEstimate(metric) ? Band(windows, metric, upper: 1) : null);

    private static List<double?> Values(List<StoredMonitorWindow> windows, string metric) =>
        windows.Select(w => w.Results.Metrics.TryGetValue(metric, out var v) ? v : (double?)null).ToList();

    /// <summary>± 3 sampling errors around a CBPE estimate, clipped to [0, <paramref name="upper"/>] as NannyML bounds them; null for a window without the estimate or its error.</summary>
    private static List<(double Lower, double Upper)?> Band(List<StoredMonitorWindow> windows, string metric, double upper) =>
        windows.Select(w => w.Results.Metrics.TryGetValue(metric, out var v) && w.Results.Metrics.TryGetValue(MonitorMetricNames.SamplingError(metric), out var error)
            ? CbpeSamplingError.Band(v, error, upper) : ((double Lower, double Upper)?)null).ToList();

    /// <summary>
    /// CBPE's expected confusion-matrix cells over the windows (<see cref="MonitorMetricNames.EstimatedCells"/>): counts,
    /// or fractions as <c>normalize_confusion_matrix</c> says, each shaded ± 3 sampling errors when it has one, as NannyML
    /// bounds them (fractions to [0, 1], counts only below, at 0). Nothing for a monitor without <c>estimated</c>.
    /// </summary>
    private static void EstimatedConfusion(Html body, List<StoredMonitorWindow> windows, List<string> labels, MonitorEstimated? estimated)
    {
        if (estimated is null)
        {
            return;
        }

        var normalization = ConfusionNormalizations.Parse(estimated.NormalizeConfusionMatrix) ?? ConfusionNormalization.None;
        var title = "Estimated confusion matrix (CBPE" + normalization switch
        {
            ConfusionNormalization.True => ", each true class's expected rows as fractions",
            ConfusionNormalization.Pred => ", each predicted class's expected rows as fractions",
            ConfusionNormalization.All => ", fractions of the rows estimated",
            _ => ", expected rows",
        } + "; shaded: ± 3 sampling errors)";
        var upper = normalization == ConfusionNormalization.None ? double.PositiveInfinity : 1;
        var cells = MonitorMetricNames.EstimatedCells(estimated).Where(cell => windows.Any(w => w.Results.Metrics.ContainsKey(cell))).ToList();
        body.Tag("h2", title);
        if (cells.Count == 0)
        {
            body.Tag("p", "No window has estimated confusion-matrix cells yet (see the windows' messages).", "class=\"muted\" id=\"no-estimated-confusion\"");
            return;
        }

        // Lines are named as NannyML's components (true_positive, true_A_pred_B): the title says they are estimated.
        var series = cells.Select(cell => new ChartSeries(cell["estimated.".Length..], Values(windows, cell), Band(windows, cell, upper))).ToList();
        body.Raw(SvgChart.Lines("estimated-confusion", title, labels, series, normalization == ConfusionNormalization.None ? "0.#" : "0.###"));
    }

    /// <summary>Model metrics and KPIs scaled to their own range on one time axis, with the correlation of every pair.</summary>
    private static void MetricsAndKpis(Html body, List<StoredMonitorWindow> windows, List<string> labels)
    {
        body.Tag("h2", "Model metrics and business KPIs");
        var keys = windows.SelectMany(w => w.Results.Metrics.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var kpis = keys.Where(k => k.StartsWith("kpi.", StringComparison.Ordinal) && !k.EndsWith(".count", StringComparison.Ordinal)).ToList();
        var model = keys.Where(k => (k.StartsWith("performance.", StringComparison.Ordinal) && k != "performance.labelled_rows") || IsEstimate(k)
            || k is "drift.share" or "prediction.drift" or "errors.rate" or "latency.p99_ms").ToList();
        if (kpis.Count == 0)
        {
            body.Tag("p", "No KPI was posted in these windows (POST /api/v1/kpis).", "class=\"muted\" id=\"no-kpis\"");
            return;
        }

        var series = model.Concat(kpis).Select(k => Scaled(Series(windows, k))).ToList();
        body.Raw(SvgChart.Lines("metrics-kpis", "Model metrics and KPIs, each scaled to its own range (0 = its minimum, 1 = its maximum)", labels, series, "0.##", yMax: 1));
        body.Table(["model metric", "KPI", "Pearson r", "windows"], model.SelectMany(m => kpis.Select(k =>
        {
            var x = Series(windows, m).Values;
            var y = Series(windows, k).Values;
            var pairs = x.Zip(y).Count(p => p.First is not null && p.Second is not null);
            return new[] { Html.Cell(m), Html.Cell(k), Html.Cell(Correlation.Pearson(x, y), "0.###"), Html.Cell(pairs, "0") };
        })), "correlations");
    }

    private static ChartSeries Scaled(ChartSeries series)
    {
        var values = series.Values.OfType<double>().Where(double.IsFinite).ToList();
        if (values.Count == 0)
        {
            return series;
        }

        var (min, max) = (values.Min(), values.Max());
        return new ChartSeries(series.Name, series.Values.Select(v => v is { } x ? (max > min ? (x - min) / (max - min) : 0.5) : (double?)null).ToList());
    }

    /// <summary>The newest window's numbers per segment value, and fairness metrics over time.</summary>
    private static void Segments(Html body, List<StoredMonitorWindow> windows, List<string> labels)
    {
        body.Tag("h2", "Segments and fairness");
        var last = windows[^1];
        var segments = last.Results.Metrics.Where(m => m.Key.StartsWith("segment.", StringComparison.Ordinal))
            .Select(m => (Split: SplitSegment(m.Key), m.Value)).Where(s => s.Split is not null)
            .GroupBy(s => s.Split!.Value.Segment, StringComparer.Ordinal).ToList();
        var measures = segments.SelectMany(g => g.Select(s => s.Split!.Value.Measure)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (segments.Count == 0)
        {
            body.Tag("p", "This monitor has no segments (add segments: [column] to its spec).", "class=\"muted\" id=\"no-segments\"");
        }
        else
        {
            body.Table(["segment", .. measures], segments.Select(g => new[] { Html.Cell(g.Key) }
                .Concat(measures.Select(m => Html.Cell(g.FirstOrDefault(s => s.Split!.Value.Measure == m) is { Split: not null } hit ? hit.Value : null, "0.###")))), "segments");
            var performance = measures.FirstOrDefault(m => m.StartsWith("performance.", StringComparison.Ordinal) && m != "performance.labelled_rows");
            if (performance is not null)
            {
                body.Raw(SvgChart.Bars("segment-performance", $"{performance} per segment (window #{last.Id})", segments.Select(g => g.Key).ToList(),
                    [new ChartSeries(performance, segments.Select(g => g.FirstOrDefault(s => s.Split!.Value.Measure == performance) is { Split: not null } hit ? hit.Value : (double?)null).ToList())]));
            }
        }

        ChartMetrics(body, windows, labels, "fairness", "Fairness over time", key => key.StartsWith("fairness.", StringComparison.Ordinal),
            "No fairness estimator reports on this monitor's windows.");
    }

    /// <summary><c>segment.sex=female.performance.accuracy</c> → (<c>sex=female</c>, <c>performance.accuracy</c>).</summary>
    private static (string Segment, string Measure)? SplitSegment(string key)
    {
        var rest = key["segment.".Length..];
        var equals = rest.IndexOf('=', StringComparison.Ordinal);
        if (equals < 0)
        {
            return null;
        }

        foreach (var measure in new[] { ".rows", ".drift.share", ".performance." })
        {
            var at = rest.IndexOf(measure, equals, StringComparison.Ordinal);
            if (at > 0)
            {
                return (rest[..at], rest[(at + 1)..]);
            }
        }

        return null;
    }

    public static string StatusBadge(string status) => Html.Badge(status, status switch
    {
        MonitorWindowStatus.Ok => "ok",
        MonitorWindowStatus.InsufficientData => "warn",
        _ => "bad",
    });

    private static string WindowText(MonitorWindow? window) =>
        window?.Duration is { } duration ? $"every {duration}" : window?.Rows is { } rows ? $"every {rows} rows" : "–";

    private static string ReferenceText(MonitorReference? reference) => reference switch
    {
        { Dataset: { } dataset } => $"dataset {dataset}" + (reference.Version is { } v ? $" v{v}" : ""),
        { File: { } file } => "file " + file,
        { From: { } from } => $"traffic {from} – {reference.To}",
        _ => "–",
    };
}
