using Ballast.Statistics;

namespace Ballast.Tests.Statistics;

/// <summary>
/// A/A experiments (no true difference) analysed after every 100 units per arm, the way a dashboard is watched.
/// Seeded, so the counts are the same on every run; the tolerance is the one-sided 99 % binomial margin for 1,000
/// experiments, z₀.₉₉ √(α(1 − α)/1000) ≈ 0.016.
/// </summary>
public sealed class PeekingSimulationTests
{
    private const int Experiments = 1000;
    private const int Looks = 20;
    private const int UnitsPerLook = 100;
    private const double ConversionRate = 0.2;
    private const double Alpha = 0.05;
    private static readonly double Tolerance = 2.326 * Math.Sqrt(Alpha * (1 - Alpha) / Experiments);

    [Fact]
    public void Peeking_inflates_the_fixed_horizon_test_but_not_the_sequential_one()
    {
        var random = new Random(6);
        int sequentialAlarms = 0, peekingAlarms = 0, finalLookAlarms = 0;
        for (var experiment = 0; experiment < Experiments; experiment++)
        {
            long control = 0, treatment = 0;
            bool sequentialAlarm = false, peekingAlarm = false;
            for (var look = 1; look <= Looks; look++)
            {
                control += Conversions(random, UnitsPerLook);
                treatment += Conversions(random, UnitsPerLook);
                var n = look * UnitsPerLook;
                var (a, b) = (SampleSummary.FromProportion(control, n), SampleSummary.FromProportion(treatment, n));

                var fixedHorizon = FrequentistTest.TwoSided(a, b, alpha: Alpha);
                peekingAlarm |= fixedHorizon.PValue < Alpha;
                sequentialAlarm |= SequentialTest.TwoSided(a, b, alpha: Alpha).PValue < Alpha;
                if (look == Looks && fixedHorizon.PValue < Alpha)
                {
                    finalLookAlarms++;
                }
            }

            sequentialAlarms += sequentialAlarm ? 1 : 0;
            peekingAlarms += peekingAlarm ? 1 : 0;
        }

        var (sequentialRate, peekingRate, finalRate) = ((double)sequentialAlarms / Experiments, (double)peekingAlarms / Experiments, (double)finalLookAlarms / Experiments);
        var summary = $"false-positive rates: sequential {sequentialRate}, fixed-horizon peeked {peekingRate}, fixed-horizon once {finalRate}";
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        sequentialRate.ShouldBeLessThanOrEqualTo(Alpha + Tolerance, summary);
        peekingRate.ShouldBeGreaterThan(Alpha + Tolerance, summary);
        finalRate.ShouldBe(Alpha, 1.5 * Tolerance, summary);
    }

    private static int Conversions(Random random, int units)
    {
        var count = 0;
        for (var i = 0; i < units; i++)
        {
            count += random.NextDouble() < ConversionRate ? 1 : 0;
        }

        return count;
    }
}
