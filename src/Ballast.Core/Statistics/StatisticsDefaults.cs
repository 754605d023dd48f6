namespace Ballast.Statistics;

public static class StatisticsDefaults
{
    /// <summary>Significance level: 5 %, the convention GrowthBook, scipy and statsmodels default to.</summary>
    public const double Alpha = 0.05;

    /// <summary>Power for sample-size planning: 80 %, the usual convention (Cohen).</summary>
    public const double Power = 0.8;

    /// <summary>
    /// Sequential tuning N*: the total sample size at which the confidence sequence is tightest. 5000 is GrowthBook's
    /// default; set it near the expected final sample size of the experiment.
    /// </summary>
    public const double SequentialTuning = 5000;

    /// <summary>SRM threshold: a split is called mismatched when p &lt; 0.001, as GrowthBook and Optimizely do, so that
    /// checking many experiments every day rarely raises a false alarm.</summary>
    public const double SrmThreshold = 0.001;

    internal static void CheckAlpha(double alpha, string name = "alpha")
    {
        if (!(alpha > 0 && alpha < 1))
        {
            throw new ArgumentException($"{name} must be between 0 and 1 exclusive (got {alpha}).");
        }
    }
}
