namespace Ballast.Monitoring.Quality;

/// <summary>
/// Great Expectations' <c>expect_column_quantile_values_to_be_between</c>: each of <see cref="Quantiles"/> (in [0, 1],
/// strictly increasing) of the present values is within its range in <see cref="ValueRanges"/> (one per quantile). A
/// quantile q is SQL's <c>percentile_disc</c>, as GE's SQL engines compute it: the smallest present value whose
/// cumulative share reaches q (the value of rank max(1, ⌈q·n⌉) in ascending order, ranked with q as written, not
/// in floating point), an actual value of the column, never an interpolation. A column with no present value has no
/// quantile, and the expectation fails, as in GE. <see cref="AllowRelativeError"/> is GE's <c>allow_relative_error</c> as
/// its approximating engines read it (Spark's <c>approxQuantile</c> <c>relativeError</c>): a quantile q may be any value whose
/// rank r among the n present values has ⌊(q − ε)·n⌋ ≤ r ≤ ⌈(q + ε)·n⌉, so it holds when one of them is within its range.
/// </summary>
public sealed record QuantileExpectation(IReadOnlyList<double> Quantiles, IReadOnlyList<QuantileRange> ValueRanges, double? AllowRelativeError = null)
{
    /// <summary>Whether the ranges are dates or times (for a column of dates or times; ISO-8601 text in the suite).</summary>
    public bool IsTime => ValueRanges.Any(range => range.IsTime);

    /// <summary>
    /// The ranks (1-based, within 1 … <paramref name="count"/>) a quantile q may take with the allowed relative error ε:
    /// ⌊(q − ε)·n⌋ … ⌈(q + ε)·n⌉ (Spark's approxQuantile bound), computed in decimal so that q and ε count as written.
    /// </summary>
    public static (long Low, long High) Ranks(double q, double error, long count)
    {
        var (quantile, epsilon, n) = ((decimal)q, (decimal)error, (decimal)count);
        var low = (long)Math.Floor((quantile - epsilon) * n);
        var high = (long)Math.Ceiling((quantile + epsilon) * n);
        return (Math.Clamp(low, 1, count), Math.Clamp(high, 1, count));
    }

    internal void Validate(string path, List<string> problems, bool misread)
    {
        if (Quantiles.Count == 0 && !misread)
        {
            problems.Add($"{path}.quantiles: list at least one quantile, e.g. [0.05, 0.5, 0.95]");
        }

        for (var i = 0; i < Quantiles.Count; i++)
        {
            var q = Quantiles[i];
            if (!(q >= 0 && q <= 1))
            {
                problems.Add($"{path}.quantiles[{i}]: {q} must be between 0 and 1");
            }
            else if (i > 0 && !(q > Quantiles[i - 1]))
            {
                problems.Add($"{path}.quantiles[{i}]: {q} must be greater than the quantile before it ({Quantiles[i - 1]}); list them in increasing order, each once");
            }
        }

        if (AllowRelativeError is { } error && !(error >= 0 && error <= 1))
        {
            problems.Add($"{path}.allow_relative_error: {error} must be between 0 and 1 (the rank error allowed, as a share of the present values)");
        }

        if (!misread && ValueRanges.Count != Quantiles.Count)
        {
            problems.Add($"{path}.value_ranges: give one range per quantile ({Quantiles.Count} quantiles, {ValueRanges.Count} value_ranges)");
        }

        for (var i = 0; i < ValueRanges.Count; i++)
        {
            var range = ValueRanges[i];
            if (IsTime && (range.Min is not null || range.Max is not null))
            {
                problems.Add($"{path}.value_ranges[{i}]: mixes numbers with dates or times; give every range as dates (e.g. ['2024-01-01', '2024-03-31']) or every range as numbers");
            }
            else if (range.MinTime is { } from && range.MaxTime is { } to)
            {
                if (from.Microseconds > to.Microseconds)
                {
                    problems.Add($"{path}.value_ranges[{i}]: min {from.Text} is after max {to.Text} (write [min, max])");
                }
            }
            else if (range.Low is null && range.High is null && !misread)
            {
                problems.Add($"{path}.value_ranges[{i}]: give a min, a max or both ([min, null] or [null, max] for one)");
            }
            else if (range.Min is { } min && range.Max is { } max && min > max)
            {
                problems.Add($"{path}.value_ranges[{i}]: min {min} is greater than max {max} (write [min, max])");
            }
        }
    }
}
