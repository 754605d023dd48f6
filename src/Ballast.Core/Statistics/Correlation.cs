namespace Ballast.Statistics;

/// <summary>Pearson's product-moment correlation, as <c>scipy.stats.pearsonr</c>'s statistic.</summary>
public static class Correlation
{
    /// <summary>
    /// The correlation of the pairs where both values are present and finite (pairwise-complete, as pandas'
    /// <c>Series.corr</c>); null with fewer than three such pairs or when either side is constant.
    /// </summary>
    public static double? Pearson(IReadOnlyList<double?> x, IReadOnlyList<double?> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count)
        {
            throw new ArgumentException($"the two series must have the same length (got {x.Count} and {y.Count}).");
        }

        var pairs = new List<(double X, double Y)>(x.Count);
        for (var i = 0; i < x.Count; i++)
        {
            if (x[i] is { } a && y[i] is { } b && double.IsFinite(a) && double.IsFinite(b))
            {
                pairs.Add((a, b));
            }
        }

        if (pairs.Count < 3)
        {
            return null;
        }

        var meanX = pairs.Average(p => p.X);
        var meanY = pairs.Average(p => p.Y);
        double sxy = 0, sxx = 0, syy = 0;
        foreach (var (a, b) in pairs)
        {
            sxy += (a - meanX) * (b - meanY);
            sxx += (a - meanX) * (a - meanX);
            syy += (b - meanY) * (b - meanY);
        }

        return sxx == 0 || syy == 0 ? null : Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1);
    }
}
