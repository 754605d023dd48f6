using System.Data.Common;
using System.Globalization;
using Ballast.Datasets;
using Ballast.Storage;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// Infers a suite from reference data: the type as read; <c>required</c> when the reference has no missing values,
/// else <c>max_null_rate</c> at the reference's rate; <c>min</c>/<c>max</c> from the range (widened by the margin,
/// outward to whole numbers for integers); <c>allowed</c> for low-cardinality text and booleans (at most <see cref="InferenceOptions.MaxCategories"/> values, each seen twice on average, so that free text is not taken for categories); <c>unique</c> for
/// text columns and dense integer columns (keys) whose every value differs (in more rows than <see cref="InferenceOptions.MaxCategories"/>, so that a small reference does not make every column an identifier). Regexes are never inferred.
/// </summary>
public static class ExpectationInference
{
    /// <summary>Infers from a CSV, TSV or Parquet file, with DuckDB aggregates (one pass, and a grouped query per categorical column).</summary>
    public static ExpectationSuite FromFile(string path, InferenceOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        options = Checked(options);
        using var file = DataFile.Open(path, "reference");
        try
        {
            return FromTable(file.Connection, DataFile.Table, $"the reference file {path}", options, cancellationToken);
        }
        catch (DuckDBException exception)
        {
            throw new ExpectationSuiteException($"cannot read the reference file {path}: {DuckDbSql.FirstLine(exception.Message)}", exception);
        }
    }

    private static ExpectationSuite FromTable(DuckDBConnection connection, string table, string what, InferenceOptions options, CancellationToken cancellationToken)
    {
        var columns = Query(connection, $"DESCRIBE {table}", reader =>
        {
            var list = new List<(string Name, string Type)>();
            while (reader.Read())
            {
                list.Add((reader.GetString(0), reader.GetString(1)));
            }

            return list;
        });
        var select = new List<string> { "count(*)" };
        foreach (var (name, type) in columns)
        {
            var q = DuckDbSql.Identifier(name);
            var v = DuckDbSql.IsFloat(type) ? $"(CASE WHEN isnan({q}) THEN NULL ELSE {q} END)" : q;
            select.Add($"count({v})");
            select.Add($"count(DISTINCT {v})");
            select.Add(DuckDbSql.IsNumeric(type) ? $"min(CAST({v} AS DOUBLE))" : "NULL");
            select.Add(DuckDbSql.IsNumeric(type) ? $"max(CAST({v} AS DOUBLE))" : "NULL");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var result = new Dictionary<string, ColumnExpectations>(StringComparer.Ordinal);
        var stats = Query(connection, $"SELECT {string.Join(", ", select)} FROM {table}", reader =>
        {
            reader.Read();
            var rows = Int(reader, 0);
            var list = new List<(long Count, long Distinct, double? Min, double? Max)>();
            for (var i = 0; i < columns.Count; i++)
            {
                list.Add((Int(reader, 1 + (4 * i)), Int(reader, 2 + (4 * i)), Double(reader, 3 + (4 * i)), Double(reader, 4 + (4 * i))));
            }

            return (rows, list);
        });

        if (stats.rows == 0)
        {
            throw NoRows(what, columns.Select(column => column.Name));
        }

        for (var i = 0; i < columns.Count; i++)
        {
            var (name, type) = columns[i];
            var (count, distinct, min, max) = stats.list[i];
            var kind = DuckDbSql.IsInteger(type) ? ColumnTypes.Integer : DuckDbSql.IsNumeric(type) ? ColumnTypes.Number : DuckDbSql.IsBoolean(type) ? ColumnTypes.Boolean : DuckDbSql.IsText(type) ? ColumnTypes.String : null;
            IReadOnlyList<string>? allowed = null;
            if (kind is ColumnTypes.String or ColumnTypes.Boolean && distinct > 0 && distinct <= options.MaxCategories && distinct * 2 <= count)
            {
                cancellationToken.ThrowIfCancellationRequested();
                allowed = Query(connection, $"SELECT DISTINCT CAST({DuckDbSql.Identifier(name)} AS VARCHAR) AS quality_value FROM {table} WHERE {DuckDbSql.Identifier(name)} IS NOT NULL ORDER BY quality_value", reader =>
                {
                    var values = new List<string>();
                    while (reader.Read())
                    {
                        values.Add(reader.GetString(0));
                    }

                    // A boolean column's values are written back as booleans, not as the text they are matched as.
                    return kind == ColumnTypes.Boolean ? ValueList.Booleans(values) : (IReadOnlyList<string>)values;
                });
            }

            result[name] = Column(kind, stats.rows, count, distinct, min, max, allowed, options);
        }

        return new ExpectationSuite(result);
    }

    /// <summary>Infers from the profile of a dataset version's table (<c>ballast data add</c> computed it): same rules, categories from its top values when they are all of them.</summary>
    public static ExpectationSuite FromProfile(TableProfile table, InferenceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        options = Checked(options);
        if (table.Error is { } error)
        {
            throw new ExpectationSuiteException($"the profile of {table.Path} has no columns: {error}");
        }

        if (table.Rows == 0)
        {
            throw NoRows($"the profile of {table.Path}", table.Columns.Select(column => column.Name));
        }

        var result = new Dictionary<string, ColumnExpectations>(StringComparer.Ordinal);
        foreach (var column in table.Columns)
        {
            var type = column.Type;
            var kind = DuckDbSql.IsInteger(type) ? ColumnTypes.Integer : DuckDbSql.IsNumeric(type) ? ColumnTypes.Number : DuckDbSql.IsBoolean(type) ? ColumnTypes.Boolean : DuckDbSql.IsText(type) ? ColumnTypes.String : null;
            var complete = column.TopValues is { } top && (column.OtherCount ?? 0) == 0 && top.Count == column.Distinct;
            IReadOnlyList<string>? allowed = kind is ColumnTypes.String or ColumnTypes.Boolean && column.Distinct > 0 && column.Distinct <= options.MaxCategories && column.Distinct * 2 <= column.Count && complete
                ? column.TopValues!.Select(value => value.Value).Order(StringComparer.Ordinal).ToList()
                : null;
            allowed = allowed is not null && kind == ColumnTypes.Boolean ? ValueList.Booleans(allowed) : allowed;
            // The profile's distinct count is an estimate: uniqueness is left to file inference, which counts exactly.
            result[column.Name] = Column(kind, table.Rows, column.Count, 0, column.Min, column.Max, allowed, options);
        }

        return new ExpectationSuite(result);
    }

    private static ColumnExpectations Column(string? kind, long rows, long count, long distinct, double? min, double? max, IReadOnlyList<string>? allowed, InferenceOptions options)
    {
        var nulls = rows - count;
        var column = new ColumnExpectations(Type: kind, Allowed: allowed);
        column = nulls == 0 && rows > 0
            ? column with { Required = true }
            : column with { MaxNullRate = rows == 0 ? 0 : Math.Round((double)nulls / rows, 6, MidpointRounding.ToPositiveInfinity) };
        if (kind is ColumnTypes.Integer or ColumnTypes.Number && min is { } low && max is { } high && double.IsFinite(low) && double.IsFinite(high))
        {
            var pad = (high - low) * options.Margin;
            if (pad > 0)
            {
                // 12 significant digits: 0.1 - 0.08 is written 0.02, not 0.01999999999999999 (the margin dwarfs the difference).
                (low, high) = (Significant(low - pad), Significant(high + pad));
            }

            if (kind == ColumnTypes.Integer)
            {
                (low, high) = (Math.Floor(low), Math.Ceiling(high));
            }

            column = column with { Min = low, Max = high };
        }

        // Every value differs: an identifier. Integers must also be dense (a key, range under twice the rows), or a small
        // reference would call every measurement (ages, amounts) unique.
        var key = kind == ColumnTypes.String || (kind == ColumnTypes.Integer && max - min + 1 < 2.0 * count);
        if (key && allowed is null && count > options.MaxCategories && distinct == count && nulls == 0)
        {
            column = column with { Unique = true };
        }

        return column;
    }

    /// <summary>
    /// Reference data with columns but no rows: no statistic (a null rate, a range, categories) can be inferred from it,
    /// and a suite of types alone would look inferred when it is not, so it is refused.
    /// </summary>
    private static ExpectationSuiteException NoRows(string what, IEnumerable<string> columns) =>
        new($"{what} has no rows to infer from (only a header: {string.Join(", ", columns)}); infer from data with rows, or write the suite by hand");

    private static double Significant(double value) => double.Parse(value.ToString("G12", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static InferenceOptions Checked(InferenceOptions? options)
    {
        options ??= new InferenceOptions();
        return options.Validate() is { Count: > 0 } problems ? throw new ExpectationSuiteException(ProblemList.Join(problems)) : options;
    }
}
