namespace Ballast.Statistics;

/// <summary>Pearson's statistic Σ (O − E)²/E, its degrees of freedom and P(χ² ≥ statistic).</summary>
public sealed record ChiSquareResult(double Statistic, int DegreesOfFreedom, double PValue);

/// <summary>
/// Chi-square goodness of fit: do the observed counts fit the expected proportions? The same numbers as
/// <c>scipy.stats.chisquare(f_obs, f_exp)</c>, except that the expected side is given as weights and scaled to the
/// observed total (so <c>[1, 1]</c> means an even split).
/// </summary>
public static class ChiSquareTest
{
    public static ChiSquareResult GoodnessOfFit(ReadOnlySpan<double> observed, ReadOnlySpan<double> expectedWeights)
    {
        if (observed.Length < 2)
        {
            throw new ArgumentException($"a goodness-of-fit test needs at least 2 categories (got {observed.Length}).");
        }

        if (expectedWeights.Length != observed.Length)
        {
            throw new ArgumentException($"there are {observed.Length} counts but {expectedWeights.Length} weights; give one weight per count.");
        }

        double total = 0, weights = 0;
        for (var i = 0; i < observed.Length; i++)
        {
            if (!(observed[i] >= 0) || !double.IsFinite(observed[i]))
            {
                throw new ArgumentException($"count {i + 1} is {observed[i]}; counts must be 0 or more.");
            }

            if (!(expectedWeights[i] > 0) || !double.IsFinite(expectedWeights[i]))
            {
                throw new ArgumentException($"weight {i + 1} is {expectedWeights[i]}; weights must be positive.");
            }

            total += observed[i];
            weights += expectedWeights[i];
        }

        if (total == 0)
        {
            throw new ArgumentException("every count is 0; there is nothing to test.");
        }

        double statistic = 0;
        for (var i = 0; i < observed.Length; i++)
        {
            var expected = expectedWeights[i] / weights * total;
            statistic += (observed[i] - expected) * (observed[i] - expected) / expected;
        }

        var degreesOfFreedom = observed.Length - 1;
        return new ChiSquareResult(statistic, degreesOfFreedom, Distributions.ChiSquareSurvival(statistic, degreesOfFreedom));
    }
}
