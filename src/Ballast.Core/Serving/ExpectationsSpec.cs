using Ballast.Monitoring.Quality;

namespace Ballast.Serving;

/// <summary>
/// Data-quality expectations checked on every scoring request, row by row: <see cref="Mode"/> <c>reject</c> answers
/// 400 naming the failed expectation and scores nothing; <c>flag</c> scores, and marks the answer with the
/// <c>Ballast-Expectations</c> header and the violation counters.
/// </summary>
public sealed record ExpectationsSpec(ExpectationSuite? Suite, string? Mode = null)
{
    public const string Reject = "reject";
    public const string Flag = "flag";

    public static IReadOnlyList<string> Modes { get; } = [Reject, Flag];

    internal void Validate(List<string> problems)
    {
        if (Mode is not null && !Modes.Contains(Mode))
        {
            problems.Add($"expectations.mode '{Mode}' is not one of reject, flag");
        }

        if (Suite is null)
        {
            problems.Add("expectations.suite: give the suite inline, e.g. {\"columns\": {\"age\": {\"min\": 0}}}");
            return;
        }

        foreach (var problem in Suite.Validate())
        {
            problems.Add(ExpectationSuite.Under("expectations.suite", problem));
        }

        if (Suite.Rows is not null)
        {
            // A request's row count is its batch size, not a property of the data.
            problems.Add("expectations.suite.rows: a row count judges a whole table; serving checks each request's rows (use it in a monitor or ballast validate)");
        }

        for (var i = 0; i < Suite.Multicolumn.Count; i++)
        {
            var multi = Suite.Multicolumn[i];
            if (multi.Unique == true)
            {
                // Uniqueness across rows needs the other rows; a request's are only its batch.
                problems.Add($"expectations.suite.multicolumn[{i}].unique: a combination of columns unique across rows judges many rows; serving checks each row (use it in a monitor or ballast validate)");
            }

            if (multi.Mostly is not null)
            {
                problems.Add($"expectations.suite.multicolumn[{i}].mostly: a share of rows allowed to fail judges many rows; serving checks each row and rejects or flags any that fails (use mostly in a monitor or ballast validate)");
            }
        }

        foreach (var (column, expectations) in Suite.Columns)
        {
            // Serving sees one request at a time: these need a window (a monitor) or a batch (ballast validate).
            if (expectations.Unique == true || expectations.MaxNullRate is not null)
            {
                problems.Add($"expectations.suite.columns.{column}: unique and max_null_rate need many rows; serving checks each row (use them in a monitor or ballast validate)");
            }

            foreach (var kind in expectations.Kinds().Where(ExpectationKinds.IsAggregate))
            {
                // A request's rows are its batch, not the data: an aggregate over them says nothing of the column.
                problems.Add($"expectations.suite.columns.{column}.{kind}: {kind} is computed over a column's values as a whole; serving checks each row (use it in a monitor or ballast validate)");
            }

            foreach (var (kind, bound) in new[] { (ExpectationKinds.Min, expectations.MinTime), (ExpectationKinds.Max, expectations.MaxTime) })
            {
                if (bound is not null)
                {
                    // A request's inputs are tensors of numbers or text; dates are compared where DuckDB reads them as dates.
                    problems.Add($"expectations.suite.columns.{column}.{kind}: '{bound.Text}' is a date or time, and serving checks tensors of numbers or text and does not read text as dates (type string included); compare dates in a monitor or ballast validate");
                }
            }

            if (expectations.Mostly is not null)
            {
                // A share of rows allowed to fail has no meaning for one row: serving rejects or flags each row that fails.
                problems.Add($"expectations.suite.columns.{column}.mostly: a share of rows allowed to fail judges many rows; serving checks each row and rejects or flags any that fails (use mostly in a monitor or ballast validate)");
            }

            foreach (var kind in (expectations.ExpectationMostly ?? new Dictionary<string, double>()).Keys)
            {
                problems.Add($"expectations.suite.columns.{column}.{kind}.mostly: a share of rows allowed to fail judges many rows; serving checks each row and rejects or flags any that fails (use mostly in a monitor or ballast validate)");
            }
        }
    }
}
