namespace Ballast.Monitoring.Quality;

/// <summary>
/// One quantile's expected range: inclusive bounds, either left out (null) for none. For a column of dates or times the
/// bounds are dates or times (<see cref="MinTime"/>, <see cref="MaxTime"/>, ISO-8601 text), compared in microseconds since 1970.
/// </summary>
public sealed record QuantileRange(double? Min, double? Max, TimeBound? MinTime = null, TimeBound? MaxTime = null)
{
    /// <summary>Whether the range's bounds are dates or times.</summary>
    public bool IsTime => MinTime is not null || MaxTime is not null;

    /// <summary>The lower bound as compared: the number, or the date's microseconds since 1970.</summary>
    public double? Low => Min ?? MinTime?.Microseconds;

    /// <summary>The upper bound as compared.</summary>
    public double? High => Max ?? MaxTime?.Microseconds;

    /// <summary>Whether some value in [<paramref name="low"/>, <paramref name="high"/>] is within the range (a quantile with an allowed rank error).</summary>
    public bool Overlaps(double? low, double? high) =>
        low is { } from && high is { } to && !double.IsNaN(from) && !double.IsNaN(to) && (High is not { } max || from <= max) && (Low is not { } min || to >= min);

    public bool Holds(double? value) => value is { } v && !double.IsNaN(v) && (Low is not { } min || v >= min) && (High is not { } max || v <= max);
}
