namespace Ballast.Monitoring.Quality;

/// <summary>
/// One column's expectations; a null field is not checked. <see cref="Min"/> and <see cref="Max"/> are inclusive;
/// <see cref="Allowed"/> values are kept as text (numbers compare as numbers); <see cref="Regex"/> must match somewhere in
/// the value (anchor it with ^ and $ for the whole value). Missing values (null, NaN) fail only <see cref="Required"/>
/// and count towards <see cref="MaxNullRate"/>; the other expectations look at present values only.
/// </summary>
public sealed record ColumnExpectations(
    string? Type = null,
    bool? Required = null,
    double? Min = null,
    double? Max = null,
    IReadOnlyList<string>? Allowed = null,
    double? MaxNullRate = null,
    bool? Unique = null,
    string? Regex = null)
{
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
    }

    internal void Validate(string path, List<string> problems, bool misread = false)
    {
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
            problems.Add($"{path}: no expectation (give type, required, min, max, allowed, max_null_rate, unique or regex)");
        }
    }
}
