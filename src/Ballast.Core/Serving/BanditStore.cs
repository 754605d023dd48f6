using System.Collections.Concurrent;
using Ballast.Metadata;
using Dapper;

namespace Ballast.Serving;

/// <summary>A bandit arm (variant) chose this prediction.</summary>
public sealed record BanditAssignment(string PredictionId, string Endpoint, string Variant, long AssignedAt);

/// <summary>
/// The bandits' persisted state, shared by every replica: which arm made each prediction (queued by the hot path
/// without a database call, written in batches by <see cref="FlushAsync"/> about every second) joined with the rewards
/// posted as feedback. An arm's statistics are an aggregate over that join, so any replica computes the same state
/// and a restart loses nothing but the assignments of the last second before a crash.
/// </summary>
public sealed class BanditStore(MetadataDatabase database)
{
    private readonly ConcurrentQueue<BanditAssignment> _pending = new();

    public int Pending => _pending.Count;

    /// <summary>Queues an assignment; the hot path's only cost.</summary>
    public void Enqueue(BanditAssignment assignment) => _pending.Enqueue(assignment);

    /// <summary>Writes every queued assignment in one transaction; returns how many.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken = default)
    {
        var batch = new List<BanditAssignment>();
        while (batch.Count < 50_000 && _pending.TryDequeue(out var assignment))
        {
            batch.Add(assignment);
        }

        if (batch.Count == 0)
        {
            return 0;
        }

        try
        {
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO bandit_assignments (prediction_id, endpoint, variant, assigned_at) VALUES (@PredictionId, @Endpoint, @Variant, @AssignedAt) ON CONFLICT (prediction_id) DO NOTHING",
                batch, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The database is unreachable or we are stopping: keep them for the next flush.
            batch.ForEach(_pending.Enqueue);
            throw;
        }

        return batch.Count;
    }

    /// <summary>Every arm of <paramref name="endpoint"/> that made a prediction: pulls, rewarded pulls and the reward sum.</summary>
    public async Task<IReadOnlyList<ArmStats>> ArmsAsync(string endpoint, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<ArmRow>(new CommandDefinition(
            "SELECT a.variant AS Variant, COUNT(*) AS Pulls, COUNT(f.reward) AS Rewarded, COALESCE(SUM(f.reward), 0) AS RewardSum " +
            "FROM bandit_assignments a LEFT JOIN feedback f ON f.prediction_id = a.prediction_id WHERE a.endpoint = @endpoint GROUP BY a.variant ORDER BY a.variant",
            new { endpoint }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => new ArmStats(row.Variant, row.Pulls, row.Rewarded, row.RewardSum)).ToList();
    }

    private sealed class ArmRow
    {
        public string Variant { get; set; } = "";

        public long Pulls { get; set; }

        public long Rewarded { get; set; }

        public double RewardSum { get; set; }
    }
}
