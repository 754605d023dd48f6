using MathNet.Numerics;
using MathNet.Numerics.Distributions;

namespace Ballast.Statistics;

/// <summary>
/// Tail probabilities and quantiles, each computed from the tail itself (never 1 − CDF), so small p-values keep
/// their precision instead of rounding to 0.
/// </summary>
internal static class Distributions
{
    /// <summary>P(|T| ≥ |t|) for Student's t with <paramref name="degreesOfFreedom"/>.</summary>
    public static double TwoSidedT(double t, double degreesOfFreedom) =>
        Math.Min(1, 2 * StudentT.CDF(0, 1, degreesOfFreedom, -Math.Abs(t)));

    /// <summary>P(|Z| ≥ |z|) for the standard normal.</summary>
    public static double TwoSidedNormal(double z) => Math.Min(1, SpecialFunctions.Erfc(Math.Abs(z) / Math.Sqrt(2)));

    /// <summary>P(Z ≤ z) for the standard normal.</summary>
    public static double NormalCdf(double z) => 0.5 * SpecialFunctions.Erfc(-z / Math.Sqrt(2));

    /// <summary>P(Z ≥ z) for the standard normal.</summary>
    public static double NormalSurvival(double z) => 0.5 * SpecialFunctions.Erfc(z / Math.Sqrt(2));

    /// <summary>The standard normal density.</summary>
    public static double NormalPdf(double z) => Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI);

    /// <summary>z such that P(Z ≤ z) = p.</summary>
    public static double NormalQuantile(double p) => -Math.Sqrt(2) * SpecialFunctions.ErfcInv(2 * p);

    /// <summary>
    /// t such that P(T ≤ t) = p. MathNet's quantile stops when the probability is within 1e-8 of p; two Newton steps
    /// on the CDF take it to full double precision, so intervals match scipy's <c>t.ppf</c> to many digits.
    /// </summary>
    public static double TQuantile(double p, double degreesOfFreedom)
    {
        if (double.IsPositiveInfinity(degreesOfFreedom))
        {
            return NormalQuantile(p);
        }

        var t = StudentT.InvCDF(0, 1, degreesOfFreedom, p);
        for (var step = 0; step < 2; step++)
        {
            var density = StudentT.PDF(0, 1, degreesOfFreedom, t);
            if (!(density > 0))
            {
                break;
            }

            t -= (StudentT.CDF(0, 1, degreesOfFreedom, t) - p) / density;
        }

        return t;
    }

    /// <summary>P(X ≥ x) for chi-square with <paramref name="degreesOfFreedom"/>.</summary>
    public static double ChiSquareSurvival(double x, double degreesOfFreedom) =>
        x <= 0 ? 1 : SpecialFunctions.GammaUpperRegularized(degreesOfFreedom / 2, x / 2);
}
