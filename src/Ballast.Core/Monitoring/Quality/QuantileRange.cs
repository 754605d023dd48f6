namespace Ballast.Monitoring.Quality;

/// <summary>One quantile's expected range: inclusive bounds, either left out (null) for none.</summary>
public sealed record QuantileRange(double? Min, double? Max)
{
    /// <summary>Whether some value in [<paramref name="low"/>, <paramref name="high"/>] is within the range (a quantile with an allowed rank error).</summary>
    public bool Overlaps(double? low, double? high) =>
        low is { } from && high is { } to && !double.IsNaN(from) && !double.IsNaN(to) && (Max is not { } max || from <= max) && (Min is not { } min || to >= min);

    public bool Holds(double? value) => value is { } v && !double.IsNaN(v) && (Min is not { } min || v >= min) && (Max is not { } max || v <= max);
}
