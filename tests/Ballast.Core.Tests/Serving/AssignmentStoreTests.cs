using Dapper;
using Ballast.Metadata;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Tests.Metadata;

namespace Ballast.Tests.Serving;

public abstract class AssignmentStoreContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    [Fact]
    public async Task Each_variants_accuracy_and_reward_come_from_feedback_received_in_the_window_for_its_predictions()
    {
        var assignments = new AssignmentStore(Database);
        var feedback = new FeedbackStore(Database, Time);
        // Before the rollout started (assigned at 5): not counted.
        assignments.Enqueue(new PredictionAssignment("old", "iris", "canary", 5, "1"));
        for (var i = 0; i < 10; i++)
        {
            assignments.Enqueue(new PredictionAssignment($"s{i}", "iris", "main", 20, "\"setosa\""));
            assignments.Enqueue(new PredictionAssignment($"c{i}", "iris", "canary", 20, "1"));
        }

        assignments.Enqueue(new PredictionAssignment("x0", "other", "canary", 20, "1"));
        (await assignments.FlushAsync(Cancel)).ShouldBe(22);

        var from = Time.GetUtcNow().ToUnixTimeMilliseconds();
        // main: 8 of 10 right; canary: "1" and 1 both match the label 1, 1.0 and 0 do not; rewards on 4 of them.
        await feedback.AddAsync([.. Enumerable.Range(0, 10).Select(i => new Feedback($"s{i}", i < 8 ? "\"setosa\"" : "\"virginica\"", null))], Cancel);
        await feedback.AddAsync([new Feedback("c0", "1", 1), new Feedback("c1", "\"1\"", 0), new Feedback("c2", "1.0", 1), new Feedback("c3", "0", 0), new Feedback("c4", null, 0.5),
            new Feedback("old", "1", null), new Feedback("x0", "1", null)], Cancel);
        Time.Advance(TimeSpan.FromSeconds(10));
        // Feedback after the window: not counted.
        await feedback.AddAsync([new Feedback("c5", "1", null)], Cancel);

        var seen = await assignments.FeedbackAsync("iris", since: 10, from, from + 10_000, Cancel);
        seen.ShouldBe([new VariantFeedback("canary", 5, 4, 2, 5, 2.5), new VariantFeedback("main", 10, 10, 8, 0, 0)]);
        (seen[0].Accuracy, seen[0].MeanReward, seen[1].Accuracy).ShouldBe((0.5, 0.5, 0.8));
    }

    // On SQLite an arm without a reward summed to an integer 0, and reading it before an arm with a fractional sum failed
    // (every reward posted and every endpoint refresh with it).
    [Fact]
    public async Task An_arm_without_rewards_reads_beside_one_with_fractional_rewards()
    {
        var assignments = new AssignmentStore(Database);
        assignments.Enqueue(new PredictionAssignment("p1", "ads", "a", 100, BanditArm: true));
        assignments.Enqueue(new PredictionAssignment("p2", "ads", "b", 100, BanditArm: true));
        await assignments.FlushAsync(Cancel);
        await new FeedbackStore(Database, Time).AddAsync([new Feedback("p2", null, 0.5)], Cancel);

        (await assignments.ArmsAsync("ads", Cancel)).ShouldBe([new ArmStats("a", 1, 0, 0, 0), new ArmStats("b", 1, 1, 0.5, 0.5)]);
    }

    [Fact]
    public async Task Pruning_forgets_old_assignments_but_keeps_every_bandit_pull()
    {
        var assignments = new AssignmentStore(Database);
        assignments.Enqueue(new PredictionAssignment("old", "iris", "canary", 100, "1"));
        assignments.Enqueue(new PredictionAssignment("old-pull", "iris", "a", 100, BanditArm: true));
        assignments.Enqueue(new PredictionAssignment("new", "iris", "canary", 300, "1"));
        await assignments.FlushAsync(Cancel);

        (await assignments.PruneAsync(before: 200, Cancel)).ShouldBe(1);
        (await assignments.ArmsAsync("iris", Cancel)).ShouldHaveSingleItem().Pulls.ShouldBe(1);
        await new FeedbackStore(Database, Time).AddAsync([new Feedback("old", "1", null), new Feedback("new", "1", null)], Cancel);
        (await assignments.FeedbackAsync("iris", 0, 0, long.MaxValue, Cancel)).ShouldBe([new VariantFeedback("canary", 1, 1, 1, 0, 0)]);
    }

    [Fact]
    public async Task Folding_old_bandit_pulls_keeps_each_arms_totals_and_bounds_the_rows()
    {
        var assignments = new AssignmentStore(Database);
        var feedback = new FeedbackStore(Database, Time);
        for (var i = 0; i < 6; i++)
        {
            assignments.Enqueue(new PredictionAssignment($"a-old{i}", "ads", "a", 100, BanditArm: true));
            assignments.Enqueue(new PredictionAssignment($"a-new{i}", "ads", "a", 300, BanditArm: true));
        }

        assignments.Enqueue(new PredictionAssignment("b-old", "ads", "b", 100, BanditArm: true));
        assignments.Enqueue(new PredictionAssignment("forced-old", "ads", "b", 100)); // not a pull: pruning's, not folding's
        assignments.Enqueue(new PredictionAssignment("other-old", "news", "a", 100, BanditArm: true));
        await assignments.FlushAsync(Cancel);
        await feedback.AddAsync([new Feedback("a-old0", null, 1), new Feedback("a-old1", null, 0.5), new Feedback("a-new0", null, 1), new Feedback("b-old", null, 0.25)], Cancel);
        var before = await assignments.ArmsAsync("ads", Cancel);
        before.ShouldBe([new ArmStats("a", 12, 3, 2.5, 2.5), new ArmStats("b", 1, 1, 0.25, 0.25)]);

        (await assignments.FoldAsync(before: 200, Cancel)).ShouldBe(8, "six of a, one of b, one of news");
        (await assignments.ArmsAsync("ads", Cancel)).ShouldBe(before, "folded pulls still count, with their rewards");
        (await assignments.ArmsAsync("news", Cancel)).ShouldBe([new ArmStats("a", 1, 0, 0, 0)]);
        (await assignments.FoldAsync(before: 200, Cancel)).ShouldBe(0, "a fold another replica already did finds nothing");
        (await assignments.ArmsAsync("ads", Cancel)).ShouldBe(before, "nothing counted twice");
        await using (var connection = await Database.OpenAsync(Cancel))
        {
            (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM prediction_assignments WHERE endpoint = 'ads'")).ShouldBe(7, "the six recent pulls and the forced prediction");
        }

        // Later pulls and rewards add to the totals; a reward for a folded pull comes after its window and no longer counts.
        await feedback.AddAsync([new Feedback("a-new1", null, 1), new Feedback("a-old2", null, 1)], Cancel);
        (await assignments.ArmsAsync("ads", Cancel)).ShouldBe([new ArmStats("a", 12, 4, 3.5, 3.5), new ArmStats("b", 1, 1, 0.25, 0.25)]);
        (await assignments.FoldAsync(before: 400, Cancel)).ShouldBe(6);
        (await assignments.ArmsAsync("ads", Cancel)).ShouldBe([new ArmStats("a", 12, 4, 3.5, 3.5), new ArmStats("b", 1, 1, 0.25, 0.25)]);
    }

    // Thompson sampling's Beta posterior counts a reward in [0, 1] as that fraction of a success. It clamped the sum as a
    // whole, so a reward of 5 made up for four failures and one of -1 cancelled a success; each reward is clamped now,
    // in the live rows and in the folded totals alike.
    [Fact]
    public async Task Thompson_successes_clamp_each_reward_to_0_1_before_and_after_folding()
    {
        var assignments = new AssignmentStore(Database);
        string[] ids = ["p0", "p1", "p2", "p3", "p4", "p5"];
        foreach (var id in ids)
        {
            assignments.Enqueue(new PredictionAssignment(id, "promo", "a", id == "p5" ? 300 : 100, BanditArm: true));
        }

        await assignments.FlushAsync(Cancel);
        await new FeedbackStore(Database, Time).AddAsync([new Feedback("p0", null, 5), new Feedback("p1", null, 0), new Feedback("p2", null, 0),
            new Feedback("p3", null, -1), new Feedback("p4", null, 0.5), new Feedback("p5", null, 2)], Cancel);

        var arm = (await assignments.ArmsAsync("promo", Cancel)).ShouldHaveSingleItem();
        (arm.Rewarded, arm.RewardSum, arm.Successes).ShouldBe((6L, 6.5, 2.5), "5 and 2 count as 1, -1 as 0; the mean keeps the raw rewards");
        (await assignments.FoldAsync(before: 200, Cancel)).ShouldBe(5);
        (await assignments.ArmsAsync("promo", Cancel)).ShouldBe([arm]);
    }

    [Fact]
    public async Task A_large_flush_stores_every_assignment_once_with_its_label_or_none()
    {
        // Serving rates queue thousands a second; a duplicate id (a retried flush) is stored once.
        var assignments = new AssignmentStore(Database);
        for (var i = 0; i < 2500; i++)
        {
            assignments.Enqueue(new PredictionAssignment($"p{i:D4}", "iris", i % 2 == 0 ? "a" : "b", 1000 + i, i % 5 == 0 ? null : "1", BanditArm: i % 2 == 0));
        }

        assignments.Enqueue(new PredictionAssignment("p0001", "iris", "a", 1, "0"));
        (await assignments.FlushAsync(Cancel)).ShouldBe(2501);

        (await assignments.ArmsAsync("iris", Cancel)).ShouldBe([new ArmStats("a", 1250, 0, 0, 0)]);
        await new FeedbackStore(Database, Time).AddAsync([new Feedback("p0000", "1", null), new Feedback("p0001", "1", null), new Feedback("p0003", "0", null)], Cancel);
        // p0000 predicted nothing (labelled 0 of 1); p0001 kept its first row (variant b, "1": right); p0003 was wrong.
        (await assignments.FeedbackAsync("iris", 0, 0, long.MaxValue, Cancel)).ShouldBe([new VariantFeedback("a", 1, 0, 0, 0, 0), new VariantFeedback("b", 2, 2, 1, 0, 0)]);
    }

    [Fact]
    public async Task Served_predictions_queued_by_id_and_outputs_are_stored_in_order_with_the_label_LabelOf_gives()
    {
        // The hot path queues a Guid and the outputs (no string kept until the flush); what is stored must be what the
        // record form stores: the id's text, the label as LabelOf writes it, across several 1,024-entry chunks.
        var assignments = new AssignmentStore(Database);
        Tensor[][] outputs =
        [
            [new Tensor("label", "INT64", [1], new long[] { 1 })],
            [new Tensor("label", "INT64", [1], new long[] { 123_456_789_012 })],
            [new Tensor("label", "INT32", [1], new[] { -1 })],
            [new Tensor("label", "FP32", [1], new float[] { 2f })],
            [new Tensor("score", "FP64", [1], new double[] { 0.25 })],
            [new Tensor("score", "FP64", [1], new double[] { double.NaN })],
            [new Tensor("label", "BYTES", [1], new[] { "setosa" })],
            [new Tensor("label", "BYTES", [1], new[] { "say \"hi\"" })],
            [new Tensor("label", "BOOL", [1], new[] { false })],
            [],
        ];
        var ids = Enumerable.Range(0, 2600).Select(i => Guid.CreateVersion7(Time.GetUtcNow().AddMilliseconds(i))).ToList();
        for (var i = 0; i < ids.Count; i++)
        {
            assignments.Enqueue(ids[i], "iris", i % 2 == 0 ? "a" : "b", 1000 + i, outputs[i % outputs.Length], banditArm: i % 3 == 0);
        }

        // A duplicate id later in the queue: the first row is kept, so the order across chunks must hold.
        assignments.Enqueue(ids[1], "iris", "a", 1, outputs[0], banditArm: true);
        assignments.Pending.ShouldBe(2601);
        (await assignments.FlushAsync(Cancel)).ShouldBe(2601);
        assignments.Pending.ShouldBe(0);

        await using var connection = await Database.OpenAsync(Cancel);
        var rows = (await connection.QueryAsync<(string Id, string Variant, string? Predicted, long Arm, long At)>(new CommandDefinition(
            "SELECT prediction_id, variant, predicted, CAST(bandit_arm AS BIGINT), assigned_at FROM prediction_assignments ORDER BY assigned_at", cancellationToken: Cancel))).ToList();
        rows.Count.ShouldBe(2600);
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i].ShouldBe((ids[i].ToString(), i % 2 == 0 ? "a" : "b", PredictionAssignment.LabelOf(outputs[i % outputs.Length]), i % 3 == 0 ? 1L : 0L, 1000L + i), $"row {i}");
        }
    }

    [Fact]
    public async Task A_failed_flush_keeps_every_assignment_in_order_for_the_next()
    {
        var assignments = new AssignmentStore(Database);
        for (var i = 0; i < 1500; i++)
        {
            assignments.Enqueue(new PredictionAssignment($"p{i:D4}", "iris", "a", i, "1"));
        }

        using (var cancelled = new CancellationTokenSource())
        {
            await cancelled.CancelAsync();
            var failed = false;
            try
            {
                await assignments.FlushAsync(cancelled.Token);
            }
            catch (OperationCanceledException)
            {
                failed = true;
            }

            failed.ShouldBeTrue();
        }

        assignments.Pending.ShouldBe(1500);
        assignments.Enqueue(new PredictionAssignment("p0000", "iris", "b", 5000, "0"));
        (await assignments.FlushAsync(Cancel)).ShouldBe(1501);
        (await assignments.ArmsAsync("iris", Cancel)).ShouldBeEmpty();
        await new FeedbackStore(Database, Time).AddAsync([new Feedback("p0000", "1", null)], Cancel);
        (await assignments.FeedbackAsync("iris", 0, 0, long.MaxValue, Cancel)).ShouldBe([new VariantFeedback("a", 1, 1, 1, 0, 0)]);
    }

    [Fact]
    public async Task An_adaptive_ensembles_members_are_judged_on_the_outcomes_of_their_own_predictions_in_the_window()
    {
        var assignments = new AssignmentStore(Database);
        static IReadOnlyList<Tensor> Label(long label) => [new Tensor("label", "INT64", [1], new[] { label })];
        for (var i = 0; i < 10; i++)
        {
            // a always says 0, b says 0 on the first four; the outcomes are all 0, c's predictions are older than the window.
            assignments.EnqueueMembers($"p{i}", "blend", 1_000, [("a", Label(0)), ("b", Label(i < 4 ? 0 : 1))]);
            assignments.EnqueueMembers($"old{i}", "blend", 10, [("c", Label(0))]);
        }

        assignments.EnqueueMembers("other", "elsewhere", 1_000, [("a", Label(0))]);
        assignments.EnqueueMembers("unlabelled", "blend", 1_000, [("a", Label(0)), ("b", Label(0))]);
        assignments.Pending.ShouldBe(33);
        await assignments.FlushAsync(Cancel);
        assignments.Pending.ShouldBe(0);
        await new FeedbackStore(Database, Time).AddAsync([.. Enumerable.Range(0, 10).SelectMany(i => new[] { new Feedback($"p{i}", i == 9 ? "2" : "0", null), new Feedback($"old{i}", "0", null) }),
            new Feedback("other", "0", null), new Feedback("unlabelled", null, 1)], Cancel);

        var (members, classes) = await assignments.MemberAccuracyAsync("blend", since: 500, Cancel);
        members.ShouldBe([new MemberAccuracy("a", 10, 9), new MemberAccuracy("b", 10, 4)]);
        classes.ShouldBe(2, "outcomes 0 and 2");

        // Member predictions go with the assignments of their age.
        await assignments.PruneAsync(before: 500, Cancel);
        (await assignments.MemberAccuracyAsync("blend", since: 0, Cancel)).Members.ShouldBe(members);
    }

    [Fact]
    public void The_predicted_label_is_the_first_outputs_first_element_as_json()
    {
        PredictionAssignment.LabelOf([new Tensor("label", "INT64", [2], new long[] { 1, 0 })]).ShouldBe("1");
        PredictionAssignment.LabelOf([new Tensor("label", "FP32", [1], new float[] { 2f })]).ShouldBe("2", "a whole-number class is the outcome 2");
        PredictionAssignment.LabelOf([new Tensor("score", "FP64", [1], new double[] { 0.25 })]).ShouldBe("0.25");
        PredictionAssignment.LabelOf([new Tensor("label", "BYTES", [1], new[] { "setosa" })]).ShouldBe("\"setosa\"");
        PredictionAssignment.LabelOf([new Tensor("label", "BOOL", [1], new[] { true })]).ShouldBe("true");
        PredictionAssignment.LabelOf([]).ShouldBeNull();
    }
}

public sealed class SqliteAssignmentStoreTests() : AssignmentStoreContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresAssignmentStoreTests() : AssignmentStoreContractTests(DatabaseEngine.Postgres);
