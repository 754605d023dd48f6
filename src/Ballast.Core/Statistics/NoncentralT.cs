using MathNet.Numerics;

namespace Ballast.Statistics;

/// <summary>
/// The CDF of the noncentral t distribution, which MathNet does not have: Lenth's algorithm AS 243
/// (Applied Statistics 38, 1989) as R's <c>pnt</c> implements it, a series in incomplete beta functions weighted
/// by Poisson terms, accurate to about 1e-12.
/// </summary>
internal static class NoncentralT
{
    private const int MaxIterations = 1000;
    private const double MaxError = 1e-12;

    /// <summary>C's DBL_EPSILON (2⁻⁵²), not .NET's double.Epsilon (the smallest subnormal).</summary>
    private const double MachineEpsilon = 2.220446049250313e-16;

    /// <summary>P(T ≤ t) for T noncentral t with <paramref name="degreesOfFreedom"/> and noncentrality <paramref name="delta"/>.</summary>
    public static double Cdf(double t, double degreesOfFreedom, double delta)
    {
        if (!(degreesOfFreedom > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "must be positive");
        }

        if (delta == 0)
        {
            return MathNet.Numerics.Distributions.StudentT.CDF(0, 1, degreesOfFreedom, t);
        }

        // P(T ≤ t; δ) = 1 − P(T ≤ −t; −δ): work with t ≥ 0.
        var negate = t < 0;
        var (tt, del) = negate ? (-t, -delta) : (t, delta);

        if (degreesOfFreedom > 4e5 || del * del > 2 * Math.Log(2) * 1021)
        {
            // Abramowitz & Stegun 26.7.10: the normal approximation R uses for huge df or δ.
            var s = 1 / (4 * degreesOfFreedom);
            var approx = Distributions.NormalCdf((tt * (1 - s) - del) / Math.Sqrt(1 + tt * tt * 2 * s));
            return negate ? 1 - approx : approx;
        }

        var x = tt * tt / (tt * tt + degreesOfFreedom);
        double tnc = 0;
        if (x > 0)
        {
            var lambda = del * del;
            var p = 0.5 * Math.Exp(-0.5 * lambda);
            var q = Math.Sqrt(2 / Math.PI) * p * del;
            var s = 0.5 - p;
            if (s < 1e-7)
            {
                s = -0.5 * ExpMinusOne(-0.5 * lambda);
            }

            var a = 0.5;
            var b = 0.5 * degreesOfFreedom;
            var rxb = Math.Pow(1 - x, b);
            var logBeta = 0.5 * Math.Log(Math.PI) + SpecialFunctions.GammaLn(b) - SpecialFunctions.GammaLn(0.5 + b);
            var xOdd = SpecialFunctions.BetaRegularized(a, b, x);
            var gOdd = 2 * rxb * Math.Exp(a * Math.Log(x) - logBeta);
            var bx = b * x;
            var xEven = bx < MachineEpsilon ? bx : 1 - rxb;
            var gEven = bx * rxb;
            tnc = p * xOdd + q * xEven;

            for (var it = 1; it <= MaxIterations; it++)
            {
                a += 1;
                xOdd -= gOdd;
                xEven -= gEven;
                gOdd *= x * (a + b - 1) / a;
                gEven *= x * (a + b - 0.5) / (a + 0.5);
                p *= lambda / (2 * it);
                q *= lambda / (2 * it + 1);
                tnc += p * xOdd + q * xEven;
                s -= p;
                if (s < -1e-10 || (s <= 0 && it > 1))
                {
                    break;
                }

                if (Math.Abs(2 * s * (xOdd - gOdd)) < MaxError)
                {
                    break;
                }
            }
        }

        tnc += Distributions.NormalCdf(-del);
        tnc = Math.Min(tnc, 1);
        return negate ? 1 - tnc : tnc;
    }

    private static double ExpMinusOne(double x) => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;
}
