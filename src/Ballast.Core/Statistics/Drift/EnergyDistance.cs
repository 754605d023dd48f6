namespace Ballast.Statistics.Drift;

/// <summary>
/// The energy distance between two empirical distributions, √(2 ∫ (U − V)² dx) (Székely and Rizzo): the same numbers as
/// <c>scipy.stats.energy_distance(u, v, u_weights, v_weights)</c>. Evidently's <c>ed</c> drift method flags drift at
/// 0.1 and above.
/// </summary>
public static class EnergyDistance
{
    public static double Compute(ReadOnlySpan<double> u, ReadOnlySpan<double> v) => Math.Sqrt(2) * CdfDistance.Compute(2, u, v, [], []);

    public static double Compute(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> uWeights, ReadOnlySpan<double> vWeights) =>
        Math.Sqrt(2) * CdfDistance.Compute(2, u, v, uWeights, vWeights);

    /// <summary>Over samples already sorted ascending.</summary>
    public static double ComputeSorted(ReadOnlySpan<double> u, ReadOnlySpan<double> v) => Math.Sqrt(2) * CdfDistance.ComputeSorted(2, u, v);
}
