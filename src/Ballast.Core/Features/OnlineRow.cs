namespace Ballast.Features;

/// <summary>The latest values of one view's features for one entity: the event time they are from (Unix ms) and a JSON object of name → value.</summary>
public sealed record OnlineRow(string EntityKey, long EventAt, string Values);
