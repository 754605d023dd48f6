namespace Ballast.Monitoring.Quality;

/// <summary>
/// One column's expectations; a null field is not checked. <see cref="Min"/> and <see cref="Max"/> are inclusive;
/// <see cref="Allowed"/> values are kept as text (numbers compare as numbers; a <see cref="ValueList"/> remembers how each was written); <see cref="Regex"/> must match somewhere in
/// the value (anchor it with ^ and $ for the whole value). Missing values (null, NaN) fail only <see cref="Required"/>
/// and count towards <see cref="MaxNullRate"/>; the other expectations look at present values only. The pair
/// expectations (<see cref="GreaterThan"/>, <see cref="GreaterOrEqual"/>, <see cref="EqualTo"/>) name another column, or
/// (<see cref="OtherColumns"/>) a list of other columns, each its own expectation, and compare the two values of each row
/// (as numbers when both read as numbers, else as text); which rows with missing values they skip is
/// <see cref="IgnoreRowIf"/>, as in Great Expectations (default: only rows missing both).
/// <see cref="Mostly"/> is Great Expectations' <c>mostly</c>: each of the column's row-level expectations that takes it
/// (<see cref="ExpectationKinds.TakesMostly"/>) holds when at least that share of the rows it checks meet it;
/// <see cref="ExpectationMostly"/> sets it for one expectation (written <c>max: {value: 120, mostly: 0.9}</c>, as GE sets
/// <c>mostly</c> on each expectation), overriding the column's (<see cref="MostlyFor"/>); on <see cref="Required"/> it is
/// the share of all rows that must be present (GE's <c>expect_column_values_to_not_be_null</c> with <c>mostly</c>).
/// <see cref="Aggregates"/> are GE's column aggregate expectations with bounds (mean, median, stdev, sum,
/// unique_proportion, distinct_count, keyed by <see cref="ExpectationKinds.Bounded"/> kind) and <see cref="Quantiles"/>
/// its quantile ranges, and <see cref="MostCommonValue"/> GE's most common value in a set: each judges one value of the
/// whole column's present values, takes no <c>mostly</c>, and is batch-only. <see cref="Shifts"/> holds a pair kind's
/// offset or ratio (<c>greater_than: {value: b, offset: 5}</c>, <see cref="PairShift"/>). <see cref="MinTime"/> and
/// <see cref="MaxTime"/> are <c>min</c> and <c>max</c> written as ISO-8601 dates or times, for a column of dates or times
/// (in place of <see cref="Min"/> and <see cref="Max"/>); a column's bounds are all numbers or all dates.
/// </summary>
public sealed record ColumnExpectations(
    string? Type = null,
    bool? Required = null,
    double? Min = null,
    double? Max = null,
    IReadOnlyList<string>? Allowed = null,
    double? MaxNullRate = null,
    bool? Unique = null,
    string? Regex = null,
    string? GreaterThan = null,
    string? GreaterOrEqual = null,
    string? EqualTo = null,
    string? IgnoreRowIf = null,
    double? Mostly = null,
    IReadOnlyDictionary<string, double>? ExpectationMostly = null,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? OtherColumns = null,
    IReadOnlyDictionary<string, AggregateBounds>? Aggregates = null,
    QuantileExpectation? Quantiles = null,
    IReadOnlyDictionary<string, PairShift>? Shifts = null,
    MostCommonValueExpectation? MostCommonValue = null,
    TimeBound? MinTime = null,
    TimeBound? MaxTime = null)
{
    /// <summary>Whether the column's bounds (min, max, median, quantiles) are dates or times.</summary>
    public bool HasTimeBounds => MinTime is not null || MaxTime is not null || Quantiles is { IsTime: true } || (Aggregates?.Values.Any(bounds => bounds.IsTime) ?? false);

    /// <summary>The offset or ratio of a pair kind written <c>{value: b, offset: 5}</c> (<see cref="PairShift"/>); null for a plain pair.</summary>
    public PairShift? Shift(string kind) => Shifts is not null && Shifts.TryGetValue(kind, out var shift) ? shift : null;

    /// <summary>The bounds of an aggregate kind (<see cref="ExpectationKinds.Bounded"/>), or null when the column does not set it.</summary>
    public AggregateBounds? Bounds(string kind) => Aggregates is not null && Aggregates.TryGetValue(kind, out var bounds) ? bounds : null;

    /// <summary>
    /// The <c>mostly</c> that applies to <paramref name="kind"/>: its own (<see cref="ExpectationMostly"/>), else the
    /// column's; the column's does not apply to required (only its own does) nor max_null_rate (which takes none); null
    /// when none applies.
    /// </summary>
    public double? MostlyFor(string kind) =>
        ExpectationKinds.TakesOwnMostly(kind) && ExpectationMostly is not null && ExpectationMostly.TryGetValue(kind, out var own) ? own
        : ExpectationKinds.TakesMostly(kind) ? Mostly
        : null;

    /// <summary>How rows with missing values are treated by this column's pair expectations.</summary>
    public string PairMissing => IgnoreRowIf ?? Quality.IgnoreRowIf.BothValuesAreMissing;

    /// <summary>The other column of a pair kind (<see cref="ExpectationKinds.IsPair"/>) written with one column; a list is in <see cref="OtherColumns"/>.</summary>
    public string? Other(string kind) => kind switch
    {
        ExpectationKinds.GreaterThan => GreaterThan,
        ExpectationKinds.GreaterOrEqual => GreaterOrEqual,
        ExpectationKinds.EqualTo => EqualTo,
        _ => null,
    };

    /// <summary>
    /// The pair expectations set, in <see cref="ExpectationKinds.All"/> order, one per other column: a kind written with one
    /// column, then each column of a kind written as a list (<see cref="OtherColumns"/>) in the list's order.
    /// </summary>
    public IEnumerable<ColumnPair> Pairs()
    {
        foreach (var kind in ExpectationKinds.Pairs)
        {
            if (Other(kind) is { } other)
            {
                yield return new ColumnPair(kind, other, Listed: false, Shift(kind));
            }

            if (OtherColumns is not null && OtherColumns.TryGetValue(kind, out var others))
            {
                foreach (var listed in others)
                {
                    yield return new ColumnPair(kind, listed, Listed: true, Shift(kind));
                }
            }
        }
    }

    /// <summary>
    /// The column's expectations as results, headers and metrics name them, in <see cref="Kinds"/> order: each kind, but
    /// one per other column for a pair kind written as a list (<see cref="ColumnPair.Expectation"/>, <c>greater_than[signup]</c>).
    /// </summary>
    public IEnumerable<string> Expectations() =>
        Kinds().SelectMany(kind => ExpectationKinds.IsPair(kind) ? Pairs().Where(pair => pair.Kind == kind).Select(pair => pair.Expectation) : [kind]);

    public IEnumerable<string> Kinds()
    {
        if (Type is not null)
        {
            yield return ExpectationKinds.Type;
        }

        if (Required == true)
        {
            yield return ExpectationKinds.Required;
        }

        if (Min is not null || MinTime is not null)
        {
            yield return ExpectationKinds.Min;
        }

        if (Max is not null || MaxTime is not null)
        {
            yield return ExpectationKinds.Max;
        }

        if (Allowed is not null)
        {
            yield return ExpectationKinds.Allowed;
        }

        if (MaxNullRate is not null)
        {
            yield return ExpectationKinds.MaxNullRate;
        }

        if (Unique == true)
        {
            yield return ExpectationKinds.Unique;
        }

        if (Regex is not null)
        {
            yield return ExpectationKinds.Regex;
        }

        foreach (var kind in ExpectationKinds.Pairs)
        {
            if (Other(kind) is not null || (OtherColumns is not null && OtherColumns.ContainsKey(kind)))
            {
                yield return kind;
            }
        }

        foreach (var kind in ExpectationKinds.Bounded)
        {
            if (Bounds(kind) is not null)
            {
                yield return kind;
            }
        }

        if (Quantiles is not null)
        {
            yield return ExpectationKinds.Quantiles;
        }

        if (MostCommonValue is not null)
        {
            yield return ExpectationKinds.MostCommonValue;
        }
    }

    internal void Validate(string name, string path, List<string> problems, bool misread = false)
    {
        void CheckOther(string other, string where)
        {
            if (other.Length == 0)
            {
                problems.Add($"{where}: name the other column");
            }
            else if (other == name)
            {
                problems.Add($"{where}: compares the column with itself; name another column");
            }
        }

        foreach (var kind in (OtherColumns ?? new Dictionary<string, IReadOnlyList<string>>()).Keys.Where(kind => !ExpectationKinds.IsPair(kind)))
        {
            problems.Add($"{path}.{kind}: only greater_than, greater_or_equal and equal_to take a list of other columns");
        }

        foreach (var kind in ExpectationKinds.Pairs)
        {
            if (Other(kind) is { } other)
            {
                CheckOther(other, $"{path}.{kind}");
            }

            if (OtherColumns is null || !OtherColumns.TryGetValue(kind, out var others))
            {
                continue;
            }

            if (Other(kind) is not null)
            {
                problems.Add($"{path}.{kind}: give one other column or a list of them, not both");
            }

            if (others.Count == 0)
            {
                problems.Add($"{path}.{kind}: list at least one other column");
            }

            for (var i = 0; i < others.Count; i++)
            {
                CheckOther(others[i], $"{path}.{kind}[{i}]");
                if (others[i].Length > 0 && others.Take(i).Contains(others[i]))
                {
                    problems.Add($"{path}.{kind}: '{others[i]}' appears twice");
                }
            }
        }

        foreach (var (kind, shift) in Shifts ?? new Dictionary<string, PairShift>())
        {
            shift.Validate($"{path}.{kind}", problems);
        }

        if (IgnoreRowIf is { } mode && !Quality.IgnoreRowIf.All.Contains(mode))
        {
            problems.Add($"{path}.ignore_row_if: '{mode}' is not one of {string.Join(", ", Quality.IgnoreRowIf.All)}");
        }
        else if (IgnoreRowIf is not null && !Kinds().Any(ExpectationKinds.IsPair))
        {
            problems.Add($"{path}.ignore_row_if: applies to greater_than, greater_or_equal and equal_to; the column has none");
        }

        if (Mostly is { } mostly && !(mostly >= 0 && mostly <= 1))
        {
            problems.Add($"{path}.mostly: {mostly} must be between 0 and 1");
        }
        else if (Mostly is not null && Kinds().Any() && !Kinds().Any(ExpectationKinds.TakesMostly))
        {
            problems.Add(Kinds().Any(ExpectationKinds.IsAggregate)
                ? $"{path}.mostly: applies to type, min, max, allowed, unique, regex, greater_than, greater_or_equal and equal_to; the column has none, only {string.Join(", ", Kinds().Where(ExpectationKinds.IsAggregate))} (an aggregate judges the column's values as a whole, so no share of rows can fail it)"
                : $"{path}.mostly: applies to type, min, max, allowed, unique, regex, greater_than, greater_or_equal and equal_to; the column has none (for missing values give max_null_rate, or required: {{value: true, mostly: M}})");
        }

        foreach (var (kind, own) in ExpectationMostly ?? new Dictionary<string, double>())
        {
            if (!(own >= 0 && own <= 1))
            {
                problems.Add($"{path}.{kind}.mostly: {own} must be between 0 and 1");
            }
            else if (!ExpectationKinds.TakesOwnMostly(kind))
            {
                problems.Add($"{path}.{kind}.mostly: {kind} takes no mostly; it applies to required, type, min, max, allowed, unique, regex, greater_than, greater_or_equal and equal_to");
            }
            else if (!Kinds().Contains(kind))
            {
                problems.Add($"{path}.{kind}.mostly: the expectation is off ({kind}: false), so it has nothing to relax");
            }
        }

        if (Type is not null && !ColumnTypes.All.Contains(Type))
        {
            problems.Add($"{path}.type: '{Type}' is not one of {string.Join(", ", ColumnTypes.All)}");
        }

        foreach (var (value, field) in new[] { (Min, "min"), (Max, "max") })
        {
            if (value is { } number && !double.IsFinite(number))
            {
                problems.Add($"{path}.{field}: must be a finite number");
            }
        }

        if (Min is { } min && Max is { } max && min > max)
        {
            problems.Add($"{path}: min {min} is greater than max {max}");
        }

        // Number bounds with a type that is not numbers; date bounds (MinTime, MaxTime) suit text of ISO-8601 dates.
        if ((Min is not null || Max is not null) && Type is ColumnTypes.String or ColumnTypes.Boolean)
        {
            problems.Add(Type == ColumnTypes.String
                ? $"{path}: min and max compare numbers, but the type is string; for text of ISO-8601 dates or times give the bounds as dates (min: '2024-01-01')"
                : $"{path}: min and max compare numbers, but the type is {Type}");
        }

        ValidateTimes(path, problems);

        if (MaxNullRate is { } rate && !(rate >= 0 && rate <= 1))
        {
            problems.Add($"{path}.max_null_rate: {rate} must be between 0 and 1");
        }

        if (Required == true && MaxNullRate is not null)
        {
            problems.Add(MostlyFor(ExpectationKinds.Required) is { } share
                ? $"{path}: required with mostly {share} already bounds the share of missing values (to 1 - {share}); give it or max_null_rate, not both"
                : $"{path}: required already allows no missing values; leave out max_null_rate");
        }

        foreach (var (kind, bounds) in Aggregates ?? new Dictionary<string, AggregateBounds>())
        {
            if (!ExpectationKinds.Bounded.Contains(kind))
            {
                problems.Add($"{path}.{kind}: not a column aggregate (known: {string.Join(", ", ExpectationKinds.Bounded)})");
                continue;
            }

            bounds.Validate(kind, $"{path}.{kind}", problems, misread);
        }

        Quantiles?.Validate($"{path}.quantiles", problems, misread);
        MostCommonValue?.Validate($"{path}.most_common_value", problems, misread);
        if (Type is ColumnTypes.String or ColumnTypes.Boolean)
        {
            foreach (var kind in Kinds().Where(ExpectationKinds.IsNumericAggregate))
            {
                problems.Add($"{path}.{kind}: {kind} is computed over numbers, but the type is {Type} (distinct_count and unique_proportion apply to any type)");
            }
        }

        if (Allowed is { Count: 0 })
        {
            problems.Add($"{path}.allowed: list at least one value");
        }

        if (Regex is not null)
        {
            try
            {
                _ = new System.Text.RegularExpressions.Regex(Regex, System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException exception)
            {
                problems.Add($"{path}.regex: '{Regex}' is not a regular expression: {exception.Message}");
            }
        }

        if (!misread && !Kinds().Any() && Required is null && Unique is null)
        {
            problems.Add($"{path}: no expectation (give type, required, min, max, allowed, max_null_rate, unique, regex, greater_than, greater_or_equal, equal_to, mean, median, stdev, sum, unique_proportion, distinct_count, quantiles or most_common_value)");
        }
    }

    /// <summary>
    /// Bounds that are dates or times: min not after max, and all of the column's bounds of one kind (a column holds
    /// numbers or dates, not both), with no type that says numbers or booleans (string may: text of ISO-8601 dates).
    /// </summary>
    private void ValidateTimes(string path, List<string> problems)
    {
        if (!HasTimeBounds)
        {
            return;
        }

        if ((Min is not null && MaxTime is not null) || (Max is not null && MinTime is not null))
        {
            problems.Add($"{path}: min and max are a number and a date or time; give both as numbers or both as dates (e.g. min: '2024-01-01')");
        }
        else if (MinTime is { } from && MaxTime is { } to && from.Microseconds > to.Microseconds)
        {
            problems.Add($"{path}: min {from.Text} is after max {to.Text}");
        }

        var example = (MinTime ?? MaxTime ?? Aggregates?.Values.Select(bounds => bounds.MinTime ?? bounds.MaxTime).FirstOrDefault(bound => bound is not null)
            ?? Quantiles?.ValueRanges.Select(range => range.MinTime ?? range.MaxTime).FirstOrDefault(bound => bound is not null))!.Text;
        if (Type is ColumnTypes.Integer or ColumnTypes.Number or ColumnTypes.Boolean)
        {
            problems.Add($"{path}: bounds that are dates or times ('{example}') compare dates, but the type is {Type} (a column of dates has no type, leave it out; text of ISO-8601 dates is type string)");
        }

        var numbers = new List<string>();
        if (Min is not null && MaxTime is null)
        {
            numbers.Add(ExpectationKinds.Min);
        }

        if (Max is not null && MinTime is null)
        {
            numbers.Add(ExpectationKinds.Max);
        }

        // A median whose bounds could not be read has no number among them (its own problem says what is wrong); mean,
        // stdev and sum are computed over numbers whatever their bounds.
        numbers.AddRange(ExpectationKinds.Bounded.Where(kind => Bounds(kind) is { IsTime: false } bounds && kind is not (ExpectationKinds.UniqueProportion or ExpectationKinds.DistinctCount)
            && (kind != ExpectationKinds.Median || bounds.Min is not null || bounds.Max is not null)));
        if (Quantiles is { IsTime: false, ValueRanges.Count: > 0 } && Quantiles.ValueRanges.Any(range => range.Low is not null || range.High is not null))
        {
            numbers.Add(ExpectationKinds.Quantiles);
        }

        foreach (var kind in numbers)
        {
            problems.Add($"{path}.{kind}: {(kind is ExpectationKinds.Mean or ExpectationKinds.Stdev or ExpectationKinds.Sum ? $"{kind} is computed over numbers" : "its bounds are numbers")}, but the column's other bounds are dates or times ('{example}'); a column holds numbers or dates, not both");
        }
    }
}
