namespace Ballast.Monitoring.Quality;

/// <summary>
/// A suite checked against a table: <see cref="Success"/> when every expectation holds; <see cref="Rows"/> checked;
/// one <see cref="ExpectationResult"/> per expectation, in the suite's order.
/// </summary>
public sealed record ValidationResult(bool Success, long Rows, IReadOnlyList<ExpectationResult> Expectations)
{
    public int Failed => Expectations.Count(expectation => !expectation.Success);
}
