using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Ballast.Metadata;
using Ballast.Runtime;
using Dapper;

namespace Ballast.Serving;

/// <summary>
/// A variant made this prediction: what it <see cref="Predicted"/> (the first element of its first output as JSON:
/// <c>1</c>, <c>"setosa"</c>), and whether it counts as a pull of a bandit arm (<see cref="BanditArm"/>: the policy
/// chose it; forced and pinned requests do not teach a bandit).
/// </summary>
public sealed record PredictionAssignment(string PredictionId, string Endpoint, string Variant, long AssignedAt, string? Predicted = null, bool BanditArm = false)
{
    /// <summary>The label a request predicted, as JSON text comparable with posted outcomes; null without outputs or for a long one.</summary>
    public static string? LabelOf(IReadOnlyList<Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (outputs.Count == 0 || outputs[0].Data.Length == 0)
        {
            return null;
        }

        var label = outputs[0].Data.GetValue(0) switch
        {
            string text => JsonSerializer.Serialize(text, PredictionLabelJsonContext.Default.String),
            bool flag => flag ? "true" : "false",
            float number when float.IsFinite(number) => Number(number),
            double number when double.IsFinite(number) => Number(number),
            IConvertible number and (sbyte or byte or short or ushort or int or uint or long or ulong) => Convert.ToString(number, CultureInfo.InvariantCulture),
            _ => null,
        };
        return label is { Length: <= 1000 } ? label : null;
    }

    /// <summary>Whole numbers without a fraction (a class 1.0 is the outcome 1), others round-trip.</summary>
    private static string Number(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? ((long)value).ToString(CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A variant's feedback over a window: how many predictions got any, how many had an outcome to compare with, were right, and their rewards.</summary>
public sealed record VariantFeedback(string Variant, long Feedback, long Labelled, long Correct, long Rewarded, double RewardSum)
{
    public double Accuracy => Labelled == 0 ? 0 : (double)Correct / Labelled;

    public double MeanReward => Rewarded == 0 ? 0 : RewardSum / Rewarded;
}

/// <summary>What one member of an adaptive ensemble predicted for a request (its label as <see cref="PredictionAssignment.Predicted"/> is).</summary>
public sealed record MemberPrediction(string PredictionId, string Endpoint, string Member, long AssignedAt, string? Predicted);

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class PredictionLabelJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>
/// Which variant made each prediction, shared by every replica (table <c>prediction_assignments</c>): queued by the
/// hot path without a database call and written in batches by <see cref="FlushAsync"/> about every second. Joined
/// with feedback by prediction id it is a bandit's persisted arm state (<see cref="ArmsAsync"/>) and each variant's
/// accuracy and mean reward for rollout analysis (<see cref="FeedbackAsync"/>). A restart loses at most the last
/// second's assignments before a crash. Serving records them only where they are read: on bandits and on endpoints
/// under a rollout (<see cref="RoutedEndpoint.RecordsAssignments"/>). Old rows go: bandit pulls are folded into their
/// arms' totals after <see cref="BanditRewardWindow"/>, others deleted after <see cref="Retention"/>.
/// </summary>
public sealed class AssignmentStore(MetadataDatabase database)
{
    private readonly AssignmentQueue _pending = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<MemberPrediction> _members = new();

    public int Pending => _pending.Count + _members.Count;

    /// <summary>Queues what each member of an adaptive ensemble predicted for a request (table <c>ensemble_member_predictions</c>), written with the assignments.</summary>
    public void EnqueueMembers(string predictionId, string endpoint, long assignedAt, IReadOnlyList<(string Member, IReadOnlyList<Tensor> Outputs)> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        foreach (var (member, outputs) in members)
        {
            _members.Enqueue(new MemberPrediction(predictionId, endpoint, member, assignedAt, PredictionAssignment.LabelOf(outputs)));
        }
    }

    /// <summary>Queues an assignment.</summary>
    public void Enqueue(PredictionAssignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        _pending.Add(assignment);
    }

    /// <summary>
    /// Queues a served prediction's assignment, the hot path's only cost: nothing it keeps until the flush is a new object
    /// (the id is kept as a <see cref="Guid"/>, its label as a number or a shared string; see <see cref="AssignmentQueue"/>).
    /// </summary>
    public void Enqueue(Guid predictionId, string endpoint, string variant, long assignedAt, IReadOnlyList<Tensor> outputs, bool banditArm)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        _pending.Add(predictionId, endpoint, variant, assignedAt, outputs, banditArm);
    }

    /// <summary>
    /// Writes the queued assignments (up to about 50,000 a call); returns how many. On SQLite, one transaction per chunk
    /// of 1,024, each in a writer turn (<see cref="MetadataDatabase.WriterTurn"/>), so that a lease renewal waits for one
    /// chunk (milliseconds), not for a busy second's tens of thousands of rows; on PostgreSQL, one statement.
    /// </summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken = default)
    {
        await FlushMembersAsync(cancellationToken).ConfigureAwait(false);
        var batch = _pending.Take(50_000);
        if (batch.Count == 0)
        {
            return 0;
        }

        var written = 0;
        var count = 0;
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (database.Engine == DatabaseEngine.Postgres)
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                count = await InsertPostgresAsync(connection, transaction, batch, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                written = batch.Count;
            }
            else
            {
                for (; written < batch.Count; written++)
                {
                    // A synchronous wait: this runs on the flush's own thread, and SQLite's calls are synchronous anyway.
                    using var turn = database.WriterTurn(cancellationToken);
                    await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                    count += await InsertSqliteAsync(connection, transaction, batch[written], cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            // The database is unreachable or we are stopping: keep what was not committed for the next flush.
            _pending.Recycle(batch[..written]);
            _pending.Return(batch[written..]);
            throw;
        }

        _pending.Recycle(batch);
        return count;
    }

    /// <summary>Writes the queued member predictions (up to 50,000 a call) in one transaction; on failure they stay queued (a row written twice is kept once).</summary>
    private async Task FlushMembersAsync(CancellationToken cancellationToken)
    {
        var batch = new List<MemberPrediction>();
        while (batch.Count < 50_000 && _members.TryDequeue(out var member))
        {
            batch.Add(member);
        }

        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            // A synchronous wait, as for the assignments: this runs on the flush's own thread.
            using var turn = database.WriterTurn(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            const string Insert = "INSERT INTO ensemble_member_predictions (prediction_id, endpoint, member, predicted, assigned_at) ";
            if (database.Engine == DatabaseEngine.Postgres)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    Insert + "SELECT * FROM unnest(@ids::text[], @endpoints::text[], @members::text[], @predicted::text[], @at::bigint[]) ON CONFLICT DO NOTHING",
                    new
                    {
                        ids = batch.Select(row => row.PredictionId).ToArray(), endpoints = batch.Select(row => row.Endpoint).ToArray(), members = batch.Select(row => row.Member).ToArray(),
                        predicted = batch.Select(row => row.Predicted).ToArray(), at = batch.Select(row => row.AssignedAt).ToArray(),
                    }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            else
            {
                await connection.ExecuteAsync(new CommandDefinition(Insert + "VALUES (@PredictionId, @Endpoint, @Member, @Predicted, @AssignedAt) ON CONFLICT DO NOTHING",
                    batch, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            batch.ForEach(_members.Enqueue);
            throw;
        }
    }

    /// <summary>
    /// An adaptive ensemble's members' record: for each member, its predictions made at or after <paramref name="since"/>
    /// (Unix ms) that have an outcome, and how many of them were right (as <see cref="FeedbackAsync"/> compares labels);
    /// and the number of distinct outcomes among them, the classes.
    /// </summary>
    public async Task<(IReadOnlyList<MemberAccuracy> Members, long Classes)> MemberAccuracyAsync(string endpoint, long since, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        const string Labelled = "FROM ensemble_member_predictions m JOIN feedback f ON f.prediction_id = m.prediction_id " +
            "WHERE m.endpoint = @endpoint AND m.assigned_at >= @since AND m.predicted IS NOT NULL AND f.outcome IS NOT NULL";
        var rows = await connection.QueryAsync<MemberRow>(new CommandDefinition(
            $"SELECT m.member AS Member, COUNT(*) AS Labelled, SUM(CASE WHEN {SameLabel("m")} THEN 1 ELSE 0 END) AS Correct {Labelled} GROUP BY m.member ORDER BY m.member",
            new { endpoint, since }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var classes = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(DISTINCT f.outcome) {Labelled}", new { endpoint, since },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return (rows.Select(row => new MemberAccuracy(row.Member, row.Labelled, row.Correct)).ToList(), classes);
    }

    /// <summary>
    /// Whether the outcome of feedback <c>f</c> is the label a prediction row (<paramref name="row"/><c>.predicted</c>)
    /// holds: <c>1</c> and <c>"1"</c> match; <c>1.0</c> does not match <c>1</c>.
    /// </summary>
    private static string SameLabel(string row) => $"(f.outcome = {row}.predicted OR f.outcome = '\"' || {row}.predicted || '\"' OR '\"' || f.outcome || '\"' = {row}.predicted)";

    private const string InsertColumns = "INSERT INTO prediction_assignments (prediction_id, endpoint, variant, predicted, bandit_arm, assigned_at) ";

    /// <summary>
    /// SQLite: one prepared single-row INSERT, its parameters bound once and their values set per row (Dapper re-adds
    /// and re-binds six parameters per row, which cost more than the insert at serving rates; a multi-row INSERT is
    /// slower still, as SQLite looks named parameters up one by one: bench/results TrackingBenchmarks).
    /// </summary>
    private static async Task<int> InsertSqliteAsync(DbConnection connection, DbTransaction transaction, AssignmentQueue.Chunk chunk, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = InsertColumns + "VALUES (@id, @endpoint, @variant, @predicted, @arm, @at) ON CONFLICT (prediction_id) DO NOTHING";
        var id = Parameter(command, "@id");
        var endpoint = Parameter(command, "@endpoint");
        var variant = Parameter(command, "@variant");
        var predicted = Parameter(command, "@predicted");
        var arm = Parameter(command, "@arm");
        var at = Parameter(command, "@at");
        command.Prepare();
        for (var i = 0; i < chunk.Count; i++)
        {
            var item = chunk.Entries[i];
            id.Value = item.PredictionId;
            endpoint.Value = item.Endpoint;
            variant.Value = item.Variant;
            predicted.Value = (object?)item.Predicted ?? DBNull.Value;
            arm.Value = item.BanditArm ? One : Zero;
            at.Value = item.AssignedAt;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return chunk.Count;
    }

    private static readonly object One = 1;
    private static readonly object Zero = 0;

    /// <summary>PostgreSQL: the whole batch in one statement and one round trip, as six arrays unnested into rows.</summary>
    private static async Task<int> InsertPostgresAsync(DbConnection connection, DbTransaction transaction, List<AssignmentQueue.Chunk> batch, CancellationToken cancellationToken)
    {
        var count = batch.Sum(chunk => chunk.Count);
        var ids = new string[count];
        var endpoints = new string[count];
        var variants = new string[count];
        var predicted = new string?[count];
        var arms = new int[count];
        var at = new long[count];
        var row = 0;
        foreach (var chunk in batch)
        {
            for (var i = 0; i < chunk.Count; i++, row++)
            {
                var item = chunk.Entries[i];
                (ids[row], endpoints[row], variants[row], predicted[row], arms[row], at[row]) = (item.PredictionId, item.Endpoint, item.Variant, item.Predicted, item.BanditArm ? 1 : 0, item.AssignedAt);
            }
        }

        await connection.ExecuteAsync(new CommandDefinition(
            InsertColumns + "SELECT * FROM unnest(@ids::text[], @endpoints::text[], @variants::text[], @predicted::text[], @arms::int[], @at::bigint[]) ON CONFLICT (prediction_id) DO NOTHING",
            new { ids, endpoints, variants, predicted, arms, at }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return count;
    }

    private static DbParameter Parameter(DbCommand command, string name)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>
    /// How long assignments that are not bandit pulls are kept: a rollout's feedback conditions only read predictions
    /// made since it started, and outcomes mostly arrive within days. Bandit pulls are folded instead (<see cref="FoldAsync"/>).
    /// </summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(30);

    /// <summary>
    /// How long a bandit pull waits for its reward as a row of its own: older pulls are folded into their arm's totals
    /// (<see cref="FoldAsync"/>), and a reward posted for one after that no longer counts.
    /// </summary>
    public static readonly TimeSpan BanditRewardWindow = TimeSpan.FromDays(7);

    /// <summary>Deletes the assignments older than <paramref name="before"/> (Unix ms) that are not bandit pulls, and ensemble members' predictions as old; returns how many assignments.</summary>
    public async Task<int> PruneAsync(long before, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM ensemble_member_predictions WHERE assigned_at < @before", new { before }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM prediction_assignments WHERE bandit_arm = 0 AND assigned_at < @before", new { before }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// An arm's totals over bandit pulls (a <c>WHERE</c> that callers extend and group by): pulls, rewarded pulls, reward
    /// sum, and successes (each reward clamped to [0, 1], what Thompson sampling counts). The fold and the live rows count
    /// alike through it, so folded totals add up with what the rows would give.
    /// </summary>
    // 0.0, not 0: on SQLite an integer 0 beside the real sums of other arms made the read of the arms fail.
    private const string PullTotals = "COUNT(*) AS pulls, COUNT(f.reward) AS rewarded, COALESCE(SUM(f.reward), 0.0) AS reward_sum, " +
        "COALESCE(SUM(CASE WHEN f.reward < 0 THEN 0.0 WHEN f.reward > 1 THEN 1.0 ELSE f.reward END), 0.0) AS successes " +
        "FROM prediction_assignments a LEFT JOIN feedback f ON f.prediction_id = a.prediction_id WHERE a.bandit_arm = 1";

    /// <summary>
    /// Folds the bandit pulls made before <paramref name="before"/> (Unix ms) into their arms' totals, with the rewards
    /// they have, and deletes them; returns how many. One transaction, serialized between replicas (PostgreSQL: an
    /// advisory lock; SQLite: one writer), so that a pull is counted once whoever folds it.
    /// </summary>
    public async Task<int> FoldAsync(long before, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var turn = await database.WriterTurnAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (database.Engine == DatabaseEngine.Postgres)
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(hashtext('ballast.bandit_arm_totals'))", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO bandit_arm_totals (endpoint, variant, pulls, rewarded, reward_sum, successes) " +
            $"SELECT a.endpoint, a.variant, {PullTotals} AND a.assigned_at < @before GROUP BY a.endpoint, a.variant " +
            "ON CONFLICT (endpoint, variant) DO UPDATE SET pulls = bandit_arm_totals.pulls + excluded.pulls, rewarded = bandit_arm_totals.rewarded + excluded.rewarded, " +
            "reward_sum = bandit_arm_totals.reward_sum + excluded.reward_sum, successes = bandit_arm_totals.successes + excluded.successes",
            new { before }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var folded = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM prediction_assignments WHERE bandit_arm = 1 AND assigned_at < @before", new { before }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return folded;
    }

    /// <summary>
    /// Every arm of <paramref name="endpoint"/> that made a prediction the policy chose: pulls, rewarded pulls, the
    /// reward sum and successes, of the pulls within the reward window (rows) and before it (<c>bandit_arm_totals</c>).
    /// </summary>
    public async Task<IReadOnlyList<ArmStats>> ArmsAsync(string endpoint, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<ArmRow>(new CommandDefinition(
            "SELECT variant AS Variant, CAST(SUM(pulls) AS BIGINT) AS Pulls, CAST(SUM(rewarded) AS BIGINT) AS Rewarded, CAST(SUM(reward_sum) AS DOUBLE PRECISION) AS RewardSum, " +
            "CAST(SUM(successes) AS DOUBLE PRECISION) AS Successes FROM (" +
            $"SELECT a.variant, {PullTotals} AND a.endpoint = @endpoint GROUP BY a.variant " +
            "UNION ALL SELECT variant, pulls, rewarded, reward_sum, successes FROM bandit_arm_totals WHERE endpoint = @endpoint) arms GROUP BY variant ORDER BY variant",
            new { endpoint }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => new ArmStats(row.Variant, row.Pulls, row.Rewarded, row.RewardSum, row.Successes)).ToList();
    }

    /// <summary>
    /// Each variant's feedback received in [<paramref name="from"/>, <paramref name="to"/>) (Unix ms) for its predictions
    /// made at or after <paramref name="since"/>: a prediction is right when the posted outcome is the label it predicted
    /// (<c>1</c> and <c>"1"</c> match; <c>1.0</c> does not match <c>1</c>).
    /// </summary>
    public async Task<IReadOnlyList<VariantFeedback>> FeedbackAsync(string endpoint, long since, long from, long to, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<FeedbackRow>(new CommandDefinition(
            "SELECT a.variant AS Variant, COUNT(*) AS Feedback, " +
            "SUM(CASE WHEN a.predicted IS NOT NULL AND f.outcome IS NOT NULL THEN 1 ELSE 0 END) AS Labelled, " +
            $"SUM(CASE WHEN {SameLabel("a")} THEN 1 ELSE 0 END) AS Correct, " +
            "COUNT(f.reward) AS Rewarded, COALESCE(SUM(f.reward), 0.0) AS RewardSum " +
            "FROM feedback f JOIN prediction_assignments a ON a.prediction_id = f.prediction_id " +
            "WHERE f.received_at >= @from AND f.received_at < @to AND a.endpoint = @endpoint AND a.assigned_at >= @since GROUP BY a.variant ORDER BY a.variant",
            new { endpoint, since, from, to }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => new VariantFeedback(row.Variant, row.Feedback, row.Labelled, row.Correct, row.Rewarded, row.RewardSum)).ToList();
    }

    private sealed class ArmRow
    {
        public string Variant { get; set; } = "";

        public long Pulls { get; set; }

        public long Rewarded { get; set; }

        public double RewardSum { get; set; }

        public double Successes { get; set; }
    }

    private sealed class MemberRow
    {
        public string Member { get; set; } = "";

        public long Labelled { get; set; }

        public long Correct { get; set; }
    }

    private sealed class FeedbackRow
    {
        public string Variant { get; set; } = "";

        public long Feedback { get; set; }

        public long Labelled { get; set; }

        public long Correct { get; set; }

        public long Rewarded { get; set; }

        public double RewardSum { get; set; }
    }
}
