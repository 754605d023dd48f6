namespace Ballast.Server.Dashboard;

/// <summary>A named line of a chart: one value per x (null where there is no value).</summary>
internal sealed record ChartSeries(string Name, IReadOnlyList<double?> Values);
