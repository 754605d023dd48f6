using Ballast.Metadata;
using Ballast.Serving;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Serving;

public sealed class BanditPolicyTests
{
    /// <summary>Three arms paying 1 with probability 0.2, 0.5 and 0.8; each algorithm, seeded, ends up pulling the best.</summary>
    [Theory]
    [InlineData(BanditSpec.EpsilonGreedy, 0.85)]
    [InlineData(BanditSpec.Thompson, 0.9)]
    [InlineData(BanditSpec.Ucb1, 0.75)]
    public void Each_algorithm_converges_to_the_best_arm_on_a_simulated_reward(string algorithm, double share)
    {
        double[] payout = [0.2, 0.5, 0.8];
        var random = new Random(42);
        var arms = new ArmStats[] { new("a", 0, 0, 0, 0), new("b", 0, 0, 0, 0), new("c", 0, 0, 0, 0) };
        var lastPulls = new int[3];
        var spec = new BanditSpec(algorithm, algorithm == BanditSpec.EpsilonGreedy ? 0.1 : null);
        for (var round = 0; round < 4000; round++)
        {
            var arm = BanditPolicy.Choose(spec, arms, random);
            var reward = random.NextDouble() < payout[arm] ? 1.0 : 0.0;
            arms[arm] = arms[arm] with { Pulls = arms[arm].Pulls + 1, Rewarded = arms[arm].Rewarded + 1, RewardSum = arms[arm].RewardSum + reward, Successes = arms[arm].Successes + reward };
            if (round >= 3000)
            {
                lastPulls[arm]++;
            }
        }

        (lastPulls[2] / 1000.0).ShouldBeGreaterThan(share, $"{algorithm}: pulls in the last 1000 rounds {string.Join(", ", lastPulls)}");
        arms[2].Mean.ShouldBe(0.8, 0.05);
    }

    [Fact]
    public void Untried_arms_are_explored_first_and_ties_are_shared()
    {
        var random = new Random(7);
        var arms = new ArmStats[] { new("a", 10, 10, 9, 9), new("b", 0, 0, 0, 0), new("c", 0, 0, 0, 0) };
        var picks = Enumerable.Range(0, 200).Select(_ => BanditPolicy.Choose(new BanditSpec(BanditSpec.Ucb1), arms, random)).ToList();
        picks.ShouldNotContain(0);
        picks.Count(pick => pick == 1).ShouldBeInRange(70, 130);
    }

    [Fact]
    public void Epsilon_zero_is_greedy_and_epsilon_one_is_uniform()
    {
        var random = new Random(3);
        var arms = new ArmStats[] { new("a", 10, 10, 2, 2), new("b", 10, 10, 8, 8) };
        Enumerable.Range(0, 100).Select(_ => BanditPolicy.Choose(new BanditSpec(BanditSpec.EpsilonGreedy, 0), arms, random)).ShouldAllBe(pick => pick == 1);
        Enumerable.Range(0, 2000).Count(_ => BanditPolicy.Choose(new BanditSpec(BanditSpec.EpsilonGreedy, 1), arms, random) == 0).ShouldBeInRange(900, 1100);
    }
}

public sealed class BanditSpecValidationTests
{
    private static readonly VariantSpec[] Arms = [new("a", "models:/iris/1"), new("b", "models:/iris/2")];

    [Fact]
    public void A_bandit_defaults_to_thompson_and_keeps_its_variants_unweighted()
    {
        var spec = EndpointValidation.Validate(new EndpointSpec("iris", "bandit", Arms));
        spec.Bandit.ShouldBe(new BanditSpec(BanditSpec.Thompson, null));
        spec.Variants!.ShouldAllBe(variant => variant.Weight == null);
        EndpointValidation.Validate(new EndpointSpec("iris", null, Arms, Bandit: new BanditSpec(BanditSpec.EpsilonGreedy))).Bandit.ShouldBe(new BanditSpec(BanditSpec.EpsilonGreedy, 0.1));
    }

    [Fact]
    public void Bad_bandit_settings_are_refused_together()
    {
        var spec = new EndpointSpec("iris", "bandit", [new VariantSpec("a", "models:/iris/1", 50), new VariantSpec("b", "models:/iris/2", 50)],
            Sticky: new StickySpec(null), Bandit: new BanditSpec("greedy", 2));
        Should.Throw<TrackingException>(() => EndpointValidation.Validate(spec)).Message.ShouldBe(
            "Invalid endpoint 'iris': bandit algorithm 'greedy' is not one of epsilon_greedy, thompson, ucb1; bandit epsilon is only for epsilon_greedy, not greedy; " +
            "a bandit learns its traffic split from rewards; leave out the variants' weights; sticky routing pins keys to variants, which a bandit must be free to move; leave out sticky.");
        Should.Throw<TrackingException>(() => EndpointValidation.Validate(new EndpointSpec("iris", "bandit", Arms, Bandit: new BanditSpec(BanditSpec.EpsilonGreedy, 1.5))))
            .Message.ShouldBe("Invalid endpoint 'iris': bandit epsilon 1.5 must be between 0 and 1.");
        Should.Throw<TrackingException>(() => EndpointValidation.Validate(new EndpointSpec("iris", "split", [new VariantSpec("a", "models:/iris/1")], Bandit: new BanditSpec())))
            .Message.ShouldBe("Invalid endpoint 'iris': bandit settings need policy 'bandit', not 'split'.");
    }
}

public abstract class BanditStoreContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    [Fact]
    public async Task Arms_are_the_assignments_joined_with_rewards_and_are_forgotten_with_the_endpoint()
    {
        var bandits = new AssignmentStore(Database);
        var feedback = new FeedbackStore(Database, Time);
        for (var i = 0; i < 10; i++)
        {
            bandits.Enqueue(new PredictionAssignment($"p{i}", "iris", i < 4 ? "a" : "b", i, BanditArm: true));
        }

        bandits.Enqueue(new PredictionAssignment("q0", "other", "a", 0, BanditArm: true));
        bandits.Enqueue(new PredictionAssignment("r0", "iris", "a", 0, "1", BanditArm: false));
        (await bandits.FlushAsync(Cancel)).ShouldBe(12);
        bandits.Enqueue(new PredictionAssignment("p0", "iris", "a", 99, BanditArm: true));
        (await bandits.FlushAsync(Cancel)).ShouldBe(1, "a duplicate is ignored, not an error");

        await feedback.AddAsync([new Feedback("p0", null, 1), new Feedback("p1", null, 0), new Feedback("p5", null, 0.5), new Feedback("p6", null, 1), new Feedback("p7", "1", null), new Feedback("r0", null, 1)], Cancel);
        (await bandits.ArmsAsync("iris", Cancel)).ShouldBe([new ArmStats("a", 4, 2, 1, 1), new ArmStats("b", 6, 2, 1.5, 1.5)], "r0 was forced or pinned: not a pull");

        var endpoints = new EndpointStore(Database, Time);
        await endpoints.CreateAsync(new EndpointSpec("iris", "bandit", [new VariantSpec("a", "models:/iris/1"), new VariantSpec("b", "models:/iris/2")]), Cancel);
        await endpoints.PostSignalAsync("iris", "volatility", 0.4, Cancel);
        await endpoints.DeleteAsync("iris", Cancel);
        (await endpoints.GetSignalAsync("iris", "volatility", Cancel)).ShouldBeNull();
        (await bandits.ArmsAsync("iris", Cancel)).ShouldBeEmpty();
        (await bandits.ArmsAsync("other", Cancel)).ShouldHaveSingleItem().Pulls.ShouldBe(1);
    }
}

public sealed class SqliteBanditStoreTests() : BanditStoreContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresBanditStoreTests() : BanditStoreContractTests(DatabaseEngine.Postgres);
