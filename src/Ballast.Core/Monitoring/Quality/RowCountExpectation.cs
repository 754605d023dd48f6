namespace Ballast.Monitoring.Quality;

/// <summary>
/// The table's row count within [<see cref="Min"/>, <see cref="Max"/>], both inclusive and either left out for no bound
/// (Great Expectations' <c>expect_table_row_count_to_be_between</c>). It judges a whole table (a file, a monitor's window),
/// so serving, which checks one request at a time, refuses it.
/// </summary>
public sealed record RowCountExpectation(long? Min = null, long? Max = null)
{
    public bool Holds(long rows) => (Min is not { } min || rows >= min) && (Max is not { } max || rows <= max);

    internal void Validate(List<string> problems, bool misread = false)
    {
        foreach (var (value, field) in new[] { (Min, "min"), (Max, "max") })
        {
            if (value < 0)
            {
                problems.Add($"rows.{field}: {value} must not be negative");
            }
        }

        if (Min is { } min && Max is { } max && min > max)
        {
            problems.Add($"rows: min {min} is greater than max {max}");
        }

        if (Min is null && Max is null && !misread)
        {
            problems.Add("rows: give min, max or both");
        }
    }
}
