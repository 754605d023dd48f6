namespace Ballast.Statistics.Drift;

/// <summary>
/// The distances between two empirical distributions that integrate their CDFs, as scipy's <c>_cdf_distance</c>:
/// (∫ |U − V|ᵖ dx)^(1/p) over the pooled values, each value optionally weighted. Wasserstein is p = 1; the energy
/// distance is √2 times p = 2.
/// </summary>
internal static class CdfDistance
{
    public static double Compute(int p, ReadOnlySpan<double> u, ReadOnlySpan<double> v, ReadOnlySpan<double> uWeights, ReadOnlySpan<double> vWeights)
    {
        var (uSorted, uCumulative) = Prepare(u, uWeights, "u");
        var (vSorted, vCumulative) = Prepare(v, vWeights, "v");
        return ComputeSorted(p, uSorted, vSorted, uCumulative, vCumulative);
    }

    /// <summary>
    /// The integral over sorted samples: between consecutive pooled values the CDFs are constant, so the integral is
    /// Σ |U(xₖ) − V(xₖ)|ᵖ (xₖ₊₁ − xₖ). Cumulative weights (with a leading 0) are null for unweighted samples.
    /// </summary>
    public static double ComputeSorted(int p, ReadOnlySpan<double> u, ReadOnlySpan<double> v, double[]? uCumulative = null, double[]? vCumulative = null)
    {
        if (u.Length == 0 || v.Length == 0)
        {
            throw new ArgumentException($"each distribution needs at least 1 value (got {u.Length} and {v.Length}).");
        }

        double uTotal = uCumulative?[^1] ?? u.Length, vTotal = vCumulative?[^1] ?? v.Length;
        int i = 0, j = 0;
        double sum = 0;
        var previous = Math.Min(u[0], v[0]);
        while (i < u.Length || j < v.Length)
        {
            var x = j >= v.Length || (i < u.Length && u[i] <= v[j]) ? u[i] : v[j];
            if (i + j > 0)
            {
                // The CDFs at the previous pooled value hold over [previous, x).
                var uCdf = (uCumulative?[i] ?? i) / uTotal;
                var vCdf = (vCumulative?[j] ?? j) / vTotal;
                var gap = Math.Abs(uCdf - vCdf);
                var delta = x - previous;
                if (delta != 0 || double.IsNaN(delta))
                {
                    sum += (p == 1 ? gap : gap * gap) * delta;
                }
            }

            while (i < u.Length && u[i] <= x)
            {
                i++;
            }

            while (j < v.Length && v[j] <= x)
            {
                j++;
            }

            previous = x;
        }

        return p == 1 ? sum : Math.Sqrt(sum);
    }

    private static (double[] Sorted, double[]? Cumulative) Prepare(ReadOnlySpan<double> values, ReadOnlySpan<double> weights, string name)
    {
        if (values.Length == 0)
        {
            throw new ArgumentException($"distribution {name} needs at least 1 value.");
        }

        var sorted = values.ToArray();
        if (weights.IsEmpty)
        {
            Array.Sort(sorted);
            return (sorted, null);
        }

        if (weights.Length != values.Length)
        {
            throw new ArgumentException($"distribution {name} has {values.Length} values but {weights.Length} weights; give one weight per value.");
        }

        var order = weights.ToArray();
        foreach (var weight in order)
        {
            if (!(weight >= 0) || !double.IsFinite(weight))
            {
                throw new ArgumentException($"the weights of {name} must be finite and 0 or more (got {weight}).");
            }
        }

        Array.Sort(sorted, order);
        var cumulative = new double[sorted.Length + 1];
        for (var k = 0; k < sorted.Length; k++)
        {
            cumulative[k + 1] = cumulative[k] + order[k];
        }

        return cumulative[^1] > 0 ? (sorted, cumulative) : throw new ArgumentException($"the weights of {name} sum to 0.");
    }
}
