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
            files.Add(await LocalAsync(segment, copies, cancellationToken).ConfigureAwait(false));
        }

        var entity = TensorColumn.Parse(entityColumn);
        var wanted = features.Select(feature => TensorColumn.Parse(feature.Column ?? feature.Name)).ToList();
        var bounds = (after is { } from ? $" AND timestamp > {from.ToString(CultureInfo.InvariantCulture)}" : "")
                     + (until is { } to ? $" AND timestamp <= {to.ToString(CultureInfo.InvariantCulture)}" : "");
        // A second connection reads the segments while the first one's appender fills the table.
        using var reading = new DuckDBConnection("Data Source=:memory:");
        reading.Open();
        Execute(reading, $"SET threads = 1; SET memory_limit = '512MB'; SET temp_directory = {Literal(Path.Combine(Path.GetTempPath(), "ballast-duckdb-" + Environment.ProcessId))};");
        using var command = reading.CreateCommand();
        // In write order: of two records of one millisecond the later write has the later row, so it is the latest.
        command.CommandText = $"SELECT timestamp, inputs, outputs FROM {PredictionSegments.Relation(files)} " +
                              $"WHERE kind = {Literal(PredictionRecord.Primary)}{bounds} ORDER BY {PredictionSegments.Order}";
        using var reader = command.ExecuteReader();
        using var appender = connection.CreateAppender(table);
        long row = 0;
        var values = new string?[wanted.Count];
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var timestamp = reader.GetInt64(0);
            using var inputs = JsonDocument.Parse(reader.GetString(1));
            using var outputs = JsonDocument.Parse(reader.GetString(2));
            var key = entity.Find(inputs.RootElement, null);
            if (key is not { Width: 1 } keys)
            {
                continue; // a request without the entity key (or not one per row) describes no entity
            }

            var found = wanted.Select(column => column.Find(inputs.RootElement, outputs.RootElement)).ToList();
            for (var i = 0; i < keys.Rows; i++)
            {
                var entityKey = KeyText(keys.Data[i]);
                if (entityKey is null)
                {
                    continue;
                }

                for (var j = 0; j < wanted.Count; j++)
                {
                    values[j] = found[j] is { } tensor ? tensor.Value(i, wanted[j].Index) : null;
                }

                var appended = appender.CreateRow().AppendValue(entityKey).AppendValue(timestamp);
                foreach (var value in values)
                {
                    appended = value is null ? appended.AppendNullValue() : appended.AppendValue(value);
                }

                appended.AppendValue(0L).AppendValue(row++).EndRow();
            }
        }
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

    private async Task<string> LocalAsync(string segment, List<string> copies, CancellationToken cancellationToken)
    {
        if (artifacts is FileArtifactStore local)
        {
            return local.LocalPath(segment);
        }

        var copy = Path.Combine(Path.GetTempPath(), "ballast-features-" + Guid.NewGuid().ToString("N") + ".parquet");
        copies.Add(copy);
        await using var source = await artifacts.OpenReadAsync(segment, cancellationToken).ConfigureAwait(false);
        await using var target = new FileStream(copy, FileMode.CreateNew, FileAccess.Write, FileShare.None, ContentAddressing.CopyBufferSize, FileOptions.Asynchronous);
        await source.CopyToAsync(target, ContentAddressing.CopyBufferSize, cancellationToken).ConfigureAwait(false);
        return copy;
    }

    /// <summary>An entity key as the text lookups compare: integral numbers without a fraction (42, not 42.0), strings as they are.</summary>
    private static string? KeyText(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number when element.TryGetInt64(out var integer) => integer.ToString(CultureInfo.InvariantCulture),
        JsonValueKind.Number when element.GetDouble() is var number && number == Math.Floor(number) && Math.Abs(number) < 9e15 => ((long)number).ToString(CultureInfo.InvariantCulture),
        JsonValueKind.Number => element.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

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

        /// <summary>The tensor in a request's inputs (or, when the column allows, its outputs), or null.</summary>
        public LoggedTensor? Find(JsonElement inputs, JsonElement? outputs) =>
            (Scope is null or "input" ? LoggedTensor.Find(inputs, Name) : null)
            ?? (Scope is null or "output" && outputs is { } answers ? LoggedTensor.Find(answers, Name) : null);
    }

    /// <summary>A logged V2 tensor: <see cref="Rows"/> rows (its first dimension) of <see cref="Width"/> values each.</summary>
    private sealed record LoggedTensor(int Rows, int Width, IReadOnlyList<JsonElement> Data)
    {
        public static LoggedTensor? Find(JsonElement tensors, string name)
        {
            if (tensors.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            foreach (var tensor in tensors.EnumerateArray())
            {
                if (tensor.TryGetProperty("name", out var named) && named.ValueKind == JsonValueKind.String && named.ValueEquals(name)
                    && tensor.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
                {
                    var values = data.EnumerateArray().ToList();
                    var rows = tensor.TryGetProperty("shape", out var shape) && shape.ValueKind == JsonValueKind.Array && shape.GetArrayLength() > 0 && shape[0].TryGetInt32(out var first)
                        ? first
                        : 1;
                    return rows <= 0 || values.Count % rows != 0 ? null : new LoggedTensor(rows, values.Count / rows, values);
                }
            }

            return null;
        }

        /// <summary>Row <paramref name="row"/>'s value as text: the whole row when it is one value, else element <paramref name="index"/>.</summary>
        public string? Value(int row, int? index)
        {
            if (row >= Rows || (index is null && Width != 1) || index >= Width)
            {
                return null;
            }

            var element = Data[(row * Width) + (index ?? 0)];
            return element.ValueKind switch
            {
                JsonValueKind.String => element.GetString(),
                JsonValueKind.Number => element.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            };
        }
    }
}
