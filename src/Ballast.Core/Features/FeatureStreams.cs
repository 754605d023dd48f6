using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ballast.Metadata;
using Ballast.Serving;
using Ballast.Storage;
using Dapper;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Features;

/// <summary>
/// The stream sources of feature views, read into DuckDB: an endpoint's prediction log (rolled first, so every answered
/// request is in; primary answers only, one feature row per scored row, keyed by the input the view names and timed by
/// the prediction's timestamp) and KPI values posted with an <c>entity</c> (timed by when they were recorded).
/// </summary>
public sealed class FeatureStreams(PredictionLog log, IArtifactStore artifacts, MetadataDatabase database)
{
    /// <summary>
    /// Creates the DuckDB table <paramref name="table"/> (<c>__entity</c> text, <c>__ms</c> event time in Unix ms, one
    /// text column per feature, <c>__file</c>, <c>__row</c> in stream order) with the stream's rows whose event time is in
    /// (<paramref name="after"/>, <paramref name="until"/>] (open ends when null). Copies of S3 segments go to
    /// <paramref name="copies"/> for the caller to delete.
    /// </summary>
    internal async Task LoadAsync(DuckDBConnection connection, string table, ResolvedView view, IReadOnlyList<FeatureSpec> features, long? after, long? until,
        List<string> copies, CancellationToken cancellationToken)
    {
        var columns = string.Concat(features.Select(feature => $", {Identifier(feature.Name)} VARCHAR"));
        Execute(connection, $"CREATE OR REPLACE TEMP TABLE {table} (__entity VARCHAR, __ms BIGINT{columns}, __file BIGINT, __row BIGINT)");
        var source = view.Spec.Source!;
        if (source.Endpoint is { } endpoint)
        {
            await LoadPredictionsAsync(connection, table, endpoint, source.EntityColumn!, features, after, until, copies, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await LoadKpisAsync(connection, table, source.Kpi!, features.Count, after, until, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// What a stream holds now, as a digest: the prediction log's segment names (each is written once; the log is rolled
    /// first) or the count and last id of the KPI's values with an entity. It changes whenever rows arrive.
    /// </summary>
    public async Task<string> FingerprintAsync(FeatureSourceSpec source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var text = new StringBuilder(source.StreamName).Append('\n');
        if (source.Endpoint is { } endpoint)
        {
            await log.RollAsync(cancellationToken).ConfigureAwait(false);
            foreach (var segment in (await log.SegmentsAsync(endpoint, cancellationToken: cancellationToken).ConfigureAwait(false)).Order(StringComparer.Ordinal))
            {
                text.Append(segment).Append('\n');
            }
        }
        else
        {
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            var (count, last) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
                "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM kpis WHERE name = @name AND entity IS NOT NULL", new { name = source.Kpi }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            text.Append(CultureInfo.InvariantCulture, $"{count} {last}");
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private async Task LoadPredictionsAsync(DuckDBConnection connection, string table, string endpoint, string entityColumn, IReadOnlyList<FeatureSpec> features,
        long? after, long? until, List<string> copies, CancellationToken cancellationToken)
    {
        await log.RollAsync(cancellationToken).ConfigureAwait(false);
        var segments = (await log.SegmentsAsync(endpoint, after, until, cancellationToken).ConfigureAwait(false)).Order(StringComparer.Ordinal).ToList();
        if (segments.Count == 0)
        {
            return;
        }

        var files = new List<string>(segments.Count);
        foreach (var segment in segments)
        {
            var copy = Path.Combine(Path.GetTempPath(), "ballast-features-" + Guid.NewGuid().ToString("N") + ".parquet");
            copies.Add(copy);
            files.Add(await artifacts.LocalFileAsync(segment, copy, cancellationToken).ConfigureAwait(false));
        }

        var entity = TensorColumn.Parse(entityColumn);
        var wanted = features.Select(feature => TensorColumn.Parse(feature.Column ?? feature.Name)).ToList();
        var bounds = (after is { } from ? $" AND timestamp > {from.ToString(CultureInfo.InvariantCulture)}" : "")
                     + (until is { } to ? $" AND timestamp <= {to.ToString(CultureInfo.InvariantCulture)}" : "");
        cancellationToken.ThrowIfCancellationRequested();
        Execute(connection, PredictionRowsSql(table, files, bounds, entity, wanted));
    }

    /// <summary>
    /// One query from the segments to the view's rows, the logged tensors parsed by DuckDB: each request's inputs and
    /// outputs (V2 tensors as JSON: name, shape, data) are read once as lists of structs; the entity tensor must hold one
    /// value per row (<c>[N]</c> or <c>[N, 1]</c>), and each request gives one feature row per row of it. A column is the
    /// first tensor of its name in the inputs (or, when the column allows, the outputs) whose shape divides its data into
    /// rows; a value is row r's only value, or element i of a wider row (<c>NAME[i]</c>). Rows are numbered in the log's
    /// write order (<see cref="PredictionSegments.Order"/>, then row), so of two requests in one millisecond the later write is the latest.
    /// </summary>
    private static string PredictionRowsSql(string table, IReadOnlyList<string> files, string bounds, TensorColumn entity, IReadOnlyList<TensorColumn> wanted)
    {
        const string Tensors = "'[{\"name\": \"VARCHAR\", \"shape\": [\"BIGINT\"], \"data\": [\"JSON\"]}]'";
        static string First(string list, string name) => $"list_filter({list}, lambda t: t.name = {Literal(name)} AND t.data IS NOT NULL)[1]";
        // The first dimension, as the log's readers take it: a shape that does not start with an int32 is one row.
        static string Rows(string t) => $"(CASE WHEN {t}.shape[1] BETWEEN -2147483648 AND 2147483647 THEN {t}.shape[1] ELSE 1 END)";
        static string Valid(string t) => $"({t} IS NOT NULL AND {Rows(t)} > 0 AND len({t}.data) % {Rows(t)} = 0)";
        static string Pick(TensorColumn column, int k, bool outputs) =>
            $"CASE WHEN {(column.Scope is null or "input" ? Valid($"__i{k}") : "false")} THEN __i{k} "
            + $"WHEN {(outputs && column.Scope is null or "output" ? Valid($"__o{k}") : "false")} THEN __o{k} END AS __t{k}";
        // JSON values as the text TRY_CAST reads: strings unquoted, numbers and booleans as written; null, arrays and objects have none.
        static string Text(string v) => $"(CASE json_type({v}) WHEN 'VARCHAR' THEN {v} ->> '$' WHEN 'NULL' THEN NULL WHEN 'ARRAY' THEN NULL WHEN 'OBJECT' THEN NULL ELSE CAST({v} AS VARCHAR) END)";
        // Entity keys as lookups compare them: integral numbers without a fraction (42, not 42.0).
        static string Key(string v) => $"(CASE json_type({v}) WHEN 'DOUBLE' THEN (CASE WHEN CAST({v} AS DOUBLE) = floor(CAST({v} AS DOUBLE)) AND abs(CAST({v} AS DOUBLE)) < 9e15 "
            + $"THEN CAST(CAST(CAST({v} AS DOUBLE) AS BIGINT) AS VARCHAR) ELSE CAST({v} AS VARCHAR) END) ELSE {Text(v)} END)";
        static string Value(TensorColumn column, int k)
        {
            var t = $"__t{k}";
            var width = $"(len({t}.data) // {Rows(t)})";
            return column.Index is { } index
                ? $"CASE WHEN __r < {Rows(t)} AND {index.ToString(CultureInfo.InvariantCulture)} < {width} THEN {Text($"{t}.data[__r * {width} + {(index + 1).ToString(CultureInfo.InvariantCulture)}]")} END"
                : $"CASE WHEN __r < {Rows(t)} AND {width} = 1 THEN {Text($"{t}.data[__r + 1]")} END";
        }

        // Column 0 is the entity (inputs only), 1.. the features.
        var columns = wanted.Prepend(entity).ToList();
        var candidates = string.Join(", ", columns.Select((column, k) => $"{First("__in", column.Name)} AS __i{k}, {First("__out", column.Name)} AS __o{k}"));
        var picked = string.Join(", ", columns.Select((column, k) => Pick(column, k, outputs: k > 0)));
        var tensors = string.Join(", ", Enumerable.Range(1, wanted.Count).Select(k => $"__t{k}"));
        var values = string.Concat(wanted.Select((column, j) => $", {Value(column, j + 1)} AS __f{j}"));
        var features = string.Concat(Enumerable.Range(0, wanted.Count).Select(j => $", __f{j}"));
        return $"""
            INSERT INTO {table}
            SELECT __entity, __ms{features}, 0, row_number() OVER (ORDER BY __ms, __inst NULLS FIRST, __seq NULLS FIRST, __id, __r) - 1 FROM (
                SELECT __ms, __inst, __seq, __id, __r, {Key("__t0.data[__r + 1]")} AS __entity{values} FROM (
                    SELECT __ms, __inst, __seq, __id, __t0{(wanted.Count > 0 ? ", " + tensors : "")}, UNNEST(range(len(__t0.data))) AS __r FROM (
                        SELECT __ms, __inst, __seq, __id, {picked} FROM (
                            SELECT timestamp AS __ms, instance AS __inst, sequence AS __seq, prediction_id AS __id, {candidates} FROM (
                                SELECT timestamp, instance, sequence, prediction_id, from_json(inputs, {Tensors}) AS __in, from_json(outputs, {Tensors}) AS __out
                                FROM {PredictionSegments.Relation(files)}
                                WHERE {PredictionSegments.Answered}{bounds})))
                    WHERE __t0 IS NOT NULL AND len(__t0.data) = {Rows("__t0")}))
            WHERE __entity IS NOT NULL
            """;
    }

    private async Task LoadKpisAsync(DuckDBConnection connection, string table, string kpi, int featureCount, long? after, long? until, CancellationToken cancellationToken)
    {
        await using var metadata = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var sql = "SELECT entity AS Entity, value AS Value, recorded_at AS RecordedAt FROM kpis WHERE name = @kpi AND entity IS NOT NULL"
                  + (after is null ? "" : " AND recorded_at > @after") + (until is null ? "" : " AND recorded_at <= @until") + " ORDER BY recorded_at, id";
        using var appender = connection.CreateAppender(table);
        long row = 0;
        await foreach (var value in metadata.QueryUnbufferedAsync<KpiRow>(sql, new { kpi, after, until }).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var text = value.Value.ToString("R", CultureInfo.InvariantCulture);
            var appended = appender.CreateRow().AppendValue(value.Entity).AppendValue(value.RecordedAt);
            for (var j = 0; j < featureCount; j++)
            {
                appended = appended.AppendValue(text);
            }

            appended.AppendValue(0L).AppendValue(row++).EndRow();
        }
    }

    private sealed class KpiRow
    {
        public string Entity { get; set; } = "";

        public double Value { get; set; }

        public long RecordedAt { get; set; }
    }

    /// <summary>A feature's column in the prediction log: <c>name</c>, <c>input.name</c> or <c>output.name</c>, with <c>[i]</c> for element i of a row.</summary>
    private sealed record TensorColumn(string? Scope, string Name, int? Index)
    {
        public static TensorColumn Parse(string column)
        {
            string? scope = null;
            if (column.StartsWith("input.", StringComparison.Ordinal) || column.StartsWith("output.", StringComparison.Ordinal))
            {
                var dot = column.IndexOf('.', StringComparison.Ordinal);
                scope = column[..dot];
                column = column[(dot + 1)..];
            }

            int? index = null;
            if (column.EndsWith(']') && column.LastIndexOf('[') is var open and > 0)
            {
                index = int.Parse(column.AsSpan(open + 1, column.Length - open - 2), NumberStyles.None, CultureInfo.InvariantCulture);
                column = column[..open];
            }

            return new TensorColumn(scope, column, index);
        }
    }
}
