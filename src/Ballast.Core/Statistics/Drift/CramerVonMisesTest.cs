using MathNet.Numerics;

namespace Ballast.Statistics.Drift;

/// <summary>The two-sample Cramér–von Mises statistic T, its p-value and whether the p-value is exact.</summary>
public sealed record CramerVonMisesResult(double Statistic, double PValue, bool Exact);

/// <summary>
/// The two-sample Cramér–von Mises test (Anderson 1962), with the same numbers as scipy 1.10's
/// <c>scipy.stats.cramervonmises_2samp(x, y, method='auto')</c>: T from midranks of the pooled sample; the exact
/// p-value (Xiao, Gordon and Yakovlev 2006) when neither sample has more than 20 values, otherwise the limiting
/// distribution of the normalized statistic (Csörgő and Faraway 1996).
/// </summary>
public static class CramerVonMisesTest
{
    /// <summary>scipy's switch: exact up to this many values in the larger sample.</summary>
    public const int ExactLimit = 20;

    public static CramerVonMisesResult TwoSample(ReadOnlySpan<double> x, ReadOnlySpan<double> y, bool? exact = null)
    {
        if (x.Length <= 1 || y.Length <= 1)
        {
            throw new ArgumentException($"each sample needs at least 2 values (got {x.Length} and {y.Length}).");
        }

        var xs = x.ToArray();
        var ys = y.ToArray();
        Array.Sort(xs);
        Array.Sort(ys);
        return TwoSampleSorted(xs, ys, exact);
    }

    /// <summary>The same test on samples already sorted ascending.</summary>
    public static CramerVonMisesResult TwoSampleSorted(ReadOnlySpan<double> x, ReadOnlySpan<double> y, bool? exact = null)
    {
        if (x.Length <= 1 || y.Length <= 1)
        {
            throw new ArgumentException($"each sample needs at least 2 values (got {x.Length} and {y.Length}).");
        }

        long nx = x.Length, ny = y.Length;
        var useExact = exact ?? Math.Max(nx, ny) <= ExactLimit;

        // U = nx Σ (r_i − i)² + ny Σ (s_j − j)², r and s the midranks of x and y in the pooled sample.
        double u = 0;
        int i = 0, j = 0;
        long rank = 0;
        while (i < x.Length || j < y.Length)
        {
            var value = j >= y.Length || (i < x.Length && x[i] <= y[j]) ? x[i] : y[j];
            int tiesX = 0, tiesY = 0;
            while (i + tiesX < x.Length && x[i + tiesX] == value)
            {
                tiesX++;
            }

            while (j + tiesY < y.Length && y[j + tiesY] == value)
            {
                tiesY++;
            }

            var midrank = rank + ((tiesX + tiesY + 1) / 2.0);
            for (var t = 1; t <= tiesX; t++)
            {
                var deviation = midrank - (i + t);
                u += nx * deviation * deviation;
            }

            for (var t = 1; t <= tiesY; t++)
            {
                var deviation = midrank - (j + t);
                u += ny * deviation * deviation;
            }

            rank += tiesX + tiesY;
            i += tiesX;
            j += tiesY;
        }

        return FromRankSum(u, nx, ny, useExact);
    }

    /// <summary>
    /// T and its p-value from U = nx Σ (r_i − i)² + ny Σ (s_j − j)² already computed (by an <see cref="EmpiricalCdfScan"/>,
    /// say) for samples of <paramref name="nx"/> and <paramref name="ny"/> values; exact when <paramref name="exact"/>
    /// is true (only for small samples).
    /// </summary>
    public static CramerVonMisesResult FromRankSum(double u, long nx, long ny, bool exact)
    {
        if (nx <= 1 || ny <= 1)
        {
            throw new ArgumentException($"each sample needs at least 2 values (got {nx} and {ny}).");
        }

        double k = nx * ny, n = nx + ny;
        var statistic = (u / (k * n)) - (((4 * k) - 1) / (6 * n));
        if (exact)
        {
            return new CramerVonMisesResult(statistic, ExactPValue(u, checked((int)nx), checked((int)ny)), true);
        }

        var expected = (1 + (1 / n)) / 6;
        var variance = (n + 1) * ((4 * k * n) - (3 * ((double)(nx * nx) + (ny * ny))) - (2 * k)) / (45 * n * n * 4 * k);
        var normalized = (1.0 / 6) + ((statistic - expected) / Math.Sqrt(45 * variance));
        var p = normalized < 0.003 ? 1.0 : Math.Max(0, 1.0 - LimitingCdf(normalized));
        return new CramerVonMisesResult(statistic, p, false);
    }

    /// <summary>
    /// The limiting CDF of the one-sample statistic (Csörgő and Faraway 1996, eq. 1.2), summed until a term is below
    /// 1e-7 as scipy's <c>_cdf_cvm_inf</c>.
    /// </summary>
    internal static double LimitingCdf(double x)
    {
        double total = 0;
        for (var k = 0; ; k++)
        {
            var u = Math.Exp(SpecialFunctions.GammaLn(k + 0.5) - SpecialFunctions.GammaLn(k + 1)) / (Math.Pow(Math.PI, 1.5) * Math.Sqrt(x));
            var y = (4.0 * k) + 1;
            var q = y * y / (16 * x);
            // e^(−q) K_¼(q) = e^(−2q) · (e^q K_¼(q)), the scaled Bessel function keeping it from underflowing.
            var term = u * Math.Sqrt(y) * Math.Exp(-2 * q) * SpecialFunctions.BesselKScaled(0.25, q);
            total += term;
            if (!(Math.Abs(term) >= 1e-7))
            {
                return total;
            }
        }
    }

    /// <summary>
    /// P(U ≥ u) over all C(m + n, m) equally likely rankings, by the frequency tables of Xiao, Gordon and Yakovlev
    /// (2006) as scipy's <c>_pval_cvm_2samp_exact</c>.
    /// </summary>
    internal static double ExactPValue(double u, int m, int n)
    {
        long lcm = m / Gcd(m, n) * n;
        long a = lcm / m, b = lcm / n;
        double mn = (double)m * n;
        var zeta = Math.Floor(lcm * (double)lcm * (m + n) * ((6 * u) - (mn * ((4 * mn) - 1))) / (6 * mn * mn));

        var tables = new Dictionary<long, long>[m + 1];
        tables[0] = new Dictionary<long, long> { [0] = 1 };
        for (var v = 1; v <= m; v++)
        {
            tables[v] = [];
        }

        for (long uu = 0; uu <= n; uu++)
        {
            var next = new Dictionary<long, long>[m + 1];
            var previous = new Dictionary<long, long>();
            for (var v = 0; v <= m; v++)
            {
                // g(u, v) = shift(g(u, v − 1) ∪ g(u − 1, v)), frequencies of equal values added.
                var shift = ((a * v) - (b * uu)) * ((a * v) - (b * uu));
                var table = new Dictionary<long, long>(previous.Count + tables[v].Count);
                foreach (var source in new[] { previous, tables[v] })
                {
                    foreach (var (value, frequency) in source)
                    {
                        table[value + shift] = table.GetValueOrDefault(value + shift) + frequency;
                    }
                }

                next[v] = table;
                previous = table;
            }

            tables = next;
        }

        double atLeast = 0;
        foreach (var (value, frequency) in tables[m])
        {
            if (value >= zeta)
            {
                atLeast += frequency;
            }
        }

        return atLeast / SpecialFunctions.Binomial(m + n, m);
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
