using Ballast.Alerts;
using Ballast.Rollouts;
using Ballast.Serving;

namespace Ballast.Server.Dashboard;

/// <summary>Home: every endpoint with its live traffic (last minute) per variant and weight, firing alerts, rollouts in progress.</summary>
internal static class HomePage
{
    /// <summary>"Live" is the last minute of the traffic counters (flushed every few seconds by each replica).</summary>
    public static readonly TimeSpan LiveWindow = TimeSpan.FromMinutes(1);

    public static async Task<DashboardPage> RenderAsync(DashboardContext context)
    {
        var now = context.Now.ToUnixTimeMilliseconds();
        var traffic = context.Service<TrafficStats>();
        var rows = new List<IEnumerable<string>>();
        foreach (var endpoint in await context.Service<EndpointStore>().ListAsync(context.Cancel).ConfigureAwait(false))
        {
            var spec = endpoint.Spec;
            var live = await traffic.WindowAsync(spec.Name, now - (long)LiveWindow.TotalMilliseconds, now, context.Cancel).ConfigureAwait(false);
            var requests = live.Sum(v => v.Requests);
            var errors = live.Sum(v => v.Errors);
            var variants = string.Join("<br>", (spec.Variants ?? []).Select(v => $"{Html.Encode(v.Name)} <span class=\"muted\">{Html.Encode(v.Model ?? v.Url)}</span> {Html.Encode(Weight(spec, v))}")
                .Concat((spec.Shadows ?? []).Select(s => $"{Html.Encode(s.Name)} <span class=\"muted\">{Html.Encode(s.Model)}</span> {Html.Badge("shadow", "info")}")));
            var latency = string.Join("<br>", live.Select(v => Html.Encode($"{v.Variant}: {Html.Number(v.LatencyP50Ms, "0.##")} / {Html.Number(v.LatencyP99Ms, "0.##")} ms")));
            rows.Add([
                Html.LinkCell(DashboardRoutes.Endpoint(spec.Name), spec.Name),
                Html.Cell(spec.Policy ?? EndpointValidation.SplitPolicy),
                Html.MarkupCell(variants),
                Html.Cell(requests / LiveWindow.TotalSeconds, "0.##"),
                Html.MarkupCell(requests == 0 ? Html.Encode("–") : ErrorBadge((double)errors / requests)),
                Html.MarkupCell(latency.Length == 0 ? Html.Encode("no traffic") : latency),
            ]);
        }

        var body = new Html();
        body.Tag("h2", "Endpoints");
        body.Table(["endpoint", "policy", "variants (weight)", "requests/s", "error rate", "p50 / p99 latency"], rows, "endpoints", "No endpoints yet: create one with `ballast apply -f endpoint.yaml`.");

        var firing = await context.Service<AlertStore>().ListStatesAsync(AlertStates.Firing, cancellationToken: context.Cancel).ConfigureAwait(false);
        body.Tag("h2", "Firing alerts");
        body.Table(["rule", "severity", "source", "value", "window", "since"], firing.Select(alert => new[]
        {
            Html.Cell(alert.Rule), Html.MarkupCell(Html.Badge(alert.Severity, alert.Severity == AlertSeverities.Critical ? "bad" : "warn")),
            SourceCell(alert.Source), Html.Cell(alert.Value), Html.Cell(alert.Window), Html.Cell(Html.Time(alert.StartsAt)),
        }), "alerts", "No alert is firing.");

        var rollouts = (await context.Service<RolloutController>().ListAsync(context.Cancel).ConfigureAwait(false))
            .Where(r => r.State.Phase is RolloutPhases.Progressing or RolloutPhases.Paused).ToList();
        body.Tag("h2", "Rollouts in progress");
        body.Table(["rollout", "endpoint", "model", "phase", "step", "canary weight", "status"], rollouts.Select(r => new[]
        {
            Html.LinkCell(DashboardRoutes.Rollout(r.Spec.Name), r.Spec.Name), Html.LinkCell(DashboardRoutes.Endpoint(r.Spec.Endpoint!), r.Spec.Endpoint),
            Html.Cell(r.Spec.Model), Html.MarkupCell(RolloutPage.PhaseBadge(r.State.Phase)),
            Html.Cell($"{r.State.Step + 1} of {r.Spec.Steps?.Count ?? 0}"), Html.Cell(r.State.Weight, "0"), Html.Cell(r.State.Message),
        }), "rollouts", "No rollout is in progress.");
        return new DashboardPage("Home", "home", body.ToString(), Live: true);
    }

    private static string Weight(EndpointSpec spec, VariantSpec variant) =>
        spec.Policy is null or EndpointValidation.SplitPolicy ? $"{variant.Weight ?? 0}%" : "";

    private static string ErrorBadge(double rate) => Html.Badge(Html.Percent(rate), rate >= 0.05 ? "bad" : rate > 0 ? "warn" : "ok");

    /// <summary>An alert's source is the monitor it watches.</summary>
    private static string SourceCell(string source) => Html.LinkCell(DashboardRoutes.Monitor(source), source);
}
