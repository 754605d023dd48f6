using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ballast.Tests.Deploy;

/// <summary>
/// The Grafana dashboards of deploy/grafana/dashboards against what Grafana needs to provision a dashboard from a file
/// (Grafana's dashboard JSON model: title, uid, schemaVersion, panels with id, type, gridPos and targets) and what makes
/// it display correctly (no overlapping panels, every variable a query uses defined, one data source variable).
/// </summary>
public sealed partial class GrafanaDashboardTests
{
    private static readonly HashSet<string> PanelTypes = ["row", "timeseries", "stat", "table", "gauge", "bargauge", "text", "heatmap", "barchart", "piechart"];

    public static IEnumerable<JsonElement> Dashboards() =>
        Directory.GetFiles(DeployFiles.PathOf("deploy/grafana/dashboards"), "*.json").Order(StringComparer.Ordinal)
            .Select(file => JsonDocument.Parse(File.ReadAllText(file)).RootElement.Clone());

    public static IEnumerable<string> Expressions(JsonElement dashboard) =>
        Panels(dashboard).Where(panel => panel.TryGetProperty("targets", out _))
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray())
            .Select(target => target.GetProperty("expr").GetString()!);

    [Fact]
    public void There_is_a_dashboard_and_grafana_is_told_where_to_find_it()
    {
        Dashboards().ShouldNotBeEmpty();
        var provider = DeployFiles.Read("deploy/grafana/provisioning/dashboards/ballast.yaml");
        provider.ShouldContain("type: file");
        provider.ShouldContain("path: /var/lib/grafana/dashboards/ballast");
        DeployFiles.Read("deploy/grafana/provisioning/datasources/prometheus.yaml").ShouldContain("type: prometheus");
    }

    [Fact]
    public void Each_dashboard_has_the_fields_grafana_requires_to_provision_it()
    {
        foreach (var dashboard in Dashboards())
        {
            var problems = Problems(dashboard);
            problems.ShouldBeEmpty(string.Join("; ", problems));
        }
    }

    [Fact]
    public void The_dashboard_covers_endpoints_drift_and_business_kpis()
    {
        var dashboard = Dashboards().Single(d => d.GetProperty("uid").GetString() == "ballast-overview");
        var rows = Panels(dashboard).Where(p => p.GetProperty("type").GetString() == "row").Select(p => p.GetProperty("title").GetString()).ToList();
        rows.ShouldBe(["Endpoints", "Drift", "Business KPIs and model quality", "Controllers and alerts"]);
        var queries = string.Join('\n', Expressions(dashboard));
        queries.ShouldContain("ballast_inference_requests_total");
        queries.ShouldContain("ballast_monitor_drift_score");
        queries.ShouldContain("metric=~\"kpi\\\\..*\"");
        queries.ShouldContain("ballast_controller_lease_held");
    }

    private static List<string> Problems(JsonElement dashboard)
    {
        var problems = new List<string>();
        if (!dashboard.TryGetProperty("title", out var title) || title.ValueKind != JsonValueKind.String || title.GetString()!.Length == 0)
        {
            problems.Add("title must be a non-empty string");
        }

        if (!dashboard.TryGetProperty("uid", out var uid) || uid.ValueKind != JsonValueKind.String || !Uid().IsMatch(uid.GetString()!))
        {
            problems.Add("uid must be 1 to 40 letters, digits, '-' or '_' (provisioned dashboards are found by uid)");
        }

        if (dashboard.TryGetProperty("id", out var id) && id.ValueKind != JsonValueKind.Null)
        {
            problems.Add("id must be null or absent in a provisioned dashboard (Grafana assigns it)");
        }

        if (!dashboard.TryGetProperty("schemaVersion", out var schema) || schema.ValueKind != JsonValueKind.Number || schema.GetInt32() < 36)
        {
            problems.Add("schemaVersion must be a number, at least 36 (Grafana 9+ panels and data source references)");
        }

        if (!dashboard.TryGetProperty("panels", out var panelList) || panelList.ValueKind != JsonValueKind.Array)
        {
            problems.Add("panels must be an array");
            return problems;
        }

        var variables = dashboard.TryGetProperty("templating", out var templating)
            ? templating.GetProperty("list").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!, v => v.GetProperty("type").GetString()!)
            : [];
        if (!variables.TryGetValue("datasource", out var dsType) || dsType != "datasource")
        {
            problems.Add("a 'datasource' variable of type datasource lets the dashboard work with any Prometheus data source");
        }

        var ids = new HashSet<int>();
        var placed = new List<(string Title, int X, int Y, int W, int H)>();
        foreach (var panel in Panels(dashboard))
        {
            var name = panel.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "";
            if (name.Length == 0)
            {
                problems.Add("a panel has no title");
            }

            if (!panel.TryGetProperty("id", out var panelId) || panelId.ValueKind != JsonValueKind.Number || !ids.Add(panelId.GetInt32()))
            {
                problems.Add($"panel '{name}': id must be a number unique in the dashboard");
            }

            var type = panel.TryGetProperty("type", out var ty) ? ty.GetString() ?? "" : "";
            if (!PanelTypes.Contains(type))
            {
                problems.Add($"panel '{name}': unknown type '{type}'");
            }

            if (!panel.TryGetProperty("gridPos", out var grid) || !new[] { "h", "w", "x", "y" }.All(k => grid.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.Number))
            {
                problems.Add($"panel '{name}': gridPos needs h, w, x and y");
                continue;
            }

            var (x, y, w, h) = (grid.GetProperty("x").GetInt32(), grid.GetProperty("y").GetInt32(), grid.GetProperty("w").GetInt32(), grid.GetProperty("h").GetInt32());
            if (w < 1 || h < 1 || x < 0 || y < 0 || x + w > 24)
            {
                problems.Add($"panel '{name}': gridPos must lie within the 24 columns with a positive size (x={x}, w={w}, h={h})");
            }

            foreach (var other in placed.Where(o => x < o.X + o.W && o.X < x + w && y < o.Y + o.H && o.Y < y + h))
            {
                problems.Add($"panel '{name}' overlaps panel '{other.Title}'");
            }

            placed.Add((name, x, y, w, h));
            if (type == "row")
            {
                continue;
            }

            if (!panel.TryGetProperty("targets", out var targets) || targets.GetArrayLength() == 0)
            {
                problems.Add($"panel '{name}': no targets");
                continue;
            }

            var refIds = new HashSet<string>();
            foreach (var target in targets.EnumerateArray())
            {
                if (!target.TryGetProperty("refId", out var refId) || !refIds.Add(refId.GetString() ?? ""))
                {
                    problems.Add($"panel '{name}': each target needs a refId unique in the panel");
                }

                var expr = target.TryGetProperty("expr", out var e) ? e.GetString() ?? "" : "";
                if (expr.Length == 0)
                {
                    problems.Add($"panel '{name}': a target has no expr");
                }

                foreach (var variable in Variable().Matches(expr).Select(m => m.Groups[1].Value).Where(v => !v.StartsWith("__", StringComparison.Ordinal) && !variables.ContainsKey(v)))
                {
                    problems.Add($"panel '{name}': ${variable} is not a variable of the dashboard");
                }
            }

            foreach (var source in new[] { panel }.Concat(targets.EnumerateArray()))
            {
                if (!source.TryGetProperty("datasource", out var ds) || ds.GetProperty("uid").GetString() != "${datasource}" || ds.GetProperty("type").GetString() != "prometheus")
                {
                    problems.Add($"panel '{name}': datasource must be {{\"type\":\"prometheus\",\"uid\":\"${{datasource}}\"}}");
                }
            }
        }

        return problems;
    }

    private static JsonElement.ArrayEnumerator Panels(JsonElement dashboard) => dashboard.GetProperty("panels").EnumerateArray();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,40}$")]
    private static partial Regex Uid();

    [GeneratedRegex(@"\$\{?(\w+)")]
    private static partial Regex Variable();
}
