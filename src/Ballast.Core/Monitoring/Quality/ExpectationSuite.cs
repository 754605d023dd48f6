using System.Text.Json.Serialization;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// Data-quality expectations, column by column (the Great Expectations idea, in Ballast's words):
/// <c>{"columns": {"age": {"type": "integer", "required": true, "min": 0, "max": 120}, "state": {"allowed": ["CA", "NY"]}}}</c>.
/// Read with <see cref="ExpectationSuiteReader"/>, which records every problem (unknown field, wrong type) in
/// <see cref="Problems"/> instead of dropping it; <see cref="Validate"/> lists them with the semantic ones. See docs/quality.md.
/// </summary>
[JsonConverter(typeof(ExpectationSuiteJsonConverter))]
public sealed record ExpectationSuite(IReadOnlyDictionary<string, ColumnExpectations> Columns)
{
    /// <summary>What the reader could not take as written, each prefixed with the field's path (<c>columns.age.max</c>).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>Every problem at once, each naming its field; empty when the suite can be applied.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Problems);
        if (Columns.Count == 0 && Problems.Count == 0)
        {
            problems.Add("columns: name at least one column and its expectations");
        }

        foreach (var (name, column) in Columns)
        {
            var path = $"columns.{name}";
            column.Validate(path, problems, misread: Problems.Any(problem => problem.StartsWith(path + ".", StringComparison.Ordinal)));
        }

        return problems;
    }

    /// <summary>The suite's expectations in a stable order: columns as written, kinds in <see cref="ExpectationKinds.All"/> order.</summary>
    public IEnumerable<(string Column, string Expectation)> Expectations() =>
        Columns.SelectMany(column => column.Value.Kinds().Select(kind => (column.Key, kind)));
}
