using System.Data.Common;
using System.Globalization;
using Ballast.Storage;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// Checks a suite against a table with DuckDB doing the work: one aggregate pass counts every expectation's
/// unexpected rows (<c>count(*) FILTER (WHERE …)</c>), then one small grouped query per failed expectation finds its most
/// frequent offending values, and one per <c>unique</c> column counts duplicated rows. Nothing is read row by row in C#.
/// <see cref="Validate(DuckDBConnection, string, ExpectationSuite, CancellationToken)"/> is the entry point for monitors
/// (any query over a window of the prediction log); <see cref="ValidateFile"/> serves <c>ballast validate</c>.
/// </summary>
public static class ExpectationValidator
{
    /// <summary>Offending values reported per failed expectation.</summary>
    public const int MaxExamples = 5;

    /// <summary>Validates a CSV, TSV or Parquet file. Unreadable files and unusable suites are <see cref="ExpectationSuiteException"/>s.</summary>
    public static ValidationResult ValidateFile(string path, ExpectationSuite suite, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        Check(suite);
        using var file = DataFile.Open(path, "data");
        return Validate(file.Connection, $"SELECT * FROM {DataFile.Table}", suite, cancellationToken);
    }

    /// <summary>
    /// Validates the rows of <paramref name="query"/> (a DuckDB <c>SELECT</c>, e.g. one window of a view over the
    /// prediction log with the inputs as columns) against <paramref name="suite"/>. Columns the suite names but the query
    /// lacks fail an <c>exists</c> expectation and are not checked further.
    /// </summary>
    public static ValidationResult Validate(DuckDBConnection connection, string query, ExpectationSuite suite, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(query);
        Check(suite);
        try
        {
            return new Run(connection, query, suite, cancellationToken).Execute();
        }
        catch (DuckDBException exception)
        {
            throw new ExpectationSuiteException($"cannot validate: {DuckDbSql.FirstLine(exception.Message)}", exception);
        }
    }

    private static void Check(ExpectationSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (suite.Validate() is { Count: > 0 } problems)
        {
            throw new ExpectationSuiteException("invalid expectations: " + ProblemList.Join(problems));
        }
    }

    /// <summary>One expectation of a column present in the data, and the SQL that finds its unexpected rows.</summary>
    /// <remarks>
    /// A multicolumn expectation has its <see cref="Group"/>: the value SQL of each column, <see cref="Skipped"/> the rows
    /// its ignore_row_if leaves out, and its own <see cref="Mostly"/>; its <see cref="ValueSql"/> is the row's values as
    /// "(a, b, c)", NULL in the rows left out (so counting it counts the rows checked). A column pair has its
    /// <see cref="Name"/> when its kind was written as a list (<c>greater_than[signup]</c>); <see cref="Expectation"/> is
    /// what its result is called.
    /// </remarks>
    private sealed record Planned(string Column, string Kind, string ValueSql, string? UnexpectedSql, string? ObservedSql, string Type,
        IReadOnlyList<string>? Group = null, string? Skipped = null, double? Mostly = null, string? Name = null)
    {
        public string Expectation => Name ?? Kind;
    }

    private sealed class Run(DuckDBConnection connection, string query, ExpectationSuite suite, CancellationToken cancellationToken)
    {
        private readonly string _source = $"({query}) AS quality_rows";

        public ValidationResult Execute()
        {
            var types = Query($"DESCRIBE {query}", reader =>
            {
                var columns = new Dictionary<string, string>(StringComparer.Ordinal);
                while (reader.Read())
                {
                    columns[reader.GetString(0)] = reader.GetString(1);
                }

                return columns;
            });

            var planned = new List<Planned>();
            var missingColumns = new HashSet<string>(StringComparer.Ordinal);
            // Pair expectations whose other column the data lacks: they fail on every row, as a missing column does.
            var missingOthers = new Dictionary<(string, string), ExpectationResult>();
            foreach (var (column, expectations) in suite.Columns)
            {
                if (!types.TryGetValue(column, out var type))
                {
                    missingColumns.Add(column);
                    continue;
                }

                CheckRegex(column, expectations);
                foreach (var kind in expectations.Kinds().Where(kind => !ExpectationKinds.IsPair(kind)))
                {
                    planned.Add(Plan(column, kind, expectations, type));
                }

                // One per other column: a kind written as a list checks (and reports) each pair on its own.
                foreach (var pair in expectations.Pairs())
                {
                    if (types.TryGetValue(pair.Other, out var otherType))
                    {
                        planned.Add(PlanPair(column, pair, expectations, type, otherType));
                    }
                    else
                    {
                        missingOthers[(column, pair.Expectation)] = new ExpectationResult(column, pair.Expectation, false, null, 0, 0, [], $"no column '{pair.Other}' (the data has {string.Join(", ", types.Keys)})");
                    }
                }
            }

            // Multicolumn expectations naming a column the data lacks fail on every row, as a missing column does.
            var missingMulti = new Dictionary<int, ExpectationResult>();
            for (var i = 0; i < suite.Multicolumn.Count; i++)
            {
                var multi = suite.Multicolumn[i];
                var absent = multi.Columns.Where(name => !types.ContainsKey(name)).Select(name => $"'{name}'").ToList();
                if (absent.Count > 0)
                {
                    missingMulti[i] = new ExpectationResult(multi.Name, multi.Kind!, false, null, 0, 0, [], $"no column {string.Join(", ", absent)} (the data has {string.Join(", ", types.Keys)})", multi.Mostly);
                }
                else
                {
                    planned.Add(PlanMulticolumn(multi, types));
                }
            }

            var select = new List<string> { "count(*)" };
            foreach (var item in planned)
            {
                select.Add(item.UnexpectedSql is null ? "NULL" : $"count(*) FILTER (WHERE {item.UnexpectedSql})");
                select.Add($"count({item.ValueSql})");
                select.Add(item.ObservedSql ?? "NULL");
            }

            // Rows breaking any row-level expectation (required, type, min, max, allowed, regex; unique and max_null_rate are about the table).
            var rowChecks = planned.Select(item => item.Kind == ExpectationKinds.Required ? $"{item.ValueSql} IS NULL" : item.UnexpectedSql is { } sql ? $"coalesce(({sql}), false)" : null)
                .OfType<string>().ToList();
            select.Add(rowChecks.Count == 0 ? "0" : $"count(*) FILTER (WHERE {string.Join(" OR ", rowChecks)})");
            long rows = 0;
            long failing = 0;
            var measured = Query($"SELECT {string.Join(", ", select)} FROM {_source}", reader =>
            {
                reader.Read();
                rows = Int(reader, 0);
                var values = new List<(long Unexpected, long Present, double? Observed)>();
                for (var i = 0; i < planned.Count; i++)
                {
                    values.Add((Int(reader, 1 + (3 * i)), Int(reader, 2 + (3 * i)), Double(reader, 3 + (3 * i))));
                }

                failing = Int(reader, 1 + (3 * planned.Count));
                return values;
            });

            var byColumn = new Dictionary<(string, string), ExpectationResult>();
            for (var i = 0; i < planned.Count; i++)
            {
                byColumn[(planned[i].Column, planned[i].Expectation)] = Evaluate(planned[i], rows, measured[i].Unexpected, measured[i].Present, measured[i].Observed);
            }

            var ordered = new List<ExpectationResult>();
            if (suite.Rows is { } count)
            {
                // Table-level: observed is the row count; no row is "unexpected".
                ordered.Add(new ExpectationResult("", ExpectationKinds.RowCount, count.Holds(rows), rows, 0, 0, []));
            }

            foreach (var column in suite.Columns.Keys)
            {
                if (missingColumns.Contains(column))
                {
                    ordered.Add(new ExpectationResult(column, ExpectationKinds.Exists, false, null, rows, rows == 0 ? 0 : 100, [],
                        $"no column '{column}' (the data has {string.Join(", ", types.Keys)})"));
                    continue;
                }

                foreach (var expectation in suite.Columns[column].Expectations())
                {
                    ordered.Add(missingOthers.TryGetValue((column, expectation), out var missing)
                        ? missing with { UnexpectedCount = rows, UnexpectedPercent = rows == 0 ? 0 : 100 }
                        : byColumn[(column, expectation)]);
                }
            }

            for (var i = 0; i < suite.Multicolumn.Count; i++)
            {
                var multi = suite.Multicolumn[i];
                ordered.Add(missingMulti.TryGetValue(i, out var missing)
                    ? missing with { UnexpectedCount = rows, UnexpectedPercent = rows == 0 ? 0 : 100 }
                    : byColumn[(multi.Name, multi.Kind!)]);
            }

            var allFail = missingColumns.Count > 0 || missingOthers.Count > 0 || missingMulti.Count > 0;
            return new ValidationResult(ordered.All(result => result.Success), rows, ordered, allFail ? rows : failing);
        }

        private ExpectationResult Evaluate(Planned item, long rows, long unexpected, long present, double? observed)
        {
            if (item.Group is not null)
            {
                // The rows checked are those ignore_row_if keeps (GE's filtered_row_count), counted as "present".
                return item.Kind == ExpectationKinds.Unique
                    ? CompoundUnique(item, present)
                    : new ExpectationResult(item.Column, item.Kind, ExpectationResult.Holds(unexpected, present, item.Mostly), null, unexpected, Percent(unexpected, present),
                        unexpected > 0 ? Examples(item.ValueSql, item.UnexpectedSql!) : [], null, item.Mostly);
            }

            var expectations = suite.Columns[item.Column];
            var nulls = rows - present;
            if (ExpectationKinds.IsAggregate(item.Kind))
            {
                return Aggregate(item, expectations, present, observed);
            }

            switch (item.Kind)
            {
                case ExpectationKinds.Required:
                    // GE's expect_column_values_to_not_be_null: with mostly, (rows - missing) / rows >= mostly, over all rows.
                    var share = expectations.MostlyFor(item.Kind);
                    return new ExpectationResult(item.Column, item.Kind, ExpectationResult.Holds(nulls, rows, share), nulls, nulls, Percent(nulls, rows), [], null, share);
                case ExpectationKinds.MaxNullRate:
                    var rate = rows == 0 ? 0 : (double)nulls / rows;
                    return new ExpectationResult(item.Column, item.Kind, rate <= expectations.MaxNullRate!.Value, rate, nulls, Percent(nulls, rows), []);
                case ExpectationKinds.Unique:
                    return Unique(item, present, observed, expectations.MostlyFor(item.Kind));
            }

            var examples = unexpected > 0 ? Examples(item.ValueSql, item.UnexpectedSql!) : [];
            var text = item.Kind == ExpectationKinds.Type ? item.Type : null;
            var value = item.Kind is ExpectationKinds.Min or ExpectationKinds.Max ? observed : null;
            if (item.Kind is ExpectationKinds.Min or ExpectationKinds.Max)
            {
                (value, text) = MinMaxObserved(item, expectations, observed);
            }

            // The share is of the rows checked: the present values (a pair: the rows ignore_row_if keeps), as in GE.
            var mostly = expectations.MostlyFor(item.Kind);
            return new ExpectationResult(item.Column, item.Expectation, ExpectationResult.Holds(unexpected, present, mostly), value, unexpected, Percent(unexpected, present), examples, text, mostly);
        }

        /// <summary>
        /// A column aggregate: its value over the present values within its bounds (GE's column aggregate expectations); no
        /// value (no present value, a stdev of one value) fails, as GE fails an observed value of null. No row is unexpected.
        /// unique_proportion is distinct / present values, 0 with none (GE's <c>column.unique_proportion</c>). A numeric
        /// aggregate of a column that does not hold numbers fails, <c>observed</c> naming its type.
        /// </summary>
        private ExpectationResult Aggregate(Planned item, ColumnExpectations expectations, long present, double? observed)
        {
            var time = item.Kind == ExpectationKinds.Quantiles ? expectations.Quantiles!.IsTime : expectations.Bounds(item.Kind)?.IsTime == true;
            if (time && NotTimes(item) is { } refused)
            {
                return new ExpectationResult(item.Column, item.Kind, false, null, 0, 0, [], refused);
            }

            if (!time && ExpectationKinds.IsNumericAggregate(item.Kind) && !DuckDbSql.IsNumeric(item.Type))
            {
                var hint = DuckDbSql.IsTime(item.Type) && item.Kind is ExpectationKinds.Median or ExpectationKinds.Quantiles
                    ? $" (give its bounds as dates or times, e.g. {(item.Kind == ExpectationKinds.Median ? "median: {min: '2024-01-01'}" : "value_ranges: [['2024-01-01', '2024-03-31']]")})"
                    : "";
                return new ExpectationResult(item.Column, item.Kind, false, null, 0, 0, [],
                    $"column '{item.Column}' is {item.Type}, not numbers; {item.Kind} is computed over numbers{hint}");
            }

            if (item.Kind == ExpectationKinds.Quantiles)
            {
                var ranges = expectations.Quantiles!;
                // A single-precision value as it was sent (FLOAT 7.9 is 7.9), as min and max read it.
                var number = time ? MicrosSql(item.ValueSql, item.Type) : NumberSql(item.ValueSql, item.Type);
                var values = present == 0 ? ranges.Quantiles.Select(_ => (double?)null).ToList() : Quantiles(number, ranges.Quantiles);
                var observedQuantiles = ranges.AllowRelativeError is { } error && present > 0
                    ? WithinError(item.ValueSql, number, ranges, error, present, values)
                    : ranges.Quantiles.Select((q, i) => new ObservedQuantile(q, values[i], ranges.ValueRanges[i].Holds(values[i]))).ToList();
                if (time)
                {
                    observedQuantiles = observedQuantiles.Select(quantile => quantile with { Text = quantile.Value is { } us ? TimeBound.Format((long)us, item.Type) : null }).ToList();
                }

                return new ExpectationResult(item.Column, item.Kind, observedQuantiles.All(quantile => quantile.Success), null, 0, 0, [], Quantiles: observedQuantiles);
            }

            if (time)
            {
                // The median of dates or times in microseconds: the mean of the two middle ones for an even count (as pandas
                // and GE's pandas engine), rounded down to the microsecond.
                var middle = observed is { } us ? Math.Floor(us) : (double?)null;
                return new ExpectationResult(item.Column, item.Kind, expectations.Bounds(item.Kind)!.Holds(middle), null, 0, 0, [],
                    middle is { } at ? TimeBound.Format((long)at, item.Type) : null);
            }

            if (item.Kind == ExpectationKinds.MostCommonValue)
            {
                var modes = MostCommon(item, expectations.MostCommonValue!.ValueSet);
                return new ExpectationResult(item.Column, item.Kind, expectations.MostCommonValue.Holds(modes), null, 0, 0, [], ObservedValues: modes.Select(mode => mode.Value).ToList());
            }

            var value = item.Kind == ExpectationKinds.UniqueProportion ? (present == 0 ? 0 : observed / present) : observed;
            return new ExpectationResult(item.Column, item.Kind, expectations.Bounds(item.Kind)!.Holds(value), value, 0, 0, []);
        }

        /// <summary>
        /// SQL's <c>percentile_disc</c> of each quantile over the present values, as GE's SQL engines compute them: DuckDB's
        /// <c>quantile_disc</c>, which ranks with a DECIMAL quantile exactly (0.56 of 25 values is rank 14, not 15).
        /// </summary>
        private List<double?> Quantiles(string number, IReadOnlyList<double> quantiles)
        {
            var select = string.Join(", ", quantiles.Select(q => $"quantile_disc({number}, {Decimal(q)})"));
            return Query($"SELECT {select} FROM {_source}", reader =>
            {
                reader.Read();
                return Enumerable.Range(0, quantiles.Count).Select(i => Double(reader, i)).ToList();
            });
        }

        /// <summary>
        /// Quantiles with GE's allow_relative_error ε, read as Spark's approxQuantile bound: each holds when a present value of
        /// rank ⌊(q − ε)·n⌋ … ⌈(q + ε)·n⌉ is within its range (the values in between are ordered, so the lowest and the
        /// highest of those ranks decide). The observed value stays the exact quantile.
        /// </summary>
        private List<ObservedQuantile> WithinError(string valueSql, string value, QuantileExpectation ranges, double error, long present, List<double?> exact)
        {
            var ranks = ranges.Quantiles.Select(q => QuantileExpectation.Ranks(q, error, present)).ToList();
            var wanted = string.Join(", ", ranks.SelectMany(rank => new[] { rank.Low, rank.High }).Distinct().Select(rank => rank.ToString(CultureInfo.InvariantCulture)));
            var number = $"CAST({value} AS DOUBLE)";
            var byRank = Query(
                $"SELECT quality_rank, quality_number FROM (SELECT {number} AS quality_number, row_number() OVER (ORDER BY {number}) AS quality_rank FROM {_source} "
                + $"WHERE {valueSql} IS NOT NULL) WHERE quality_rank IN ({wanted})",
                reader =>
                {
                    var values = new Dictionary<long, double>();
                    while (reader.Read())
                    {
                        values[Int(reader, 0)] = reader.GetDouble(1);
                    }

                    return values;
                });
            return ranges.Quantiles.Select((q, i) => new ObservedQuantile(q, exact[i],
                ranges.ValueRanges[i].Overlaps(byRank.GetValueOrDefault(ranks[i].Low, double.NaN), byRank.GetValueOrDefault(ranks[i].High, double.NaN)))).ToList();
        }

        /// <summary>A quantile as a DECIMAL literal (never in exponent form), so that DuckDB ranks with it exactly.</summary>
        private static string Decimal(double q) => ((decimal)q).ToString(CultureInfo.InvariantCulture) is var text && text.Contains('.', StringComparison.Ordinal)
            ? text
            : text + ".0";

        private ExpectationResult Unique(Planned item, long present, double? distinct, double? mostly)
        {
            var (duplicated, examples) = Query(
                $"SELECT CAST(quality_value AS VARCHAR), quality_count FROM (SELECT {item.ValueSql} AS quality_value, count(*) AS quality_count FROM {_source} "
                + $"WHERE {item.ValueSql} IS NOT NULL GROUP BY ALL HAVING count(*) > 1) ORDER BY quality_count DESC, 1",
                reader =>
                {
                    long total = 0;
                    var values = new List<string>();
                    while (reader.Read())
                    {
                        total += Int(reader, 1);
                        if (values.Count < MaxExamples)
                        {
                            values.Add(reader.GetString(0));
                        }
                    }

                    return (total, values);
                });
            // As in GE, every row of a duplicated value is unexpected ([1, 2, 3, 3]: 2 of 4), so mostly is a share of rows, not of values.
            return new ExpectationResult(item.Column, item.Kind, ExpectationResult.Holds(duplicated, present, mostly), distinct, duplicated, Percent(duplicated, present), examples, null, mostly);
        }

        /// <summary>
        /// Great Expectations' <c>expect_compound_columns_to_be_unique</c> over the rows ignore_row_if keeps: every row of a
        /// combination that repeats is unexpected (pandas' <c>duplicated(keep=False)</c>); missing values group together, as
        /// in pandas. Observed: the distinct combinations.
        /// </summary>
        private ExpectationResult CompoundUnique(Planned item, long kept)
        {
            var keys = string.Join(", ", item.Group!);
            var from = $"FROM {_source} WHERE NOT {item.Skipped} GROUP BY {keys}";
            var (combinations, duplicated) = Query(
                $"SELECT count(*), CAST(coalesce(sum(quality_count) FILTER (WHERE quality_count > 1), 0) AS BIGINT) FROM (SELECT count(*) AS quality_count {from})",
                reader =>
                {
                    reader.Read();
                    return (Int(reader, 0), Int(reader, 1));
                });
            var examples = duplicated == 0 ? [] : Query(
                $"SELECT min({item.ValueSql}) AS quality_value, count(*) AS quality_count {from} HAVING count(*) > 1 ORDER BY quality_count DESC, quality_value LIMIT {MaxExamples}",
                reader =>
                {
                    var values = new List<string>();
                    while (reader.Read())
                    {
                        values.Add(reader.GetString(0));
                    }

                    return values;
                });
            return new ExpectationResult(item.Column, item.Kind, ExpectationResult.Holds(duplicated, kept, item.Mostly), combinations, duplicated, Percent(duplicated, kept), examples, null, item.Mostly);
        }

        private List<string> Examples(string valueSql, string unexpectedSql) => Query(
            $"SELECT CAST({valueSql} AS VARCHAR) AS quality_value, count(*) AS quality_count FROM {_source} WHERE {unexpectedSql} GROUP BY ALL ORDER BY quality_count DESC, quality_value LIMIT {MaxExamples}",
            reader =>
            {
                var values = new List<string>();
                while (reader.Read())
                {
                    values.Add(reader.IsDBNull(0) ? "null" : reader.GetString(0));
                }

                return values;
            });

        /// <summary>A regex DuckDB (RE2) cannot compile is the suite's problem, named by its field.</summary>
        private void CheckRegex(string column, ColumnExpectations expectations)
        {
            if (expectations.Regex is not { } regex)
            {
                return;
            }

            try
            {
                Query($"SELECT regexp_matches('', {DuckDbSql.Literal(regex)})", reader => reader.Read());
            }
            catch (DuckDBException exception)
            {
                throw new ExpectationSuiteException($"columns.{column}.regex: '{regex}' is not a regular expression DuckDB (RE2) accepts: {DuckDbSql.FirstLine(exception.Message)}", exception);
            }
        }

        private static Planned Plan(string column, string kind, ColumnExpectations expectations, string type)
        {
            var raw = DuckDbSql.Identifier(column);
            // Missing values are NULL, and NaN in a floating-point column; the value SQL turns both into NULL.
            var v = DuckDbSql.IsFloat(type) ? $"(CASE WHEN isnan({raw}) THEN NULL ELSE {raw} END)" : raw;
            var number = NumberSql(v, type);
            var present = $"{v} IS NOT NULL";
            string? unexpected = null;
            string? observed = null;
            switch (kind)
            {
                case ExpectationKinds.Type:
                    unexpected = $"{present} AND NOT ({TypeCheck(expectations.Type!, type, v, number)})";
                    break;
                case ExpectationKinds.Min when expectations.MinTime is { } from:
                    // Dates and times compare in microseconds since 1970 (text that reads as an ISO date or time counts as it).
                    unexpected = $"{present} AND NOT coalesce({MicrosSql(v, type)} >= {from.Microseconds.ToString(CultureInfo.InvariantCulture)}, false)";
                    observed = $"min({MicrosSql(v, type)})";
                    break;
                case ExpectationKinds.Max when expectations.MaxTime is { } to:
                    unexpected = $"{present} AND NOT coalesce({MicrosSql(v, type)} <= {to.Microseconds.ToString(CultureInfo.InvariantCulture)}, false)";
                    observed = $"max({MicrosSql(v, type)})";
                    break;
                case ExpectationKinds.Min:
                    unexpected = $"{present} AND NOT coalesce({number} >= {DuckDbSql.Number(expectations.Min!.Value)}, false)";
                    observed = $"min({number})";
                    break;
                case ExpectationKinds.Max:
                    unexpected = $"{present} AND NOT coalesce({number} <= {DuckDbSql.Number(expectations.Max!.Value)}, false)";
                    observed = $"max({number})";
                    break;
                case ExpectationKinds.Median when expectations.Bounds(kind)!.IsTime:
                    // The middle date or time, or the mean of the two middle ones (in microseconds) for an even count.
                    observed = $"median(CAST({MicrosSql(v, type)} AS DOUBLE))";
                    break;
                case ExpectationKinds.Allowed:
                    unexpected = $"{present} AND NOT ({InSet(expectations.Allowed!, v, number)})";
                    break;
                case ExpectationKinds.Regex:
                    unexpected = $"{present} AND NOT regexp_matches(CAST({v} AS VARCHAR), {DuckDbSql.Literal(expectations.Regex!)})";
                    break;
                case ExpectationKinds.Unique or ExpectationKinds.DistinctCount or ExpectationKinds.UniqueProportion:
                    // Distinct present values (NaN is missing, so it is not one); unique_proportion divides by the present count.
                    observed = $"count(DISTINCT {v})";
                    break;
                case ExpectationKinds.Mean when DuckDbSql.IsNumeric(type):
                    observed = $"avg({number})";
                    break;
                case ExpectationKinds.Median when DuckDbSql.IsNumeric(type):
                    // The middle value, or the mean of the two middle values for an even count (GE's column.median).
                    observed = $"median({number})";
                    break;
                case ExpectationKinds.Stdev when DuckDbSql.IsNumeric(type):
                    // Sample standard deviation (ddof = 1), NULL for fewer than two values.
                    observed = $"stddev_samp({number})";
                    break;
                case ExpectationKinds.Sum when DuckDbSql.IsNumeric(type):
                    // Summed in the column's own type (exact for integers and decimals), a single-precision value as it was sent
                    // (FLOAT 7.9 is 7.9); NULL with no present value (GE's SQL engines).
                    observed = DuckDbSql.IsSingle(type) ? $"sum({number})" : $"CAST(sum({v}) AS DOUBLE)";
                    break;
            }

            return new Planned(column, kind, v, unexpected, observed, type);
        }

        /// <summary>
        /// A present value as microseconds since 1970-01-01T00:00:00: a time zone column's instant (UTC), a <c>DATE</c> or
        /// <c>TIMESTAMP</c> as written (as UTC, the way a bound without an offset is read), text that reads as an ISO-8601
        /// date or time (with an offset: its instant), else NULL.
        /// </summary>
        private static string MicrosSql(string v, string type) =>
            DuckDbSql.IsInstant(type) ? $"epoch_us({v})"
            : DuckDbSql.IsTime(type) ? $"epoch_us(CAST({v} AS TIMESTAMP))"
            : DuckDbSql.IsText(type) ? $"(CASE WHEN regexp_matches({v}, '[T ][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}([.][0-9]+)?)? *(Z|z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$') "
                + $"THEN epoch_us(TRY_CAST({v} AS TIMESTAMPTZ)) ELSE epoch_us(TRY_CAST({v} AS TIMESTAMP)) END)"
            : "NULL::BIGINT";

        /// <summary>
        /// Why an aggregate with date or time bounds cannot be computed on the column: it holds neither dates nor text, or
        /// some of its text is not an ISO-8601 date or time; null when it can.
        /// </summary>
        private string? NotTimes(Planned item)
        {
            if (DuckDbSql.IsTime(item.Type))
            {
                return null;
            }

            if (!DuckDbSql.IsText(item.Type))
            {
                return $"column '{item.Column}' is {item.Type}, not dates or times; its {item.Kind} bounds are dates";
            }

            var (count, example) = Query(
                $"SELECT count(*), min({item.ValueSql}) FROM {_source} WHERE {item.ValueSql} IS NOT NULL AND {MicrosSql(item.ValueSql, item.Type)} IS NULL",
                reader =>
                {
                    reader.Read();
                    return (Int(reader, 0), reader.IsDBNull(1) ? null : reader.GetString(1));
                });
            return count == 0 ? null : $"column '{item.Column}' has {count} text value{(count == 1 ? "" : "s")} that {(count == 1 ? "is" : "are")} not ISO-8601 dates or times (e.g. '{example}'); {item.Kind} is computed over dates";
        }

        /// <summary>
        /// What min or max observed: the smallest or largest value, a date or time as ISO-8601 text when the bound is one;
        /// with a bound of the other kind (a number for dates, a date for numbers), why every present value failed.
        /// </summary>
        private static (double? Value, string? Text) MinMaxObserved(Planned item, ColumnExpectations expectations, double? observed)
        {
            var bound = item.Kind == ExpectationKinds.Min ? expectations.MinTime : expectations.MaxTime;
            if (bound is null)
            {
                return DuckDbSql.IsTime(item.Type)
                    ? (null, $"column '{item.Column}' is {item.Type}, not numbers; give {item.Kind} as a date or time ({item.Kind}: '2024-01-31')")
                    : (observed, null);
            }

            if (!DuckDbSql.IsTime(item.Type) && !DuckDbSql.IsText(item.Type))
            {
                return (null, $"column '{item.Column}' is {item.Type}, not dates or times; {item.Kind} '{bound.Text}' compares dates");
            }

            return (null, observed is { } us ? TimeBound.Format((long)us, item.Type) : null);
        }

        /// <summary>A present value as a number: numbers as they are, text that reads as one, else NULL (booleans too).</summary>
        private static string NumberSql(string v, string type) =>
            DuckDbSql.IsSingle(type) ? AsSent(v) : DuckDbSql.IsNumeric(type) ? $"CAST({v} AS DOUBLE)" : DuckDbSql.IsBoolean(type) ? "NULL::DOUBLE" : $"TRY_CAST({v} AS DOUBLE)";

        /// <summary>Whether a value is one of <paramref name="values"/>: as text, or numerically for those that are numbers (<c>1</c> matches 1.0 and "1").</summary>
        private static string InSet(IReadOnlyList<string> values, string v, string number)
        {
            var texts = string.Join(", ", values.Select(DuckDbSql.Literal));
            // A whole number a double would round matches by its digits only (a BIGINT column's text is its digits).
            var numbers = values.Select(value => ValueList.TryExactDouble(value, out var n) ? DuckDbSql.Number(n) : null)
                .OfType<string>().ToList();
            return $"CAST({v} AS VARCHAR) IN ({texts})" + (numbers.Count > 0 ? $" OR coalesce({number} IN ({string.Join(", ", numbers)}), false)" : "");
        }

        /// <summary>
        /// Great Expectations' <c>column.most_common_value</c>: every present value tied for the highest count (in value
        /// order), each with whether it is in the set. None when the column has no present value.
        /// </summary>
        private List<(string Value, bool InSet)> MostCommon(Planned item, IReadOnlyList<string> valueSet) => Query(
            $"WITH quality_counts AS (SELECT {item.ValueSql} AS quality_value, count(*) AS quality_count FROM {_source} WHERE {item.ValueSql} IS NOT NULL GROUP BY 1) "
            + $"SELECT CAST(quality_value AS VARCHAR), coalesce({InSet(valueSet, "quality_value", NumberSql("quality_value", item.Type))}, false) FROM quality_counts "
            + "WHERE quality_count = (SELECT max(quality_count) FROM quality_counts) ORDER BY quality_value",
            reader =>
            {
                var modes = new List<(string, bool)>();
                while (reader.Read())
                {
                    modes.Add((reader.GetString(0), reader.GetBoolean(1)));
                }

                return modes;
            });

        /// <summary>
        /// A column pair, row by row: the rows <see cref="ColumnExpectations.PairMissing"/> skips are left out (their value
        /// SQL is NULL, so they are not counted as checked); in the others a missing value on either side fails, and two
        /// present values compare as numbers when both read as numbers, else as text (ISO dates and times in time order).
        /// The value SQL is the pair as text, "(a, b)", for the examples.
        /// </summary>
        private static Planned PlanPair(string column, ColumnPair columnPair, ColumnExpectations expectations, string type, string otherType)
        {
            var kind = columnPair.Kind;
            var (a, numberA) = PairValue(column, type);
            var (b, numberB) = PairValue(columnPair.Other, otherType);
            var skipped = expectations.PairMissing switch
            {
                IgnoreRowIf.EitherValueIsMissing => $"({a} IS NULL OR {b} IS NULL)",
                IgnoreRowIf.Neither => "false",
                _ => $"({a} IS NULL AND {b} IS NULL)",
            };
            var op = kind switch
            {
                ExpectationKinds.GreaterThan => ">",
                ExpectationKinds.GreaterOrEqual => ">=",
                _ => "=",
            };
            // A shifted pair (offset, ratio) compares numbers only, a single-precision value as it was written (7.9, not 7.900000095367432).
            var holds = columnPair.Shift is { } shift
                ? $"{numberA} {op} ({DuckDbSql.Number(shift.Ratio ?? 1)} * {numberB} + {DuckDbSql.Number(shift.Offset ?? 0)})"
                : Compared(op, (a, numberA), (b, numberB));
            var unexpected = $"NOT {skipped} AND NOT coalesce({holds}, false)";
            var pair = $"CASE WHEN {skipped} THEN NULL ELSE '(' || coalesce(CAST({a} AS VARCHAR), 'null') || ', ' || coalesce(CAST({b} AS VARCHAR), 'null') || ')' END";
            return new Planned(column, kind, pair, unexpected, null, type, Name: columnPair.Expectation);
        }

        /// <summary>
        /// A multicolumn expectation: the rows its ignore_row_if leaves out (all / any of the values missing, or none), the
        /// row's values as "(a, b, c)" for the examples, and for sum_to_equal the rows not left out whose values are not all
        /// numbers or do not add up to the total (exactly, as GE compares; a missing value fails, as GE sums without skipping NaN).
        /// </summary>
        private static Planned PlanMulticolumn(MulticolumnExpectation multi, Dictionary<string, string> types)
        {
            var sides = multi.Columns.Select(name => PairValue(name, types[name])).ToList();
            var skipped = multi.Missing switch
            {
                MulticolumnExpectation.AnyValueIsMissing => "(" + string.Join(" OR ", sides.Select(side => $"{side.Value} IS NULL")) + ")",
                MulticolumnExpectation.Never => "false",
                _ => "(" + string.Join(" AND ", sides.Select(side => $"{side.Value} IS NULL")) + ")",
            };
            var values = string.Join(" || ', ' || ", sides.Select(side => $"coalesce(CAST({side.Value} AS VARCHAR), 'null')"));
            var tuple = $"CASE WHEN {skipped} THEN NULL ELSE '(' || {values} || ')' END";
            var group = sides.Select(side => side.Value).ToList();
            if (multi.Kind == ExpectationKinds.Unique)
            {
                return new Planned(multi.Name, ExpectationKinds.Unique, tuple, null, null, "", group, skipped, multi.Mostly);
            }

            if (multi.Kind == ExpectationKinds.UniqueWithinRecord)
            {
                // GE's nunique(dropna=False, axis=1) < the column count: two missing values repeat, a missing and a present one do not.
                var repeats = new List<string>();
                for (var i = 0; i < sides.Count; i++)
                {
                    for (var j = i + 1; j < sides.Count; j++)
                    {
                        var (a, b) = (sides[i], sides[j]);
                        repeats.Add($"({a.Value} IS NULL AND {b.Value} IS NULL) OR coalesce({Compared("=", a, b)}, false)");
                    }
                }

                var repeated = $"NOT {skipped} AND ({string.Join(" OR ", repeats.Select(repeat => $"({repeat})"))})";
                return new Planned(multi.Name, ExpectationKinds.UniqueWithinRecord, tuple, repeated, null, "", group, skipped, multi.Mostly);
            }

            var sum = string.Join(" + ", sides.Select(side => side.Number));
            var unexpected = $"NOT {skipped} AND NOT coalesce(({sum}) = {DuckDbSql.Number(multi.SumToEqual!.Value)}, false)";
            return new Planned(multi.Name, ExpectationKinds.SumToEqual, tuple, unexpected, null, "", group, skipped, multi.Mostly);
        }

        /// <summary>A pair side's value (NaN as NULL) and its number: numbers as they are, text that reads as a number, else NULL.</summary>
        private static (string Value, string Number) PairValue(string column, string type)
        {
            var raw = DuckDbSql.Identifier(column);
            var v = DuckDbSql.IsFloat(type) ? $"(CASE WHEN isnan({raw}) THEN NULL ELSE {raw} END)" : raw;
            var number = DuckDbSql.IsSingle(type) ? AsSent(v) : DuckDbSql.IsNumeric(type) ? $"CAST({v} AS DOUBLE)" : DuckDbSql.IsText(type) ? $"TRY_CAST({v} AS DOUBLE)" : "NULL::DOUBLE";
            return (v, number);
        }

        /// <summary>A plain pair's comparison: as numbers when both sides read as numbers, else as text.</summary>
        private static string Compared(string op, (string Value, string Number) a, (string Value, string Number) b) =>
            $"CASE WHEN {a.Number} IS NOT NULL AND {b.Number} IS NOT NULL THEN {a.Number} {op} {b.Number} ELSE CAST({a.Value} AS VARCHAR) {op} CAST({b.Value} AS VARCHAR) END";

        /// <summary>
        /// A single-precision (FLOAT) value as it was written, through its shortest text: 7.9 is 7.9, not the
        /// 7.900000095367432 it widens to, in every row check and sum, as serving reads an FP32 tensor (<see cref="Runtime.SentNumber"/>).
        /// </summary>
        private static string AsSent(string value) => $"TRY_CAST(CAST({value} AS VARCHAR) AS DOUBLE)";

        /// <summary>Whether a present value can be read as <paramref name="expected"/>; see <see cref="ColumnTypes"/>.</summary>
        private static string TypeCheck(string expected, string type, string v, string number) => expected switch
        {
            ColumnTypes.String => DuckDbSql.IsText(type) ? "true" : "false",
            ColumnTypes.Boolean => DuckDbSql.IsBoolean(type) ? "true" : DuckDbSql.IsText(type) ? $"lower({v}) IN ('true', 'false')" : DuckDbSql.IsNumeric(type) ? $"{number} IN (0, 1)" : "false",
            ColumnTypes.Integer => DuckDbSql.IsInteger(type) ? "true" : DuckDbSql.IsBoolean(type) ? "false" : $"coalesce(isfinite({number}) AND {number} = floor({number}), false)",
            _ => DuckDbSql.IsNumeric(type) ? "true" : DuckDbSql.IsBoolean(type) ? "false" : $"{number} IS NOT NULL",
        };

        private static double Percent(long count, long of) => of == 0 ? 0 : 100.0 * count / of;

        private T Query<T>(string sql, Func<DbDataReader, T> read)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            return read(reader);
        }
    }
}
