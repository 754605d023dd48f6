using System.Text.Json.Serialization;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// Data-quality expectations, column by column (the Great Expectations idea, in Ballast's words):
/// <c>{"columns": {"age": {"type": "integer", "required": true, "min": 0, "max": 120}, "state": {"allowed": ["CA", "NY"]}}}</c>,
/// with an optional table-level <c>"rows": {"min": 1000}</c> (<see cref="Rows"/>).
/// Read with <see cref="ExpectationSuiteReader"/>, which records every problem (unknown field, wrong type) in
/// <see cref="Problems"/> instead of dropping it; <see cref="Validate"/> lists them with the semantic ones. See docs/quality.md.
/// </summary>
[JsonConverter(typeof(ExpectationSuiteJsonConverter))]
public sealed record ExpectationSuite(IReadOnlyDictionary<string, ColumnExpectations> Columns)
{
    /// <summary>What the reader could not take as written, each prefixed with the field's path (<c>columns.age.max</c>).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>The row count the table should have; null when not checked.</summary>
    public RowCountExpectation? Rows { get; init; }

    /// <summary>Expectations over several columns of each row (sum_to_equal, compound unique), in the order written.</summary>
    public IReadOnlyList<MulticolumnExpectation> Multicolumn { get; init; } = [];

    /// <summary>The problem of a suite that is not an object at all: the only one without a field path.</summary>
    internal const string NotAnObject = "the suite must be an object with 'columns' (and optionally 'rows' and 'multicolumn')";

    /// <summary>
    /// A problem of <see cref="Validate"/> under the field that holds the suite: <c>quality.suite.columns.age.max: …</c>,
    /// and <c>quality.suite: the suite must be an object …</c> for a suite that is not an object.
    /// </summary>
    public static string Under(string field, string problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        return problem == NotAnObject ? $"{field}: {problem}" : $"{field}.{problem}";
    }

    /// <summary>Every problem at once, each naming its field; empty when the suite can be applied.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Problems);
        if (Columns.Count == 0 && Rows is null && Multicolumn.Count == 0 && Problems.Count == 0)
        {
            problems.Add("columns: name at least one column and its expectations (or give rows or multicolumn)");
        }

        for (var i = 0; i < Multicolumn.Count; i++)
        {
            var path = $"multicolumn[{i}]";
            Multicolumn[i].Validate(path, problems, misread: Problems.Any(problem => problem.StartsWith(path, StringComparison.Ordinal)));
            for (var j = 0; j < i; j++)
            {
                if (Multicolumn[j].Kind is { } kind && kind == Multicolumn[i].Kind && Multicolumn[j].Name == Multicolumn[i].Name)
                {
                    problems.Add($"{path}: repeats multicolumn[{j}] ({kind} of {Multicolumn[i].Name})");
                }
            }
        }

        Rows?.Validate(problems, misread: Problems.Any(problem => problem.StartsWith("rows.", StringComparison.Ordinal)));
        foreach (var (name, column) in Columns)
        {
            var path = $"columns.{name}";
            column.Validate(name, path, problems, misread: Problems.Any(problem => problem.StartsWith(path + ".", StringComparison.Ordinal)));
        }

        return problems;
    }

    /// <summary>
    /// The suite's expectations in a stable order: <see cref="ExpectationKinds.RowCount"/> first (with an empty column name)
    /// when <see cref="Rows"/> is set, then columns as written, kinds in <see cref="ExpectationKinds.All"/> order, then the
    /// <see cref="Multicolumn"/> ones (their column is <see cref="MulticolumnExpectation.Name"/>). A pair kind written as a
    /// list of other columns is one expectation per column (<see cref="ColumnExpectations.Expectations"/>).
    /// </summary>
    public IEnumerable<(string Column, string Expectation)> Expectations() =>
        (Rows is null ? [] : new[] { ("", ExpectationKinds.RowCount) })
            .Concat(Columns.SelectMany(column => column.Value.Expectations().Select(expectation => (column.Key, expectation))))
            .Concat(Multicolumn.Where(multi => multi.Kind is not null).Select(multi => (multi.Name, multi.Kind!)));
}
