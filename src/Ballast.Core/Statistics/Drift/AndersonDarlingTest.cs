using MathNet.Numerics;

namespace Ballast.Statistics.Drift;

/// <summary>
/// The normalized k-sample statistic, the critical values at the significance levels 25 %, 10 %, 5 %, 2.5 %, 1 %,
/// 0.5 % and 0.1 %, and the approximate p-value (floored at 0.001 and capped at 0.25).
/// </summary>
public sealed record AndersonDarlingResult(double Statistic, IReadOnlyList<double> CriticalValues, double PValue);

/// <summary>
/// The k-sample Anderson–Darling test (Scholz and Stephens 1987), with the same numbers as scipy 1.10's
/// <c>scipy.stats.anderson_ksamp(samples, midrank=True)</c>: the midrank statistic (for continuous and discrete data)
/// or the right-continuous one, normalized by its variance; the p-value interpolates log(significance) quadratically
/// over the critical values of Scholz and Stephens' Table 2 and is therefore only known between 0.001 and 0.25 — below
/// the smallest critical value it is reported as 0.25, above the largest as 0.001, as scipy does.
/// </summary>
public static class AndersonDarlingTest
{
    public const double PValueCap = 0.25;
    public const double PValueFloor = 0.001;

    private static readonly double[] SignificanceLevels = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];
    private static readonly double[] B0 = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
    private static readonly double[] B1 = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
    private static readonly double[] B2 = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];

    public static AndersonDarlingResult TwoSample(ReadOnlySpan<double> a, ReadOnlySpan<double> b, bool midrank = true) =>
        KSample([a.ToArray(), b.ToArray()], midrank);

    public static AndersonDarlingResult KSample(IReadOnlyList<double[]> samples, bool midrank = true)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var k = samples.Count;
        if (k < 2)
        {
            throw new ArgumentException("the Anderson-Darling k-sample test needs at least 2 samples.");
        }

        var sorted = new double[k][];
        var total = 0;
        for (var i = 0; i < k; i++)
        {
            if (samples[i].Length == 0)
            {
                throw new ArgumentException($"sample {i + 1} is empty; every sample needs at least 1 value.");
            }

            sorted[i] = (double[])samples[i].Clone();
            Array.Sort(sorted[i]);
            total += sorted[i].Length;
        }

        var pooled = new double[total];
        var offset = 0;
        foreach (var sample in sorted)
        {
            sample.CopyTo(pooled, offset);
            offset += sample.Length;
        }

        Array.Sort(pooled);
        var distinct = Distinct(pooled);
        if (distinct.Length < 2)
        {
            throw new ArgumentException("the Anderson-Darling test needs more than one distinct value across the samples.");
        }

        var statistic = midrank ? Midrank(sorted, pooled, distinct) : RightContinuous(sorted, pooled, distinct);
        return Normalize(statistic, sorted.Select(sample => (double)sample.Length).ToArray(), total);
    }

    /// <summary>A²akN, equation 7 of Scholz and Stephens: the midrank version, for data with ties.</summary>
    private static double Midrank(double[][] samples, double[] pooled, double[] distinct)
    {
        double n = pooled.Length, sum = 0;
        var tiesEverywhere = pooled.Length != distinct.Length;
        var left = new double[distinct.Length];
        var ties = new double[distinct.Length];
        for (var j = 0; j < distinct.Length; j++)
        {
            var lower = SortedSearch.CountBelow(pooled, distinct[j]);
            left[j] = lower;
            ties[j] = tiesEverywhere ? SortedSearch.CountAtOrBelow(pooled, distinct[j]) - lower : 1;
        }

        foreach (var sample in samples)
        {
            double inner = 0, size = sample.Length;
            for (var j = 0; j < distinct.Length; j++)
            {
                var upper = SortedSearch.CountAtOrBelow(sample, distinct[j]);
                var f = upper - SortedSearch.CountBelow(sample, distinct[j]);
                var m = upper - (f / 2.0);
                var b = left[j] + (ties[j] / 2.0);
                var deviation = (n * m) - (b * size);
                inner += ties[j] / n * deviation * deviation / ((b * (n - b)) - (n * ties[j] / 4.0));
            }

            sum += inner / size;
        }

        return sum * (n - 1.0) / n;
    }

    /// <summary>A²kN, equation 6 of Scholz and Stephens: the right-continuous empirical distribution.</summary>
    private static double RightContinuous(double[][] samples, double[] pooled, double[] distinct)
    {
        double n = pooled.Length, sum = 0;
        var ties = new double[distinct.Length - 1];
        var cumulative = new double[distinct.Length - 1];
        double running = 0;
        for (var j = 0; j < distinct.Length - 1; j++)
        {
            ties[j] = SortedSearch.CountAtOrBelow(pooled, distinct[j]) - SortedSearch.CountBelow(pooled, distinct[j]);
            running += ties[j];
            cumulative[j] = running;
        }

        foreach (var sample in samples)
        {
            double inner = 0, size = sample.Length;
            for (var j = 0; j < distinct.Length - 1; j++)
            {
                double m = SortedSearch.CountAtOrBelow(sample, distinct[j]), b = cumulative[j];
                var deviation = (n * m) - (b * size);
                inner += ties[j] / n * deviation * deviation / (b * (n - b));
            }

            sum += inner / size;
        }

        return sum;
    }

    /// <summary>
    /// The two-sample result from the midrank statistic A²akN already computed (by an <see cref="EmpiricalCdfScan"/>,
    /// say) over <paramref name="distinct"/> distinct pooled values.
    /// </summary>
    public static AndersonDarlingResult FromMidrankStatistic(double statistic, long referenceCount, long currentCount, long distinct)
    {
        if (referenceCount <= 0 || currentCount <= 0)
        {
            throw new ArgumentException($"each sample needs at least 1 value (got {referenceCount} and {currentCount}).");
        }

        if (distinct < 2)
        {
            throw new ArgumentException("the Anderson-Darling test needs more than one distinct value across the samples.");
        }

        return Normalize(statistic, [referenceCount, currentCount], checked((int)(referenceCount + currentCount)));
    }

    private static AndersonDarlingResult Normalize(double statistic, double[] sizes, int total)
    {
        double n = total, k = sizes.Length;
        var bigH = sizes.Sum(size => 1.0 / size);

        // h = Σ_{i=1}^{N−1} 1/i; g = Σ_{i=1}^{N−2} Σ_{j=i+1}^{N−1} 1/((N − i) j), accumulated as scipy does.
        double cumulative = 0, g = 0;
        for (var i = total - 1; i > 1; i--)
        {
            cumulative += 1.0 / i;
            g += cumulative / (total - i + 1);
        }

        var h = cumulative + 1;
        var a = ((4 * g) - 6) * (k - 1) + ((10 - (6 * g)) * bigH);
        var b = (((2 * g) - 4) * k * k) + (8 * h * k) + (((2 * g) - (14 * h) - 4) * bigH) - (8 * h) + (4 * g) - 6;
        var c = (((6 * h) + (2 * g) - 2) * k * k) + (((4 * h) - (4 * g) + 6) * k) + (((2 * h) - 6) * bigH) + (4 * h);
        var d = (((2 * h) + 6) * k * k) - (4 * h * k);
        var variance = ((a * n * n * n) + (b * n * n) + (c * n) + d) / ((n - 1) * (n - 2) * (n - 3));
        var m = k - 1;
        var normalized = (statistic - m) / Math.Sqrt(variance);

        var critical = new double[SignificanceLevels.Length];
        for (var i = 0; i < critical.Length; i++)
        {
            critical[i] = B0[i] + (B1[i] / Math.Sqrt(m)) + (B2[i] / m);
        }

        double p;
        if (normalized < critical.Min())
        {
            p = PValueCap;
        }
        else if (normalized > critical.Max())
        {
            p = PValueFloor;
        }
        else
        {
            // np.polyfit(critical, log(sig), 2) then np.polyval: a least-squares parabola through the 7 points.
            var coefficients = Fit.Polynomial(critical, Array.ConvertAll(SignificanceLevels, Math.Log), 2);
            p = Math.Exp(coefficients[0] + (coefficients[1] * normalized) + (coefficients[2] * normalized * normalized));
        }

        return new AndersonDarlingResult(normalized, critical, p);
    }

    private static double[] Distinct(double[] sorted)
    {
        var distinct = new List<double>(sorted.Length);
        foreach (var value in sorted)
        {
            if (distinct.Count == 0 || distinct[^1] != value)
            {
                distinct.Add(value);
            }
        }

        return [.. distinct];
    }
}
