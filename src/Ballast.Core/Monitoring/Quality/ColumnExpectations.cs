namespace Ballast.Monitoring.Quality;

/// <summary>
/// One column's expectations; a null field is not checked. <see cref="Min"/> and <see cref="Max"/> are inclusive;
/// <see cref="Allowed"/> values are kept as text (numbers compare as numbers); <see cref="Regex"/> must match somewhere in
/// the value (anchor it with ^ and $ for the whole value). Missing values (null, NaN) fail only <see cref="Required"/>
/// and count towards <see cref="MaxNullRate"/>; the other expectations look at present values only. The pair
/// expectations (<see cref="GreaterThan"/>, <see cref="GreaterOrEqual"/>, <see cref="EqualTo"/>) name another column and
/// compare the two values of each row (as numbers when both read as numbers, else as text); which rows with missing
/// values they skip is <see cref="IgnoreRowIf"/>, as in Great Expectations (default: only rows missing both).
/// <see cref="Mostly"/> is Great Expectations' <c>mostly</c>: each of the column's row-level expectations that takes it
/// (<see cref="ExpectationKinds.TakesMostly"/>) holds when at least that share of the rows it checks meet it;
/// <see cref="ExpectationMostly"/> sets it for one expectation (written <c>max: {value: 120, mostly: 0.9}</c>, as GE sets
/// <c>mostly</c> on each expectation), overriding the column's (<see cref="MostlyFor"/>).
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
    IReadOnlyDictionary<string, double>? ExpectationMostly = null)
{
    /// <summary>
    /// The <c>mostly</c> that applies to <paramref name="kind"/>: its own (<see cref="ExpectationMostly"/>), else the
    /// column's; null for kinds that take none (required, max_null_rate) and when neither is set.
    /// </summary>
    public double? MostlyFor(string kind) =>
        !ExpectationKinds.TakesMostly(kind) ? null
        : ExpectationMostly is not null && ExpectationMostly.TryGetValue(kind, out var own) ? own
        : Mostly;

    /// <summary>How rows with missing values are treated by this column's pair expectations.</summary>
    public string PairMissing => IgnoreRowIf ?? Quality.IgnoreRowIf.BothValuesAreMissing;

    /// <summary>The other column of a pair kind (<see cref="ExpectationKinds.IsPair"/>).</summary>
    public string? Other(string kind) => kind switch
    {
        ExpectationKinds.GreaterThan => GreaterThan,
        ExpectationKinds.GreaterOrEqual => GreaterOrEqual,
        ExpectationKinds.EqualTo => EqualTo,
        _ => null,
    };

    /// <summary>The pair expectations set, in <see cref="ExpectationKinds.All"/> order, with their other column.</summary>
    public IEnumerable<(string Kind, string Other)> Pairs()
    {
        foreach (var kind in (string[])[ExpectationKinds.GreaterThan, ExpectationKinds.GreaterOrEqual, ExpectationKinds.EqualTo])
        {
            if (Other(kind) is { } other)
            {
                yield return (kind, other);
            }
        }
    }

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

        if (Min is not null)
        {
            yield return ExpectationKinds.Min;
        }

        if (Max is not null)
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

        foreach (var (kind, _) in Pairs())
        {
            yield return kind;
        }
    }

    internal void Validate(string name, string path, List<string> problems, bool misread = false)
    {
        foreach (var (kind, other) in Pairs())
        {
            if (other.Length == 0)
            {
                problems.Add($"{path}.{kind}: name the other column");
            }
            else if (other == name)
            {
                problems.Add($"{path}.{kind}: compares the column with itself; name another column");
            }
        }

        if (IgnoreRowIf is { } mode && !Quality.IgnoreRowIf.All.Contains(mode))
        {
            problems.Add($"{path}.ignore_row_if: '{mode}' is not one of {string.Join(", ", Quality.IgnoreRowIf.All)}");
        }
        else if (IgnoreRowIf is not null && !Pairs().Any())
        {
            problems.Add($"{path}.ignore_row_if: applies to greater_than, greater_or_equal and equal_to; the column has none");
        }

        if (Mostly is { } mostly && !(mostly >= 0 && mostly <= 1))
        {
            problems.Add($"{path}.mostly: {mostly} must be between 0 and 1");
        }
        else if (Mostly is not null && Kinds().Any() && !Kinds().Any(ExpectationKinds.TakesMostly))
        {
            problems.Add($"{path}.mostly: applies to type, min, max, allowed, unique, regex, greater_than, greater_or_equal and equal_to; the column has none (max_null_rate is the tolerance for missing values)");
        }

        foreach (var (kind, own) in ExpectationMostly ?? new Dictionary<string, double>())
        {
            if (!(own >= 0 && own <= 1))
            {
                problems.Add($"{path}.{kind}.mostly: {own} must be between 0 and 1");
            }
            else if (!ExpectationKinds.TakesMostly(kind))
            {
                problems.Add($"{path}.{kind}.mostly: {kind} takes no mostly; it applies to type, min, max, allowed, unique, regex, greater_than, greater_or_equal and equal_to");
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

        if ((Min is not null || Max is not null) && Type is ColumnTypes.String or ColumnTypes.Boolean)
        {
            problems.Add($"{path}: min and max compare numbers, but the type is {Type}");
        }

        if (MaxNullRate is { } rate && !(rate >= 0 && rate <= 1))
        {
            problems.Add($"{path}.max_null_rate: {rate} must be between 0 and 1");
        }

        if (Required == true && MaxNullRate is not null)
        {
            problems.Add($"{path}: required already allows no missing values; leave out max_null_rate");
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
            problems.Add($"{path}: no expectation (give type, required, min, max, allowed, max_null_rate, unique, regex, greater_than, greater_or_equal or equal_to)");
        }
    }
}
