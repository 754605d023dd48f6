using Ballast.Monitoring;
using Ballast.Serving;

namespace Ballast.Server.Dashboard;

/// <summary>
/// An endpoint: its variants, the traffic split over time, latency and errors per variant, the distribution of its
/// predictions, shadow disagreement, bandit arm allocations and the regime (the variant the regime rules chose, slice by slice).
/// </summary>
internal static class EndpointPage
{
    /// <summary>The prediction distribution reads at most this many logged rows (the first of the period; it is a sample).</summary>
    public const int DistributionRows = 20_000;

    /// <summary>The prediction distribution covers at most the last hour, so a 7-day range does not fetch a week of log segments per page view.</summary>
    public static readonly TimeSpan DistributionPeriod = TimeSpan.FromHours(1);

    public static async Task<DashboardPage> RenderAsync(DashboardContext context)
    {
        var name = context.Http.GetRouteValue("name")!.ToString()!;
        var endpoint = await context.Service<EndpointStore>().GetAsync(name, context.Cancel).ConfigureAwait(false);
        var spec = endpoint.Spec;
        var range = TimeRange.Of(context);
        var traffic = context.Service<TrafficStats>();
        var slices = new List<IReadOnlyList<VariantTraffic>>();
        foreach (var (from, to) in range.Each())
        {
            slices.Add(await traffic.WindowAsync(name, from, to, context.Cancel).ConfigureAwait(false));
        }

        var shadows = (spec.Shadows ?? []).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var variants = slices.SelectMany(slice => slice.Select(v => v.Variant)).Concat((spec.Variants ?? []).Select(v => v.Name)).Distinct(StringComparer.Ordinal).ToList();
        var served = variants.Where(v => !shadows.Contains(v)).ToList();
        var labels = range.Labels();
        ChartSeries Series(string variant, Func<VariantTraffic, IReadOnlyList<VariantTraffic>, double?> value) =>
            new(variant, slices.Select(slice => slice.FirstOrDefault(v => v.Variant == variant) is { Requests: > 0 } t ? value(t, slice) : null).ToList());

        var body = new Html();
        body.Raw(range.Picker(DashboardRoutes.Endpoint(name)));
        body.Raw("<dl class=\"facts\">").Tag("dt", "policy").Tag("dd", spec.Policy ?? EndpointValidation.SplitPolicy)
            .Tag("dt", "revision").Tag("dd", endpoint.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Tag("dt", "updated").Tag("dd", Html.Time(endpoint.UpdatedAt)).Raw("</dl>");
        body.Tag("h2", "Variants");
        body.Table(["variant", "model", "weight", "requests", "error rate", "p50 ms", "p99 ms"],
            (spec.Variants ?? []).Select(v => (v.Name, Source: v.Model ?? v.Url, Weight: (double?)(v.Weight ?? 0)))
                .Concat((spec.Shadows ?? []).Select(s => (s.Name, Source: s.Model, Weight: (double?)null)))
                .Select(v =>
                {
                    var all = slices.SelectMany(slice => slice).Where(t => t.Variant == v.Name).ToList();
                    var requests = all.Sum(t => t.Requests);
                    return new[]
                    {
                        Html.MarkupCell(Html.Encode(v.Name) + (shadows.Contains(v.Name) ? " " + Html.Badge("shadow", "info") : "")), Html.Cell(v.Source),
                        Html.Cell(v.Weight is { } w ? $"{w}%" : "–", "num"), Html.Cell(requests, "0"),
                        Html.Cell(requests == 0 ? "–" : Html.Percent((double)all.Sum(t => t.Errors) / requests), "num"),
                        Html.Cell(all.Count == 0 ? null : all.Max(t => t.LatencyP50Ms), "0.##"), Html.Cell(all.Count == 0 ? null : all.Max(t => t.LatencyP99Ms), "0.##"),
                    };
                }), "variants");

        body.Tag("h2", "Traffic split over time");
        body.Raw(SvgChart.Lines("traffic-split", "Share of requests per variant", labels,
            served.Select(v => Series(v, (t, slice) => (double)t.Requests / slice.Where(s => !shadows.Contains(s.Variant)).Sum(s => s.Requests))).ToList(), "0%", yMax: 1));
        body.Tag("h2", "Latency per variant");
        body.Raw(SvgChart.Lines("latency-p99", "p99 latency (ms)", labels, variants.Select(v => Series(v, (t, _) => t.LatencyP99Ms)).ToList(), "0.##"));
        body.Raw(SvgChart.Lines("latency-p50", "p50 latency (ms)", labels, variants.Select(v => Series(v, (t, _) => t.LatencyP50Ms)).ToList(), "0.##"));
        body.Tag("h2", "Errors per variant");
        body.Raw(SvgChart.Lines("error-rate", "Error rate", labels, variants.Select(v => Series(v, (t, _) => t.ErrorRate)).ToList(), "0.##%"));

        if (shadows.Count > 0)
        {
            body.Tag("h2", "Shadow disagreement");
            body.Raw(SvgChart.Lines("shadow-disagreement", "Share of shadowed requests whose first output differs from the served answer", labels,
                shadows.Select(v => Series(v, (t, _) => t.DisagreementRate)).ToList(), "0.##%", yMax: 1));
        }

        await PredictionDistributionAsync(context, body, name, range).ConfigureAwait(false);

        if (spec.Policy == EndpointValidation.BanditPolicy)
        {
            var arms = await context.Service<AssignmentStore>().ArmsAsync(name, context.Cancel).ConfigureAwait(false);
            var pulls = arms.Sum(a => a.Pulls);
            body.Tag("h2", "Bandit arm allocations");
            body.Raw(SvgChart.Bars("bandit-arms", $"Pulls per arm ({spec.Bandit?.Algorithm ?? BanditSpec.Thompson})", arms.Select(a => a.Variant).ToList(),
                [new ChartSeries("share of pulls", arms.Select(a => pulls == 0 ? (double?)0 : (double)a.Pulls / pulls).ToList()),
                 new ChartSeries("mean reward", arms.Select(a => a.MeanReward).ToList())], "0.##"));
            body.Table(["arm", "pulls", "rewarded", "mean reward"], arms.Select(a => new[] { Html.Cell(a.Variant), Html.Cell(a.Pulls, "0"), Html.Cell(a.Rewarded, "0"), Html.Cell(a.MeanReward) }), "arms");
        }

        if (spec.Ensemble?.Adapt is { } adapt && context.Service<EndpointRouter>().Find(name) is { EnsembleAdapt: not null } adaptive)
        {
            var ensemble = Serving.EnsembleStatus.From(adaptive);
            body.Tag("h2", "Ensemble weights");
            body.Tag("p", ensemble.Adapted
                ? $"Learned on this replica from the outcomes of each member's own answers in the last {adapt.Window}."
                : $"The spec's weights, until every member has {adapt.MinFeedback} outcomes in the last {adapt.Window} and one beats chance.", "class=\"muted\"");
            body.Table(["member", "weight", "outcomes", "correct"],
                ensemble.Members.Select(member => new[] { Html.Cell(member.Variant), Html.Cell(member.Weight), Html.Cell(member.Labelled, "0"), Html.Cell(member.Correct, "0") }), "ensemble-weights");
        }

        if (spec.Regime is { } regime)
        {
            body.Tag("h2", "Regime timeline");
            var state = context.Service<EndpointRouter>().Find(name)?.Regime;
            body.Tag("p", state is null ? "This replica has not routed the endpoint yet." : $"Current regime {state.Regime} (signal {Html.Number(state.Signal)}) on this replica.", "id=\"regime-now\"");
            // The variant that took most of each slice's traffic is the regime in force then.
            var dominant = slices.Select(slice => slice.Where(t => !shadows.Contains(t.Variant)).OrderByDescending(t => t.Requests).FirstOrDefault() is { Requests: > 0 } top ? top.Variant : null).ToList();
            body.Raw(SvgChart.Lines("regime-timeline", "Variant chosen by the regime rules (1 = serving most requests in the slice)", labels,
                served.Select(v => new ChartSeries(v, dominant.Select(d => d is null ? (double?)null : d == v ? 1 : 0).ToList())).ToList(), "0", yMax: 1));
            body.Tag("p", $"Rules: {string.Join("; ", (regime.Rules ?? []).Select(r => $"{r.Input} {r.Op} {r.Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? r.Text} → {r.Variant}"))}", "class=\"muted\"");
        }

        return new DashboardPage($"Endpoint {name}", "home", body.ToString(), Live: true);
    }

    private static async Task PredictionDistributionAsync(DashboardContext context, Html body, string name, TimeRange range)
    {
        var from = Math.Max(range.From, range.To - (long)DistributionPeriod.TotalMilliseconds);
        var table = await context.Service<PredictionExport>().QueryAsync(name, from, range.To, connection => WindowTable.Read(connection, null, DistributionRows), context.Cancel).ConfigureAwait(false);
        body.Tag("h2", "Prediction distribution");
        body.Tag("p", $"Logged predictions since {Html.Time(from)} (at most the last hour, up to {DistributionRows} rows).", "class=\"muted\"");
        var outputs = table.Outputs.Where(output => output.Value.Count == table.Rows && table.Rows > 0).ToList();
        if (outputs.Count == 0)
        {
            body.Tag("p", "No predictions logged in this range.", "class=\"muted\" id=\"no-predictions\"");
            return;
        }

        foreach (var (output, values) in outputs.Take(2))
        {
            var counts = values.GroupBy(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "null", StringComparer.Ordinal)
                .Select(g => (Label: g.Key, Count: g.Count())).ToList();
            if (counts.Count > 20)
            {
                body.Tag("p", $"{output}: {counts.Count} distinct values in {table.Rows} rows.", "class=\"muted\"");
                continue;
            }

            counts = [.. counts.OrderBy(c => c.Label, StringComparer.Ordinal)];
            body.Raw(SvgChart.Bars("prediction-" + output, $"{output}: share of {table.Rows} predicted rows", counts.Select(c => c.Label).ToList(),
                [new ChartSeries(output, counts.Select(c => (double?)c.Count / table.Rows).ToList())], "0.##"));
        }
    }
}
