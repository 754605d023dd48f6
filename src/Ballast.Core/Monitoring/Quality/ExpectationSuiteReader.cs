using System.Globalization;
using System.Text.Json;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// Reads an <see cref="ExpectationSuite"/> from JSON (a YAML file is turned into the same JSON first). Nothing is
/// dropped: an unknown field or a value of the wrong kind becomes a problem naming its path, listed by
/// <see cref="ExpectationSuite.Validate"/>.
/// </summary>
public static class ExpectationSuiteReader
{
    private static readonly string[] Fields = ["type", "required", "min", "max", "allowed", "max_null_rate", "unique", "regex", "greater_than", "greater_or_equal", "equal_to", "ignore_row_if", "mostly",
        "mean", "median", "stdev", "sum", "unique_proportion", "distinct_count", "quantiles", "most_common_value"];

    /// <summary>
    /// Parses JSON text, strictly: a comment, a trailing comma or any other syntax error is an
    /// <see cref="ExpectationSuiteException"/> naming the line and column (YAML is the format with comments). YAML, flow style included, is read by the
    /// YAML reader and turned into JSON first, so this applies to <c>.json</c> suites only.
    /// </summary>
    public static ExpectationSuite Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json);
            return Read(document.RootElement);
        }
        catch (JsonException exception)
        {
            throw new ExpectationSuiteException($"{Position(json, exception)}: not valid JSON: {JsonErrorText.Reason(exception, "the suite")}");
        }
    }

    /// <summary>Where a syntax error is, as <c>line 3, column 14</c> (both from 1; the column counts characters, not UTF-8 bytes).</summary>
    private static string Position(string json, JsonException exception)
    {
        var line = (int)(exception.LineNumber ?? 0);
        var text = json.Split('\n').ElementAtOrDefault(line) ?? "";
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var column = System.Text.Encoding.UTF8.GetCharCount(bytes, 0, (int)Math.Min(exception.BytePositionInLine ?? 0, bytes.Length)) + 1;
        return string.Create(CultureInfo.InvariantCulture, $"line {line + 1}, column {column}");
    }

    /// <summary>Reads a suite; its <see cref="ExpectationSuite.Problems"/> hold what could not be read.</summary>
    public static ExpectationSuite Read(JsonElement root)
    {
        var problems = new List<string>();
        var columns = new Dictionary<string, ColumnExpectations>(StringComparer.Ordinal);
        if (root.ValueKind != JsonValueKind.Object)
        {
            problems.Add(ExpectationSuite.NotAnObject);
            return new ExpectationSuite(columns) { Problems = problems };
        }

        foreach (var property in root.EnumerateObject())
        {
            if (property.Name is not ("columns" or "rows" or "multicolumn"))
            {
                problems.Add($"{property.Name}: unknown field (known: columns, rows, multicolumn)");
            }
        }

        var multicolumn = root.TryGetProperty("multicolumn", out var multiElement) && multiElement.ValueKind != JsonValueKind.Null
            ? ReadMulticolumn(multiElement, problems)
            : [];

        RowCountExpectation? rows = null;
        if (root.TryGetProperty("rows", out var rowsElement) && rowsElement.ValueKind != JsonValueKind.Null)
        {
            rows = ReadRows(rowsElement, problems);
        }

        // A suite of rows or multicolumn alone needs no columns (when they could not be read, their own problems say so).
        if (!root.TryGetProperty("columns", out var columnsElement) && (rowsElement.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null)
            || multiElement.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null)))
        {
            return new ExpectationSuite(columns) { Problems = problems, Rows = rows, Multicolumn = multicolumn };
        }

        if (columnsElement.ValueKind != JsonValueKind.Object)
        {
            problems.Add("columns: must be an object of column name to expectations");
            return new ExpectationSuite(columns) { Problems = problems, Rows = rows, Multicolumn = multicolumn };
        }

        foreach (var column in columnsElement.EnumerateObject())
        {
            var path = $"columns.{column.Name}";
            if (column.Name.Length == 0)
            {
                problems.Add("columns: a column name cannot be empty");
                continue;
            }

            if (column.Value.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{path}: must be an object of expectations ({string.Join(", ", Fields)})");
                continue;
            }

            if (!columns.TryAdd(column.Name, ReadColumn(column.Value, path, problems)))
            {
                problems.Add($"{path}: appears twice");
            }
        }

        return new ExpectationSuite(columns) { Problems = problems, Rows = rows, Multicolumn = multicolumn };
    }

    /// <summary>The <c>multicolumn</c> list: <c>[{"columns": [a, b], "sum_to_equal": 100, "ignore_row_if": …, "mostly": …}, {"columns": [a, b], "unique": true}]</c>.</summary>
    private static List<MulticolumnExpectation> ReadMulticolumn(JsonElement element, List<string> problems)
    {
        var list = new List<MulticolumnExpectation>();
        if (element.ValueKind != JsonValueKind.Array)
        {
            problems.Add("multicolumn: must be a list of expectations, e.g. [{columns: [a, b], sum_to_equal: 100}]");
            return list;
        }

        if (element.GetArrayLength() == 0)
        {
            problems.Add("multicolumn: the list is empty; give at least one expectation, e.g. [{columns: [a, b], sum_to_equal: 100}], or leave multicolumn out");
            return list;
        }

        var i = 0;
        foreach (var item in element.EnumerateArray())
        {
            var path = $"multicolumn[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{path}: must be an object of columns and sum_to_equal, unique or unique_within_record (and optionally ignore_row_if, mostly)");
                list.Add(new MulticolumnExpectation([]));
                continue;
            }

            var multi = new MulticolumnExpectation([]);
            var named = false;
            foreach (var field in item.EnumerateObject())
            {
                var where = $"{path}.{field.Name}";
                if (field.Value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                switch (field.Name)
                {
                    case "columns":
                        named = true;
                        multi = multi with { Columns = ColumnNames(field.Value, where, problems) };
                        break;
                    case "sum_to_equal":
                        multi = multi with { SumToEqual = Number(field.Value, where, problems) };
                        break;
                    case "unique":
                        multi = multi with { Unique = Flag(field.Value, where, problems) };
                        break;
                    case "unique_within_record":
                        multi = multi with { UniqueWithinRecord = Flag(field.Value, where, problems) };
                        break;
                    case "ignore_row_if":
                        multi = multi with { IgnoreRowIf = Text(field.Value, where, problems) };
                        break;
                    case "mostly":
                        multi = multi with { Mostly = Number(field.Value, where, problems) };
                        break;
                    default:
                        problems.Add($"{where}: unknown field (known: columns, sum_to_equal, unique, unique_within_record, ignore_row_if, mostly)");
                        break;
                }
            }

            if (!named)
            {
                problems.Add($"{path}.columns: name the columns, e.g. columns: [a, b]");
            }

            list.Add(multi);
        }

        return list;
    }

    private static List<string> ColumnNames(JsonElement value, string where, List<string> problems)
    {
        var names = new List<string>();
        if (value.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"{where}: must be a list of column names, not {value.GetRawText()}");
            return names;
        }

        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                names.Add(item.GetString()!);
            }
            else
            {
                problems.Add($"{where}[{i}]: must be a column name (text), not {item.GetRawText()}");
            }

            i++;
        }

        return names;
    }

    private static RowCountExpectation? ReadRows(JsonElement element, List<string> problems)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            problems.Add("rows: must be an object with min, max or both (row counts)");
            return null;
        }

        var rows = new RowCountExpectation();
        foreach (var field in element.EnumerateObject())
        {
            var where = $"rows.{field.Name}";
            if (field.Value.ValueKind == JsonValueKind.Null)
            {
                NullBound(field.Name, where, problems);
                continue;
            }

            switch (field.Name)
            {
                case "min":
                    rows = rows with { Min = Count(field.Value, where, problems) };
                    break;
                case "max":
                    rows = rows with { Max = Count(field.Value, where, problems) };
                    break;
                default:
                    problems.Add($"{where}: unknown field (known: min, max)");
                    break;
            }
        }

        return rows;
    }

    private static long? Count(JsonElement value, string where, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var count))
        {
            return count;
        }

        problems.Add($"{where}: must be a whole number, not {value.GetRawText()}");
        return null;
    }

    private static ColumnExpectations ReadColumn(JsonElement element, string path, List<string> problems)
    {
        var column = new ColumnExpectations();
        Dictionary<string, double>? ownMostly = null;
        Dictionary<string, IReadOnlyList<string>>? otherColumns = null;
        Dictionary<string, AggregateBounds>? aggregates = null;
        Dictionary<string, PairShift>? shifts = null;
        foreach (var field in element.EnumerateObject())
        {
            var where = $"{path}.{field.Name}";
            var value = field.Value;
            if (ExpectationKinds.IsAggregate(field.Name))
            {
                // Column aggregates: {min, max, strict_min, strict_max}, or quantiles' {quantiles, value_ranges}; no mostly.
                if (value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                if (field.Name == ExpectationKinds.Quantiles)
                {
                    column = column with { Quantiles = ReadQuantiles(value, where, problems) };
                }
                else if (field.Name == ExpectationKinds.MostCommonValue)
                {
                    column = column with { MostCommonValue = ReadMostCommonValue(value, where, problems) };
                }
                else if (ReadBounds(value, where, field.Name, problems) is { } bounds)
                {
                    (aggregates ??= new Dictionary<string, AggregateBounds>(StringComparer.Ordinal))[field.Name] = bounds;
                }

                continue;
            }

            if (value.ValueKind == JsonValueKind.Object && field.Name is not ("ignore_row_if" or "mostly") && Fields.Contains(field.Name))
            {
                // An expectation with its own parameters: {value: 120, mostly: 0.9} (GE's mostly on one expectation).
                (value, var own, var shift) = ReadWithMostly(value, where, field.Name, problems);
                if (own is { } mostly)
                {
                    (ownMostly ??= new Dictionary<string, double>(StringComparer.Ordinal))[field.Name] = mostly;
                }

                if (shift is not null)
                {
                    (shifts ??= new Dictionary<string, PairShift>(StringComparer.Ordinal))[field.Name] = shift;
                }
            }

            if (value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            {
                if (field.Value.ValueKind == JsonValueKind.Null)
                {
                    NullBound(field.Name, where, problems);
                }

                continue;
            }

            switch (field.Name)
            {
                case "type":
                    column = column with { Type = Text(value, where, problems) };
                    break;
                case "required":
                    column = column with { Required = Flag(value, where, problems) };
                    break;
                case "unique":
                    column = column with { Unique = Flag(value, where, problems) };
                    break;
                case "min":
                    var (min, minTime) = Bound(value, where, problems);
                    column = column with { Min = min, MinTime = minTime };
                    break;
                case "max":
                    var (max, maxTime) = Bound(value, where, problems);
                    column = column with { Max = max, MaxTime = maxTime };
                    break;
                case "max_null_rate":
                    column = column with { MaxNullRate = Number(value, where, problems) };
                    break;
                case "regex":
                    column = column with { Regex = Text(value, where, problems) };
                    break;
                case "allowed":
                    column = column with { Allowed = Values(value, where, problems) };
                    break;
                case "greater_than" or "greater_or_equal" or "equal_to" when value.ValueKind == JsonValueKind.Array:
                    // Several other columns, each its own expectation: greater_than: [signup, first_visit].
                    (otherColumns ??= new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal))[field.Name] = ColumnNames(value, where, problems);
                    break;
                case "greater_than":
                    column = column with { GreaterThan = OtherColumn(value, where, problems) };
                    break;
                case "greater_or_equal":
                    column = column with { GreaterOrEqual = OtherColumn(value, where, problems) };
                    break;
                case "equal_to":
                    column = column with { EqualTo = OtherColumn(value, where, problems) };
                    break;
                case "ignore_row_if":
                    column = column with { IgnoreRowIf = Text(value, where, problems) };
                    break;
                case "mostly":
                    column = column with { Mostly = Number(value, where, problems) };
                    break;
                default:
                    problems.Add($"{where}: unknown field (known: {string.Join(", ", Fields)})");
                    break;
            }
        }

        return column with
        {
            ExpectationMostly = ownMostly ?? column.ExpectationMostly,
            OtherColumns = otherColumns ?? column.OtherColumns,
            Aggregates = aggregates ?? column.Aggregates,
            Shifts = shifts ?? column.Shifts,
        };
    }

    /// <summary>
    /// A column aggregate's bounds, <c>{"min": 0, "max": 10, "strict_min": false, "strict_max": false}</c>. A <c>mostly</c>
    /// is refused: the aggregate judges the column as a whole, so no share of rows can fail it.
    /// </summary>
    private static AggregateBounds? ReadBounds(JsonElement element, string where, string kind, List<string> problems)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{where}: must be an object of bounds, e.g. {kind}: {{min: 0, max: 10}} (min, max, strict_min, strict_max), not {element.GetRawText()}");
            return null;
        }

        var bounds = new AggregateBounds();
        foreach (var field in element.EnumerateObject())
        {
            var at = $"{where}.{field.Name}";
            if (field.Value.ValueKind == JsonValueKind.Null)
            {
                NullBound(field.Name, at, problems);
                continue;
            }

            switch (field.Name)
            {
                case "min":
                    var (min, minTime) = Bound(field.Value, at, problems);
                    bounds = bounds with { Min = min, MinTime = minTime };
                    break;
                case "max":
                    var (max, maxTime) = Bound(field.Value, at, problems);
                    bounds = bounds with { Max = max, MaxTime = maxTime };
                    break;
                case "strict_min":
                    bounds = bounds with { StrictMin = Flag(field.Value, at, problems) ?? false };
                    break;
                case "strict_max":
                    bounds = bounds with { StrictMax = Flag(field.Value, at, problems) ?? false };
                    break;
                case "mostly":
                    problems.Add($"{at}: {kind} takes no mostly: it judges the column's values as a whole, not row by row, so no share of rows can fail it");
                    break;
                default:
                    problems.Add($"{at}: unknown field (known: min, max, strict_min, strict_max)");
                    break;
            }
        }

        return bounds;
    }

    /// <summary><c>{"quantiles": [0.05, 0.5, 0.95], "value_ranges": [[a, b], [c, null], [null, f]]}</c>, GE's <c>quantile_ranges</c>.</summary>
    private static QuantileExpectation? ReadQuantiles(JsonElement element, string where, List<string> problems)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{where}: must be an object of quantiles and value_ranges, e.g. quantiles: {{quantiles: [0.05, 0.95], value_ranges: [[0, 10], [90, 100]]}}, not {element.GetRawText()}");
            return null;
        }

        var quantiles = new List<double>();
        var ranges = new List<QuantileRange>();
        double? relativeError = null;
        var (hasQuantiles, hasRanges) = (false, false);
        foreach (var field in element.EnumerateObject())
        {
            var at = $"{where}.{field.Name}";
            switch (field.Name)
            {
                case "quantiles":
                    hasQuantiles = true;
                    if (field.Value.ValueKind != JsonValueKind.Array)
                    {
                        problems.Add($"{at}: must be a list of numbers between 0 and 1, not {field.Value.GetRawText()}");
                        break;
                    }

                    var i = 0;
                    foreach (var item in field.Value.EnumerateArray())
                    {
                        if (Number(item, $"{at}[{i++}]", problems) is { } q)
                        {
                            quantiles.Add(q);
                        }
                    }

                    break;
                case "value_ranges":
                    hasRanges = true;
                    if (field.Value.ValueKind != JsonValueKind.Array)
                    {
                        problems.Add($"{at}: must be a list of [min, max] pairs, one per quantile, not {field.Value.GetRawText()}");
                        break;
                    }

                    var j = 0;
                    foreach (var item in field.Value.EnumerateArray())
                    {
                        var itemAt = $"{at}[{j++}]";
                        if (item.ValueKind != JsonValueKind.Array || item.GetArrayLength() != 2)
                        {
                            problems.Add($"{itemAt}: must be a pair [min, max] (null for no bound), not {item.GetRawText()}");
                            ranges.Add(new QuantileRange(null, null));
                            continue;
                        }

                        var (low, lowTime) = item[0].ValueKind == JsonValueKind.Null ? (null, null) : Bound(item[0], $"{itemAt}[0]", problems);
                        var (high, highTime) = item[1].ValueKind == JsonValueKind.Null ? (null, null) : Bound(item[1], $"{itemAt}[1]", problems);
                        ranges.Add(new QuantileRange(low, high, lowTime, highTime));
                    }

                    break;
                case "allow_relative_error":
                    if (field.Value.ValueKind is JsonValueKind.True or JsonValueKind.False or JsonValueKind.String)
                    {
                        problems.Add($"{at}: must be a number between 0 and 1 (the rank error allowed, as a share of the present values, e.g. 0.01), not {field.Value.GetRawText()}; leave it out for exact quantiles");
                    }
                    else if (field.Value.ValueKind != JsonValueKind.Null)
                    {
                        relativeError = Number(field.Value, at, problems);
                    }

                    break;
                case "mostly":
                    problems.Add($"{at}: quantiles takes no mostly: it judges the column's values as a whole, not row by row, so no share of rows can fail it");
                    break;
                default:
                    problems.Add($"{at}: unknown field (known: quantiles, value_ranges, allow_relative_error)");
                    break;
            }
        }

        if (!hasQuantiles)
        {
            problems.Add($"{where}.quantiles: list the quantiles, e.g. quantiles: [0.05, 0.5, 0.95]");
        }

        if (!hasRanges)
        {
            problems.Add($"{where}.value_ranges: give one [min, max] range per quantile");
        }

        return new QuantileExpectation(quantiles, ranges, relativeError);
    }

    /// <summary>
    /// GE's <c>expect_column_most_common_value_to_be_in_set</c>: <c>{"value_set": [...], "ties_okay": false}</c>; no
    /// mostly (the most common value is the column's, not a row's).
    /// </summary>
    private static MostCommonValueExpectation? ReadMostCommonValue(JsonElement element, string where, List<string> problems)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{where}: must be an object, e.g. most_common_value: {{value_set: [a, b], ties_okay: false}}, not {element.GetRawText()}");
            return null;
        }

        IReadOnlyList<string>? values = null;
        bool? ties = null;
        foreach (var field in element.EnumerateObject())
        {
            var at = $"{where}.{field.Name}";
            switch (field.Name)
            {
                case "value_set":
                    values = Values(field.Value, at, problems) ?? new ValueList([]);
                    break;
                case "ties_okay":
                    ties = field.Value.ValueKind == JsonValueKind.Null ? null : Flag(field.Value, at, problems);
                    break;
                case "mostly":
                    problems.Add($"{at}: most_common_value takes no mostly: it judges the column's values as a whole, not row by row, so no share of rows can fail it");
                    break;
                default:
                    problems.Add($"{at}: unknown field (known: value_set, ties_okay)");
                    break;
            }
        }

        if (values is null)
        {
            problems.Add($"{where}.value_set: list the values the most common one may be, e.g. value_set: [a, b]");
        }

        return new MostCommonValueExpectation(values ?? [], ties);
    }

    /// <summary>A pair's other column: a name (a list of names is read by <see cref="ColumnNames"/>).</summary>
    private static string? OtherColumn(JsonElement value, string where, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        problems.Add($"{where}: must be a column name or a list of column names, not {value.GetRawText()}");
        return null;
    }

    /// <summary>
    /// The object form of an expectation, <c>{"value": V, "mostly": M}</c>: its value (Undefined when it cannot be taken)
    /// and its own <c>mostly</c>; a column pair also takes <c>offset</c> and <c>ratio</c> (<see cref="PairShift"/>:
    /// <c>{"value": "b", "offset": 5}</c> is a &gt; b + 5), returned as its shift (null when it has neither).
    /// max_null_rate, itself the share of missing values allowed, takes no mostly and is refused in this form.
    /// </summary>
    private static (JsonElement Value, double? Mostly, PairShift? Shift) ReadWithMostly(JsonElement element, string where, string kind, List<string> problems)
    {
        if (!ExpectationKinds.TakesOwnMostly(kind))
        {
            problems.Add($"{where}: {kind} takes no mostly, so write its value alone, not an object (it is itself the share of missing values allowed)");
            return (default, null, null);
        }

        var pair = ExpectationKinds.IsPair(kind);
        JsonElement value = default;
        double? mostly = null;
        PairShift? shift = null;
        foreach (var field in element.EnumerateObject())
        {
            switch (field.Name)
            {
                case "value":
                    value = field.Value;
                    break;
                case "mostly":
                    mostly = field.Value.ValueKind == JsonValueKind.Null ? null : Number(field.Value, $"{where}.mostly", problems);
                    break;
                case "offset" when pair:
                    shift = (shift ?? new PairShift()) with { Offset = field.Value.ValueKind == JsonValueKind.Null ? null : Number(field.Value, $"{where}.offset", problems) };
                    break;
                case "ratio" when pair:
                    shift = (shift ?? new PairShift()) with { Ratio = field.Value.ValueKind == JsonValueKind.Null ? null : Number(field.Value, $"{where}.ratio", problems) };
                    break;
                case "column" when pair:
                    problems.Add($"{where}.column: unknown field (known: value, mostly, offset, ratio); name the other column (or a list of them) in value: {kind}: {{value: {(field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString() : "b")}, offset: 5}}");
                    break;
                default:
                    problems.Add($"{where}.{field.Name}: unknown field (known: value, mostly{(pair ? ", offset, ratio" : "")})");
                    break;
            }
        }

        if (value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            // Its mostly has no expectation to relax, but the expectation is missing, not off: this one problem says so.
            problems.Add($"{where}.value: give the expectation's value, e.g. {kind}: {{value: …, {(pair ? "offset: 5" : "mostly: 0.95")}}}");
            return (value, null, null);
        }

        return (value, mostly, shift is { Offset: null, Ratio: null } ? null : shift);
    }

    /// <summary>
    /// A <c>min: null</c> or <c>max: null</c> is refused rather than taken as no bound: a null there is more often a template
    /// left unfilled than a choice, and leaving the field out already says "no bound".
    /// </summary>
    private static void NullBound(string field, string where, List<string> problems)
    {
        if (field is "min" or "max")
        {
            problems.Add($"{where}: must be a bound, not null; leave {field} out for no bound");
        }
    }

    private static string? Text(JsonElement value, string where, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        problems.Add($"{where}: must be text, not {value.GetRawText()}");
        return null;
    }

    private static bool? Flag(JsonElement value, string where, List<string> problems)
    {
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }

        problems.Add($"{where}: must be true or false, not {value.GetRawText()}");
        return null;
    }

    /// <summary>
    /// A bound of min, max, an aggregate or a quantile range: a number, or an ISO-8601 date or time as text
    /// (<c>'2024-01-31'</c>, <c>'2024-01-31T12:00:00Z'</c>) for a column of dates or times.
    /// </summary>
    private static (double? Number, TimeBound? Time) Bound(JsonElement value, string where, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return (Number(value, where, problems), null);
        }

        var text = value.GetString()!;
        if (TimeBound.Parse(text) is { } time)
        {
            return (null, time);
        }

        problems.Add(TimeBound.LooksLikeDate(text)
            ? $"{where}: '{text}' is not an ISO-8601 date or time (write 2024-01-31, 2024-01-31T12:00:00 or 2024-01-31T12:00:00Z)"
            : $"{where}: must be a number, not {value.GetRawText()}");
        return (null, null);
    }

    private static double? Number(JsonElement value, string where, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number))
        {
            return number;
        }

        problems.Add($"{where}: must be a number, not {value.GetRawText()}");
        return null;
    }

    /// <summary>A list of values (<c>allowed</c>, <c>value_set</c>), kept as text with how each was written (<see cref="ValueList"/>).</summary>
    private static ValueList? Values(JsonElement value, string where, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"{where}: must be a list of values");
            return null;
        }

        var values = new List<(string, ValueList.ValueKind)>();
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            switch (item.ValueKind)
            {
                case JsonValueKind.String:
                    values.Add((item.GetString()!, ValueList.ValueKind.Text));
                    break;
                case JsonValueKind.Number:
                    values.Add((ValueList.NumberText(item), ValueList.ValueKind.Number));
                    break;
                case JsonValueKind.True or JsonValueKind.False:
                    values.Add((item.GetBoolean() ? "true" : "false", ValueList.ValueKind.Boolean));
                    break;
                default:
                    problems.Add($"{where}[{i}]: must be text, a number or true/false, not {item.GetRawText()}");
                    break;
            }

            i++;
        }

        // A list whose every value was unreadable is not an empty list: its items' problems say what is wrong.
        return values.Count == 0 && i > 0 ? null : new ValueList(values);
    }

    /// <summary>A bound as written: a number, an ISO-8601 date or time as text, or null for none (a quantile range's).</summary>
    private static void WriteBound(Utf8JsonWriter writer, double? number, TimeBound? time)
    {
        if (number is { } value)
        {
            writer.WriteNumberValue(value);
        }
        else if (time is not null)
        {
            writer.WriteStringValue(time.Text);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    /// <summary>Writes the suite as JSON: fields in the documented order, unset ones left out.</summary>
    public static void Write(Utf8JsonWriter writer, ExpectationSuite suite)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(suite);
        writer.WriteStartObject();
        if (suite.Rows is { } rows)
        {
            writer.WriteStartObject("rows");
            if (rows.Min is { } least)
            {
                writer.WriteNumber("min", least);
            }

            if (rows.Max is { } most)
            {
                writer.WriteNumber("max", most);
            }

            writer.WriteEndObject();
        }

        writer.WriteStartObject("columns");
        foreach (var (name, column) in suite.Columns)
        {
            writer.WriteStartObject(name);
            // An expectation with its own mostly is written {"value": V, "mostly": M}; the others as their value alone.
            void Field(string kind, Action write)
            {
                var shift = column.Shift(kind);
                if (column.ExpectationMostly?.ContainsKey(kind) == true || shift is not null)
                {
                    writer.WriteStartObject(kind);
                    writer.WritePropertyName("value");
                    write();
                    if (shift?.Offset is { } offset)
                    {
                        writer.WriteNumber("offset", offset);
                    }

                    if (shift?.Ratio is { } ratio)
                    {
                        writer.WriteNumber("ratio", ratio);
                    }

                    if (column.ExpectationMostly is { } owned && owned.TryGetValue(kind, out var share))
                    {
                        writer.WriteNumber("mostly", share);
                    }

                    writer.WriteEndObject();
                }
                else
                {
                    writer.WritePropertyName(kind);
                    write();
                }
            }

            if (column.Type is { } type)
            {
                Field("type", () => writer.WriteStringValue(type));
            }

            if (column.Required is { } required)
            {
                Field("required", () => writer.WriteBooleanValue(required));
            }

            if (column.Min is not null || column.MinTime is not null)
            {
                Field("min", () => WriteBound(writer, column.Min, column.MinTime));
            }

            if (column.Max is not null || column.MaxTime is not null)
            {
                Field("max", () => WriteBound(writer, column.Max, column.MaxTime));
            }

            if (column.Allowed is { } allowed)
            {
                Field("allowed", () => ValueList.Write(writer, allowed));
            }

            if (column.MaxNullRate is { } rate)
            {
                writer.WriteNumber("max_null_rate", rate);
            }

            if (column.Unique is { } unique)
            {
                Field("unique", () => writer.WriteBooleanValue(unique));
            }

            if (column.Regex is { } regex)
            {
                Field("regex", () => writer.WriteStringValue(regex));
            }

            foreach (var kind in ExpectationKinds.Pairs)
            {
                // As given: one other column as its name, a list as a list (even of one).
                if (column.Other(kind) is { } other)
                {
                    Field(kind, () => writer.WriteStringValue(other));
                }
                else if (column.OtherColumns is { } lists && lists.TryGetValue(kind, out var others))
                {
                    Field(kind, () =>
                    {
                        writer.WriteStartArray();
                        foreach (var name in others)
                        {
                            writer.WriteStringValue(name);
                        }

                        writer.WriteEndArray();
                    });
                }
            }

            foreach (var kind in ExpectationKinds.Bounded)
            {
                if (column.Bounds(kind) is not { } bounds)
                {
                    continue;
                }

                writer.WriteStartObject(kind);
                if (bounds.Min is not null || bounds.MinTime is not null)
                {
                    writer.WritePropertyName("min");
                    WriteBound(writer, bounds.Min, bounds.MinTime);
                }

                if (bounds.Max is not null || bounds.MaxTime is not null)
                {
                    writer.WritePropertyName("max");
                    WriteBound(writer, bounds.Max, bounds.MaxTime);
                }

                if (bounds.StrictMin)
                {
                    writer.WriteBoolean("strict_min", true);
                }

                if (bounds.StrictMax)
                {
                    writer.WriteBoolean("strict_max", true);
                }

                writer.WriteEndObject();
            }

            if (column.Quantiles is { } quantiles)
            {
                writer.WriteStartObject("quantiles");
                writer.WriteStartArray("quantiles");
                foreach (var q in quantiles.Quantiles)
                {
                    writer.WriteNumberValue(q);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("value_ranges");
                foreach (var range in quantiles.ValueRanges)
                {
                    writer.WriteStartArray();
                    WriteBound(writer, range.Min, range.MinTime);
                    WriteBound(writer, range.Max, range.MaxTime);

                    writer.WriteEndArray();
                }

                writer.WriteEndArray();
                if (quantiles.AllowRelativeError is { } relativeError)
                {
                    writer.WriteNumber("allow_relative_error", relativeError);
                }

                writer.WriteEndObject();
            }

            if (column.MostCommonValue is { } mostCommon)
            {
                writer.WriteStartObject("most_common_value");
                writer.WritePropertyName("value_set");
                ValueList.Write(writer, mostCommon.ValueSet);
                if (mostCommon.TiesOkay is { } ties)
                {
                    writer.WriteBoolean("ties_okay", ties);
                }

                writer.WriteEndObject();
            }

            if (column.IgnoreRowIf is { } ignore)
            {
                writer.WriteString("ignore_row_if", ignore);
            }

            if (column.Mostly is { } mostly)
            {
                writer.WriteNumber("mostly", mostly);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        if (suite.Multicolumn.Count > 0)
        {
            writer.WriteStartArray("multicolumn");
            foreach (var multi in suite.Multicolumn)
            {
                writer.WriteStartObject();
                writer.WriteStartArray("columns");
                foreach (var column in multi.Columns)
                {
                    writer.WriteStringValue(column);
                }

                writer.WriteEndArray();
                if (multi.SumToEqual is { } total)
                {
                    writer.WriteNumber("sum_to_equal", total);
                }

                if (multi.Unique is { } unique)
                {
                    writer.WriteBoolean("unique", unique);
                }

                if (multi.UniqueWithinRecord is { } withinRecord)
                {
                    writer.WriteBoolean("unique_within_record", withinRecord);
                }

                if (multi.IgnoreRowIf is { } ignore)
                {
                    writer.WriteString("ignore_row_if", ignore);
                }

                if (multi.Mostly is { } mostly)
                {
                    writer.WriteNumber("mostly", mostly);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>The suite as indented JSON text.</summary>
    public static string ToJson(ExpectationSuite suite, bool indented = true)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, suite);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
