namespace Ballast.Monitoring.Quality;

/// <summary>
/// One expectation's outcome. <see cref="UnexpectedCount"/> counts the rows that break it, and
/// <see cref="UnexpectedPercent"/> is their share (0–100) of the present values (of all rows for <c>required</c>,
/// <c>max_null_rate</c> and <c>exists</c>). <see cref="Observed"/> is what was measured: the null count (required), the
/// null rate (max_null_rate), the smallest or largest value (min, max), the distinct values (unique), the column's type
/// as read (type, as <see cref="ObservedText"/>), the row count (row_count); null for allowed, regex and the pair kinds.
/// <see cref="Examples"/> are up to <see cref="ExpectationValidator.MaxExamples"/> offending values, the most frequent
/// first (for a pair, "(a, b)"). A pair's share is of the rows it checked (not skipped by <c>ignore_row_if</c>).
/// <c>row_count</c> judges the table: its <see cref="Column"/> is empty and it counts no unexpected rows.
/// <see cref="Mostly"/> is the column's <c>mostly</c> when it relaxed this expectation: <see cref="Success"/> then holds when
/// at least that share of the rows checked met it (Great Expectations' rule); the unexpected rows are counted all the same.
/// A column aggregate (<see cref="ExpectationKinds.IsAggregate"/>: mean, median, stdev, sum, unique_proportion,
/// distinct_count) has its measured value in <see cref="Observed"/> (null when there is none, which fails) and no
/// unexpected rows; <c>quantiles</c> has each quantile's value and verdict in <see cref="Quantiles"/>, and
/// <c>most_common_value</c> the values tied for most common in <see cref="ObservedValues"/> (GE's <c>observed_value</c> list).
/// </summary>
public sealed record ExpectationResult(
    string Column,
    string Expectation,
    bool Success,
    double? Observed,
    long UnexpectedCount,
    double UnexpectedPercent,
    IReadOnlyList<string> Examples,
    string? ObservedText = null,
    double? Mostly = null,
    IReadOnlyList<ObservedQuantile>? Quantiles = null,
    IReadOnlyList<string>? ObservedValues = null)
{
    /// <summary>
    /// Great Expectations' <c>_mostly_success</c>: (checked − unexpected) / checked ≥ <paramref name="mostly"/>; with no
    /// row checked the expectation holds (vacuously, as in GE), and without <paramref name="mostly"/> every row must meet it.
    /// </summary>
    public static bool Holds(long unexpected, long checkedRows, double? mostly) =>
        unexpected == 0 || (mostly is { } share && checkedRows > 0 && (double)(checkedRows - unexpected) / checkedRows >= share);

    /// <summary><c>column.expectation</c>, or the expectation alone when it is about the table (<c>row_count</c>).</summary>
    public string Name => Column.Length == 0 ? Expectation : $"{Column}.{Expectation}";
}
