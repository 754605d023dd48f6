namespace Ballast.Statistics.Drift;

/// <summary>How the two-sample KS p-value is computed: as scipy's <c>ks_2samp(method=…)</c>.</summary>
public enum KsMethod
{
    /// <summary>Exact when both samples have at most 10,000 values, asymptotic otherwise (scipy's default).</summary>
    Auto,
    Exact,
    Asymptotic,
}

/// <summary>D = sup |F_a − F_b|, its two-sided p-value and how the p-value was computed (exact or asymptotic).</summary>
public sealed record KsResult(double Statistic, double PValue, KsMethod Method);

/// <summary>
/// The two-sample Kolmogorov–Smirnov test, two-sided, with the same numbers as scipy 1.10's
/// <c>scipy.stats.ks_2samp(a, b)</c>: D over the pooled values (ties handled by evaluating both empirical CDFs at every
/// value); the exact p-value counts lattice paths (Hodges 1958; the 1 − p recursion of Viehmann 2021 for unequal
/// sizes); the asymptotic p-value is <c>kstwo.sf(D, round(n·m/(n + m)))</c>. <c>Auto</c> is exact when both samples
/// have at most 10,000 values and falls back to asymptotic if the exact count fails, as scipy does.
/// </summary>
public static class KolmogorovSmirnovTest
{
    /// <summary>scipy's MAX_AUTO_N: <c>Auto</c> is exact up to this many values in each sample.</summary>
    public const int ExactLimit = 10_000;

    public static KsResult TwoSample(ReadOnlySpan<double> a, ReadOnlySpan<double> b, KsMethod method = KsMethod.Auto)
    {
        var sortedA = Sorted(a, "a");
        var sortedB = Sorted(b, "b");
        return TwoSampleSorted(sortedA, sortedB, method);
    }

    /// <summary>The same test on samples already sorted ascending (not checked), so large columns are not copied again.</summary>
    public static KsResult TwoSampleSorted(ReadOnlySpan<double> a, ReadOnlySpan<double> b, KsMethod method = KsMethod.Auto)
    {
        if (a.Length == 0 || b.Length == 0)
        {
            throw new ArgumentException($"each sample needs at least 1 value (got {a.Length} and {b.Length}).");
        }

        return FromStatistic(Statistic(a, b), a.Length, b.Length, method);
    }

    /// <summary>
    /// The p-value of a statistic D already computed (by <see cref="Statistic"/> or an <see cref="EmpiricalCdfScan"/>)
    /// between samples of <paramref name="n1"/> and <paramref name="n2"/> values.
    /// </summary>
    public static KsResult FromStatistic(double d, long n1, long n2, KsMethod method = KsMethod.Auto)
    {
        if (n1 <= 0 || n2 <= 0)
        {
            throw new ArgumentException($"each sample needs at least 1 value (got {n1} and {n2}).");
        }

        if (method == KsMethod.Auto)
        {
            method = Math.Max(n1, n2) <= ExactLimit ? KsMethod.Exact : KsMethod.Asymptotic;
        }
        else if (method == KsMethod.Exact && (n1 > int.MaxValue || n2 > int.MaxValue || n1 / Gcd(n1, n2) >= int.MaxValue / (n2 / Gcd(n1, n2))))
        {
            method = KsMethod.Asymptotic;
        }

        if (method == KsMethod.Exact)
        {
            var (success, exactD, p) = Exact((int)n1, (int)n2, d);
            if (success)
            {
                return new KsResult(exactD, Math.Clamp(p, 0, 1), KsMethod.Exact);
            }
        }

        var (m, n) = n1 >= n2 ? ((double)n1, (double)n2) : ((double)n2, (double)n1);
        var effective = (int)Math.Round(m * n / (m + n), MidpointRounding.ToEven);
        return new KsResult(d, KolmogorovDistribution.TwoSidedSurvival(Math.Max(effective, 1), d), KsMethod.Asymptotic);
    }

    /// <summary>max |F_a(x) − F_b(x)| over every pooled value x, with F(x) = #{values ≤ x}/n, by one merge pass.</summary>
    public static double Statistic(ReadOnlySpan<double> sortedA, ReadOnlySpan<double> sortedB)
    {
        int i = 0, j = 0;
        double n1 = sortedA.Length, n2 = sortedB.Length, max = 0;
        while (i < sortedA.Length || j < sortedB.Length)
        {
            var x = j >= sortedB.Length || (i < sortedA.Length && sortedA[i] <= sortedB[j]) ? sortedA[i] : sortedB[j];
            while (i < sortedA.Length && sortedA[i] <= x)
            {
                i++;
            }

            while (j < sortedB.Length && sortedB[j] <= x)
            {
                j++;
            }

            var difference = Math.Abs((i / n1) - (j / n2));
            if (difference > max)
            {
                max = difference;
            }
        }

        return Math.Min(max, 1);
    }

    private static (bool Success, double D, double P) Exact(int n1, int n2, double d)
    {
        long g = Gcd(n1, n2);
        var lcm = n1 / g * n2;
        var h = (long)Math.Round(d * lcm, MidpointRounding.ToEven);
        d = (double)h / lcm;
        if (h == 0)
        {
            return (true, d, 1.0);
        }

        var p = n1 == n2 ? ProbabilityOutsideSquare(n1, h) : ProbabilityOutsideInside(n1, n2, g, h);
        return double.IsFinite(p) && p >= 0 && p <= 1 ? (true, d, p) : (false, d, p);
    }

    /// <summary>P(D_{n,n} ≥ h/n) = 2 Σ (−1)^(k+1) C(2n, n − kh)/C(2n, n), in Horner form to avoid cancellation.</summary>
    private static double ProbabilityOutsideSquare(long n, long h)
    {
        double p = 0;
        for (var k = n / h; k >= 0; k--)
        {
            var p1 = 1.0;
            for (long j = 0; j < h; j++)
            {
                p1 = (n - (k * h) - j) * p1 / (n + (k * h) + j + 1);
            }

            p = p1 * (1.0 - p);
        }

        return 2 * p;
    }

    /// <summary>
    /// The share of lattice paths from (0, 0) to (m, n) that leave the band |x/m − y/n| &lt; h/lcm(m, n), computed
    /// column by column as 1 − (share inside), scaled so no binomial coefficient overflows (scipy's pythran kernel).
    /// </summary>
    private static double ProbabilityOutsideInside(long m, long n, long g, long h)
    {
        if (m < n)
        {
            (m, n) = (n, m);
        }

        var mg = m / g;
        var ng = n / g;
        var minJ = 0L;
        var maxJ = Math.Min(CeilingDivide(h, mg), n + 1);
        var currentLength = maxJ - minJ;
        var length = Math.Min((2 * maxJ) + 2, n + 1);
        var column = new double[length];
        Array.Fill(column, 1.0);
        Array.Fill(column, 0.0, (int)minJ, (int)(maxJ - minJ));
        for (long i = 1; i <= m; i++)
        {
            var lastMinJ = minJ;
            var lastLength = currentLength;
            minJ = Math.Min(Math.Max(FloorDivide((ng * i) - h, mg) + 1, 0), n);
            maxJ = Math.Min(CeilingDivide((ng * i) + h, mg), n + 1);
            if (maxJ <= minJ)
            {
                return 1.0;
            }

            var value = minJ == 0 ? 0.0 : 1.0;
            for (var jj = 0L; jj < maxJ - minJ; jj++)
            {
                var j = jj + minJ;
                value = ((column[jj + minJ - lastMinJ] * i) + (value * j)) / (i + j);
                column[jj] = value;
            }

            currentLength = maxJ - minJ;
            if (lastLength > currentLength)
            {
                var from = maxJ - minJ;
                Array.Fill(column, 1.0, (int)from, (int)Math.Min(lastLength - currentLength, column.Length - from));
            }
        }

        return column[maxJ - minJ - 1];
    }

    private static double[] Sorted(ReadOnlySpan<double> values, string name)
    {
        var copy = values.ToArray();
        foreach (var value in copy)
        {
            if (double.IsNaN(value))
            {
                throw new ArgumentException($"sample {name} holds NaN; drop missing values first.");
            }
        }

        Array.Sort(copy);
        return copy;
    }

    private static long FloorDivide(long a, long b) => (a / b) - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);

    private static long CeilingDivide(long a, long b) => -FloorDivide(-a, b);

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
