namespace Ballast.Statistics.Drift;

/// <summary>
/// The first Wasserstein (earth mover's) distance between two empirical distributions, ∫ |U − V| dx: the same numbers
/// as <c>scipy.stats.wasserstein_distance(u, v, u_weights, v_weights)</c>. <see cref="Normed"/> divides by the
/// reference's standard deviation, Evidently's <c>wasserstein</c> drift method, so one threshold (0.1: a shift of a
/// tenth of a standard deviation) fits every column.
/// </summary>
public static class WassersteinDistance
{
    /// <summary>Evidently's floor on the reference standard deviation, so a constant column does not divide by 0.</summary>
    public const double MinimumNorm = 0.001;

    public static double Compute(ReadOnlySpan<double> u, ReadOnlySpan<double> v) => CdfDistance.Compute(1, u, v, [], []);

    public static double Compute(ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> uWeights, ReadOnlySpan<double> vWeights) =>
        CdfDistance.Compute(1, u, v, uWeights, vWeights);

    /// <summary>Over samples already sorted ascending.</summary>
    public static double ComputeSorted(ReadOnlySpan<double> u, ReadOnlySpan<double> v) => CdfDistance.ComputeSorted(1, u, v);

    /// <summary>W(reference, current) / max(σ_reference, 0.001), σ the population (n) standard deviation as numpy's <c>np.std</c>.</summary>
    public static double Normed(ReadOnlySpan<double> reference, ReadOnlySpan<double> current) =>
        Compute(reference, current) / Math.Max(PopulationStandardDeviation(reference), MinimumNorm);

    /// <summary><see cref="Normed"/> over sorted samples with the reference's standard deviation already known.</summary>
    public static double NormedSorted(ReadOnlySpan<double> reference, ReadOnlySpan<double> current, double referenceStandardDeviation) =>
        ComputeSorted(reference, current) / Math.Max(referenceStandardDeviation, MinimumNorm);

    public static double PopulationStandardDeviation(ReadOnlySpan<double> values)
    {
        var summary = SampleSummary.FromValues(values);
        return summary.Count > 1 ? Math.Sqrt(summary.Variance * (summary.Count - 1) / summary.Count) : 0;
    }
}
