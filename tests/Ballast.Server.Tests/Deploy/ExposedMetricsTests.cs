using System.Net;
using System.Net.Http.Json;
using Ballast.Tests.Serving;

namespace Ballast.Tests.Deploy;

/// <summary>
/// Every Ballast metric the alerting rules and the dashboards query is one a real server exposes on /metrics after a
/// little scoring traffic, or one listed here that appears only once its feature is used (and documented as such in
/// docs/production.md), so a renamed metric cannot leave an alert silently watching nothing.
/// </summary>
public sealed class ExposedMetricsTests
{
    /// <summary>Metrics with labels appear with their first series; these need a feature the test does not use.</summary>
    public static readonly IReadOnlyDictionary<string, string> AppearOnceUsed = new Dictionary<string, string>
    {
        ["ballast_monitor_dataset_drift_share"] = "a monitor closed a window with drift",
        ["ballast_monitor_drift_detected"] = "a monitor closed a window with drift",
        ["ballast_monitor_drift_score"] = "a monitor closed a window with drift",
        ["ballast_monitor_metric"] = "a monitor closed a window",
        ["ballast_alerts"] = "an alert rule exists",
        ["ballast_alert_rule_error"] = "an alert rule on a monitor's metric exists",
        ["ballast_alert_notifications_total"] = "a notification was attempted",
        ["ballast_inference_fallbacks_total"] = "a fallback variant answered",
        ["ballast_shadow_disagreements_total"] = "a shadow variant disagreed",
        ["ballast_prediction_value_bucket"] = "a model with a score (float) output answered",
    };

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_metrics_of_the_rules_and_dashboards_are_exposed_or_documented_as_appearing_on_use()
    {
        var used = DeployFiles.BallastMetricNames(DeployFiles.Read("deploy/prometheus/rules.yaml"));
        used.UnionWith(GrafanaDashboardTests.Dashboards().SelectMany(GrafanaDashboardTests.Expressions).SelectMany(DeployFiles.BallastMetricNames));
        used.ShouldContain("ballast_controller_lease_held");

        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client);
        (await client.PostAsJsonAsync("/api/v1/endpoints", new { name = "iris", variants = new[] { new { name = "main", model = "models:/iris/1" } } }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);
        for (var i = 0; i < 3; i++)
        {
            using var answer = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { ServingHelpers.IrisRow } }, Cancel);
            answer.StatusCode.ShouldBe(HttpStatusCode.OK, await answer.Content.ReadAsStringAsync(Cancel));
        }

        // The controllers report their leases on their first tick (every second): poll, bounded.
        var exposition = await MetricsExposition.UntilAsync(client, "ballast_controller_lease_held{lease=\"rollouts\"} 1", TimeSpan.FromMilliseconds(100));

        var exposed = ExposedNames(exposition);
        exposition.ShouldContain("ballast_controller_lease_held{lease=\"rollouts\"} 1");
        var missing = used.Where(name => !exposed.Contains(name) && !AppearOnceUsed.ContainsKey(name)).ToList();
        missing.ShouldBeEmpty("used by deploy/ but not exposed by the server");

        // The latency SLO reads the le="0.2048" bucket: it must be one of the histogram's bucket bounds.
        exposition.ShouldContain("ballast_inference_duration_seconds_bucket{endpoint=\"iris\",variant=\"main\",le=\"0.2048\"}");
        exposition.Split('\n').ShouldContain(line => line.StartsWith("ballast_inference_requests_total{endpoint=\"iris\",variant=\"main\",", StringComparison.Ordinal) && line.Contains("status=\"200\"", StringComparison.Ordinal));

        AppearOnceUsed.Keys.Where(name => !used.Contains(name)).ShouldBeEmpty("entries no rule or dashboard uses");
        var production = DeployFiles.Read("docs/production.md");
        AppearOnceUsed.Keys.Where(name => !production.Contains(name, StringComparison.Ordinal)).ShouldBeEmpty("docs/production.md lists the metrics that appear only on use");
    }

    /// <summary>Series names, and the family names of the <c># TYPE</c> lines (a histogram's name has no series of its own).</summary>
    private static HashSet<string> ExposedNames(string exposition) =>
        exposition.Split('\n')
            .Where(line => line.Length > 0 && (line[0] != '#' || line.StartsWith("# TYPE ", StringComparison.Ordinal)))
            .Select(line => line[0] == '#' ? line.Split(' ')[2] : line[..line.IndexOfAny(['{', ' '])])
            .ToHashSet(StringComparer.Ordinal);
}
