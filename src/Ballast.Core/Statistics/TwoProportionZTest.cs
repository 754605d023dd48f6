namespace Ballast.Statistics;

/// <summary>z statistic (rate a − rate b) and two-sided p-value.</summary>
public sealed record ZTestResult(double Z, double PValue);

/// <summary>
/// Two-proportion z-test with the pooled variance under the null hypothesis p_a = p_b:
/// z = (p̂a − p̂b) / √(p̂(1 − p̂)(1/na + 1/nb)), p̂ = (xa + xb)/(na + nb). The same numbers as statsmodels'
/// <c>proportions_ztest(count, nobs)</c> and, squared, R's <c>prop.test(correct = FALSE)</c>.
/// </summary>
public static class TwoProportionZTest
{
    public static ZTestResult Test(long successesA, long trialsA, long successesB, long trialsB)
    {
        Check(successesA, trialsA, "a");
        Check(successesB, trialsB, "b");
        var pooled = (double)(successesA + successesB) / (trialsA + trialsB);
        var standardError = Math.Sqrt(pooled * (1 - pooled) * (1.0 / trialsA + 1.0 / trialsB));
        if (!(standardError > 0))
        {
            throw new ArgumentException(pooled == 0
                ? "no trial succeeded in either group, so the z statistic is undefined."
                : "every trial succeeded in both groups, so the z statistic is undefined.");
        }

        var z = ((double)successesA / trialsA - (double)successesB / trialsB) / standardError;
        return new ZTestResult(z, Distributions.TwoSidedNormal(z));
    }

    private static void Check(long successes, long trials, string group)
    {
        if (trials < 1 || successes < 0 || successes > trials)
        {
            throw new ArgumentException($"group {group}: successes must be between 0 and trials, and trials at least 1 (got {successes} of {trials}).");
        }
    }
}
