namespace Ballast.Statistics;

/// <summary>
/// Adjusted p-values for testing many metrics or variants at once, returned in the order given; reject where the
/// adjusted p-value is at most α. The same numbers as statsmodels' <c>multipletests(p, method='holm' | 'fdr_bh')</c>
/// and R's <c>p.adjust</c>.
/// </summary>
public static class MultipleTesting
{
    /// <summary>
    /// Holm's step-down method, controlling the family-wise error rate: sorted ascending, p₍ᵢ₎ becomes
    /// max over j ≤ i of min(1, (m − j + 1) p₍ⱼ₎).
    /// </summary>
    public static double[] Holm(ReadOnlySpan<double> pValues)
    {
        var order = Order(pValues);
        var adjusted = new double[pValues.Length];
        var running = 0.0;
        for (var rank = 0; rank < order.Length; rank++)
        {
            running = Math.Max(running, Math.Min(1, (pValues.Length - rank) * pValues[order[rank]]));
            adjusted[order[rank]] = running;
        }

        return adjusted;
    }

    /// <summary>
    /// Benjamini–Hochberg step-up method, controlling the false discovery rate: sorted ascending, p₍ᵢ₎ becomes
    /// min over j ≥ i of min(1, m p₍ⱼ₎ / j).
    /// </summary>
    public static double[] BenjaminiHochberg(ReadOnlySpan<double> pValues)
    {
        var order = Order(pValues);
        var adjusted = new double[pValues.Length];
        var running = 1.0;
        for (var rank = order.Length - 1; rank >= 0; rank--)
        {
            running = Math.Min(running, pValues.Length * pValues[order[rank]] / (rank + 1));
            adjusted[order[rank]] = running;
        }

        return adjusted;
    }

    private static int[] Order(ReadOnlySpan<double> pValues)
    {
        for (var i = 0; i < pValues.Length; i++)
        {
            if (!(pValues[i] >= 0 && pValues[i] <= 1))
            {
                throw new ArgumentException($"p-value {i + 1} is {pValues[i]}; p-values lie between 0 and 1.");
            }
        }

        var values = pValues.ToArray();
        var order = Enumerable.Range(0, values.Length).ToArray();
        Array.Sort(values, order);
        return order;
    }
}
