using System.Text.Json;
using System.Text.Json.Serialization;
using Ballast.Statistics.Drift;

namespace Ballast.Monitoring;

/// <summary>
/// The drift result as JSON: <c>{"dataset_drift", "drift_share", "drifted_features", "features": [{"name", "type",
/// "method", "statistic", "p_value", "score", "threshold", "drifted"}]}</c>, <c>p_value</c> null for distances and
/// <c>statistic</c> null when it is not finite. When a run computes several methods for a column, that feature also
/// lists every one, its first (the one above) included, as <c>"methods": [{"method", "statistic", "p_value", "score",
/// "threshold", "drifted"}]</c>, and the result adds <c>"by_method": [{"method", "features", "drifted_features",
/// "drift_share", "dataset_drift"}]</c> over the columns each method was computed for; with one method per column
/// neither appears and the JSON is as before.
/// </summary>
public static class DriftReportJson
{
    public static string Write(DriftResult result, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(result);
        var several = result.Additional.Count > 0;
        var additional = result.Additional.ToLookup(feature => feature.Name, StringComparer.Ordinal);
        var json = new DriftJson(result.DatasetDrift, result.DriftShare, result.DriftedFeatures, result.Features.Select(feature => new DriftFeatureJson(
            feature.Name, feature.Type == FeatureType.Numerical ? "numerical" : "categorical", feature.Method, feature.Statistic, feature.PValue,
            feature.Score, feature.Threshold, feature.Drifted,
            several ? [.. additional[feature.Name].Prepend(feature).Select(method => new DriftMethodJson(method.Method, method.Statistic, method.PValue, method.Score, method.Threshold, method.Drifted))] : null)).ToList(),
            several ? [.. result.ByMethod.Select(method => new DriftMethodSummaryJson(method.Method, method.Features, method.DriftedFeatures, method.DriftShare, method.DatasetDrift))] : null);
        return JsonSerializer.Serialize(json, indented ? DriftJsonContext.Indented.DriftJson : DriftJsonContext.Default.DriftJson);
    }
}

internal sealed record DriftJson(
    bool DatasetDrift,
    double DriftShare,
    int DriftedFeatures,
    IReadOnlyList<DriftFeatureJson> Features,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<DriftMethodSummaryJson>? ByMethod);

internal sealed record DriftFeatureJson(
    string Name,
    string Type,
    string Method,
    double? Statistic,
    double? PValue,
    double Score,
    double Threshold,
    bool Drifted,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<DriftMethodJson>? Methods);

internal sealed record DriftMethodJson(string Method, double? Statistic, double? PValue, double Score, double Threshold, bool Drifted);

internal sealed record DriftMethodSummaryJson(string Method, int Features, int DriftedFeatures, double DriftShare, bool DatasetDrift);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DriftJson))]
internal sealed partial class DriftJsonContext : JsonSerializerContext
{
    public static DriftJsonContext Indented { get; } = new(new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true });
}
