using System.Globalization;
using System.Text;

namespace Ballast.Monitoring.Quality;

/// <summary>The rows of one request checked, and each failed expectation (none when the request passed).</summary>
public sealed record RowCheck(int Rows, IReadOnlyList<RowViolation> Violations)
{
    public bool Passed => Violations.Count == 0;

    /// <summary>The failed expectations as <c>column.expectation</c>, comma-separated (the <c>Ballast-Expectations</c> header's list).</summary>
    public string FailedList() => string.Join(",", Violations.Select(violation => $"{violation.Column}.{violation.Expectation}"));

    /// <summary>One sentence naming every failed expectation, its limit and the first offending value.</summary>
    public string Describe(ExpectationSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        var text = new StringBuilder("the input fails expectations: ");
        for (var i = 0; i < Violations.Count; i++)
        {
            var violation = Violations[i];
            var column = suite.Columns.TryGetValue(violation.Column, out var expectations) ? expectations : new ColumnExpectations();
            var multi = violation.Expectation is ExpectationKinds.SumToEqual or ExpectationKinds.UniqueWithinRecord
                ? suite.Multicolumn.FirstOrDefault(candidate => candidate.Name == violation.Column && candidate.Kind == violation.Expectation)
                : null;
            var limit = violation.Expectation switch
            {
                ExpectationKinds.Type => $" {column.Type}",
                ExpectationKinds.Min => string.Create(CultureInfo.InvariantCulture, $" {column.Min}"),
                ExpectationKinds.Max => string.Create(CultureInfo.InvariantCulture, $" {column.Max}"),
                ExpectationKinds.Allowed => $" [{string.Join(", ", column.Allowed ?? [])}]",
                ExpectationKinds.Regex => $" /{column.Regex}/",
                ExpectationKinds.SumToEqual => string.Create(CultureInfo.InvariantCulture, $" {multi?.SumToEqual}"),
                _ => "",
            };
            // A pair says its kind and other column, whether written alone (greater_than) or in a list (greater_than[signup]).
            var expectation = column.Pairs().Where(pair => pair.Expectation == violation.Expectation).Select(pair => $"{pair.Kind} {pair.Shift?.Describe(pair.Other) ?? $"'{pair.Other}'"}").FirstOrDefault()
                ?? violation.Expectation + limit;
            text.Append(i == 0 ? "" : "; ")
                .Append(CultureInfo.InvariantCulture, $"{(multi is null ? "column" : "columns")} '{violation.Column}' {expectation}: row {violation.FirstRow} has {violation.FirstValue}");
            if (violation.Rows > 1)
            {
                text.Append(CultureInfo.InvariantCulture, $" ({violation.Rows} rows fail)");
            }
        }

        return text.ToString();
    }
}

/// <summary>
/// An expectation that <see cref="Rows"/> rows of a request failed; <see cref="FirstValue"/> is the first failing row's
/// value as text (for a column pair, both values: <c>(5, 7)</c>).
/// </summary>
public sealed record RowViolation(string Column, string Expectation, int Rows, int FirstRow, string FirstValue);
