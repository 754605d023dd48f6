using Ballast.Monitoring;
using Ballast.Tracking;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Serving;

/// <summary>
/// The flat layout of the prediction export: one row per scored row (a request of N rows gives N), of the answers callers
/// got (<see cref="PredictionSegments.Answered"/>: primary and forced, not shadows' copies), flattened by
/// <see cref="WindowTable"/> as monitors and the ingest step flatten them. Columns: <c>prediction_id</c>, <c>row</c> (the
/// row's index in its request), <c>timestamp</c>, <c>variant</c>, <c>model</c>, one per input feature (<c>NAME</c> for one
/// value a row, else <c>NAME[0]</c> … or the names <c>feature_names</c> gives the tensor), one per output value likewise
/// (labels as text, scores as numbers), <c>outcome</c> (a number when every outcome of the export is one, as
/// <see cref="WindowTable.OutcomeValues"/> reads a table's, else text) and <c>reward</c>.
/// Rows are in <see cref="PredictionSegments.Order"/>, then by row in their request.
/// </summary>
public static class FlatPredictions
{
    /// <summary>
    /// Values (rows × columns) flattened in memory at most, give or take a request: about 40 MB of boxed values. Each
    /// chunk of whole requests is written to a Parquet file and the file out is copied from them, so an export of any
    /// range holds one chunk at a time.
    /// </summary>
    public const int ChunkValues = 1_000_000;

    private static readonly string[] Leading = ["prediction_id", "row", "timestamp", "variant", "model"];
    private static readonly string[] Trailing = ["outcome", "reward"];

    /// <summary>Where the record's own columns start in the query (after <see cref="WindowTable.RecordColumns"/>).</summary>
    private static readonly int Own = WindowTable.RecordColumns.Split(',').Length;

    /// <summary>
    /// Writes the <c>predictions</c> view of <see cref="PredictionExport.QueryAsync{T}(string, long?, long?, Func{DuckDBConnection, T}, CancellationToken)"/>
    /// flat to <paramref name="target"/> as <paramref name="format"/> (<see cref="PredictionExport.Formats"/>). A
    /// <c>feature_names</c> entry whose count of names is not its tensor's values a row, or that names no logged input
    /// tensor, and two columns of one name (DuckDB's names are case-insensitive) are a
    /// <see cref="TrackingException"/> (invalid), and nothing is written.
    /// </summary>
    public static void Write(DuckDBConnection connection, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames, string format, string target,
        int chunkValues = ChunkValues, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var scratch = Directory.CreateTempSubdirectory("ballast-flat-").FullName;
        try
        {
            var columns = new Columns();
            var parts = new List<string>();
            var numericOutcomes = true; // of every chunk, as WindowTable.OutcomeValues decides for one table
            var tensors = new HashSet<string>(StringComparer.Ordinal);
            using (var command = connection.CreateCommand())
            {
                command.CommandText = $"SELECT {WindowTable.RecordColumns}, timestamp, model, reward FROM predictions WHERE {PredictionSegments.Answered} ORDER BY {PredictionSegments.Order}";
                using var reader = command.ExecuteReader();
                var chunk = new Chunk();
                while (reader.Read())
                {
                    chunk.Append(reader, featureNames);
                    if (chunk.Table.UnnamedInputs.Count > 0)
                    {
                        throw TrackingException.Invalid("feature_names does not fit the logged inputs", chunk.Table.FeatureNameProblems());
                    }

                    if (chunk.Table.Rows * (long)(chunk.Table.Inputs.Count + chunk.Table.Outputs.Count + Leading.Length + Trailing.Length) >= chunkValues)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        Flush(chunk);
                        chunk = new Chunk();
                    }
                }

                if (chunk.Table.Rows > 0)
                {
                    Flush(chunk);
                }
            }

            void Flush(Chunk chunk)
            {
                parts.Add(chunk.Write(scratch, parts.Count, columns));
                tensors.UnionWith(chunk.Table.InputTensors);
                numericOutcomes &= chunk.Table.Outcomes.All(WindowTable.IsNumeric);
            }

            var unknown = parts.Count == 0 ? [] : (featureNames?.Keys ?? []).Where(name => !tensors.Contains(name)).Order(StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
            {
                throw TrackingException.Invalid($"feature_names names {string.Join(", ", unknown.Select(name => $"'{name}'"))}, which no logged request has as an input " +
                    $"(its inputs: {string.Join(", ", tensors.Order(StringComparer.Ordinal))}).");
            }

            cancellationToken.ThrowIfCancellationRequested();
            var source = parts.Count == 0
                ? "(SELECT NULL::VARCHAR AS prediction_id, NULL::BIGINT AS row, NULL::BIGINT AS timestamp, NULL::VARCHAR AS variant, NULL::VARCHAR AS model, " +
                  "NULL::VARCHAR AS outcome, NULL::DOUBLE AS reward WHERE false)"
                : $"read_parquet([{string.Join(", ", parts.Select(Literal))}], union_by_name = true)";
            // Outcomes are written as text, and read as numbers (true 1, false 0) when every one of the export is one.
            var select = string.Join(", ", Leading.Concat(columns.Inputs).Concat(columns.Outputs).Select(Identifier)
                .Append(numericOutcomes && parts.Count > 0 ? "CASE outcome::VARCHAR WHEN 'true' THEN 1.0 WHEN 'false' THEN 0.0 ELSE outcome::DOUBLE END AS outcome" : "outcome")
                .Append("reward"));
            // Parts are read in list order and each in its own order (DuckDB preserves insertion order without ORDER BY).
            Execute(connection, $"COPY (SELECT {select} FROM {source}) TO {Literal(target)} ({PredictionExport.CopyOptions(format)})");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>The input and output columns of every chunk so far, in order of first appearance, each name taken once (case-insensitively).</summary>
    private sealed class Columns
    {
        private readonly Dictionary<string, string> _taken = new(StringComparer.OrdinalIgnoreCase);

        public Columns()
        {
            foreach (var name in Leading.Concat(Trailing))
            {
                _taken[name] = $"the export's own column '{name}'";
            }
        }

        public List<string> Inputs { get; } = [];

        public List<string> Outputs { get; } = [];

        /// <summary>Takes the chunk's new column names, or throws naming every clash.</summary>
        public void Take(WindowTable table)
        {
            var problems = new List<string>();
            Take(table.Inputs.Keys, "input", Inputs, problems);
            Take(table.Outputs.Keys, "output", Outputs, problems);
            if (problems.Count > 0)
            {
                throw TrackingException.Invalid("The flat layout cannot give every value a column of its own", problems);
            }
        }

        private void Take(IEnumerable<string> names, string kind, List<string> order, List<string> problems)
        {
            foreach (var name in names)
            {
                var what = $"{kind} column '{name}'";
                if (_taken.TryGetValue(name, out var other))
                {
                    if (other != what)
                    {
                        problems.Add($"{what} has the name of {other}" + (kind == "input" ? " (name the tensor's columns with feature_names)" : ""));
                    }

                    continue;
                }

                _taken[name] = what;
                order.Add(name);
            }
        }
    }

    /// <summary>Whole requests flattened, with their records' own columns repeated on each of their rows.</summary>
    private sealed class Chunk
    {
        public WindowTable Table { get; } = new();

        private readonly List<object?> _ids = [];
        private readonly List<object?> _rows = [];
        private readonly List<object?> _timestamps = [];
        private readonly List<object?> _models = [];
        private readonly List<object?> _rewards = [];

        /// <summary>Adds the record the reader is on (<see cref="WindowTable.RecordColumns"/>, then timestamp, model, reward).</summary>
        public void Append(DuckDBDataReader reader, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames)
        {
            var rows = Table.Append(reader, featureNames);
            var id = reader.IsDBNull(Own - 1) ? null : reader.GetString(Own - 1); // prediction_id, the last of the record columns
            object? timestamp = reader.IsDBNull(Own) ? null : reader.GetInt64(Own);
            var model = reader.IsDBNull(Own + 1) ? null : reader.GetString(Own + 1);
            object? reward = reader.IsDBNull(Own + 2) ? null : reader.GetDouble(Own + 2);
            for (var i = 0; i < rows; i++)
            {
                _ids.Add(id);
                _rows.Add((long)i);
                _timestamps.Add(timestamp);
                _models.Add(model);
                _rewards.Add(reward);
            }
        }

        /// <summary>Writes the chunk to a Parquet file in <paramref name="folder"/> (its columns taken in <paramref name="columns"/> first); returns its path.</summary>
        public string Write(string folder, int number, Columns columns)
        {
            columns.Take(Table);
            var path = Path.Combine(folder, $"part-{number:D6}.parquet");
            var variants = Table.Variants.Cast<object?>().ToList();
            Table.WriteParquet(path, [
                ("prediction_id", _ids), ("row", _rows), ("timestamp", _timestamps), ("variant", variants), ("model", _models),
                .. Table.Inputs.Select(pair => (pair.Key, pair.Value)), .. Table.Outputs.Select(pair => (pair.Key, pair.Value)),
                ("outcome", Table.Outcomes.Cast<object?>().ToList()), ("reward", _rewards),
            ]);
            return path;
        }
    }
}
