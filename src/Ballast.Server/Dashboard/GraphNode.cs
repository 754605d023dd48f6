namespace Ballast.Server.Dashboard;

/// <summary>A node of <see cref="SvgChart.Graph"/>: its layer (column), its kind (colour) and its label.</summary>
internal sealed record GraphNode(string Id, string Label, string Kind, int Layer);
