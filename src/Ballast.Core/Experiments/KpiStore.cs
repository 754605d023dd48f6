using System.Text.RegularExpressions;
using Ballast.Metadata;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Experiments;

/// <summary>
/// A business KPI value (conversion, revenue…) for one prediction (its Ballast-Prediction-Id) or one routing key, and/or
/// the entity it describes (<see cref="Entity"/>: a customer id, read by feature views whose source is this KPI).
/// </summary>
public sealed record Kpi(string Name, double Value, string? PredictionId = null, string? RoutingKey = null, string? Entity = null);

/// <summary>A stored KPI value with when it arrived (Unix ms).</summary>
public sealed record StoredKpi(string Name, double Value, string? PredictionId, string? RoutingKey, long RecordedAt);

/// <summary>
/// KPIs in the metadata database, written in one transaction per batch before the API answers. Every value is kept
/// (a prediction may earn revenue several times); experiments sum a unit's values; values with only an entity are for
/// feature views (experiments, which join by prediction or routing key, skip them; a monitor's window counts them).
/// </summary>
public sealed partial class KpiStore(MetadataDatabase database, TimeProvider time)
{
    public const int MaxBatch = 10_000;

    /// <summary>The longest entity key (the online store's key column).</summary>
    public const int MaxEntityLength = 255;

    public async Task<int> AddAsync(IReadOnlyList<Kpi> kpis, CancellationToken cancellationToken = default)
    {
        var problems = Problems(kpis);
        if (problems.Count > 0)
        {
            throw TrackingException.Invalid("Invalid KPIs", problems);
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO kpis (name, value, prediction_id, routing_key, entity, recorded_at) VALUES (@Name, @Value, @PredictionId, @RoutingKey, @Entity, @now)",
            kpis.Select(kpi => new { kpi.Name, kpi.Value, kpi.PredictionId, kpi.RoutingKey, kpi.Entity, now }), transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return kpis.Count;
    }

    /// <summary>What is wrong with a batch of values (its size, and each item's name, value, key and entity; up to 10 problems), none when it may be stored.</summary>
    public static List<string> Problems(IReadOnlyList<Kpi> kpis)
    {
        ArgumentNullException.ThrowIfNull(kpis);
        var problems = new List<string>();
        if (kpis.Count == 0 || kpis.Count > MaxBatch)
        {
            problems.Add($"send between 1 and {MaxBatch} KPI values, not {kpis.Count}");
        }

        for (var i = 0; i < kpis.Count && problems.Count < 10; i++)
        {
            var kpi = kpis[i];
            if (string.IsNullOrEmpty(kpi.Name) || !NamePattern().IsMatch(kpi.Name))
            {
                problems.Add($"item {i}: name '{kpi.Name}' must be 1 to 63 lowercase letters, digits, '_' or '-', starting with a letter");
            }

            if (!double.IsFinite(kpi.Value))
            {
                problems.Add($"item {i}: value must be a finite number");
            }

            if ((kpi.PredictionId is not null && kpi.RoutingKey is not null) || (kpi.PredictionId is null && kpi.RoutingKey is null && kpi.Entity is null)
                || kpi.PredictionId?.Length is 0 or > 64 || kpi.RoutingKey?.Length is 0 or > 256)
            {
                problems.Add($"item {i}: give exactly one of prediction_id (a Ballast-Prediction-Id) or routing_key (up to 256 characters), or only an entity");
            }

            if (kpi.Entity?.Length is 0 or > MaxEntityLength)
            {
                problems.Add($"item {i}: entity must be 1 to {MaxEntityLength} characters (the entity key the value describes)");
            }
        }

        return problems;
    }

    /// <summary>Every value of KPI <paramref name="name"/> recorded at or after <paramref name="since"/> (Unix ms).</summary>
    public async Task<IReadOnlyList<StoredKpi>> SinceAsync(string name, long since, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<StoredKpi>(new CommandDefinition(
            "SELECT name AS Name, value AS Value, prediction_id AS PredictionId, routing_key AS RoutingKey, recorded_at AS RecordedAt FROM kpis WHERE name = @name AND recorded_at >= @since ORDER BY id",
            new { name, since }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.ToList();
    }

    /// <summary>Every value of KPI <paramref name="name"/> recorded in [<paramref name="from"/>, <paramref name="to"/>) (Unix ms): a pre-period.</summary>
    public async Task<IReadOnlyList<StoredKpi>> BetweenAsync(string name, long from, long to, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<StoredKpi>(new CommandDefinition(
            "SELECT name AS Name, value AS Value, prediction_id AS PredictionId, routing_key AS RoutingKey, recorded_at AS RecordedAt FROM kpis WHERE name = @name AND recorded_at >= @from AND recorded_at < @to ORDER BY id",
            new { name, from, to }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.ToList();
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,62}$")]
    private static partial Regex NamePattern();
}
