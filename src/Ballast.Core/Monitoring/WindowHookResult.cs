namespace Ballast.Monitoring;

/// <summary>A window hook's metrics by name, and notes on what it could not compute and why (they join the window's message).</summary>
public sealed record WindowHookResult(IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<string> Notes)
{
    public static WindowHookResult None { get; } = new(new Dictionary<string, double>(), []);

    public static WindowHookResult Note(string note) => new(new Dictionary<string, double>(), [note]);
}
