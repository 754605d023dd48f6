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
/// and the raw numbers only for the methods that need them (KS, Wasserstein, …), which are then sorted by radix on
/// worker threads while DuckDB reads the next column. Missing values (NULL, NaN, ±∞) are left out, as Evidently does.
/// A CSV is parsed once into a scratch database under a memory limit, so memory stays bounded for any file size.
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
            throw new DriftInputException(string.Join("; ", problems));
        }

        var scratch = Path.Combine(Path.GetTempPath(), "ballast-drift-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            using var connection = new DuckDBConnection("Data Source=" + Path.Combine(scratch, "drift.duckdb"));
            connection.Open();
            Execute(connection, string.Create(CultureInfo.InvariantCulture,
                $"SET memory_limit = '{options.MemoryLimitMegabytes}MB'; SET threads = {options.Threads}; SET preserve_insertion_order = false; SET temp_directory = {Literal(scratch)};"));
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

            var binned = _columns.Where(column => column is { Type: FeatureType.Numerical, NeedsValues: false }).ToList();
            ReadHistograms(binned);
            var results = new FeatureDrift?[_columns.Count];
            var distributions = new FeatureDistribution?[_columns.Count];
            foreach (var column in _columns.Where(column => !column.NeedsValues))
            {
                (results[column.Index], distributions[column.Index]) = Evaluate(column);
            }

            ReadValuesAndEvaluate(results, distributions);
            var result = DriftResult.Of(results.Select(feature => feature!).ToList(), options.DatasetDriftShare);
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
                throw new DriftInputException(string.Join("; ", problems));
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

        private void Choose(Column column)
        {
            var distinct = column.Categories?.Count ?? long.MaxValue;
            var method = options.ChosenMethod(column.Name, column.Type) ?? DriftMethods.Auto(column.Type, column.ReferenceCount, distinct);
            if (!method.CanCompare(column.Type))
            {
                throw new DriftInputException($"method '{method.Name}' does not apply to the {column.Type.ToString().ToLowerInvariant()} column '{column.Name}'");
            }

            column.Method = method;
            column.Threshold = options.ThresholdFor(column.Name);
            var needs = ColumnDriftDetector.Needs(method, column.Type, column.ReferenceDistinct);
            column.NeedsValues = needs.HasFlag(DriftInputs.Values) || needs.HasFlag(DriftInputs.DistinctBins);
            if (needs.HasFlag(DriftInputs.Categories) && column.Categories is null)
            {
                // A many-valued number compared value by value (chi-square on measurements, say): count from the values.
                column.NeedsValues = column.Type == FeatureType.Numerical || column.NeedsValues;
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
        /// The raw numbers of every column whose method needs them, read one column at a time; sorting, binning and
        /// the method itself run on a worker while the next column is read, at most two columns in flight.
        /// </summary>
        private void ReadValuesAndEvaluate(FeatureDrift?[] results, FeatureDistribution?[] distributions)
        {
            using var inFlight = new SemaphoreSlim(2);
            var work = new List<Task>();
            try
            {
                foreach (var column in _columns.Where(column => column.NeedsValues))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    inFlight.Wait(cancellationToken);
                    double[] referenceValues, currentValues;
                    try
                    {
                        referenceValues = ReadValues(column, Reference, column.ReferenceCount);
                        currentValues = ReadValues(column, Current, column.CurrentCount);
                    }
                    catch
                    {
                        inFlight.Release();
                        throw;
                    }

                    work.Add(Task.Run(() => SortAndEvaluate(column, referenceValues, currentValues, results, distributions, inFlight), CancellationToken.None));
                }
            }
            catch
            {
                // Let the columns in flight finish before the semaphore and the connection go away.
                foreach (var task in work)
                {
                    ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
                }

                throw;
            }

            try
            {
                Task.WaitAll(work, CancellationToken.None);
            }
            catch (AggregateException exception) when (exception.InnerExceptions.Count > 0)
            {
                throw exception.InnerExceptions[0] is ArgumentException argument
                    ? new DriftInputException(argument.Message, argument)
                    : exception.InnerExceptions[0];
            }
        }

        private static void SortAndEvaluate(Column column, double[] referenceValues, double[] currentValues, FeatureDrift?[] results, FeatureDistribution?[] distributions, SemaphoreSlim inFlight)
        {
            try
            {
                RadixSort.Sort(referenceValues);
                RadixSort.Sort(currentValues);
                column.ReferenceValues = referenceValues;
                column.CurrentValues = currentValues;
                // From the values rather than DuckDB's parallel aggregates, whose last digits depend on the thread split.
                column.ReferenceSummary = SampleSummary.FromValues(referenceValues);
                column.CurrentSummary = SampleSummary.FromValues(currentValues);
                column.Bins = HistogramBins.Sturges(column.Min, column.Max, column.ReferenceCount + column.CurrentCount);
                column.Histogram = BinnedCounts.OfSorted(column.Bins, referenceValues, currentValues);
                if (column.Categories is null && (column.ReferenceDistinct <= DriftDefaults.BinnedAbove || column.Method!.Needs.HasFlag(DriftInputs.Categories)))
                {
                    column.Categories = DriftColumn.NumberCategories(referenceValues, currentValues);
                }

                (results[column.Index], distributions[column.Index]) = Evaluate(column);
            }
            finally
            {
                // The raw numbers are only needed for the method; keep memory to the columns in flight.
                column.ReferenceValues = column.CurrentValues = null;
                inFlight.Release();
            }
        }

        private double[] ReadValues(Column column, string table, long count)
        {
            var values = new double[count];
            return Query($"SELECT v FROM (SELECT {column.ValueSql} AS v FROM {table}) WHERE v IS NOT NULL", reader =>
            {
                var i = 0;
                while (reader.Read())
                {
                    values[i++] = reader.GetDouble(0);
                }

                return i == values.Length ? values : throw new InvalidOperationException($"column '{column.Name}' changed while it was read ({i} values, {count} counted).");
            });
        }

        private static (FeatureDrift Drift, FeatureDistribution Distribution) Evaluate(Column column)
        {
            var input = new DriftColumn
            {
                Name = column.Name,
                Type = column.Type,
                ReferenceCount = column.ReferenceCount,
                CurrentCount = column.CurrentCount,
                ReferenceDistinct = column.ReferenceDistinct,
                Distinct = column.Categories?.Count,
                ReferenceValues = column.ReferenceValues,
                CurrentValues = column.CurrentValues,
                ReferenceSummary = column.ReferenceSummary,
                CurrentSummary = column.CurrentSummary,
                Categories = column.Categories,
                Histogram = column.Histogram,
                DistinctHistogram = column.Method == DriftMethods.Hellinger && column.Type == FeatureType.Numerical ? DistinctHistogram(column) : null,
            };

            FeatureDrift drift;
            try
            {
                drift = ColumnDriftDetector.Evaluate(input, column.Method!, column.Threshold);
            }
            catch (ArgumentException exception)
            {
                throw new DriftInputException($"column '{column.Name}': {exception.Message.TrimEnd('.')}", exception);
            }

            return (drift, Distribution(column));
        }

        private static BinnedCounts DistinctHistogram(Column column)
        {
            var categories = column.Categories ?? DriftColumn.NumberCategories(column.ReferenceValues!, column.CurrentValues!);
            var bins = HistogramBins.Sturges(column.Min, column.Max, categories.Count);
            return BinnedCounts.OfSorted(bins, column.ReferenceValues!, column.CurrentValues!);
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

        public DriftMethod? Method { get; set; }

        public double? Threshold { get; set; }

        public bool NeedsValues { get; set; }

        public CategoryCounts? Categories { get; set; }

        public HistogramBins? Bins { get; set; }

        public BinnedCounts? Histogram { get; set; }

        public double[]? ReferenceValues { get; set; }

        public double[]? CurrentValues { get; set; }
    }

    private static bool IsNumeric(string type)
    {
        var upper = type.ToUpperInvariant();
        return upper.StartsWith("DECIMAL", StringComparison.Ordinal) || upper is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "HUGEINT"
            or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT" or "UHUGEINT" or "FLOAT" or "DOUBLE" or "REAL";
    }

    private static string Short(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

}
