using System.Data.Common;
using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Datasets;

/// <summary>
/// Profiles a CSV, TSV (optionally gzipped) or Parquet file with DuckDB in a scratch database under a memory limit,
/// so a file of any size is read with bounded memory (DuckDB spills to disk past the limit). A CSV is parsed once
/// into the scratch database; every statistic then scans its columns, <see cref="ColumnsPerScan"/> columns a query, so
/// a wide file (hundreds of columns) needs no more memory than a narrow one. Small tables (up to
/// <see cref="ExactRowLimit"/> rows) get exact quantiles (linear interpolation, as numpy's default) and exact distinct
/// counts; larger ones a t-digest and HyperLogLog estimate.
/// </summary>
public sealed class DatasetProfiler(int memoryLimitMegabytes = 512, int threads = 2)
{
    public const int HistogramBins = 10;
    public const int TopValueCount = 20;
    public const long ExactRowLimit = 1_000_000;

    /// <summary>Top values are left out for text columns with more distinct values than this (ids, free text).</summary>
    public const long TopValuesDistinctLimit = 10_000;

    // Columns whose statistics one query computes. Each exact distinct count holds a hash table and each quantile the
    // column's values, per thread, until the scan ends: 250 columns × 50,000 rows in one query ran out of 512 MiB (all
    // of it for the distinct counts' tables), 25 a query finish within 256 MiB and take no longer in all. A batch reads
    // only its own columns of the columnar scratch table.
    public const int ColumnsPerScan = 25;

    // Values (rows × columns) of a row group the CSV load holds per thread before writing it out: DuckDB's default
    // 122,880 rows × 250 columns ran out of 512 MiB on the load alone. Wide files get shorter row groups, so the load
    // needs about as much memory at any width (down to 2,048 rows, DuckDB's least: 1,000 columns).
    private const int LoadValuesPerRowGroup = 1 << 21;

    private static readonly (string Name, double Probability)[] QuantileLevels = [("p05", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95)];

    /// <summary>The tabular format of a dataset file by its name (<c>csv</c>, <c>tsv</c>, <c>parquet</c>), or null when it is not profiled.</summary>
    public static string? FormatOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        return Path.GetExtension(name).ToUpperInvariant() switch
        {
            ".CSV" => "csv",
            ".TSV" or ".TAB" => "tsv",
            ".PARQUET" or ".PQ" when !path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) => "parquet",
            _ => null,
        };
    }

    /// <summary>Profiles <paramref name="localFile"/>; <paramref name="datasetPath"/> (its path in the dataset) decides the format and names the result.</summary>
    public TableProfile Profile(string localFile, string datasetPath, CancellationToken cancellationToken = default)
    {
        var format = FormatOf(datasetPath) ?? throw new ArgumentException($"'{datasetPath}' is not a CSV, TSV or Parquet file.", nameof(datasetPath));
        var scratch = Path.Combine(Path.GetTempPath(), "ballast-profile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            using var connection = new DuckDBConnection("Data Source=:memory:");
            connection.Open();
            Execute(connection, string.Create(CultureInfo.InvariantCulture,
                $"SET memory_limit = '{memoryLimitMegabytes}MB'; SET threads = {threads}; SET preserve_insertion_order = false; SET temp_directory = {Literal(scratch)};"));
            Load(connection, localFile, datasetPath, format, Path.Combine(scratch, "profile.duckdb"));
            cancellationToken.ThrowIfCancellationRequested();
            return ProfileTable(connection, datasetPath, format, cancellationToken);
        }
        catch (DuckDBException exception)
        {
            // A file that is not what its name says still gets a version; its profile says why it has no statistics.
            return new TableProfile(datasetPath, format, 0, [], FirstLine(exception.Message));
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
                // Scratch space in the temporary folder; the OS cleans it if a handle is still open.
            }
        }
    }

    private static void Load(DuckDBConnection connection, string localFile, string datasetPath, string format, string database)
    {
        if (format == "parquet")
        {
            Execute(connection, $"CREATE VIEW src AS SELECT * FROM read_parquet({Literal(localFile)})");
            return;
        }

        var options = new StringBuilder();
        if (format == "tsv")
        {
            options.Append(", delim = '\\t'");
        }

        options.Append(datasetPath.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? ", compression = 'gzip'" : ", compression = 'none'");
        // The scratch database, its row groups as short as the file's width needs (the columns counted on the sniffed sample).
        var width = Query(connection, $"SELECT count(*) FROM (DESCRIBE SELECT * FROM read_csv({Literal(localFile)}{options}))", reader => reader.Read() ? Int(reader, 0) : 0);
        Execute(connection, string.Create(CultureInfo.InvariantCulture, $"ATTACH {Literal(database)} AS scratch (ROW_GROUP_SIZE {RowGroupRows(width)}); USE scratch"));
        try
        {
            Execute(connection, $"CREATE TABLE src AS SELECT * FROM read_csv({Literal(localFile)}{options})");
        }
        catch (DuckDBException)
        {
            // Types guessed from the first rows failed further down: sniff the whole file instead (a second pass).
            Execute(connection, $"CREATE OR REPLACE TABLE src AS SELECT * FROM read_csv({Literal(localFile)}{options}, sample_size = -1)");
        }
    }

    /// <summary>Rows of a scratch row group for a file of <paramref name="columns"/> columns: a multiple of 2,048 from 2,048 to DuckDB's default 122,880.</summary>
    internal static int RowGroupRows(long columns) =>
        (int)Math.Clamp(LoadValuesPerRowGroup / Math.Max(columns, 1) / 2048 * 2048, 2048, 122_880);

    private static TableProfile ProfileTable(DuckDBConnection connection, string datasetPath, string format, CancellationToken cancellationToken)
    {
        var columns = Query(connection, "DESCRIBE src", reader =>
        {
            var described = new List<(string Name, string Type, string Kind)>();
            while (reader.Read())
            {
                var type = reader.GetString(1);
                described.Add((reader.GetString(0), type, KindOf(type)));
            }

            return described;
        });
        var rows = Query(connection, "SELECT count(*) FROM src", reader => reader.Read() ? Int(reader, 0) : 0);

        var exact = rows <= ExactRowLimit;
        var profiles = new List<ColumnProfile>(columns.Count);
        foreach (var batch in columns.Chunk(ColumnsPerScan))
        {
            cancellationToken.ThrowIfCancellationRequested();
            profiles.AddRange(ProfileColumns(connection, batch, rows, exact));
        }

        for (var start = 0; start < profiles.Count; start += ColumnsPerScan)
        {
            cancellationToken.ThrowIfCancellationRequested();
            AddHistograms(connection, profiles, start, Math.Min(profiles.Count, start + ColumnsPerScan));
        }

        for (var c = 0; c < profiles.Count; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (profiles[c].Kind is "categorical" or "boolean" && profiles[c].Count > 0 && profiles[c].Distinct <= TopValuesDistinctLimit)
            {
                profiles[c] = WithTopValues(connection, profiles[c]);
            }
        }

        return new TableProfile(datasetPath, format, rows, profiles);
    }

    /// <summary>Counts, distinct counts, and the numeric and time statistics of <paramref name="columns"/>, in one scan.</summary>
    private static List<ColumnProfile> ProfileColumns(DuckDBConnection connection, IReadOnlyList<(string Name, string Type, string Kind)> columns, long rows, bool exact)
    {
        var select = new List<string>();
        foreach (var (name, _, kind) in columns)
        {
            var q = Identifier(name);
            select.Add($"count({q})");
            select.Add(exact ? $"count(DISTINCT {q})" : $"approx_count_distinct({q})");
            if (kind == "numeric")
            {
                var d = $"{q}::DOUBLE";
                select.Add($"min({d})");
                select.Add($"max({d})");
                select.Add($"avg({d})");
                select.Add($"stddev_samp({d})");
                select.AddRange(QuantileLevels.Select(level => string.Create(CultureInfo.InvariantCulture,
                    $"{(exact ? "quantile_cont" : "approx_quantile")}({d}, {level.Probability})")));
            }
            else if (kind == "datetime")
            {
                select.Add($"min({q})::VARCHAR");
                select.Add($"max({q})::VARCHAR");
            }
        }

        return Query(connection, "SELECT " + string.Join(", ", select) + " FROM src", reader =>
        {
            reader.Read();
            var profiles = new List<ColumnProfile>();
            var i = 0;
            foreach (var (name, type, kind) in columns)
            {
                var count = Int(reader, i++);
                var distinct = Math.Min(Int(reader, i++), count);
                var profile = new ColumnProfile(name, type, kind, count, rows - count, distinct);
                if (kind == "numeric")
                {
                    var quantiles = new Dictionary<string, double>(StringComparer.Ordinal);
                    profile = profile with { Min = Double(reader, i++), Max = Double(reader, i++), Mean = Double(reader, i++), Std = Double(reader, i++) };
                    foreach (var level in QuantileLevels)
                    {
                        if (Double(reader, i++) is { } value)
                        {
                            quantiles[level.Name] = value;
                        }
                    }

                    profile = profile with { Quantiles = quantiles.Count == 0 ? null : quantiles };
                }
                else if (kind == "datetime")
                {
                    profile = profile with { Earliest = Text(reader, i++), Latest = Text(reader, i++) };
                }

                profiles.Add(profile);
            }

            return profiles;
        });
    }

    /// <summary>Equal-width histograms of the numeric columns among profiles [<paramref name="start"/>, <paramref name="end"/>) in one scan: <see cref="HistogramBins"/> bins from min to max.</summary>
    private static void AddHistograms(DuckDBConnection connection, List<ColumnProfile> profiles, int start, int end)
    {
        var binned = new List<(int Index, double[] Edges)>();
        var select = new List<string>();
        for (var c = start; c < end; c++)
        {
            if (profiles[c] is not { Kind: "numeric", Min: { } min, Max: { } max } || !double.IsFinite(min) || !double.IsFinite(max))
            {
                continue;
            }

            var bins = min == max ? 1 : HistogramBins;
            var edges = Enumerable.Range(0, bins + 1).Select(k => k == bins ? max : min + ((max - min) * k / bins)).ToArray();
            var d = $"{Identifier(profiles[c].Name)}::DOUBLE";
            for (var k = 0; k < bins; k++)
            {
                var upper = k == bins - 1 ? $"{d} <= {Number(edges[k + 1])}" : $"{d} < {Number(edges[k + 1])}";
                select.Add($"count(*) FILTER (WHERE {d} >= {Number(edges[k])} AND {upper})");
            }

            binned.Add((c, edges));
        }

        if (binned.Count == 0)
        {
            return;
        }

        Query(connection, "SELECT " + string.Join(", ", select) + " FROM src", reader =>
        {
            reader.Read();
            var i = 0;
            foreach (var (index, edges) in binned)
            {
                var counts = new long[edges.Length - 1];
                for (var k = 0; k < counts.Length; k++)
                {
                    counts[k] = Int(reader, i++);
                }

                profiles[index] = profiles[index] with { Histogram = new Histogram(edges, counts) };
            }

            return binned.Count;
        });
    }

    private static ColumnProfile WithTopValues(DuckDBConnection connection, ColumnProfile profile)
    {
        var q = Identifier(profile.Name);
        var top = Query(connection, string.Create(CultureInfo.InvariantCulture,
            $"SELECT {q}::VARCHAR AS value, count(*) AS n FROM src WHERE {q} IS NOT NULL GROUP BY ALL ORDER BY n DESC, value LIMIT {TopValueCount}"), reader =>
        {
            var values = new List<ValueCount>();
            while (reader.Read())
            {
                values.Add(new ValueCount(reader.GetString(0), Int(reader, 1)));
            }

            return values;
        });

        return profile with { TopValues = top, OtherCount = profile.Count - top.Sum(value => value.Count) };
    }

    private static string KindOf(string type)
    {
        var upper = type.ToUpperInvariant();
        if (upper.StartsWith("DECIMAL", StringComparison.Ordinal) || upper is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "HUGEINT"
                or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT" or "UHUGEINT" or "FLOAT" or "DOUBLE" or "REAL")
        {
            return "numeric";
        }

        if (upper is "DATE" or "TIME" or "INTERVAL" || upper.StartsWith("TIMESTAMP", StringComparison.Ordinal))
        {
            return "datetime";
        }

        return upper switch
        {
            "VARCHAR" => "categorical",
            "BOOLEAN" => "boolean",
            _ => "other",
        };
    }

    private static string? Text(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

}
