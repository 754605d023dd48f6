using System.Globalization;
using System.Text;

namespace Ballast.Server.Dashboard;

/// <summary>
/// Server-side SVG charts (no script): lines over time, grouped bars, a heat map and a layered graph. Colours are SVG
/// attributes, not style attributes, so the page's Content-Security-Policy needs no inline styles. Every chart has a
/// title (<c>&lt;title&gt;</c> and a caption) and the class <c>chart</c>.
/// </summary>
internal static class SvgChart
{
    public static readonly string[] Palette = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563", "#65a30d", "#92400e", "#1e3a8a", "#be123c"];

    private const int Width = 720;
    private const int Height = 240;
    private const int Left = 56;
    private const int Right = 150;
    private const int Top = 16;
    private const int Bottom = 32;

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>
    /// Lines over shared x labels (times); the y axis spans the data and the bands (from 0 when all values are ≥ 0). A
    /// series' band is a translucent area of its colour (<c>polygon.band</c>) over each run of x values that have one.
    /// </summary>
    public static string Lines(string id, string title, IReadOnlyList<string> xLabels, IReadOnlyList<ChartSeries> series, string yFormat = "0.###", double? yMax = null)
    {
        var values = series.SelectMany(s => s.Values.Concat((s.Band ?? []).SelectMany(b => b is { } band ? new double?[] { band.Lower, band.Upper } : [])))
            .OfType<double>().Where(double.IsFinite).ToList();
        var min = values.Count == 0 ? 0 : Math.Min(0, values.Min());
        var max = yMax ?? (values.Count == 0 ? 1 : values.Max());
        if (max <= min)
        {
            max = min + 1;
        }

        var svg = Open(id, title);
        Axes(svg, min, max, yFormat, xLabels);
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        double X(int i) => Left + (xLabels.Count <= 1 ? plotWidth / 2.0 : plotWidth * i / (double)(xLabels.Count - 1));
        double Y(double v) => Top + plotHeight - (plotHeight * (v - min) / (max - min));
        for (var s = 0; s < series.Count; s++)
        {
            Band(svg, series[s], Palette[s % Palette.Length], xLabels, X, Y, yFormat);
        }

        for (var s = 0; s < series.Count; s++)
        {
            var color = Palette[s % Palette.Length];
            var points = new List<string>();
            for (var i = 0; i < series[s].Values.Count && i < xLabels.Count; i++)
            {
                if (series[s].Values[i] is { } v && double.IsFinite(v))
                {
                    points.Add($"{F(X(i))},{F(Y(v))}");
                    svg.Append($"<circle class=\"point\" cx=\"{F(X(i))}\" cy=\"{F(Y(v))}\" r=\"2.5\" fill=\"{color}\"><title>{Html.Encode($"{series[s].Name} @ {xLabels[i]}: {v.ToString(yFormat, CultureInfo.InvariantCulture)}")}</title></circle>");
                }
            }

            if (points.Count > 1)
            {
                svg.Append($"<polyline class=\"series\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', points)}\"/>");
            }
        }

        Legend(svg, series.Select(s => s.Name).ToList());
        return Close(svg, title);
    }

    /// <summary>A series' band: one polygon (upper edge forward, lower edge back) per run of consecutive x values with a finite band.</summary>
    private static void Band(StringBuilder svg, ChartSeries series, string color, IReadOnlyList<string> xLabels, Func<int, double> x, Func<double, double> y, string yFormat)
    {
        if (series.Band is not { } band)
        {
            return;
        }

        var count = Math.Min(band.Count, xLabels.Count);
        for (var start = 0; start < count;)
        {
            if (band[start] is not { } first || !double.IsFinite(first.Lower) || !double.IsFinite(first.Upper))
            {
                start++;
                continue;
            }

            var end = start;
            while (end + 1 < count && band[end + 1] is { } next && double.IsFinite(next.Lower) && double.IsFinite(next.Upper))
            {
                end++;
            }

            var upper = Enumerable.Range(start, end - start + 1).Select(i => $"{F(x(i))},{F(y(band[i]!.Value.Upper))}");
            var lower = Enumerable.Range(start, end - start + 1).Reverse().Select(i => $"{F(x(i))},{F(y(band[i]!.Value.Lower))}");
            var text = string.Join("; ", Enumerable.Range(start, end - start + 1).Select(i =>
                $"{xLabels[i]}: {band[i]!.Value.Lower.ToString(yFormat, CultureInfo.InvariantCulture)} to {band[i]!.Value.Upper.ToString(yFormat, CultureInfo.InvariantCulture)}"));
            svg.Append($"<polygon class=\"band\" fill=\"{color}\" fill-opacity=\"0.15\" stroke=\"{color}\" stroke-opacity=\"0.3\" points=\"{string.Join(' ', upper.Concat(lower))}\">" +
                $"<title>{Html.Encode($"{series.Name} band, {text}")}</title></polygon>");
            start = end + 1;
        }
    }

    /// <summary>Grouped bars: one group per label, one bar per series.</summary>
    public static string Bars(string id, string title, IReadOnlyList<string> labels, IReadOnlyList<ChartSeries> series, string yFormat = "0.###")
    {
        var values = series.SelectMany(s => s.Values).OfType<double>().Where(double.IsFinite).ToList();
        var max = values.Count == 0 || values.Max() <= 0 ? 1 : values.Max();
        var svg = Open(id, title);
        Axes(svg, 0, max, yFormat, labels, centered: true);
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var group = plotWidth / (double)Math.Max(1, labels.Count);
        var bar = group * 0.8 / Math.Max(1, series.Count);
        for (var s = 0; s < series.Count; s++)
        {
            for (var i = 0; i < labels.Count && i < series[s].Values.Count; i++)
            {
                if (series[s].Values[i] is not { } v || !double.IsFinite(v))
                {
                    continue;
                }

                var h = plotHeight * Math.Max(0, v) / max;
                var x = Left + (group * i) + (group * 0.1) + (bar * s);
                svg.Append($"<rect class=\"bar\" x=\"{F(x)}\" y=\"{F(Top + plotHeight - h)}\" width=\"{F(Math.Max(1, bar - 1))}\" height=\"{F(h)}\" fill=\"{Palette[s % Palette.Length]}\"><title>{Html.Encode($"{series[s].Name} {labels[i]}: {v.ToString(yFormat, CultureInfo.InvariantCulture)}")}</title></rect>");
            }
        }

        Legend(svg, series.Select(s => s.Name).ToList());
        return Close(svg, title);
    }

    /// <summary>Horizontal intervals (a confidence interval per row, its estimate a dot) against a reference line at <paramref name="zero"/>.</summary>
    public static string Intervals(string id, string title, IReadOnlyList<(string Label, double Estimate, double Lower, double Upper)> rows, double zero = 0, string format = "0.###")
    {
        const int label = 140;
        const int rowHeight = 26;
        var height = Top + (rows.Count * rowHeight) + Bottom;
        var values = rows.SelectMany(r => new[] { r.Lower, r.Upper, r.Estimate }).Append(zero).Where(double.IsFinite).ToList();
        var (min, max) = (values.Min(), values.Max());
        if (max <= min)
        {
            (min, max) = (min - 1, max + 1);
        }

        var plotWidth = Width - label - 30;
        double X(double v) => label + (plotWidth * (v - min) / (max - min));
        var svg = new StringBuilder();
        svg.Append($"<figure class=\"chart-figure\"><svg id=\"{Html.Attribute(id)}\" class=\"chart intervals\" role=\"img\" viewBox=\"0 0 {Width} {height}\" width=\"{Width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{Html.Encode(title)}</title>");
        svg.Append($"<line class=\"zero\" x1=\"{F(X(zero))}\" y1=\"{Top}\" x2=\"{F(X(zero))}\" y2=\"{height - Bottom}\" stroke=\"#6b7280\" stroke-dasharray=\"4 3\"/>");
        for (var i = 0; i < rows.Count; i++)
        {
            var (name, estimate, lower, upper) = rows[i];
            var y = Top + (i * rowHeight) + (rowHeight / 2);
            var color = lower > zero ? "#16a34a" : upper < zero ? "#dc2626" : "#2563eb";
            svg.Append($"<text x=\"{label - 6}\" y=\"{y + 4}\" text-anchor=\"end\" font-size=\"11\">{Html.Encode(name)}</text>");
            svg.Append($"<line class=\"interval\" x1=\"{F(X(lower))}\" y1=\"{y}\" x2=\"{F(X(upper))}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"3\"><title>{Html.Encode($"{name}: {estimate.ToString(format, CultureInfo.InvariantCulture)} [{lower.ToString(format, CultureInfo.InvariantCulture)}, {upper.ToString(format, CultureInfo.InvariantCulture)}]")}</title></line>");
            svg.Append($"<circle class=\"estimate\" cx=\"{F(X(estimate))}\" cy=\"{y}\" r=\"4\" fill=\"{color}\"/>");
        }

        foreach (var tick in new[] { min, zero, max }.Distinct())
        {
            svg.Append($"<text x=\"{F(X(tick))}\" y=\"{height - 12}\" text-anchor=\"middle\" font-size=\"10\">{Html.Encode(tick.ToString(format, CultureInfo.InvariantCulture))}</text>");
        }

        svg.Append("</svg>");
        return svg.Append($"<figcaption>{Html.Encode(title)}</figcaption></figure>").ToString();
    }

    /// <summary>A heat map: rows × columns of scores in [0, 1] (darker is higher); a flagged cell gets a red border.</summary>
    public static string HeatMap(string id, string title, IReadOnlyList<string> rows, IReadOnlyList<string> columns, Func<int, int, (double? Value, bool Flagged, string Tip)> cell)
    {
        const int label = 140;
        const int cellHeight = 22;
        var cellWidth = Math.Max(18, Math.Min(60, (Width - label - 10) / Math.Max(1, columns.Count)));
        var height = Top + (rows.Count * cellHeight) + Bottom;
        var svg = new StringBuilder();
        svg.Append($"<figure class=\"chart-figure\"><svg id=\"{Html.Attribute(id)}\" class=\"chart heatmap\" role=\"img\" viewBox=\"0 0 {Width} {height}\" width=\"{Width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{Html.Encode(title)}</title>");
        for (var r = 0; r < rows.Count; r++)
        {
            var y = Top + (r * cellHeight);
            svg.Append($"<text x=\"{label - 6}\" y=\"{y + 15}\" text-anchor=\"end\" font-size=\"11\">{Html.Encode(rows[r])}</text>");
            for (var c = 0; c < columns.Count; c++)
            {
                var (value, flagged, tip) = cell(r, c);
                var x = label + (c * cellWidth);
                var fill = value is { } v && double.IsFinite(v) ? Shade(Math.Clamp(v, 0, 1)) : "#f3f4f6";
                var stroke = flagged ? " stroke=\"#dc2626\" stroke-width=\"2\"" : " stroke=\"#ffffff\"";
                svg.Append($"<rect class=\"cell{(flagged ? " flagged" : "")}\" x=\"{x}\" y=\"{y}\" width=\"{cellWidth}\" height=\"{cellHeight}\" fill=\"{fill}\"{stroke}><title>{Html.Encode(tip)}</title></rect>");
            }
        }

        for (var c = 0; c < columns.Count; c++)
        {
            if (columns.Count <= 12 || c % (columns.Count / 8 + 1) == 0)
            {
                svg.Append($"<text x=\"{label + (c * cellWidth) + (cellWidth / 2)}\" y=\"{height - 12}\" text-anchor=\"middle\" font-size=\"10\">{Html.Encode(columns[c])}</text>");
            }
        }

        svg.Append("</svg>");
        return svg.Append($"<figcaption>{Html.Encode(title)}</figcaption></figure>").ToString();
    }

    /// <summary>A graph drawn in layers left to right (lineage, a pipeline's DAG); a node's kind picks its colour.</summary>
    public static string Graph(string id, string title, IReadOnlyList<GraphNode> nodes, IReadOnlyList<(string From, string To)> edges)
    {
        const int nodeWidth = 150;
        const int nodeHeight = 34;
        const int columnGap = 60;
        const int rowGap = 16;
        var layers = nodes.GroupBy(node => node.Layer).OrderBy(group => group.Key).ToList();
        var width = Math.Max(Width, 20 + (layers.Count * (nodeWidth + columnGap)));
        var tallest = layers.Count == 0 ? 1 : layers.Max(layer => layer.Count());
        var height = 20 + (tallest * (nodeHeight + rowGap));
        var positions = new Dictionary<string, (double X, double Y)>(StringComparer.Ordinal);
        for (var l = 0; l < layers.Count; l++)
        {
            var layer = layers[l].ToList();
            for (var i = 0; i < layer.Count; i++)
            {
                positions[layer[i].Id] = (10 + (l * (nodeWidth + columnGap)), 10 + (i * (nodeHeight + rowGap)));
            }
        }

        var svg = new StringBuilder();
        svg.Append($"<figure class=\"chart-figure\"><svg id=\"{Html.Attribute(id)}\" class=\"chart graph\" role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{Html.Encode(title)}</title>");
        svg.Append("<defs><marker id=\"").Append(Html.Attribute(id)).Append("-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#6b7280\"/></marker></defs>");
        foreach (var (from, to) in edges)
        {
            if (positions.TryGetValue(from, out var a) && positions.TryGetValue(to, out var b))
            {
                svg.Append($"<line class=\"edge\" x1=\"{F(a.X + nodeWidth)}\" y1=\"{F(a.Y + (nodeHeight / 2))}\" x2=\"{F(b.X)}\" y2=\"{F(b.Y + (nodeHeight / 2))}\" stroke=\"#6b7280\" stroke-width=\"1.5\" marker-end=\"url(#{Html.Attribute(id)}-arrow)\"/>");
            }
        }

        foreach (var node in nodes)
        {
            var (x, y) = positions[node.Id];
            svg.Append($"<g class=\"node {Html.Attribute(node.Kind)}\"><rect x=\"{F(x)}\" y=\"{F(y)}\" width=\"{nodeWidth}\" height=\"{nodeHeight}\" rx=\"6\" fill=\"{KindColor(node.Kind)}\" stroke=\"#374151\"/>");
            svg.Append($"<text x=\"{F(x + 8)}\" y=\"{F(y + 21)}\" font-size=\"11\" fill=\"#111827\">{Html.Encode(Truncate(node.Label, 22))}</text><title>{Html.Encode(node.Label)}</title></g>");
        }

        svg.Append("</svg>");
        return svg.Append($"<figcaption>{Html.Encode(title)}</figcaption></figure>").ToString();
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static string KindColor(string kind) => kind switch
    {
        "dataset" => "#dbeafe",
        "run" => "#fef3c7",
        "version" => "#dcfce7",
        "endpoint" => "#ede9fe",
        "succeeded" => "#dcfce7",
        "cached" => "#e0f2fe",
        "failed" => "#fee2e2",
        "running" => "#fef3c7",
        _ => "#f3f4f6",
    };

    /// <summary>White at 0 to deep red (#b91c1c) at 1.</summary>
    private static string Shade(double value)
    {
        var r = (int)Math.Round(255 - (value * 70));
        var gb = (int)Math.Round(255 - (value * 227));
        return string.Create(CultureInfo.InvariantCulture, $"#{r:x2}{gb:x2}{gb:x2}");
    }

    private static StringBuilder Open(string id, string title) => new StringBuilder()
        .Append($"<figure class=\"chart-figure\"><svg id=\"{Html.Attribute(id)}\" class=\"chart\" role=\"img\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{Html.Encode(title)}</title>");

    private static string Close(StringBuilder svg, string title) => svg.Append("</svg>").Append($"<figcaption>{Html.Encode(title)}</figcaption></figure>").ToString();

    private static void Axes(StringBuilder svg, double min, double max, string yFormat, IReadOnlyList<string> xLabels, bool centered = false)
    {
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        svg.Append($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top + plotHeight}\" x2=\"{Left + plotWidth}\" y2=\"{Top + plotHeight}\" stroke=\"#9ca3af\"/>");
        svg.Append($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + plotHeight}\" stroke=\"#9ca3af\"/>");
        for (var t = 0; t <= 4; t++)
        {
            var v = min + ((max - min) * t / 4);
            var y = Top + plotHeight - (plotHeight * t / 4.0);
            svg.Append($"<line x1=\"{Left}\" y1=\"{F(y)}\" x2=\"{Left + plotWidth}\" y2=\"{F(y)}\" stroke=\"#f3f4f6\"/>");
            svg.Append($"<text x=\"{Left - 4}\" y=\"{F(y + 4)}\" text-anchor=\"end\" font-size=\"10\">{Html.Encode(v.ToString(yFormat, CultureInfo.InvariantCulture))}</text>");
        }

        var step = Math.Max(1, (int)Math.Ceiling(xLabels.Count / 6.0));
        for (var i = 0; i < xLabels.Count; i += step)
        {
            var x = centered
                ? Left + (plotWidth / (double)xLabels.Count * (i + 0.5))
                : Left + (xLabels.Count <= 1 ? plotWidth / 2.0 : plotWidth * i / (double)(xLabels.Count - 1));
            svg.Append($"<text x=\"{F(x)}\" y=\"{Height - 12}\" text-anchor=\"middle\" font-size=\"10\">{Html.Encode(xLabels[i])}</text>");
        }
    }

    private static void Legend(StringBuilder svg, List<string> names)
    {
        for (var i = 0; i < names.Count; i++)
        {
            var y = Top + 6 + (i * 16);
            svg.Append($"<rect x=\"{Width - Right + 12}\" y=\"{y - 8}\" width=\"10\" height=\"10\" fill=\"{Palette[i % Palette.Length]}\"/>");
            svg.Append($"<text class=\"legend\" x=\"{Width - Right + 26}\" y=\"{y + 1}\" font-size=\"11\">{Html.Encode(names[i])}</text>");
        }
    }
}
