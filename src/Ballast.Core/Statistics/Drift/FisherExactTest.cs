using MathNet.Numerics;

namespace Ballast.Statistics.Drift;

/// <summary>
/// Fisher's exact test of a 2×2 table [[a, b], [c, d]], two-sided, with the same numbers as scipy 1.10's
/// <c>scipy.stats.fisher_exact(table)</c>: the sample odds ratio ad/bc and the total hypergeometric probability of the
/// tables with the observed margins whose probability is at most the observed table's. Ties are judged within a
/// relative 1e-7, the tolerance of R's <c>fisher.test</c> (scipy uses 1e-14 with its exact probability mass): the
/// probabilities here come from log-gamma functions, which cannot separate tables closer than that.
/// </summary>
public static class FisherExactTest
{
    private const double RelativeTolerance = 1e-7;

    public static (double OddsRatio, double PValue) TwoSided(long a, long b, long c, long d)
    {
        if (a < 0 || b < 0 || c < 0 || d < 0)
        {
            throw new ArgumentException($"a contingency table holds counts, 0 or more (got [[{a}, {b}], [{c}, {d}]]).");
        }

        if (a + b == 0 || c + d == 0 || a + c == 0 || b + d == 0)
        {
            return (double.NaN, 1.0);
        }

        var oddsRatio = c > 0 && b > 0 ? (double)a * d / ((double)c * b) : double.PositiveInfinity;
        long n1 = a + b, n2 = c + d, n = a + c, total = n1 + n2;
        long low = Math.Max(0, n - n2), high = Math.Min(n, n1);
        var logObserved = LogProbability(a, total, n1, n);
        var mode = (long)((n + 1) * (double)(n1 + 1) / (total + 2));
        if (Math.Abs(logObserved - LogProbability(mode, total, n1, n)) <= Math.Log(1 + RelativeTolerance))
        {
            return (oddsRatio, 1.0);
        }

        // Sum, in the probability scale relative to the observed table, every table at most as likely.
        var limit = logObserved + Math.Log(1 + RelativeTolerance);
        double relative = 0;
        for (var x = low; x <= high; x++)
        {
            var logP = LogProbability(x, total, n1, n);
            if (logP <= limit)
            {
                relative += Math.Exp(logP - logObserved);
            }
        }

        return (oddsRatio, Math.Min(1.0, relative * Math.Exp(logObserved)));
    }

    /// <summary>log P(X = x) for the hypergeometric distribution: x successes in n draws from a population of total with n1 successes.</summary>
    private static double LogProbability(long x, long total, long n1, long n) =>
        SpecialFunctions.BinomialLn((int)n1, (int)x) + SpecialFunctions.BinomialLn((int)(total - n1), (int)(n - x)) - SpecialFunctions.BinomialLn((int)total, (int)n);
}
