using System.Globalization;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Serving;

/// <summary>
/// A record's place in the prediction log's one order (<see cref="PredictionSegments.Order"/>): its timestamp (Unix ms),
/// the replica that wrote it and its write sequence there (both null in segments written before they existed), and its
/// prediction id. Records of one millisecond have different positions, so a position, not a time, says where a row
/// window ends.
/// </summary>
public sealed record LogPosition(long Timestamp, string? Instance, long? Sequence, string PredictionId)
{
    /// <summary>The columns a reader selects to get a record's position, in the order <see cref="Read"/> takes them.</summary>
    public const string Columns = "timestamp, instance, sequence, prediction_id";

    /// <summary>A record's position from the four <see cref="Columns"/> starting at <paramref name="first"/>.</summary>
    public static LogPosition Read(System.Data.Common.DbDataReader reader, int first)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new LogPosition(reader.GetInt64(first), reader.IsDBNull(first + 1) ? null : reader.GetString(first + 1),
            reader.IsDBNull(first + 2) ? null : reader.GetInt64(first + 2), reader.IsDBNull(first + 3) ? "" : reader.GetString(first + 3));
    }

    /// <summary>
    /// A DuckDB condition true for the records of <paramref name="relation"/> (an alias, such as <c>p</c>) that sort after
    /// this position in <see cref="PredictionSegments.Order"/> (a null instance or sequence sorting first).
    /// </summary>
    public string AfterSql(string relation) => $"NOT ({AtOrBeforeSql(relation)})";

    /// <summary>A DuckDB condition true for the records of <paramref name="relation"/> at this position or before it.</summary>
    public string AtOrBeforeSql(string relation)
    {
        var timestamp = $"{relation}.timestamp";
        var instance = $"{relation}.instance";
        var sequence = $"{relation}.sequence";
        var id = $"{relation}.prediction_id";
        var at = Timestamp.ToString(CultureInfo.InvariantCulture);
        // Nulls first: a record's null is before any value and equal to the position's null.
        var instanceBefore = Instance is null ? "false" : $"({instance} IS NULL OR {instance} < {Literal(Instance)})";
        var instanceSame = Instance is null ? $"{instance} IS NULL" : $"{instance} = {Literal(Instance)}";
        var sequenceBefore = Sequence is not { } s ? "false" : $"({sequence} IS NULL OR {sequence} < {s.ToString(CultureInfo.InvariantCulture)})";
        var sequenceSame = Sequence is not { } t ? $"{sequence} IS NULL" : $"{sequence} = {t.ToString(CultureInfo.InvariantCulture)}";
        return $"({timestamp} < {at} OR ({timestamp} = {at} AND ({instanceBefore} OR ({instanceSame} AND ({sequenceBefore} OR ({sequenceSame} AND coalesce({id}, '') <= {Literal(PredictionId)}))))))";
    }
}
