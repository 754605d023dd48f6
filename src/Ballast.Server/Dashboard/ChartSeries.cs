namespace Ballast.Server.Dashboard;

/// <summary>
/// A named line of a chart: one value per x (null where there is no value), and optionally a band around it (such as
/// CBPE's ± 3 sampling errors), one (lower, upper) per x or null where there is none.
/// </summary>
internal sealed record ChartSeries(string Name, IReadOnlyList<double?> Values, IReadOnlyList<(double Lower, double Upper)?>? Band = null);
