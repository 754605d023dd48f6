using System.Globalization;
using System.Text;

namespace Ballast.Monitoring;

/// <summary>The drift report as Markdown: a summary line and one table row per column.</summary>
public static class DriftReportMarkdown
{
    public static string Write(DriftReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var result = report.Result;
        var text = new StringBuilder();
        text.AppendLine("# Drift report").AppendLine();
        text.AppendLine(Invariant($"Reference `{Path.GetFileName(report.Reference)}` ({report.ReferenceRows:N0} rows) against current `{Path.GetFileName(report.Current)}` ({report.CurrentRows:N0} rows)."));
        text.AppendLine();
        text.AppendLine(Invariant($"**{(result.DatasetDrift ? "Dataset drift detected" : "No dataset drift")}**: {result.DriftedFeatures} of {result.Features.Count} columns drifted (share {result.DriftShare:0.###})."));
        text.AppendLine();
        text.AppendLine("| column | type | method | statistic | p-value | score | threshold | drifted |");
        text.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: | --- |");
        var additional = result.Additional.ToLookup(feature => feature.Name, StringComparer.Ordinal);
        foreach (var feature in result.Features.SelectMany(feature => additional[feature.Name].Prepend(feature)))
        {
            text.AppendLine(Invariant($"| {Escape(feature.Name)} | {(feature.Type == Statistics.Drift.FeatureType.Numerical ? "numerical" : "categorical")} | {feature.Method} | {Number(feature.Statistic)} | {Number(feature.PValue)} | {Number(feature.Score)} | {Number(feature.Threshold)} | {(feature.Drifted ? "**yes**" : "no")} |"));
        }

        if (result.ByMethod.Count > 0)
        {
            text.AppendLine().Append("By method: ").AppendJoin("; ", result.ByMethod.Select(method => Invariant($"{method.Method} {method.DriftedFeatures} of {method.Features} columns drifted"))).AppendLine(".");
        }

        foreach (var skipped in report.Skipped)
        {
            text.AppendLine().Append(Invariant($"Not compared: {Escape(skipped.Name)} ({Escape(skipped.Reason)})."));
        }

        return text.ToString().TrimEnd() + "\n";
    }

    internal static string Number(double? value) => value switch
    {
        null => "–",
        var v when double.IsPositiveInfinity(v.Value) => "∞",
        var v => v.Value.ToString("G4", CultureInfo.InvariantCulture),
    };

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
