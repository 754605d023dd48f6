namespace Ballast.Monitoring.Quality;

/// <summary>
/// A suite checked against a table: <see cref="Success"/> when every expectation holds; <see cref="Rows"/> checked;
/// one <see cref="ExpectationResult"/> per expectation, in the suite's order; <see cref="RowsFailing"/> counts the rows
/// that break at least one row-level expectation (required, type, min, max, allowed, regex, greater_than,
/// greater_or_equal, equal_to; every row when a named column is missing), as unique, max_null_rate, row_count and the
/// column aggregates (mean, median, stdev, sum, unique_proportion, distinct_count, quantiles) judge the table, not a row.
/// </summary>
public sealed record ValidationResult(bool Success, long Rows, IReadOnlyList<ExpectationResult> Expectations, long RowsFailing = 0)
{
    public int Failed => Expectations.Count(expectation => !expectation.Success);
}
