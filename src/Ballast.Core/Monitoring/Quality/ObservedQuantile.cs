namespace Ballast.Monitoring.Quality;

/// <summary>
/// One observed quantile of a <c>quantiles</c> result: its value (null when the column has no present value) and whether
/// it is within its range (GE's <c>success_details</c>). For a column of dates or times <see cref="Value"/> is in
/// microseconds since 1970 and <see cref="Text"/> is the date or time as ISO-8601 text (<see cref="TimeBound.Format"/>).
/// </summary>
public sealed record ObservedQuantile(double Quantile, double? Value, bool Success, string? Text = null);
