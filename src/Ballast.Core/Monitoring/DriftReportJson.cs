using System.Text.Json;
using System.Text.Json.Serialization;
using Ballast.Statistics.Drift;

namespace Ballast.Monitoring;

/// <summary>
/// The drift result as JSON: <c>{"dataset_drift", "drift_share", "drifted_features", "features": [{"name", "type",
/// "method", "statistic", "p_value", "score", "threshold", "drifted"}]}</c>, <c>p_value</c> null for distances and
/// <c>statistic</c> null when it is not finite.
/// </summary>
public static class DriftReportJson
{
    public static string Write(DriftResult result, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(result);
        var json = new DriftJson(result.DatasetDrift, result.DriftShare, result.DriftedFeatures, result.Features.Select(feature => new DriftFeatureJson(
            feature.Name, feature.Type == FeatureType.Numerical ? "numerical" : "categorical", feature.Method, feature.Statistic, feature.PValue,
            feature.Score, feature.Threshold, feature.Drifted)).ToList());
        return JsonSerializer.Serialize(json, indented ? DriftJsonContext.Indented.DriftJson : DriftJsonContext.Default.DriftJson);
    }
}

internal sealed record DriftJson(bool DatasetDrift, double DriftShare, int DriftedFeatures, IReadOnlyList<DriftFeatureJson> Features);

internal sealed record DriftFeatureJson(string Name, string Type, string Method, double? Statistic, double? PValue, double Score, double Threshold, bool Drifted);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DriftJson))]
internal sealed partial class DriftJsonContext : JsonSerializerContext
{
    public static DriftJsonContext Indented { get; } = new(new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true });
}
