namespace Ballast.Statistics.Drift;

/// <summary>
/// The distributions behind the Kolmogorov–Smirnov tests, as scipy computes them (scipy.stats._ksstats and cephes'
/// kolmogorov.c): <see cref="TwoSidedSurvival"/> is <c>scipy.stats.kstwo.sf(x, n)</c>, P(Dₙ ≥ x) for the two-sided
/// one-sample statistic, chosen among the Durbin matrix (Marsaglia–Tsang–Wang), Pomeranz's recursion, the Pelz–Good
/// expansion and twice the one-sided Smirnov tail by the same rules as Simard and L'Ecuyer (2011);
/// <see cref="SmirnovSurvival"/> is <c>scipy.special.smirnov(n, x)</c>, P(Dₙ⁺ ≥ x), from the Birnbaum–Tingey sum.
/// Plain doubles with the sums' terms in logarithms stand in for cephes' double-double arithmetic, which keeps about
/// 12 significant digits over the sample sizes drift tests see.
/// </summary>
internal static class KolmogorovDistribution
{
    private const int Exponent128 = 128;
    private static readonly double Scale128 = Math.ScaleB(1.0, Exponent128);
    private static readonly double Unscale128 = Math.ScaleB(1.0, -Exponent128);
    private const double MinLog = -708.3964185322641;

    /// <summary>DBL_EPSILON, the spacing of doubles at 1.</summary>
    private const double MachineEpsilon = 2.220446049250313e-16;

    /// <summary>Stirling series for log(n!/nⁿ), highest power first (scipy's _STIRLING_COEFFS).</summary>
    private static readonly double[] StirlingCoefficients =
    [
        -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
        -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
    ];

    /// <summary>P(Dₙ ≥ x), the survival function of the two-sided one-sample Kolmogorov–Smirnov statistic.</summary>
    public static double TwoSidedSurvival(int n, double x)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        if (x >= 1)
        {
            return 0;
        }

        if (x <= 0)
        {
            return 1;
        }

        var t = n * x;
        if (t <= 1)
        {
            // Ruben–Gambino: 1/(2n) ≤ x ≤ 1/n.
            if (t <= 0.5)
            {
                return 1;
            }

            double cdf;
            if (n <= 140)
            {
                cdf = 1;
                for (var i = 1; i <= n; i++)
                {
                    cdf *= i * (1.0 / n) * ((2 * t) - 1);
                }
            }
            else
            {
                cdf = Math.Exp(LogFactorialOverPower(n) + (n * Math.Log((2 * t) - 1)));
            }

            return Clip(1 - cdf);
        }

        if (t >= n - 1)
        {
            return Clip(2 * Math.Pow(1 - x, n));
        }

        if (x >= 0.5)
        {
            return Clip(2 * SmirnovSurvival(n, x));
        }

        var nxSquared = t * x;
        if (n <= 140)
        {
            if (nxSquared <= 0.754693)
            {
                return Clip(1 - DurbinMatrix(n, x));
            }

            return nxSquared <= 4 ? Clip(1 - Pomeranz(n, x)) : Clip(2 * SmirnovSurvival(n, x));
        }

        if (nxSquared >= 370)
        {
            return 0;
        }

        if (nxSquared >= 2.2)
        {
            return Clip(2 * SmirnovSurvival(n, x));
        }

        var cdfProbability = n <= 100_000 && n * Math.Pow(x, 1.5) <= 1.4 ? DurbinMatrix(n, x) : PelzGood(n, x);
        return Clip(1 - cdfProbability);
    }

    /// <summary>
    /// P(Dₙ⁺ ≥ x) for the one-sided statistic: x Σᵥ C(n, v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v) over v ≤ n(1 − x)
    /// (Birnbaum and Tingey 1951), or the short alternating upper sum where cephes uses it.
    /// </summary>
    public static double SmirnovSurvival(int n, double x)
    {
        if (!(n > 0 && x >= 0 && x <= 1))
        {
            return double.NaN;
        }

        if (n == 1)
        {
            return 1 - x;
        }

        if (x == 0)
        {
            return 1;
        }

        if (x == 1)
        {
            return 0;
        }

        // floor(n x) and the exact remainder, as cephes' modNX.
        var nxFloor = Math.Floor(n * x);
        var alpha = Math.FusedMultiplyAdd(n, x, -nxFloor);
        if (alpha < 0)
        {
            nxFloor -= 1;
            alpha += 1;
        }
        else if (alpha >= 1)
        {
            nxFloor += 1;
            alpha -= 1;
        }

        var nxfl = (int)nxFloor;
        var lowerLast = n - nxfl - (alpha == 0 ? 0 : 1);
        var upperFirst = n - nxfl;
        if (alpha == 0)
        {
            lowerLast -= 1;
            upperFirst += 1;
        }

        if (nxfl == 0 || (nxfl == 1 && alpha == 0))
        {
            return Clip(1 - (x * Math.Exp((n - 1) * Log1P(x))));
        }

        if (-2 * n * x * x < MinLog)
        {
            return 0;
        }

        if (nxfl >= n - 1)
        {
            return Clip(Math.Exp(n * Log1P(-x)));
        }

        if (n > 1_000_000)
        {
            var logP = -Math.Pow((6.0 * n * x) + 1, 2) / 18.0 / n;
            return logP < -Math.Log(2) ? Math.Exp(logP) : 1 + ExpM1(logP);
        }

        var upperTerms = n - upperFirst + 1;
        var useUpper = (upperTerms <= 1 && x < 0.5) || (n >= 10 && upperTerms <= 3 && x <= 0.5 / Math.Sqrt(n));
        int start, step, terms;
        double sum;
        if (useUpper)
        {
            (start, step, terms) = (n, -1, upperTerms);
            sum = Math.Exp((n - 1) * Log1P(x));
        }
        else
        {
            (start, step, terms) = (0, 1, lowerLast + 1);
            sum = Math.Exp(n * Log1P(-x)) / x;
        }

        var logN = Math.Log(n);
        // log C(n, j), accumulated with Neumaier's compensation: it grows to ~10⁴ over thousands of terms, and plain
        // addition would lose ~10⁻⁹ of every term's relative precision.
        var logBinomial = Math.Log(n);
        var logBinomialCompensation = 0.0;
        var middle = n / 2;
        for (var j = 1; j < terms; j++)
        {
            var v = start + (j * step);
            // n(x + v/n) and n(1 − x − v/n), each from exact integers and the exact remainder alpha; the logarithm
            // of 1 − x − v/n as log1p(−(x + v/n)), which keeps its digits when raised to the power n − v.
            var t1 = nxfl + v + alpha;
            var t2 = n - nxfl - v - alpha;
            double term;
            if (t2 == 0)
            {
                term = n - v == 0 ? Math.Exp(logBinomial + ((v - 1) * (Math.Log(t1) - logN)) + logBinomialCompensation) : 0;
            }
            else
            {
                var logT2 = t2 > 0 ? Log1P(-t1 / n) : Math.Log(-t2) - logN;
                var magnitude = Math.Exp(logBinomial + logBinomialCompensation + ((v - 1) * (Math.Log(t1) - logN)) + ((n - v) * logT2));
                term = t2 < 0 && (n - v) % 2 == 1 ? -magnitude : magnitude;
            }

            if (double.IsFinite(term) && term != 0)
            {
                sum += term;
            }

            if (term != 0)
            {
                if (4.0 * (terms - j) * Math.Abs(term) < MachineEpsilon * sum && j != terms - 1)
                {
                    break;
                }
            }
            else if (j > middle)
            {
                break;
            }

            var increment = Math.Log((double)(n - j) / (j + 1));
            var next = logBinomial + increment;
            logBinomialCompensation += Math.Abs(logBinomial) >= Math.Abs(increment)
                ? (logBinomial - next) + increment
                : (increment - next) + logBinomial;
            logBinomial = next;
        }

        var probability = x * sum;
        return Clip(step < 0 ? 1 - probability : probability);
    }

    /// <summary>P(Dₙ ≤ d) by the Durbin matrix, as Marsaglia, Tsang and Wang (2003) compute it.</summary>
    private static double DurbinMatrix(int n, double d)
    {
        if (d >= 1)
        {
            return 1;
        }

        var nd = n * d;
        if (nd <= 0.5)
        {
            return 0;
        }

        var k = (int)Math.Ceiling(nd);
        var h = k - nd;
        var m = (2 * k) - 1;
        var v = new double[m];
        var w = new double[m];
        var factorial = 1.0;
        for (var j = 1; j <= m; j++)
        {
            v[j - 1] = 1.0 - Math.Pow(h, j);
            w[j - 1] = factorial;
            factorial /= j;
            v[j - 1] *= factorial;
        }

        var tt = Math.Pow(Math.Max((2 * h) - 1, 0), m) - (2 * Math.Pow(h, m));
        v[m - 1] = (1.0 + tt) * factorial;

        var matrix = new double[m * m];
        for (var i = 1; i < m; i++)
        {
            for (var row = i - 1; row < m; row++)
            {
                matrix[(row * m) + i] = w[row - (i - 1)];
            }
        }

        for (var row = 0; row < m; row++)
        {
            matrix[row * m] = v[row];
        }

        for (var column = 0; column < m; column++)
        {
            matrix[((m - 1) * m) + column] = v[m - 1 - column];
        }

        var power = new double[m * m];
        for (var i = 0; i < m; i++)
        {
            power[(i * m) + i] = 1;
        }

        var scratch = new double[m * m];
        int exponent = 0, matrixExponent = 0;
        for (var remaining = n; remaining > 0; remaining /= 2)
        {
            if (remaining % 2 == 1)
            {
                Multiply(power, matrix, scratch, m);
                (power, scratch) = (scratch, power);
                exponent += matrixExponent;
            }

            Multiply(matrix, matrix, scratch, m);
            (matrix, scratch) = (scratch, matrix);
            matrixExponent *= 2;
            if (Math.Abs(matrix[((k - 1) * m) + k - 1]) > Scale128)
            {
                for (var i = 0; i < matrix.Length; i++)
                {
                    matrix[i] /= Scale128;
                }

                matrixExponent += Exponent128;
            }
        }

        var p = power[((k - 1) * m) + k - 1];
        for (var i = 1; i <= n; i++)
        {
            p = i * p / n;
            if (Math.Abs(p) < Unscale128)
            {
                p *= Scale128;
                exponent -= Exponent128;
            }
        }

        return Clip(exponent != 0 ? Math.ScaleB(p, exponent) : p);
    }

    /// <summary>P(Dₙ ≤ x) by Pomeranz's recursion (1974), used for n ≤ 140.</summary>
    private static double Pomeranz(int n, double x)
    {
        var t = n * x;
        var whole = (int)Math.Floor(t);
        var fraction = t - whole;
        var g = Math.Min(fraction, 1.0 - fraction);
        var ceilFraction = fraction > 0 ? 1 : 0;
        var roundFraction = fraction > 0.5 ? 1 : 0;
        var powers = 2 * (whole + 1);
        var gPower = new double[powers];
        var twoGPower = new double[powers];
        var oneMinusTwoGPower = new double[powers];
        gPower[0] = twoGPower[0] = oneMinusTwoGPower[0] = 1.0;
        for (var m = 1; m < powers; m++)
        {
            gPower[m] = gPower[m - 1] * (g / n) / m;
            twoGPower[m] = twoGPower[m - 1] * (2 * g / n) / m;
            oneMinusTwoGPower[m] = oneMinusTwoGPower[m - 1] * ((1 - (2 * g)) / n) / m;
        }

        var v0 = new double[powers];
        var v1 = new double[powers];
        v1[0] = 1;
        int v0Start = 0, v1Start = 0, exponent = 0;
        var (j1, j2) = PomeranzBounds(0, n, whole, ceilFraction, roundFraction);
        for (var i = 1; i < (2 * n) + 2; i++)
        {
            var k1 = j1;
            (v0, v1) = (v1, v0);
            (v0Start, v1Start) = (v1Start, v0Start);
            Array.Clear(v1);
            (j1, j2) = PomeranzBounds(i, n, whole, ceilFraction, roundFraction);
            var weights = i == 1 || i == (2 * n) + 1 ? gPower : i % 2 == 1 ? twoGPower : oneMinusTwoGPower;
            var length = j2 - k1 + 1;
            if (length > 0)
            {
                // v1[0 .. j2 − j1] = (v0[k1 − v0Start ..] ∗ weights)[j1 − k1 ..], a slice of the full convolution.
                var offset = k1 - v0Start;
                var available = Math.Min(length, v0.Length - offset);
                var convolutionStart = j1 - k1;
                var count = j2 - j1 + 1;
                var maximum = 0.0;
                for (var c = 0; c < count; c++)
                {
                    var index = convolutionStart + c;
                    var total = 0.0;
                    for (var a = Math.Max(0, index - (length - 1)); a <= Math.Min(index, available - 1); a++)
                    {
                        total += v0[offset + a] * weights[index - a];
                    }

                    v1[c] = total;
                    maximum = Math.Max(maximum, total);
                }

                if (maximum > 0 && maximum < Unscale128)
                {
                    for (var c = 0; c < v1.Length; c++)
                    {
                        v1[c] *= Scale128;
                    }

                    exponent -= Exponent128;
                }

                v1Start = v0Start + j1 - k1;
            }
        }

        var answer = v1[n - v1Start];
        for (var m = 1; m <= n; m++)
        {
            if (Math.Abs(answer) > Scale128)
            {
                answer *= Unscale128;
                exponent += Exponent128;
            }

            answer *= m;
        }

        return Clip(exponent != 0 ? Math.ScaleB(answer, exponent) : answer);
    }

    private static (int J1, int J2) PomeranzBounds(int i, int n, int whole, int ceilFraction, int roundFraction)
    {
        int j1, j2;
        if (i == 0)
        {
            (j1, j2) = (-whole - ceilFraction - 1, whole + ceilFraction - 1);
        }
        else
        {
            var half = (i + 1) / 2;
            if ((i + 1) % 2 == 0)
            {
                (j1, j2) = half == n + 1
                    ? (n - whole - ceilFraction - 1, n + whole + ceilFraction - 1)
                    : (half - 1 - whole - roundFraction - 1, half + whole - 1 + ceilFraction - 1);
            }
            else
            {
                (j1, j2) = (half - 1 - whole - 1, half + whole + roundFraction - 1);
            }
        }

        return (Math.Max(j1 + 2, 0), Math.Min(j2, n));
    }

    /// <summary>P(Dₙ ≤ x) by the Pelz–Good expansion (1976) in powers of 1/√n, for large n.</summary>
    private static double PelzGood(int n, double x)
    {
        if (x <= 0)
        {
            return 0;
        }

        if (x >= 1)
        {
            return 1;
        }

        var z = Math.Sqrt(n) * x;
        double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
        var qLog = -Math.PI * Math.PI / 8 / z2;
        if (qLog < -708)
        {
            return 0;
        }

        var q = Math.Exp(qLog);
        var pi2 = Math.PI * Math.PI;
        var pi4 = pi2 * pi2;
        var pi6 = pi4 * pi2;
        var k1a = -z2;
        var k1b = pi2 / 4;
        var k2a = (6 * z6) + (2 * z4);
        var k2b = ((2 * z4) - (5 * z2)) * pi2 / 4;
        var k2c = pi4 * (1 - (2 * z2)) / 16;
        var k3d = pi6 * (5 - (30 * z2)) / 64;
        var k3c = pi4 * ((-60 * z2) + (212 * z4)) / 16;
        var k3b = pi2 * ((135 * z4) - (96 * z6)) / 4;
        var k3a = (-30 * z6) - (90 * Math.Pow(z, 8));

        Span<double> terms = stackalloc double[4];
        var maxK = (int)Math.Ceiling(16 * z / Math.PI);
        for (var k = maxK; k > 0; k--)
        {
            var m = (2.0 * k) - 1;
            double m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
            var qPower = Math.Pow(q, 8.0 * k);
            terms[0] = (terms[0] * qPower) + 1.0;
            terms[1] = (terms[1] * qPower) + k1a + (k1b * m2);
            terms[2] = (terms[2] * qPower) + k2a + (k2b * m2) + (k2c * m4);
            terms[3] = (terms[3] * qPower) + k3a + (k3b * m2) + (k3c * m4) + (k3d * m6);
        }

        var sqrt2Pi = Math.Sqrt(2 * Math.PI);
        terms[0] *= q * sqrt2Pi / z;
        terms[1] *= q * sqrt2Pi / (6 * z4);
        terms[2] *= q * sqrt2Pi / (72 * Math.Pow(z, 7));
        terms[3] *= q * sqrt2Pi / (6480 * Math.Pow(z, 10));

        var q2 = Math.Exp(-pi2 / 2 / z2);
        double extra2 = 0, extra3 = 0;
        var sqrt3z = Math.Sqrt(3) * z;
        for (var k = maxK; k > 0; k--)
        {
            double k2 = (double)k * k, kPi = Math.PI * k;
            var qPowers = Math.Pow(q2, k2);
            extra2 += k2 * qPowers;
            extra3 += (sqrt3z + kPi) * (sqrt3z - kPi) * k2 * qPowers;
        }

        terms[2] += extra2 * pi2 * sqrt2Pi / (-36 * z3);
        terms[3] += extra3 * pi2 * sqrt2Pi / (216 * z6);
        double total = 0;
        for (var i = 0; i < 4; i++)
        {
            total += terms[i] / Math.Pow(n, i / 2.0);
        }

        return total;
    }

    private static void Multiply(double[] a, double[] b, double[] result, int m)
    {
        Array.Clear(result);
        for (var i = 0; i < m; i++)
        {
            for (var k = 0; k < m; k++)
            {
                var aik = a[(i * m) + k];
                if (aik == 0)
                {
                    continue;
                }

                for (var j = 0; j < m; j++)
                {
                    result[(i * m) + j] += aik * b[(k * m) + j];
                }
            }
        }
    }

    /// <summary>log(n!/nⁿ) by Stirling's series.</summary>
    private static double LogFactorialOverPower(int n)
    {
        var rn = 1.0 / n;
        var x = rn / n;
        var series = 0.0;
        foreach (var coefficient in StirlingCoefficients)
        {
            series = (series * x) + coefficient;
        }

        return (Math.Log(n) / 2) - n + (Math.Log(2 * Math.PI) / 2) + (rn * series);
    }

    /// <summary>log(1 + x) without losing the digits of a small x (Goldberg's correction).</summary>
    internal static double Log1P(double x)
    {
        var u = 1.0 + x;
        return u == 1.0 ? x : Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>eˣ − 1 without losing the digits of a small x (Kahan's correction).</summary>
    internal static double ExpM1(double x)
    {
        var u = Math.Exp(x);
        if (u == 1.0)
        {
            return x;
        }

        var um1 = u - 1.0;
        return um1 == -1.0 ? -1.0 : um1 * x / Math.Log(u);
    }

    private static double Clip(double p) => double.IsNaN(p) ? p : Math.Clamp(p, 0, 1);
}
