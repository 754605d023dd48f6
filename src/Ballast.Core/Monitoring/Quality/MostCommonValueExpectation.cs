namespace Ballast.Monitoring.Quality;

/// <summary>
/// Great Expectations' <c>expect_column_most_common_value_to_be_in_set</c>: the most common present value (every value
/// tied for the highest count, GE's <c>column.most_common_value</c>) is in <see cref="ValueSet"/>. Without
/// <see cref="TiesOkay"/> there must be one such value and it must be in the set; with it, any of the tied values may be.
/// Values match as <c>allowed</c> matches them (as text, and numerically for numbers: <c>1</c> matches 1.0 and "1").
/// A column with no present value has no most common value and fails, as in GE. <see cref="TiesOkay"/> is kept as
/// written (null when left out) so the suite is written back as given.
/// </summary>
public sealed record MostCommonValueExpectation(IReadOnlyList<string> ValueSet, bool? TiesOkay = null)
{
    /// <summary>GE's rule over the tied most common values and whether each is in the set.</summary>
    public bool Holds(IReadOnlyList<(string Value, bool InSet)> modes) =>
        TiesOkay == true ? modes.Any(mode => mode.InSet) : modes.Count == 1 && modes[0].InSet;

    internal void Validate(string path, List<string> problems, bool misread)
    {
        if (ValueSet.Count == 0 && !misread)
        {
            problems.Add($"{path}.value_set: list at least one value");
        }
    }
}
