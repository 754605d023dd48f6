namespace Ballast.Statistics.Drift;

/// <summary>
/// The Jensen–Shannon distance √((KL(p‖m) + KL(q‖m))/2), m = (p + q)/2, between two distributions given as counts or
/// weights (each normalized to sum to 1): the same numbers as <c>scipy.spatial.distance.jensenshannon(p, q, base)</c>,
/// natural logarithm by default. Evidently's <c>jensenshannon</c> drift method uses base 2 (so the distance lies in
/// [0, 1]) over the same bins as PSI, without filling empty bins, and flags drift at 0.1 and above.
/// </summary>
public static class JensenShannonDistance
{
    public const double DefaultThreshold = 0.1;

    /// <summary>The logarithm base of Evidently's drift method.</summary>
    public const double DriftBase = 2;

    public static double Compute(ReadOnlySpan<double> p, ReadOnlySpan<double> q, double logBase = Math.E)
    {
        var ps = DriftShares.Of(p, "p");
        var qs = DriftShares.Of(q, "q");
        if (ps.Length != qs.Length)
        {
            throw new ArgumentException($"p has {ps.Length} entries but q has {qs.Length}; give both over the same bins.");
        }

        if (!(logBase > 0) || logBase == 1)
        {
            throw new ArgumentException($"the logarithm base must be positive and not 1 (got {logBase}).");
        }

        double divergence = 0;
        for (var i = 0; i < ps.Length; i++)
        {
            var m = (ps[i] + qs[i]) / 2;
            divergence += RelativeEntropy(ps[i], m) + RelativeEntropy(qs[i], m);
        }

        divergence /= Math.Log(logBase);
        return Math.Sqrt(Math.Max(divergence, 0) / 2);
    }

    /// <summary>scipy.special.rel_entr: x log(x/y), 0 when x is 0.</summary>
    private static double RelativeEntropy(double x, double y) => x == 0 ? 0 : x * Math.Log(x / y);
}
