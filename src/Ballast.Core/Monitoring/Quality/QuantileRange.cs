namespace Ballast.Monitoring.Quality;

/// <summary>One quantile's expected range: inclusive bounds, either left out (null) for none.</summary>
public sealed record QuantileRange(double? Min, double? Max)
{
    public bool Holds(double? value) => value is { } v && !double.IsNaN(v) && (Min is not { } min || v >= min) && (Max is not { } max || v <= max);
}
