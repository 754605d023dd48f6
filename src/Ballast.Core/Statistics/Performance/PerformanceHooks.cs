namespace Ballast.Statistics.Performance;

/// <summary>
/// Where the label-free and fairness estimates plug into a monitor's window (the lead wires them in): given the
/// window's predicted probabilities (and, for fairness, the segment column's values), each returns metric values by
/// name (<c>cbpe.accuracy</c>, <c>fairness.demographic_parity_difference</c>, …) that the monitor adds to its results.
/// <c>Cbpe.cs</c> and <c>Fairness.cs</c> in this folder hold the pure functions; nothing is registered until then.
/// </summary>
public interface IWindowEstimator
{
    /// <summary>A short name for logs and the report (<c>cbpe</c>, <c>fairness</c>).</summary>
    string Name { get; }

    IReadOnlyDictionary<string, double> Estimate(WindowPredictions window);
}

/// <summary>One window's scored rows as an estimator sees them: predicted label, class probabilities (may be empty), the true label when feedback came, and the segment columns' values.</summary>
public sealed record WindowPredictions(
    IReadOnlyList<string> Predicted,
    IReadOnlyList<IReadOnlyList<double>> Probabilities,
    IReadOnlyList<string> Classes,
    IReadOnlyList<string?> Truth,
    IReadOnlyDictionary<string, IReadOnlyList<string?>> Segments);
