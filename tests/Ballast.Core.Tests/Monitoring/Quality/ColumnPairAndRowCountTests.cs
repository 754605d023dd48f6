using Ballast.Monitoring.Quality;
using Ballast.Runtime;
using DuckDB.NET.Data;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>
/// Column-pair expectations (greater_than, greater_or_equal, equal_to) and the row count, in batch (DuckDB) and at
/// serving (per request row) on the same seven rows, every count worked out by hand in the comments. Missing values
/// follow Great Expectations' <c>ignore_row_if</c> (great_expectations/expectations/core/
/// expect_column_pair_values_a_to_be_greater_than_b.py, and the execution engines' pair domain filters): rows it skips
/// are not counted; in the rows left a missing value fails; the unexpected share is of the rows left.
/// </summary>
public sealed class ColumnPairAndRowCountTests : IDisposable
{
    // row  lo    hi    a   b
    //  1   1     2     x   x
    //  2   3     3     y   y
    //  3   5     4     z   Z
    //  4   null  7     q   null
    //  5   2     null  w   w
    //  6   null  null  null null
    //  7   1.5   10    7   7.0
    private const string Csv = """
        lo,hi,a,b
        1,2,x,x
        3,3,y,y
        5,4,z,Z
        ,7,q,
        2,,w,w
        ,,,
        1.5,10,7,7.0
        """;

    private static readonly double[] Lo = [1, 3, 5, double.NaN, 2, double.NaN, 1.5];
    private static readonly double[] Hi = [2, 3, 4, 7, double.NaN, double.NaN, 10];
    private static readonly string?[] A = ["x", "y", "z", "q", "w", null, "7"];
    private static readonly string?[] B = ["x", "y", "Z", null, "w", null, "7.0"];

    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-pairs-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // hi > lo. both_values_are_missing (the default) skips row 6: 6 rows checked, rows 2 (3 > 3), 3 (4 > 5) and 4, 5 (a
    // missing side) fail. either_value_is_missing skips rows 4, 5, 6: 4 checked, rows 2 and 3 fail. neither skips none:
    // 7 checked, rows 2 to 6 fail.
    [Theory]
    [InlineData(null, 4, 6)]
    [InlineData("both_values_are_missing", 4, 6)]
    [InlineData("either_value_is_missing", 2, 4)]
    [InlineData("neither", 5, 7)]
    public void Greater_than_skips_the_rows_ignore_row_if_names_and_fails_a_missing_side_in_the_others(string? ignore, long failing, long checkedRows)
    {
        var field = ignore is null ? "" : $", \"ignore_row_if\": \"{ignore}\"";
        var suite = Suite("""{"columns": {"hi": {"greater_than": "lo" """ + field + "}}}");

        var result = ExpectationValidator.ValidateFile(WriteCsv(), suite, TestContext.Current.CancellationToken).Expectations.Single();

        (result.Column, result.Expectation, result.Success, result.UnexpectedCount).ShouldBe(("hi", "greater_than", false, failing));
        result.UnexpectedPercent.ShouldBe(100.0 * failing / checkedRows, 1e-9);
        result.Observed.ShouldBeNull();
        result.Examples.ShouldContain("(3, 3.0)");
        result.Examples.ShouldContain("(4, 5.0)");

        // Serving counts the same rows; its first failure is row index 1 (3 > 3).
        var violation = RowValidator.Compile(suite).Check(Inputs()).Violations.Single();
        (violation.Column, violation.Expectation, violation.Rows, violation.FirstRow, violation.FirstValue).ShouldBe(("hi", "greater_than", (int)failing, 1, "(3, 3)"));
    }

    [Fact]
    public void Greater_or_equal_and_equal_to_compare_numbers_as_numbers_and_text_as_text()
    {
        // hi >= lo, default: row 6 skipped; rows 3 (4 >= 5), 4 and 5 fail: 3 of 6.
        // a = b, default: row 6 skipped; row 3 ('z' vs 'Z') and row 4 (b missing) fail: 2 of 6; row 7's "7" and "7.0" are equal numbers.
        var suite = Suite("""{"columns": {"hi": {"greater_or_equal": "lo"}, "a": {"equal_to": "b"}}}""");

        var result = ExpectationValidator.ValidateFile(WriteCsv(), suite, TestContext.Current.CancellationToken);

        result.Expectations.Select(e => (e.Name, e.Success, e.UnexpectedCount)).ShouldBe([("hi.greater_or_equal", false, 3L), ("a.equal_to", false, 2L)]);
        result.Expectations[0].UnexpectedPercent.ShouldBe(50, 1e-9);
        result.Expectations[1].UnexpectedPercent.ShouldBe(100.0 * 2 / 6, 1e-9);
        result.Expectations[1].Examples.ShouldBe(["(q, null)", "(z, Z)"]);
        // Rows breaking either: 3, 4, 5.
        result.RowsFailing.ShouldBe(3);

        var check = RowValidator.Compile(suite).Check(Inputs());
        check.Violations.Select(v => (v.Column, v.Expectation, v.Rows, v.FirstRow, v.FirstValue))
            .ShouldBe([("hi", "greater_or_equal", 3, 2, "(4, 5)"), ("a", "equal_to", 2, 2, "('z', 'Z')")]);
        check.Describe(suite).ShouldBe("the input fails expectations: column 'hi' greater_or_equal 'lo': row 2 has (4, 5) (3 rows fail); "
            + "column 'a' equal_to 'b': row 2 has ('z', 'Z') (2 rows fail)");
        check.FailedList().ShouldBe("hi.greater_or_equal,a.equal_to");
    }

    [Fact]
    public void Dates_compare_in_time_order_and_a_passing_pair_passes_at_serving_too()
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var suite = Suite("""{"columns": {"end": {"greater_than": "start"}}}""");

        // One of the two stays ends before it starts.
        var result = ExpectationValidator.Validate(connection,
            "SELECT * FROM (VALUES (DATE '2024-01-02', DATE '2024-01-10'), (DATE '2024-03-01', DATE '2024-02-01')) AS stays(start, \"end\")", suite, TestContext.Current.CancellationToken);

        (result.Expectations[0].UnexpectedCount, result.Expectations[0].UnexpectedPercent, result.RowsFailing).ShouldBe((1L, 50.0, 1L));
        result.Expectations[0].Examples.ShouldBe(["(2024-02-01, 2024-03-01)"]);

        // The same dates as ISO text at serving.
        var check = RowValidator.Compile(suite).Check(
            [new Tensor("start", TensorDatatypes.Bytes, [2], new[] { "2024-01-02", "2024-03-01" }), new Tensor("end", TensorDatatypes.Bytes, [2], new[] { "2024-01-10", "2024-02-01" })]);
        (check.Violations.Single().Rows, check.Violations.Single().FirstRow).ShouldBe((1, 1));
        RowValidator.Compile(suite).Check(
            [new Tensor("start", TensorDatatypes.Bytes, [1], new[] { "2024-01-02" }), new Tensor("end", TensorDatatypes.Bytes, [1], new[] { "2024-01-10" })]).Passed.ShouldBeTrue();
    }

    [Fact]
    public void A_pair_whose_other_column_is_missing_fails_every_row()
    {
        var suite = Suite("""{"columns": {"hi": {"greater_than": "nope", "min": 0}}}""");

        var result = ExpectationValidator.ValidateFile(WriteCsv(), suite, TestContext.Current.CancellationToken);

        result.Expectations.Select(e => (e.Name, e.Success, e.UnexpectedCount)).ShouldBe([("hi.min", true, 0L), ("hi.greater_than", false, 7L)]);
        result.Expectations[1].ObservedText.ShouldBe("no column 'nope' (the data has lo, hi, a, b)");
        result.RowsFailing.ShouldBe(7);

        // At serving an input the request lacks is missing in every row: rows 1-4 and 7 have hi, so they fail.
        var check = RowValidator.Compile(suite).Check(Inputs());
        (check.Violations.Single().Rows, check.Violations.Single().FirstValue).ShouldBe((5, "(2, missing)"));
        RowValidator.Compile(suite).UnknownColumns([new TensorSpec("hi", TensorDatatypes.Fp64, [-1, 1])]).ShouldBe(["nope"]);
    }

    [Theory]
    [InlineData("""{"min": 7, "max": 7}""", true)]
    [InlineData("""{"min": 8}""", false)]
    [InlineData("""{"max": 6}""", false)]
    [InlineData("""{"max": 100}""", true)]
    public void The_row_count_is_between_inclusive_bounds(string rows, bool success)
    {
        var suite = Suite("""{"rows": """ + rows + """, "columns": {"lo": {"min": 0}}}""");

        var result = ExpectationValidator.ValidateFile(WriteCsv(), suite, TestContext.Current.CancellationToken);

        var count = result.Expectations[0];
        (count.Name, count.Column, count.Success, count.Observed, count.UnexpectedCount).ShouldBe(("row_count", "", success, 7.0, 0L));
        result.Success.ShouldBe(success);
        result.RowsFailing.ShouldBe(0, "the row count judges the table, not a row");
        var json = ValidationResultJson.Write(result, indented: false);
        json.ShouldContain("""{"column":null,"expectation":"row_count","success":""" + (success ? "true" : "false") + ""","observed":7,"unexpected_count":0,"unexpected_percent":0,"examples":[]}""");
    }

    [Fact]
    public void A_suite_of_only_a_row_count_is_valid_and_round_trips()
    {
        var suite = Suite("""{"rows": {"min": 1}}""");
        suite.Expectations().ShouldBe([("", "row_count")]);
        ExpectationSuiteReader.ToJson(suite, indented: false).ShouldBe("""{"rows":{"min":1},"columns":{}}""");

        var written = ExpectationSuiteReader.ToJson(Suite("""{"columns": {"hi": {"min": 0, "greater_than": "lo", "equal_to": "x", "ignore_row_if": "neither"}}, "rows": {"min": 1, "max": 9}}"""), indented: false);
        written.ShouldBe("""{"rows":{"min":1,"max":9},"columns":{"hi":{"min":0,"greater_than":"lo","equal_to":"x","ignore_row_if":"neither"}}}""");
        ExpectationSuiteReader.ToJson(ExpectationSuiteReader.Parse(written), indented: false).ShouldBe(written);
        ExpectationSuiteReader.Parse(written).Expectations().Select(e => $"{e.Column}.{e.Expectation}").ShouldBe([".row_count", "hi.min", "hi.greater_than", "hi.equal_to"]);
    }

    [Theory]
    [InlineData("""{"columns": {"hi": {"greater_than": 3}}}""", "columns.hi.greater_than: must be a column name or a list of column names, not 3")]
    [InlineData("""{"columns": {"hi": {"greater_than": "hi"}}}""", "columns.hi.greater_than: compares the column with itself")]
    [InlineData("""{"columns": {"hi": {"equal_to": ""}}}""", "columns.hi.equal_to: name the other column")]
    [InlineData("""{"columns": {"hi": {"greater_than": "lo", "ignore_row_if": "never"}}}""", "columns.hi.ignore_row_if: 'never' is not one of both_values_are_missing, either_value_is_missing, neither")]
    [InlineData("""{"columns": {"hi": {"min": 0, "ignore_row_if": "neither"}}}""", "columns.hi.ignore_row_if: applies to greater_than, greater_or_equal and equal_to; the column has none")]
    [InlineData("""{"rows": {"min": 10, "max": 1}}""", "rows: min 10 is greater than max 1")]
    [InlineData("""{"rows": {"min": -1}}""", "rows.min: -1 must not be negative")]
    [InlineData("""{"rows": {"min": 1.5}}""", "rows.min: must be a whole number, not 1.5")]
    [InlineData("""{"rows": {"least": 1}}""", "rows.least: unknown field (known: min, max)")]
    [InlineData("""{"rows": {}}""", "rows: give min, max or both")]
    [InlineData("""{"rows": 5}""", "rows: must be an object with min, max or both")]
    [InlineData("""{"columns": {}, "table": 1}""", "table: unknown field (known: columns, rows, multicolumn)")]
    public void A_bad_pair_or_row_count_is_refused_naming_the_field(string json, string problem)
    {
        SuiteProblems.ShouldInclude(json, problem);
    }

    [Theory]
    [InlineData("""{"rows": 5}""", "rows: must be an object with min, max or both (row counts)")]
    [InlineData("""{"rows": {"min": 10, "max": 1}}""", "rows: min 10 is greater than max 1")]
    [InlineData("""{"multicolumn": [{"columns": ["a"], "sum_to_equal": 1}]}""", "multicolumn[0].columns: list at least two columns")]
    public void A_suite_of_a_bad_row_count_or_multicolumn_alone_is_not_also_told_to_give_columns(string json, string problem)
    {
        // A suite may hold only rows (or multicolumn): when that cannot be read, its own problem is the only one.
        var problems = ExpectationSuiteReader.Parse(json).Validate();

        problems.ShouldHaveSingleItem().ShouldStartWith(problem);
    }

    [Fact]
    public void A_passing_pair_check_allocates_nothing()
    {
        var validator = RowValidator.Compile(Suite("""{"columns": {"hi": {"greater_than": "lo"}, "a": {"equal_to": "b"}}}"""));
        List<Tensor> inputs =
        [
            new("lo", TensorDatatypes.Fp64, [2, 1], new[] { 1.0, 2.0 }), new("hi", TensorDatatypes.Fp64, [2, 1], new[] { 2.0, 3.0 }),
            new("a", TensorDatatypes.Bytes, [2, 1], new[] { "x", "7" }), new("b", TensorDatatypes.Bytes, [2, 1], new[] { "x", "7.0" }),
        ];
        for (var i = 0; i < 100; i++)
        {
            validator.Check(inputs).Passed.ShouldBeTrue();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            validator.Check(inputs);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBeLessThanOrEqualTo(100 * 32);
    }

    private static ExpectationSuite Suite(string json) => ExpectationSuiteReader.Parse(json);

    private string WriteCsv()
    {
        var path = Path.Combine(_folder, "pairs.csv");
        File.WriteAllText(path, Csv);
        return path;
    }

    private static List<Tensor> Inputs() =>
    [
        new("lo", TensorDatatypes.Fp64, [7, 1], Lo),
        new("hi", TensorDatatypes.Fp64, [7, 1], Hi),
        new("a", TensorDatatypes.Bytes, [7, 1], A),
        new("b", TensorDatatypes.Bytes, [7, 1], B),
    ];
}
