using static Ballast.Storage.DuckDbSql;

namespace Ballast.Serving;

/// <summary>
/// How readers see the prediction log's Parquet segments in DuckDB: every column of the current shape, whatever shape
/// each segment was written in (a column a segment lacks reads as null), and the one order of records.
/// </summary>
public static class PredictionSegments
{
    /// <summary>
    /// The order of records, for every reader that takes the latest, the last N or writes them out: by timestamp; in one
    /// millisecond by the writing replica's instance, then the write sequence (so on one replica the later write comes
    /// later; between replicas the order is arbitrary but the same on every read); records of segments written before
    /// the sequence existed (null) come first, by prediction id.
    /// </summary>
    public const string Order = "timestamp, instance NULLS FIRST, sequence NULLS FIRST, prediction_id";

    /// <summary><see cref="Order"/> reversed: the last record first.</summary>
    public const string ReverseOrder = "timestamp DESC, instance DESC NULLS LAST, sequence DESC NULLS LAST, prediction_id DESC NULLS FIRST";

    /// <summary>
    /// The records of answers callers got, as monitors and rollouts read them: <c>primary</c> and <c>forced</c> (a variant
    /// forced by the <c>Ballast-Variant</c> header still answered), not shadows' copies. Experiments count <c>primary</c> only.
    /// </summary>
    public const string Answered = "kind IN ('primary', 'forced')";

    /// <summary>
    /// The columns of a segment, in order, as an empty relation: <c>instance</c> (the replica that wrote the record) and
    /// <c>sequence</c> (its write sequence on that replica) are null in segments written before they existed, as is
    /// <c>expectations</c>.
    /// </summary>
    public const string Empty =
        "SELECT NULL::VARCHAR AS prediction_id, NULL::VARCHAR AS endpoint, NULL::VARCHAR AS variant, NULL::VARCHAR AS model, NULL::BIGINT AS timestamp, " +
        "NULL::DOUBLE AS latency_ms, NULL::VARCHAR AS routing_key, NULL::VARCHAR AS kind, NULL::VARCHAR AS inputs, NULL::VARCHAR AS outputs, " +
        "NULL::VARCHAR AS expectations, NULL::VARCHAR AS instance, NULL::BIGINT AS sequence WHERE false";

    /// <summary>A parenthesized relation over local segment files with every column of <see cref="Empty"/>, in its order.</summary>
    public static string Relation(IReadOnlyCollection<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return files.Count == 0
            ? $"({Empty})"
            : $"({Empty} UNION ALL BY NAME SELECT * FROM read_parquet([{string.Join(", ", files.Select(Literal))}], union_by_name = true))";
    }
}
