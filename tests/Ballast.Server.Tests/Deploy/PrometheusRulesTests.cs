using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ballast.Tests.Deploy;

/// <summary>deploy/prometheus checked and unit-tested by the real promtool (Prometheus' own rule evaluator).</summary>
public sealed partial class PrometheusRulesTests
{
    [Fact]
    public async Task The_alerting_rules_are_valid()
    {
        var (exitCode, output) = await DeployFiles.RunAsync(DeployFiles.Promtool(), ["check", "rules", "deploy/prometheus/rules.yaml"]);
        exitCode.ShouldBe(0, output);
        output.ShouldContain("SUCCESS");
    }

    [Fact]
    public async Task The_alerting_rules_pass_their_unit_tests()
    {
        var (exitCode, output) = await DeployFiles.RunAsync(DeployFiles.Promtool(), ["test", "rules", "deploy/prometheus/tests.yaml"]);
        exitCode.ShouldBe(0, output);
        output.ShouldContain("SUCCESS");
    }

    [Fact]
    public async Task The_scrape_configuration_is_valid()
    {
        var (exitCode, output) = await DeployFiles.RunAsync(DeployFiles.Promtool(), ["check", "config", "deploy/prometheus/prometheus.yml"]);
        exitCode.ShouldBe(0, output);
    }

    [Fact]
    public void Every_alert_has_a_unit_test_and_a_severity()
    {
        var rules = DeployFiles.Read("deploy/prometheus/rules.yaml");
        var tests = DeployFiles.Read("deploy/prometheus/tests.yaml");
        var alerts = AlertName().Matches(rules).Select(match => match.Groups[1].Value).ToList();
        alerts.ShouldNotBeEmpty();
        alerts.Where(alert => !tests.Contains("alertname: " + alert, StringComparison.Ordinal)).ShouldBeEmpty("alerts without a promtool test");
        SeverityLabel().Count(rules).ShouldBe(alerts.Count, "each alert has a severity label");
    }

    [Fact]
    public void The_chart_ships_the_same_rules()
    {
        DeployFiles.Read("deploy/helm/ballast/files/rules.yaml").ShouldBe(DeployFiles.Read("deploy/prometheus/rules.yaml"),
            "deploy/helm/ballast/files/rules.yaml is a copy of deploy/prometheus/rules.yaml (Helm reads files only inside the chart)");
    }

    /// <summary>
    /// Every query of the Grafana dashboards is valid PromQL: with Grafana's variables replaced, each becomes a
    /// recording rule of a temporary file that promtool parses.
    /// </summary>
    [Fact]
    public async Task The_dashboards_queries_are_valid_promql()
    {
        var promtool = DeployFiles.Promtool();
        var rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        var count = 0;
        foreach (var expression in GrafanaDashboardTests.Dashboards().SelectMany(GrafanaDashboardTests.Expressions))
        {
            var promql = expression.Replace("$__rate_interval", "5m", StringComparison.Ordinal).Replace("$endpoint", ".*", StringComparison.Ordinal).Replace("$monitor", ".*", StringComparison.Ordinal);
            promql.ShouldNotContain("$", customMessage: "a Grafana variable this test does not know: " + expression);
            rules.Append("      - record: dashboard:query").Append(count++).Append('\n')
                 .Append("        expr: ").Append(JsonSerializer.Serialize(promql)).Append('\n');
        }

        count.ShouldBeGreaterThan(10);
        var file = Path.Combine(Directory.CreateTempSubdirectory("ballast-promql-").FullName, "dashboard-rules.yaml");
        await File.WriteAllTextAsync(file, rules.ToString(), TestContext.Current.CancellationToken);
        var (exitCode, output) = await DeployFiles.RunAsync(promtool, ["check", "rules", file]);
        exitCode.ShouldBe(0, output);
        output.ShouldContain($"SUCCESS: {count} rules found");
    }

    [GeneratedRegex(@"^\s*- alert: (\w+)", RegexOptions.Multiline)]
    private static partial Regex AlertName();

    [GeneratedRegex(@"^\s*severity: (page|ticket|warning|info)\s*$", RegexOptions.Multiline)]
    private static partial Regex SeverityLabel();
}
