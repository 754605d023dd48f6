using Ballast.Metadata;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Serving;

/// <summary>
/// Feedback for one prediction: its true <see cref="Outcome"/> (the label or value, as JSON text: <c>1</c>,
/// <c>"churned"</c>) and/or a <see cref="Reward"/> (bandits learn from it).
/// </summary>
public sealed record Feedback(string PredictionId, string? Outcome, double? Reward);

/// <summary>A stored feedback row: when it last arrived and how many times it was sent.</summary>
public sealed record StoredFeedback(string PredictionId, string? Outcome, double? Reward, long ReceivedAt, long Updates);

/// <summary>
/// Feedback in the metadata database, written in one transaction per batch before the API answers. Late feedback
/// (days after the prediction) is fine; duplicates update the row (the newest values win, a field left out keeps its
/// value) and are counted in <c>updates</c>. Every item is also kept as it arrived (<c>feedback_history</c>), so the
/// feedback as it stood at a past moment can be read back (<see cref="AsOfAsync"/>).
/// </summary>
public sealed class FeedbackStore(MetadataDatabase database, TimeProvider time)
{
    public const int MaxBatch = 10_000;

    public async Task<int> AddAsync(IReadOnlyList<Feedback> feedback, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        var problems = new List<string>();
        if (feedback.Count == 0 || feedback.Count > MaxBatch)
        {
            problems.Add($"send between 1 and {MaxBatch} feedback items, not {feedback.Count}");
        }

        for (var i = 0; i < feedback.Count && problems.Count < 10; i++)
        {
            var item = feedback[i];
            if (string.IsNullOrEmpty(item.PredictionId) || item.PredictionId.Length > 64)
            {
                problems.Add($"item {i}: prediction_id must be the Ballast-Prediction-Id of a response (1 to 64 characters)");
            }

            if (item.Outcome is null && item.Reward is null)
            {
                problems.Add($"item {i}: give an outcome, a reward or both");
            }

            if (item.Reward is { } reward && !double.IsFinite(reward))
            {
                problems.Add($"item {i}: reward must be a finite number");
            }

            if (item.Outcome?.Length > 1000)
            {
                problems.Add($"item {i}: outcome is longer than 1000 characters");
            }
        }

        if (problems.Count > 0)
        {
            throw TrackingException.Invalid("Invalid feedback", problems);
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var rows = feedback.Select(item => new { item.PredictionId, item.Outcome, item.Reward, now }).ToList();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO feedback (prediction_id, outcome, reward, received_at, updates) VALUES (@PredictionId, @Outcome, @Reward, @now, 1) " +
            "ON CONFLICT (prediction_id) DO UPDATE SET outcome = COALESCE(excluded.outcome, feedback.outcome), reward = COALESCE(excluded.reward, feedback.reward), " +
            "received_at = excluded.received_at, updates = feedback.updates + 1",
            rows, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO feedback_history (prediction_id, outcome, reward, received_at) VALUES (@PredictionId, @Outcome, @Reward, @now)",
            rows, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return feedback.Count;
    }

    public async Task<StoredFeedback?> GetAsync(string predictionId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QuerySingleOrDefaultAsync<StoredFeedback>(new CommandDefinition(
            "SELECT prediction_id AS PredictionId, outcome AS Outcome, reward AS Reward, received_at AS ReceivedAt, updates AS Updates FROM feedback WHERE prediction_id = @predictionId",
            new { predictionId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// The feedback as it stood at <paramref name="until"/> (Unix ms, inclusive) for every prediction that got some in
    /// [<paramref name="since"/>, <paramref name="until"/>]: per field the last value sent by then (a field left out kept
    /// its value, as in <see cref="AddAsync"/>), received at the last arrival by then; streamed by prediction id.
    /// </summary>
    public async IAsyncEnumerable<StoredFeedback> AsOfAsync(long since, long until, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        StoredFeedback? current = null;
        await foreach (var row in connection.QueryUnbufferedAsync<Arrival>(
            "SELECT prediction_id AS PredictionId, outcome AS Outcome, reward AS Reward, received_at AS ReceivedAt FROM feedback_history " +
            "WHERE received_at >= @since AND received_at <= @until ORDER BY prediction_id, received_at, id",
            new { since, until }).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (current is not null && current.PredictionId != row.PredictionId)
            {
                yield return current;
                current = null;
            }

            current = current is null
                ? new StoredFeedback(row.PredictionId, row.Outcome, row.Reward, row.ReceivedAt, 1)
                : new StoredFeedback(row.PredictionId, row.Outcome ?? current.Outcome, row.Reward ?? current.Reward, row.ReceivedAt, current.Updates + 1);
        }

        if (current is not null)
        {
            yield return current;
        }
    }

    /// <summary>One feedback item as it arrived (a row of <c>feedback_history</c>).</summary>
    private sealed record Arrival(string PredictionId, string? Outcome, double? Reward, long ReceivedAt);

    /// <summary>Every feedback row received at or after <paramref name="since"/> (Unix ms), streamed.</summary>
    public async IAsyncEnumerable<StoredFeedback> SinceAsync(long since, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var row in connection.QueryUnbufferedAsync<StoredFeedback>(
            "SELECT prediction_id AS PredictionId, outcome AS Outcome, reward AS Reward, received_at AS ReceivedAt, updates AS Updates FROM feedback WHERE received_at >= @since",
            new { since }).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return row;
        }
    }
}
