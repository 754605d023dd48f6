namespace Ballast.Monitoring.Quality;

/// <summary>
/// The bounds of a column aggregate (mean, median, stdev, sum, unique_proportion, distinct_count): the observed value is
/// within [<see cref="Min"/>, <see cref="Max"/>], each inclusive unless <see cref="StrictMin"/> / <see cref="StrictMax"/>
/// (Great Expectations' <c>min_value</c>, <c>max_value</c>, <c>strict_min</c>, <c>strict_max</c>); a bound left out is
/// none. No observed value (a column with no present value, a stdev of one value) fails, as in GE. A median's bounds may
/// be dates or times instead (<see cref="MinTime"/>, <see cref="MaxTime"/>, ISO-8601 text), for a column of dates or times:
/// the observed value is then in microseconds since 1970 (<see cref="TimeBound"/>).
/// </summary>
public sealed record AggregateBounds(double? Min = null, double? Max = null, bool StrictMin = false, bool StrictMax = false, TimeBound? MinTime = null, TimeBound? MaxTime = null)
{
    /// <summary>Whether the bounds are dates or times (the column's dates are compared in microseconds since 1970).</summary>
    public bool IsTime => MinTime is not null || MaxTime is not null;

    private double? Low => Min ?? MinTime?.Microseconds;

    private double? High => Max ?? MaxTime?.Microseconds;

    /// <summary>Whether <paramref name="observed"/> is within the bounds; null (nothing to compare) never is.</summary>
    public bool Holds(double? observed) =>
        observed is { } value && !double.IsNaN(value)
        && (Low is not { } min || (StrictMin ? value > min : value >= min))
        && (High is not { } max || (StrictMax ? value < max : value <= max));

    internal void Validate(string kind, string path, List<string> problems, bool misread)
    {
        if (IsTime)
        {
            ValidateTimes(kind, path, problems);
            return;
        }

        if (Min is null && Max is null)
        {
            if (!misread)
            {
                problems.Add($"{path}: give min, max or both, e.g. {kind}: {{min: 0, max: 10}}");
            }

            return;
        }

        if (Min is { } min && Max is { } max)
        {
            if (min > max)
            {
                problems.Add($"{path}: min {min} is greater than max {max}");
            }
            else if (min == max && (StrictMin || StrictMax))
            {
                problems.Add($"{path}: min and max are both {min}, so a strict bound leaves no value to pass");
            }
        }

        if (StrictMin && Min is null)
        {
            problems.Add($"{path}.strict_min: there is no min to be strict about");
        }

        if (StrictMax && Max is null)
        {
            problems.Add($"{path}.strict_max: there is no max to be strict about");
        }

        foreach (var (value, field) in new[] { (Min, "min"), (Max, "max") })
        {
            if (value is not { } bound)
            {
                continue;
            }

            if (kind == ExpectationKinds.UniqueProportion && !(bound >= 0 && bound <= 1))
            {
                problems.Add($"{path}.{field}: {bound} must be between 0 and 1 (a proportion of the present values)");
            }
            else if (kind is ExpectationKinds.Stdev or ExpectationKinds.DistinctCount && bound < 0)
            {
                problems.Add($"{path}.{field}: {bound} must not be negative (a {(kind == ExpectationKinds.Stdev ? "standard deviation" : "count")} is never below 0)");
            }
        }
    }

    private void ValidateTimes(string kind, string path, List<string> problems)
    {
        if (kind != ExpectationKinds.Median)
        {
            problems.Add($"{path}: bounds that are dates or times ('{(MinTime ?? MaxTime)!.Text}') apply to median (and quantiles, min and max); {kind} is {(kind is ExpectationKinds.UniqueProportion or ExpectationKinds.DistinctCount ? "a count or a proportion" : "computed over numbers")}, so give numbers");
            return;
        }

        if ((Min is not null && MaxTime is not null) || (Max is not null && MinTime is not null))
        {
            problems.Add($"{path}: one bound is a number and the other a date or time; give both as numbers or both as dates (e.g. {{min: '2024-01-01', max: '2024-12-31'}})");
            return;
        }

        if (MinTime is { } min && MaxTime is { } max)
        {
            if (min.Microseconds > max.Microseconds)
            {
                problems.Add($"{path}: min {min.Text} is after max {max.Text}");
            }
            else if (min.Microseconds == max.Microseconds && (StrictMin || StrictMax))
            {
                problems.Add($"{path}: min and max are both {min.Text}, so a strict bound leaves no value to pass");
            }
        }

        if (StrictMin && MinTime is null)
        {
            problems.Add($"{path}.strict_min: there is no min to be strict about");
        }

        if (StrictMax && MaxTime is null)
        {
            problems.Add($"{path}.strict_max: there is no max to be strict about");
        }
    }
}
