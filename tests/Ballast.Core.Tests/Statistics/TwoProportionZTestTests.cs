using Ballast.Statistics;

namespace Ballast.Tests.Statistics;

public sealed class TwoProportionZTestTests
{
    /// <summary>
    /// The example of statsmodels' <c>proportions_ztest</c> documentation (count [5, 12], nobs [83, 99]: "0.159");
    /// full precision from statsmodels 0.13.5: z = −1.4078304151258787, p = 0.15918129181156992.
    /// </summary>
    [Fact]
    public void Matches_statsmodels_proportions_ztest()
    {
        var result = TwoProportionZTest.Test(5, 83, 12, 99);

        result.Z.ShouldBe(-1.4078304151258787, 1e-12);
        result.PValue.ShouldBe(0.15918129181156992, 1e-12);
        Math.Round(result.PValue, 3).ShouldBe(0.159);
    }

    [Fact]
    public void Swapping_the_groups_flips_the_sign_only()
    {
        var (ab, ba) = (TwoProportionZTest.Test(5, 83, 12, 99), TwoProportionZTest.Test(12, 99, 5, 83));

        ba.Z.ShouldBe(-ab.Z, 1e-15);
        ba.PValue.ShouldBe(ab.PValue, 1e-15);
    }

    [Fact]
    public void Impossible_counts_are_refused_plainly()
    {
        Should.Throw<ArgumentException>(() => TwoProportionZTest.Test(5, 4, 1, 10)).Message.ShouldBe("group a: successes must be between 0 and trials, and trials at least 1 (got 5 of 4).");
        Should.Throw<ArgumentException>(() => TwoProportionZTest.Test(0, 10, 0, 10)).Message.ShouldContain("no trial succeeded");
    }
}
