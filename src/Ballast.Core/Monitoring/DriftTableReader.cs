using System.Data.Common;
using System.Globalization;
using System.Text;
using Ballast.Datasets;
using Ballast.Statistics;
using Ballast.Statistics.Drift;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Monitoring;

/// <summary>
/// Compares two CSV, TSV or Parquet files column by column with DuckDB doing the scanning: counts, ranges, means,
/// variances and distinct counts in one aggregate pass per file, histograms and per-value counts as grouped queries,
/// and for the methods over sorted values (KS, Wasserstein, Anderson–Darling, …) each column's values in ascending
/// order with their counts per side, streamed from DuckDB's sort (which spills to disk past its memory limit) through
/// one <see cref="EmpiricalCdfScan"/> that computes every such method, the column's bins and its summary at once.
/// Several methods per column share these reads. Missing values (NULL, NaN, ±∞) are left out, as Evidently does. A
/// CSV is parsed once into a scratch database under a memory limit; no column's values are ever held in memory, so
/// memory stays bounded for any number of rows.
/// </summary>
public sealed class DriftTableReader
{
    /// <summary>Charts show at most this many categories; the rest are summed as "(other)".</summary>
    public const int ChartCategories = 20;

    /// <summary>Numerical columns with at most this many distinct values are charted per value rather than per bin.</summary>
    public const int ChartValues = 30;

    private const string Reference = "reference_data";
    private const string Current = "current_data";

    public static DriftReport Compare(string referencePath, string currentPath, DriftOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(referencePath);
        ArgumentNullException.ThrowIfNull(currentPath);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { Count: > 0 } problems)
        {
            throw new DriftInputException(ProblemList.Join(problems));
        }

        var scratch = Path.Combine(Path.GetTempPath(), "ballast-drift-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            using var connection = new DuckDBConnection("Data Source=" + Path.Combine(scratch, "drift.duckdb"));
            connection.Open();
            Configure(connection, options, scratch);
            Load(connection, referencePath, Reference, "reference");
            Load(connection, currentPath, Current, "current");
            cancellationToken.ThrowIfCancellationRequested();
            return new Comparison(connection, options, cancellationToken).Run(referencePath, currentPath);
        }
        catch (DuckDBException exception)
        {
            throw new DriftInputException(FirstLine(exception.Message), exception);
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

    /// <summary>
    /// DuckDB's settings for a comparison: the memory limit (DuckDB's own default is 80% of the machine's memory), the
    /// threads, spilling to the comparison's scratch folder, no insertion order to keep (nothing here reads rows in file
    /// order), and no external file cache: on by default since DuckDB 1.3, it kept an entry per Parquet column chunk
    /// read for the whole run, about 1 MiB per million rows of 20 columns (29 MiB at 30 M rows), memory that grew with
    /// the rows; the files here are local, which the operating system's page cache serves as well.
    /// </summary>
    internal static void Configure(DuckDBConnection connection, DriftOptions options, string scratch) =>
        Execute(connection, string.Create(CultureInfo.InvariantCulture,
            $"SET memory_limit = '{options.MemoryLimitMegabytes}MB'; SET threads = {options.Threads}; SET preserve_insertion_order = false; SET temp_directory = {Literal(scratch)}; SET enable_external_file_cache = false;"));

    private static void Load(DuckDBConnection connection, string path, string table, string side)
    {
        if (!File.Exists(path))
        {
            throw new DriftInputException($"there is no {side} file at {path}");
        }

        var format = DatasetProfiler.FormatOf(path) ?? throw new DriftInputException($"the {side} file {path} is not CSV, TSV or Parquet (by its extension)");
        var full = Path.GetFullPath(path);
        try
        {
            if (format == "parquet")
            {
                Execute(connection, $"CREATE VIEW {table} AS SELECT * FROM read_parquet({Literal(full)})");
                return;
            }

            var csv = new StringBuilder();
            if (format == "tsv")
            {
                csv.Append(", delim = '\\t'");
            }

            csv.Append(path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? ", compression = 'gzip'" : ", compression = 'none'");
            try
            {
                Execute(connection, $"CREATE TABLE {table} AS SELECT * FROM read_csv({Literal(full)}{csv})");
            }
            catch (DuckDBException)
            {
                // Types guessed from the first rows failed further down: sniff the whole file (a second pass).
                Execute(connection, $"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv({Literal(full)}{csv}, sample_size = -1)");
            }
        }
        catch (DuckDBException exception)
        {
            throw new DriftInputException($"cannot read the {side} file {path}: {FirstLine(exception.Message)}", exception);
        }
    }

    /// <summary>One comparison's state: the columns, what each needs, and the work in flight.</summary>
    private sealed class Comparison(DuckDBConnection connection, DriftOptions options, CancellationToken cancellationToken)
    {
        private readonly List<Column> _columns = [];
        private readonly List<SkippedColumn> _skipped = [];

        public DriftReport Run(string referencePath, string currentPath)
        {
            Plan();
            var referenceRows = Aggregate(Reference, reference: true);
            var currentRows = Aggregate(Current, reference: false);
            foreach (var column in _columns)
            {
                if (column.ReferenceCount == 0 || column.CurrentCount == 0)
                {
                    throw new DriftInputException($"column '{column.Name}' has no values in the {(column.ReferenceCount == 0 ? "reference" : "current")} data");
                }
            }

            // Per-value counts decide the automatic method of low-cardinality numbers, so they come first.
            var valued = _columns.Where(column => column.Type == FeatureType.Categorical || column.ReferenceDistinct <= DriftDefaults.BinnedAbove).ToList();
            ReadCategories(valued);
            foreach (var column in _columns)
            {
                Choose(column);
            }

            var binned = _columns.Where(column => column is { Type: FeatureType.Numerical, NeedsScan: false }).ToList();
            ReadHistograms(binned);
            var results = new IReadOnlyList<FeatureDrift>?[_columns.Count];
            var distributions = new FeatureDistribution?[_columns.Count];
            foreach (var column in _columns)
            {
                if (column.NeedsScan)
                {
                    Scan(column);
                }

                (results[column.Index], distributions[column.Index]) = Evaluate(column);
            }

            var result = DriftResult.Of(results.Select(features => features![0]).ToList(), results.SelectMany(features => features!.Skip(1)).ToList(), options.DatasetDriftShare);
            return new DriftReport(referencePath, currentPath, referenceRows, currentRows, result, distributions.Select(distribution => distribution!).ToList(), _skipped);
        }

        /// <summary>Which columns are compared, as what, and the SQL that yields their non-missing values.</summary>
        private void Plan()
        {
            var reference = Describe(Reference);
            var current = Describe(Current).ToDictionary(column => column.Name, column => column.Type, StringComparer.Ordinal);
            var known = reference.Select(column => column.Name).ToHashSet(StringComparer.Ordinal);
            var unknown = options.ColumnMethods.Keys.Concat(options.ColumnThresholds.Keys).Concat(options.Categorical).Concat(options.Numerical)
                .Where(name => !known.Contains(name)).Distinct(StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
            {
                throw new DriftInputException($"no column {string.Join(", ", unknown.Select(name => $"'{name}'"))} in the reference data");
            }

            var missing = reference.Where(column => !current.ContainsKey(column.Name)).Select(column => $"'{column.Name}'").ToList();
            if (missing.Count > 0)
            {
                throw new DriftInputException($"the current data has no column {string.Join(", ", missing)} (the reference has)");
            }

            var problems = new List<string>();
            foreach (var (name, type) in reference)
            {
                var currentType = current[name];
                FeatureType featureType;
                if (options.Categorical.Contains(name, StringComparer.Ordinal))
                {
                    featureType = FeatureType.Categorical;
                }
                else if (options.Numerical.Contains(name, StringComparer.Ordinal))
                {
                    if (!IsNumeric(type) || !IsNumeric(currentType))
                    {
                        problems.Add($"column '{name}' cannot be numerical: it is {type} in the reference and {currentType} in the current data");
                        continue;
                    }

                    featureType = FeatureType.Numerical;
                }
                else if (IsNumeric(type))
                {
                    if (!IsNumeric(currentType))
                    {
                        problems.Add($"column '{name}' is {type} in the reference but {currentType} in the current data; give --categorical {name} to compare it as categories");
                        continue;
                    }

                    featureType = FeatureType.Numerical;
                }
                else if (type is "VARCHAR" or "BOOLEAN")
                {
                    featureType = FeatureType.Categorical;
                }
                else
                {
                    _skipped.Add(new SkippedColumn(name, $"{type} is neither numerical nor categorical; give --categorical {name} to compare its values as categories"));
                    continue;
                }

                var q = Identifier(name);
                var value = featureType == FeatureType.Numerical
                    ? $"CASE WHEN isfinite(CAST({q} AS DOUBLE)) THEN CAST({q} AS DOUBLE) END"
                    : $"CAST({q} AS VARCHAR)";
                _columns.Add(new Column(_columns.Count, name, featureType, value));
            }

            if (problems.Count > 0)
            {
                throw new DriftInputException(ProblemList.Join(problems));
            }

            if (_columns.Count == 0)
            {
                throw new DriftInputException("the reference data has no numerical or categorical column to compare");
            }
        }

        /// <summary>One pass over a file: rows, and per column the non-missing count, distinct count (reference), range, mean and variance (numbers).</summary>
        private long Aggregate(string table, bool reference)
        {
            var select = new List<string> { "count(*)" };
            foreach (var column in _columns)
            {
                var v = $"v{column.Index}";
                select.Add($"count({v})");
                if (reference)
                {
                    select.Add($"count(DISTINCT {v})");
                }

                if (column.Type == FeatureType.Numerical)
                {
                    select.AddRange([$"min({v})", $"max({v})", $"avg({v})", $"var_samp({v})"]);
                }
            }

            var values = string.Join(", ", _columns.Select(column => $"{column.ValueSql} AS v{column.Index}"));
            return Query($"SELECT {string.Join(", ", select)} FROM (SELECT {values} FROM {table})", reader =>
            {
                reader.Read();
                var rows = Int(reader, 0);
                var i = 1;
                foreach (var column in _columns)
                {
                    var count = Int(reader, i++);
                    if (reference)
                    {
                        column.ReferenceCount = count;
                        column.ReferenceDistinct = Int(reader, i++);
                    }
                    else
                    {
                        column.CurrentCount = count;
                    }

                    if (column.Type == FeatureType.Numerical)
                    {
                        var (min, max, mean, variance) = (Double(reader, i++), Double(reader, i++), Double(reader, i++), Double(reader, i++));
                        column.Min = Math.Min(column.Min, min ?? double.PositiveInfinity);
                        column.Max = Math.Max(column.Max, max ?? double.NegativeInfinity);
                        var summary = new SampleSummary(count, mean ?? 0, variance ?? 0);
                        if (reference)
                        {
                            column.ReferenceSummary = summary;
                        }
                        else
                        {
                            column.CurrentSummary = summary;
                        }
                    }
                }

                return rows;
            });
        }

        /// <summary>The column's methods (its own, else every general one for its type, else Evidently's choice) and what they read.</summary>
        private void Choose(Column column)
        {
            var distinct = column.Categories?.Count ?? long.MaxValue;
            var methods = options.ChosenMethods(column.Name, column.Type);
            column.Methods = methods.Count > 0 ? methods : [DriftMethods.Auto(column.Type, column.ReferenceCount, distinct)];
            column.Threshold = options.ThresholdFor(column.Name);
            if (column.Threshold is > 1 and var above && double.IsFinite(above) && column.Methods[0].Kind == DriftScoreKind.PValue)
            {
                throw new DriftInputException(DriftOptions.AboveOne(column.Name, column.Methods[0].Name, above));
            }

            foreach (var method in column.Methods)
            {
                if (!method.CanCompare(column.Type))
                {
                    throw new DriftInputException($"method '{method.Name}' does not apply to the {column.Type.ToString().ToLowerInvariant()} column '{column.Name}'");
                }

                var needs = ColumnDriftDetector.Needs(method, column.Type, column.ReferenceDistinct);
                column.NeedsScan |= needs.HasFlag(DriftInputs.Values) || needs.HasFlag(DriftInputs.DistinctBins);
                if (needs.HasFlag(DriftInputs.Categories) && column.Categories is null)
                {
                    // A many-valued number compared value by value (chi-square on measurements, say): counted by the scan.
                    column.NeedsScan |= column.Type == FeatureType.Numerical;
                    column.CountValues = true;
                }
            }
        }

        /// <summary>Counts per value of every listed column, both files, one grouped query per file.</summary>
        private void ReadCategories(List<Column> columns)
        {
            if (columns.Count == 0)
            {
                return;
            }

            var counts = columns.ToDictionary(column => column.Index, _ => new Dictionary<string, (double Reference, double Current, double Number)>(StringComparer.Ordinal));
            foreach (var (table, reference) in new[] { (Reference, true), (Current, false) })
            {
                var sql = string.Join(" UNION ALL ", columns.Select(column =>
                    $"SELECT {column.Index} AS c, CAST(v AS VARCHAR) AS k, {(column.Type == FeatureType.Numerical ? "v" : "NULL::DOUBLE")} AS x, count(*) AS n FROM (SELECT {column.ValueSql} AS v FROM {table}) WHERE v IS NOT NULL GROUP BY v"));
                Query(sql, reader =>
                {
                    while (reader.Read())
                    {
                        var column = counts[(int)Int(reader, 0)];
                        var number = Double(reader, 2) ?? 0;
                        var key = reader.IsDBNull(2) ? reader.GetString(1) : number.ToString("R", CultureInfo.InvariantCulture);
                        var entry = column.GetValueOrDefault(key, (0, 0, number));
                        column[key] = reference ? (entry.Reference + Int(reader, 3), entry.Current, number) : (entry.Reference, entry.Current + Int(reader, 3), number);
                    }

                    return 0;
                });
            }

            foreach (var column in columns)
            {
                var entries = counts[column.Index];
                var ordered = column.Type == FeatureType.Numerical
                    ? entries.OrderBy(entry => entry.Value.Number).ToList()
                    : entries.OrderBy(entry => entry.Key, StringComparer.Ordinal).ToList();
                column.Categories = new CategoryCounts(ordered.Select(entry => entry.Key).ToList(), [.. ordered.Select(entry => entry.Value.Reference)], [.. ordered.Select(entry => entry.Value.Current)]);
            }
        }

        /// <summary>Counts per Sturges bin (over both files) of every listed numerical column, both files, one grouped query per file.</summary>
        private void ReadHistograms(List<Column> columns)
        {
            if (columns.Count == 0)
            {
                return;
            }

            foreach (var column in columns)
            {
                column.Bins = HistogramBins.Sturges(column.Min, column.Max, column.ReferenceCount + column.CurrentCount);
            }

            var histograms = columns.ToDictionary(column => column.Index, column => (Reference: new double[column.Bins!.Count], Current: new double[column.Bins!.Count]));
            foreach (var (table, reference) in new[] { (Reference, true), (Current, false) })
            {
                var sql = string.Join(" UNION ALL ", columns.Select(column =>
                    $"SELECT {column.Index} AS c, b, count(*) AS n FROM (SELECT {BinSql(column.Bins!)} AS b FROM (SELECT v, {EstimateSql(column.Bins!)} AS i FROM (SELECT {column.ValueSql} AS v FROM {table}) WHERE v IS NOT NULL)) GROUP BY b"));
                Query(sql, reader =>
                {
                    while (reader.Read())
                    {
                        var (referenceCounts, currentCounts) = histograms[(int)Int(reader, 0)];
                        (reference ? referenceCounts : currentCounts)[(int)Int(reader, 1)] += Int(reader, 2);
                    }

                    return 0;
                });
            }

            foreach (var column in columns)
            {
                var (referenceCounts, currentCounts) = histograms[column.Index];
                column.Histogram = new BinnedCounts(column.Bins!, referenceCounts, currentCounts);
            }
        }

        /// <summary>The bin of v estimated from the range (off by at most one where rounding puts v across an edge).</summary>
        private static string EstimateSql(HistogramBins bins) =>
            $"least(greatest(floor((v - {Number(bins.First)}) / ({Number(bins.Last)} - {Number(bins.First)}) * {bins.Count}), 0), {bins.Count - 1})::BIGINT";

        /// <summary>
        /// The bin of v as np.histogram places it: the estimate i, corrected against the edges, which are k·step + first
        /// exactly as <see cref="HistogramBins.Linspace"/> computes them.
        /// </summary>
        private static string BinSql(HistogramBins bins)
        {
            var (first, count) = (Number(bins.First), bins.Count);
            var step = Number((bins.Last - bins.First) / count);
            return string.Create(CultureInfo.InvariantCulture,
                $"CASE WHEN i > 0 AND v < CAST(i AS DOUBLE) * {step} + {first} THEN i - 1 WHEN i < {count - 1} AND v >= CAST(i + 1 AS DOUBLE) * {step} + {first} THEN i + 1 ELSE i END");
        }

        /// <summary>
        /// The column's values of both files in ascending order, each with its count per file, walked once by an
        /// <see cref="EmpiricalCdfScan"/>: the sorted-value methods, the Sturges bins, the summary and (when asked)
        /// the counts per value, with nothing held per row. Mostly distinct values are streamed sorted as they are
        /// (grouping them would only add a hash table as large as the column); repeated ones grouped first. A column
        /// too large for one sort under the memory limit is sorted range by range (<see cref="SortRanges"/>).
        /// </summary>
        private void Scan(Column column)
        {
            var union = $"SELECT v, false AS s FROM (SELECT {column.ValueSql} AS v FROM {Reference}) WHERE v IS NOT NULL "
                + $"UNION ALL SELECT v, true AS s FROM (SELECT {column.ValueSql} AS v FROM {Current}) WHERE v IS NOT NULL";
            var ranges = SortRanges(column, union);
            HistogramBins? distinctBins = null;
            if (column.Methods.Contains(DriftMethods.Hellinger))
            {
                // Hellinger on numbers bins across the distinct values of both files, so it needs their number first
                // (counted per value range, which hold disjoint values, so the hash tables stay as small as the sorts).
                var distinct = column.Categories?.Count
                    ?? ranges.Sum(range => Query($"SELECT count(DISTINCT v) FROM ({union}) {range}", reader => reader.Read() ? Int(reader, 0) : 0));
                distinctBins = HistogramBins.Sturges(column.Min, column.Max, distinct);
            }

            column.Bins = HistogramBins.Sturges(column.Min, column.Max, column.ReferenceCount + column.CurrentCount);
            var countValues = column.Categories is null && (column.ReferenceDistinct <= DriftDefaults.BinnedAbove || column.CountValues);
            var scan = new EmpiricalCdfScan(column.ReferenceCount, column.CurrentCount, column.Bins, distinctBins, countValues);
            var grouped = column.ReferenceDistinct * 2 <= column.ReferenceCount;
            foreach (var range in ranges)
            {
                var sql = grouped
                    ? $"SELECT v, count(*) FILTER (WHERE NOT s), count(*) FILTER (WHERE s) FROM ({union}) {range} GROUP BY v ORDER BY v"
                    : $"SELECT v, s FROM ({union}) {range} ORDER BY v";
                ReadSorted(sql, scan, grouped);
            }

            try
            {
                scan.Complete();
            }
            catch (ArgumentException exception)
            {
                throw new InvalidOperationException($"column '{column.Name}' changed while it was read: {exception.Message}", exception);
            }

            column.Scan = scan;
            // From the walk rather than DuckDB's parallel aggregates, whose last digits depend on the thread split.
            column.ReferenceSummary = scan.ReferenceSummary;
            column.CurrentSummary = scan.CurrentSummary;
            column.Histogram = scan.Histogram;
            column.DistinctHistogram = scan.DistinctHistogram;
            column.Categories ??= scan.Categories;
        }

        /// <summary>
        /// WHERE clauses splitting the column into value ranges of about <see cref="DriftOptions.RowsPerSortRange"/> values
        /// (boundaries from quantiles of a sample; equal values always fall in one range), ascending, so each sort fits
        /// in memory and the ranges one after another are the whole column in order. One range, no clause, when it fits.
        /// </summary>
        private List<string> SortRanges(Column column, string union)
        {
            var ranges = (column.ReferenceCount + column.CurrentCount + options.RowsPerSortRange - 1) / options.RowsPerSortRange;
            if (ranges <= 1)
            {
                return [""];
            }

            var quantiles = string.Join(", ", Enumerable.Range(1, (int)ranges - 1).Select(k => ((double)k / ranges).ToString("R", CultureInfo.InvariantCulture)));
            var boundaries = Query($"SELECT unnest(quantile_disc(v, [{quantiles}])) FROM (SELECT v FROM ({union}) USING SAMPLE reservoir(100000 ROWS) REPEATABLE (42))", reader =>
            {
                var values = new SortedSet<double>();
                while (reader.Read())
                {
                    values.Add(reader.GetDouble(0));
                }

                return values.ToList();
            });
            var clauses = new List<string> { $"WHERE v < {Number(boundaries[0])}" };
            for (var k = 1; k < boundaries.Count; k++)
            {
                clauses.Add($"WHERE v >= {Number(boundaries[k - 1])} AND v < {Number(boundaries[k])}");
            }

            clauses.Add($"WHERE v >= {Number(boundaries[^1])}");
            return clauses;
        }

        /// <summary>Feeds a sorted query's rows (value and side, or value and counts per side) to the walk, streamed.</summary>
        private void ReadSorted(string sql, EmpiricalCdfScan scan, bool grouped) =>
            Query(sql, reader =>
            {
                var rows = 0;
                while (reader.Read())
                {
                    if (grouped)
                    {
                        scan.Add(reader.GetDouble(0), reader.GetInt64(1), reader.GetInt64(2));
                    }
                    else
                    {
                        var current = reader.GetBoolean(1);
                        scan.Add(reader.GetDouble(0), current ? 0 : 1, current ? 1 : 0);
                    }

                    if ((++rows & 0xFFFF) == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                }

                return rows;
            });

        /// <summary>Every method of the column, its first first, and the column's distribution for charts.</summary>
        private static (IReadOnlyList<FeatureDrift> Drifts, FeatureDistribution Distribution) Evaluate(Column column)
        {
            var input = new DriftColumn
            {
                Name = column.Name,
                Type = column.Type,
                ReferenceCount = column.ReferenceCount,
                CurrentCount = column.CurrentCount,
                ReferenceDistinct = column.ReferenceDistinct,
                Distinct = column.Categories?.Count,
                Scan = column.Scan,
                ReferenceSummary = column.ReferenceSummary,
                CurrentSummary = column.CurrentSummary,
                Categories = column.Categories,
                Histogram = column.Histogram,
                DistinctHistogram = column.DistinctHistogram,
            };

            var drifts = new List<FeatureDrift>(column.Methods.Count);
            foreach (var method in column.Methods)
            {
                try
                {
                    // A threshold given for the column (or every column) is its first method's; the others keep their own.
                    drifts.Add(ColumnDriftDetector.Evaluate(input, method, drifts.Count == 0 ? column.Threshold : null));
                }
                catch (ArgumentException exception)
                {
                    throw new DriftInputException($"column '{column.Name}': {exception.Message.TrimEnd('.')}", exception);
                }
            }

            return (drifts, Distribution(column));
        }

        private static FeatureDistribution Distribution(Column column)
        {
            if (column.Type == FeatureType.Numerical && (column.Categories is null || column.Categories.Count > ChartValues) && column.Histogram is { } histogram)
            {
                var edges = histogram.Bins.Edges;
                var labels = Enumerable.Range(0, histogram.Bins.Count).Select(k => $"{Short(edges[k])} – {Short(edges[k + 1])}").ToList();
                return new FeatureDistribution(column.Name, column.Type, true, labels, Shares(histogram.Reference), Shares(histogram.Current), column.ReferenceCount, column.CurrentCount);
            }

            var categories = column.Categories!;
            var (referenceTotal, currentTotal) = (categories.Reference.Sum(), categories.Current.Sum());
            var order = Enumerable.Range(0, categories.Count);
            if (column.Type == FeatureType.Categorical)
            {
                order = order.OrderByDescending(i => (categories.Reference[i] / referenceTotal) + (categories.Current[i] / currentTotal)).ThenBy(i => categories.Keys[i], StringComparer.Ordinal);
            }

            var top = order.Take(ChartCategories).ToList();
            var chartLabels = top.Select(i => categories.Keys[i]).ToList();
            var reference = top.Select(i => categories.Reference[i] / referenceTotal).ToList();
            var current = top.Select(i => categories.Current[i] / currentTotal).ToList();
            if (categories.Count > top.Count)
            {
                chartLabels.Add("(other)");
                reference.Add(Math.Max(0, 1 - reference.Sum()));
                current.Add(Math.Max(0, 1 - current.Sum()));
            }

            return new FeatureDistribution(column.Name, column.Type, false, chartLabels, reference, current, column.ReferenceCount, column.CurrentCount);
        }

        private static List<double> Shares(double[] counts)
        {
            var total = counts.Sum();
            return counts.Select(count => total > 0 ? count / total : 0).ToList();
        }

        private List<(string Name, string Type)> Describe(string table) => Query($"DESCRIBE {table}", reader =>
        {
            var columns = new List<(string, string)>();
            while (reader.Read())
            {
                columns.Add((reader.GetString(0), reader.GetString(1)));
            }

            return columns;
        });

        private T Query<T>(string sql, Func<DbDataReader, T> read)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            // Streamed, not materialized: a column's sorted values come through in chunks, never all at once.
            command.UseStreamingMode = true;
            using var reader = command.ExecuteReader();
            return read(reader);
        }
    }

    /// <summary>A column being compared, filled in as the passes read it.</summary>
    private sealed class Column(int index, string name, FeatureType type, string valueSql)
    {
        public int Index { get; } = index;

        public string Name { get; } = name;

        public FeatureType Type { get; } = type;

        /// <summary>SQL for the column's value with missing values (and, for numbers, NaN and ±∞) as NULL.</summary>
        public string ValueSql { get; } = valueSql;

        public long ReferenceCount { get; set; }

        public long CurrentCount { get; set; }

        public long ReferenceDistinct { get; set; }

        public double Min { get; set; } = double.PositiveInfinity;

        public double Max { get; set; } = double.NegativeInfinity;

        public SampleSummary? ReferenceSummary { get; set; }

        public SampleSummary? CurrentSummary { get; set; }

        /// <summary>The methods to compute, the one reported in <see cref="DriftResult.Features"/> first.</summary>
        public IReadOnlyList<DriftMethod> Methods { get; set; } = [];

        public double? Threshold { get; set; }

        /// <summary>Whether a method reads sorted values (or distinct bins): the column is walked by an <see cref="EmpiricalCdfScan"/>.</summary>
        public bool NeedsScan { get; set; }

        /// <summary>Whether a method counts a many-valued number value by value.</summary>
        public bool CountValues { get; set; }

        public CategoryCounts? Categories { get; set; }

        public HistogramBins? Bins { get; set; }

        public BinnedCounts? Histogram { get; set; }

        public BinnedCounts? DistinctHistogram { get; set; }

        public EmpiricalCdfScan? Scan { get; set; }
    }

    private static bool IsNumeric(string type)
    {
        var upper = type.ToUpperInvariant();
        return upper.StartsWith("DECIMAL", StringComparison.Ordinal) || upper is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "HUGEINT"
            or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT" or "UHUGEINT" or "FLOAT" or "DOUBLE" or "REAL";
    }

    private static string Short(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

}
