using MathNet.Numerics.Distributions;

namespace Ballast.Serving;

/// <summary>
/// A bandit endpoint's learner: <c>epsilon_greedy</c> (explore a random arm with probability <see cref="Epsilon"/>,
/// else the best mean reward), <c>thompson</c> (Beta(1,1) priors, a reward in [0, 1] counting as that fraction of a
/// success; one outside it as 0 or 1) or <c>ucb1</c> (mean + sqrt(2 ln N / n)).
/// </summary>
public sealed record BanditSpec(string? Algorithm = null, double? Epsilon = null)
{
    public const string EpsilonGreedy = "epsilon_greedy";
    public const string Thompson = "thompson";
    public const string Ucb1 = "ucb1";
    public const double DefaultEpsilon = 0.1;

    public static IReadOnlyList<string> Algorithms { get; } = [EpsilonGreedy, Thompson, Ucb1];
}

/// <summary>
/// One arm's state, from the store: how many predictions it made, how many of them got a reward as feedback, the sum of
/// those rewards, and Thompson sampling's successes: the sum of the rewards each clamped to [0, 1] (a reward of 5 is one
/// success, one of -1 a failure). Learning uses the rewarded predictions only (feedback may come late or never).
/// </summary>
public sealed record ArmStats(string Variant, long Pulls, long Rewarded, double RewardSum, double Successes)
{
    /// <summary>The mean reward for the policies, 0 without a reward (each of them looks at <see cref="Rewarded"/> first).</summary>
    public double Mean => Rewarded == 0 ? 0 : RewardSum / Rewarded;

    /// <summary>The mean reward as shown: null without a reward, so that an arm nobody rewarded yet never reads as earning 0.</summary>
    public double? MeanReward => Rewarded == 0 ? null : RewardSum / Rewarded;
}

/// <summary>The choice rules of the three bandit algorithms, pure: arm statistics and a random source in, an arm index out.</summary>
public static class BanditPolicy
{
    public static int Choose(BanditSpec spec, IReadOnlyList<ArmStats> arms, Random random)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(arms);
        ArgumentNullException.ThrowIfNull(random);
        if (arms.Count == 0)
        {
            throw new ArgumentException("A bandit needs at least one arm.", nameof(arms));
        }

        return spec.Algorithm switch
        {
            BanditSpec.Thompson => Thompson(arms, random),
            BanditSpec.Ucb1 => Ucb1(arms, random),
            _ => EpsilonGreedy(arms, spec.Epsilon ?? BanditSpec.DefaultEpsilon, random),
        };
    }

    private static int EpsilonGreedy(IReadOnlyList<ArmStats> arms, double epsilon, Random random) =>
        random.NextDouble() < epsilon ? random.Next(arms.Count) : Best(arms, arm => arm.Rewarded == 0 ? double.PositiveInfinity : arm.Mean, random);

    private static int Thompson(IReadOnlyList<ArmStats> arms, Random random) =>
        Best(arms, arm => Beta.Sample(random, 1 + arm.Successes, 1 + arm.Rewarded - arm.Successes), random);

    private static int Ucb1(IReadOnlyList<ArmStats> arms, Random random)
    {
        var total = arms.Sum(arm => arm.Rewarded);
        return Best(arms, arm => arm.Rewarded == 0 ? double.PositiveInfinity : arm.Mean + Math.Sqrt(2 * Math.Log(total) / arm.Rewarded), random);
    }

    /// <summary>The arm with the highest score; ties broken at random so that untried arms share the exploration.</summary>
    private static int Best(IReadOnlyList<ArmStats> arms, Func<ArmStats, double> score, Random random)
    {
        var best = -1;
        var bestScore = double.NegativeInfinity;
        var ties = 0;
        for (var i = 0; i < arms.Count; i++)
        {
            var value = score(arms[i]);
            if (best < 0 || value > bestScore)
            {
                (best, bestScore, ties) = (i, value, 1);
            }
            else if (value == bestScore && random.Next(++ties) == 0)
            {
                best = i;
            }
        }

        return best;
    }
}
