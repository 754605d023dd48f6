using System.Globalization;
using System.Net;
using System.Text;
using Ballast.Statistics.Drift;

namespace Ballast.Monitoring;

/// <summary>
/// The drift report as one self-contained HTML file: a summary, a table sortable by any column (a few lines of inline
/// script), and per column a bar chart of reference against current shares drawn as inline SVG. No external assets.
/// </summary>
public static class DriftReportHtml
{
    private const int ChartWidth = 560;
    private const int ChartHeight = 180;
    private const string ReferenceColor = "#4c78a8";
    private const string CurrentColor = "#f58518";

    public static string Write(DriftReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var result = report.Result;
        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Drift report</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
            table{border-collapse:collapse;margin:1rem 0}th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}
            th{cursor:pointer;user-select:none;background:#f4f4f4}th:after{content:" \2195";color:#999}
            td.n{text-align:right;font-variant-numeric:tabular-nums}.drift{color:#b00020;font-weight:600}
            .feature{margin:1.5rem 0;padding-top:.5rem;border-top:1px solid #eee}.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:middle}
            svg text{font-size:10px;fill:#555}
            </style></head><body>
            """);
        html.Append("<h1>Drift report</h1>");
        html.Append(Invariant($"<p>Reference <code>{E(Path.GetFileName(report.Reference))}</code> ({report.ReferenceRows:N0} rows) against current <code>{E(Path.GetFileName(report.Current))}</code> ({report.CurrentRows:N0} rows).</p>"));
        html.Append(Invariant($"<p class=\"{(result.DatasetDrift ? "drift" : "")}\">{(result.DatasetDrift ? "Dataset drift detected" : "No dataset drift")}: {result.DriftedFeatures} of {result.Features.Count} columns drifted (share {result.DriftShare:0.###}).</p>"));
        html.Append("<table id=\"features\"><thead><tr>");
        foreach (var header in new[] { "column", "type", "method", "statistic", "p-value", "score", "threshold", "drifted" })
        {
            html.Append("<th>").Append(header).Append("</th>");
        }

        html.Append("</tr></thead><tbody>");
        var additional = result.Additional.ToLookup(feature => feature.Name, StringComparer.Ordinal);
        foreach (var feature in result.Features.SelectMany(feature => additional[feature.Name].Prepend(feature)))
        {
            html.Append(feature.Drifted ? "<tr class=\"drift\">" : "<tr>");
            html.Append(Invariant($"<td><a href=\"#f-{Anchor(feature.Name)}\">{E(feature.Name)}</a></td><td>{TypeName(feature.Type)}</td><td>{E(feature.Method)}</td>"));
            foreach (var value in new[] { feature.Statistic, feature.PValue, feature.Score, feature.Threshold })
            {
                html.Append(Invariant($"<td class=\"n\" data-v=\"{SortKey(value)}\">{E(DriftReportMarkdown.Number(value))}</td>"));
            }

            html.Append(feature.Drifted ? "<td>yes</td>" : "<td>no</td>").Append("</tr>");
        }

        html.Append("</tbody></table>");
        if (result.ByMethod.Count > 0)
        {
            html.Append("<p>By method: ").AppendJoin("; ", result.ByMethod.Select(method => E(Invariant($"{method.Method} {method.DriftedFeatures} of {method.Features} columns drifted")))).Append(".</p>");
        }

        foreach (var skipped in report.Skipped)
        {
            html.Append(Invariant($"<p>Not compared: <code>{E(skipped.Name)}</code> ({E(skipped.Reason)}).</p>"));
        }

        html.Append(Invariant($"<p class=\"legend\"><span style=\"background:{ReferenceColor}\"></span>reference<span style=\"background:{CurrentColor}\"></span>current</p>"));
        var features = result.Features.ToDictionary(feature => feature.Name, StringComparer.Ordinal);
        foreach (var distribution in report.Distributions)
        {
            var feature = features[distribution.Name];
            html.Append(Invariant($"<section class=\"feature\" id=\"f-{Anchor(distribution.Name)}\"><h2>{E(distribution.Name)}</h2>"));
            html.Append(Invariant($"<p>{TypeName(distribution.Type)}, {distribution.ReferenceCount:N0} reference and {distribution.CurrentCount:N0} current values; {E(feature.Method)} score {E(DriftReportMarkdown.Number(feature.Score))} against threshold {E(DriftReportMarkdown.Number(feature.Threshold))}: <span class=\"{(feature.Drifted ? "drift" : "")}\">{(feature.Drifted ? "drift" : "no drift")}</span></p>"));
            Chart(html, distribution);
            html.Append("</section>");
        }

        html.Append("""
            <script>
            document.querySelectorAll('#features th').forEach(function (th, i) {
              th.addEventListener('click', function () {
                var body = th.closest('table').tBodies[0], rows = Array.from(body.rows), asc = th.dataset.asc !== '1';
                rows.sort(function (a, b) {
                  var x = a.cells[i], y = b.cells[i], u = x.dataset.v, v = y.dataset.v;
                  var c = u !== undefined ? parseFloat(u) - parseFloat(v) : x.textContent.localeCompare(y.textContent);
                  return asc ? c : -c;
                });
                th.dataset.asc = asc ? '1' : '0';
                rows.forEach(function (r) { body.appendChild(r); });
              });
            });
            </script>
            </body></html>
            """);
        return html.ToString();
    }

    /// <summary>Grouped bars: per bin or category, the reference share then the current share, scaled to the largest share.</summary>
    private static void Chart(StringBuilder html, FeatureDistribution distribution)
    {
        var count = distribution.Labels.Count;
        if (count == 0)
        {
            return;
        }

        const int left = 36, bottom = 40, top = 8;
        var plotHeight = ChartHeight - bottom - top;
        var slot = (double)(ChartWidth - left) / count;
        var max = Math.Max(distribution.Reference.DefaultIfEmpty(0).Max(), distribution.Current.DefaultIfEmpty(0).Max());
        max = max > 0 ? max : 1;
        html.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{ChartWidth}\" height=\"{ChartHeight}\" role=\"img\" aria-label=\"distribution of {E(distribution.Name)}\">"));
        html.Append(Invariant($"<line x1=\"{left}\" y1=\"{top + plotHeight}\" x2=\"{ChartWidth}\" y2=\"{top + plotHeight}\" stroke=\"#999\"/>"));
        html.Append(Invariant($"<text x=\"{left - 4}\" y=\"{top + 8}\" text-anchor=\"end\">{max * 100:0.#}%</text><text x=\"{left - 4}\" y=\"{top + plotHeight}\" text-anchor=\"end\">0</text>"));
        for (var i = 0; i < count; i++)
        {
            var x = left + (i * slot);
            var barWidth = Math.Max(1, (slot * 0.8) / 2);
            foreach (var (share, offset, color, side) in new[] { (distribution.Reference[i], 0.1, ReferenceColor, "reference"), (distribution.Current[i], 0.1 + 0.4, CurrentColor, "current") })
            {
                var height = share / max * plotHeight;
                html.Append(Invariant($"<rect x=\"{x + (offset * slot):0.##}\" y=\"{top + plotHeight - height:0.##}\" width=\"{barWidth:0.##}\" height=\"{height:0.##}\" fill=\"{color}\"><title>{E(distribution.Labels[i])}: {side} {share * 100:0.##}%</title></rect>"));
            }

            if (count <= 12 || i % (int)Math.Ceiling(count / 12.0) == 0)
            {
                var label = distribution.Labels[i].Length > 14 ? distribution.Labels[i][..13] + "…" : distribution.Labels[i];
                html.Append(Invariant($"<text x=\"{x + (slot / 2):0.##}\" y=\"{top + plotHeight + 12}\" text-anchor=\"middle\">{E(label)}</text>"));
            }
        }

        html.Append("</svg>");
    }

    private static string TypeName(FeatureType type) => type == FeatureType.Numerical ? "numerical" : "categorical";

    private static string SortKey(double? value) => value switch
    {
        null => "-1",
        var v when !double.IsFinite(v.Value) => "1e308",
        var v => v.Value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string Anchor(string name)
    {
        var anchor = new StringBuilder();
        foreach (var c in name)
        {
            anchor.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        return anchor.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
