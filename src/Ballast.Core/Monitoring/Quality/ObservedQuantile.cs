namespace Ballast.Monitoring.Quality;

/// <summary>One observed quantile of a <c>quantiles</c> result: its value (null when the column has no present value) and whether it is within its range (GE's <c>success_details</c>).</summary>
public sealed record ObservedQuantile(double Quantile, double? Value, bool Success);
