using System.Text.Json;
using Ballast.Monitoring;
using Ballast.Monitoring.Quality;
using Ballast.Runtime;
using Ballast.Serving;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>
/// A pair kind written as a list of other columns (<c>checkout: {greater_than: [signup, first_visit]}</c>): each pair is
/// its own expectation, named <c>greater_than[signup]</c>, checked in batch (DuckDB) and at serving on the same six rows,
/// every count worked out by hand in the comments, with Great Expectations' rule for missing values (the default
/// <c>ignore_row_if: both_values_are_missing</c> skips a row missing both sides; a row missing one side fails).
/// </summary>
public sealed class PairListTests : IDisposable
{
    // row  checkout  signup  first_visit   > signup        > first_visit     >= signup (one column)
    //  1   5         1       2             pass            pass              pass
    //  2   3         3       1             FAIL (3 > 3)    pass              pass
    //  3   2         1       4             pass            FAIL (2 > 4)      pass
    //  4   null      1       1             FAIL (missing)  FAIL (missing)    FAIL (missing)
    //  5   7         null    null          FAIL (missing)  FAIL (missing)    FAIL (missing)
    //  6   null      null    3             skipped (both)  FAIL (missing)    skipped (both)
    // > signup: 5 rows checked, 3 fail (60 %); > first_visit: 6 checked, 4 fail; >= signup: 5 checked, 2 fail (40 %).
    // Rows breaking any: 2 to 6, so 5.
    private const string Csv = """
        checkout,signup,first_visit
        5,1,2
        3,3,1
        2,1,4
        ,1,1
        7,,
        ,,3
        """;

    private const string Suite = """{"columns": {"checkout": {"greater_than": ["signup", "first_visit"], "greater_or_equal": "signup"}}}""";

    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-pair-lists-").FullName;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Each_column_of_a_list_is_its_own_expectation_in_a_file_and_one_column_keeps_its_name()
    {
        var suite = ExpectationSuiteReader.Parse(Suite);
        suite.Validate().ShouldBeEmpty();

        var result = ExpectationValidator.ValidateFile(WriteCsv(), suite, Cancel);

        result.Expectations.Select(e => (e.Name, e.Success, e.UnexpectedCount)).ShouldBe(
            [("checkout.greater_than[signup]", false, 3L), ("checkout.greater_than[first_visit]", false, 4L), ("checkout.greater_or_equal", false, 2L)]);
        result.Expectations.Select(e => e.UnexpectedPercent).ShouldBe([60, 100.0 * 4 / 6, 40], tolerance: 1e-9);
        result.Expectations[0].Examples.ShouldBe(["(3, 3)", "(7, null)", "(null, 1)"], ignoreOrder: true);
        result.Expectations[1].Examples.ShouldBe(["(2, 4)", "(7, null)", "(null, 1)", "(null, 3)"], ignoreOrder: true);
        result.Expectations.ShouldAllBe(e => e.Observed == null && e.Mostly == null);
        result.RowsFailing.ShouldBe(5);
        result.Success.ShouldBeFalse();
        var json = ValidationResultJson.Write(result, indented: false);
        json.ShouldContain("""{"column":"checkout","expectation":"greater_than[signup]","success":false,"observed":null,"unexpected_count":3,"unexpected_percent":60,"examples":[""");
        json.ShouldContain("""{"column":"checkout","expectation":"greater_or_equal","success":false,""");
    }

    // greater_than with mostly 0.4 for each pair: > signup (5 - 3) / 5 = 0.4 holds (GE compares with >=);
    // > first_visit (6 - 4) / 6 = 0.333 does not. With 0.3 both hold, with 0.41 neither.
    [Theory]
    [InlineData(0.4, true, false)]
    [InlineData(0.3, true, true)]
    [InlineData(0.41, false, false)]
    public void A_mostly_of_its_own_on_a_list_judges_each_pair_on_its_own_rows(double mostly, bool signup, bool firstVisit)
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"checkout": {"greater_than": {"value": ["signup", "first_visit"], "mostly": """
            + mostly.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}}}");
        suite.Validate().ShouldBeEmpty();

        var result = ExpectationValidator.ValidateFile(WriteCsv(), suite, Cancel);

        result.Expectations.Select(e => (e.Expectation, e.Success, e.UnexpectedCount, e.Mostly)).ShouldBe(
            [("greater_than[signup]", signup, 3L, (double?)mostly), ("greater_than[first_visit]", firstVisit, 4L, mostly)]);
    }

    [Fact]
    public void A_listed_column_the_data_lacks_fails_its_pair_only()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"checkout": {"equal_to": ["signup", "nope"]}}}""");

        var result = ExpectationValidator.ValidateFile(WriteCsv(), suite, Cancel);

        // = signup: 5 rows checked (row 6 skipped); rows 1 and 3 differ (5 and 1, 2 and 1), row 2 holds (3 = 3), rows 4 and 5
        // miss a side: 4 fail. The missing column fails its pair on all 6 rows (so every row breaks the suite).
        result.Expectations.Select(e => (e.Name, e.UnexpectedCount)).ShouldBe([("checkout.equal_to[signup]", 4L), ("checkout.equal_to[nope]", 6L)]);
        result.Expectations[1].ObservedText.ShouldBe("no column 'nope' (the data has checkout, signup, first_visit)");
        result.RowsFailing.ShouldBe(6);
    }

    [Fact]
    public void Serving_checks_each_pair_of_a_list_and_names_it_in_the_header_and_the_message()
    {
        var suite = ExpectationSuiteReader.Parse(Suite);
        var validator = RowValidator.Compile(suite);
        List<Tensor> inputs =
        [
            new("checkout", TensorDatatypes.Fp64, [6, 1], new[] { 5, 3, 2, double.NaN, 7, double.NaN }),
            new("signup", TensorDatatypes.Fp64, [6, 1], new[] { 1, 3, 1, 1, double.NaN, double.NaN }),
            new("first_visit", TensorDatatypes.Fp64, [6, 1], new[] { 2, 1, 4, 1, double.NaN, 3 }),
        ];

        var check = validator.Check(inputs);

        check.Violations.Select(v => (v.Column, v.Expectation, v.Rows, v.FirstRow, v.FirstValue)).ShouldBe(
        [
            ("checkout", "greater_than[signup]", 3, 1, "(3, 3)"),
            ("checkout", "greater_than[first_visit]", 4, 2, "(2, 4)"),
            ("checkout", "greater_or_equal", 2, 3, "(missing, 1)"),
        ]);
        check.FailedList().ShouldBe("checkout.greater_than[signup],checkout.greater_than[first_visit],checkout.greater_or_equal");
        check.Describe(suite).ShouldBe("the input fails expectations: column 'checkout' greater_than 'signup': row 1 has (3, 3) (3 rows fail); "
            + "column 'checkout' greater_than 'first_visit': row 2 has (2, 4) (4 rows fail); column 'checkout' greater_or_equal 'signup': row 3 has (missing, 1) (2 rows fail)");

        // Every listed column must be a model input, as a single one must.
        validator.UnknownColumns([new TensorSpec("checkout", TensorDatatypes.Fp64, [-1, 1]), new TensorSpec("signup", TensorDatatypes.Fp64, [-1])]).ShouldBe(["first_visit"]);
        validator.Check([inputs[0] with { Data = new[] { 9.0, 9, 9, 9, 9, 9 } }, inputs[1] with { Data = new[] { 1.0, 1, 1, 1, 1, 1 } }, inputs[2] with { Data = new[] { 2.0, 2, 2, 2, 2, 2 } }])
            .Passed.ShouldBeTrue();
    }

    [Fact]
    public void The_list_form_round_trips_as_a_list_in_json_yaml_and_an_endpoints_answer()
    {
        var suite = ExpectationSuiteReader.Parse("""
            {"columns": {"checkout": {"greater_than": ["signup", "first_visit"], "greater_or_equal": "signup", "equal_to": ["total"], "ignore_row_if": "neither"},
                         "end": {"greater_than": {"value": ["start"], "mostly": 0.9}}}}
            """);

        suite.Validate().ShouldBeEmpty();
        suite.Expectations().Select(e => $"{e.Column}.{e.Expectation}").ShouldBe(
            ["checkout.greater_than[signup]", "checkout.greater_than[first_visit]", "checkout.greater_or_equal", "checkout.equal_to[total]", "end.greater_than[start]"]);
        suite.Columns["checkout"].Pairs().ShouldBe(
            [new ColumnPair("greater_than", "signup", true), new ColumnPair("greater_than", "first_visit", true), new ColumnPair("greater_or_equal", "signup", false), new ColumnPair("equal_to", "total", true)]);
        var written = ExpectationSuiteReader.ToJson(suite, indented: false);
        written.ShouldBe("""{"columns":{"checkout":{"greater_than":["signup","first_visit"],"greater_or_equal":"signup","equal_to":["total"],"ignore_row_if":"neither"},"end":{"greater_than":{"value":["start"],"mostly":0.9}}}}""");
        ExpectationSuiteReader.ToJson(ExpectationSuiteReader.Parse(written), indented: false).ShouldBe(written);

        var yaml = ExpectationSuiteReader.Parse(Ballast.Pipelines.Steps.ValidateDataStep.Yaml("""
            columns:
              checkout:
                greater_than: [signup, first_visit]
                greater_or_equal: signup
              end: {greater_than: {value: [start], mostly: 0.9}}
            """)!.ToJsonString());
        yaml.Validate().ShouldBeEmpty();
        yaml.Expectations().Select(e => e.Expectation).ShouldBe(["greater_than[signup]", "greater_than[first_visit]", "greater_or_equal", "greater_than[start]"]);

        // The API answers an endpoint's suite through its JSON converter: the list stays a list.
        var options = SnakeCase;
        var spec = EndpointValidation.Validate(JsonSerializer.Deserialize<EndpointSpec>(
            """{"name": "shop", "variants": [{"name": "main", "model": "models:/shop/1"}], "expectations": {"suite": {"columns": {"checkout": {"greater_than": ["signup", "first_visit"]}}}}}""",
            options)!);
        var answered = JsonSerializer.Serialize(spec, options);
        answered.ShouldContain("""{"columns":{"checkout":{"greater_than":["signup","first_visit"]}}}""");
        JsonSerializer.Deserialize<EndpointSpec>(answered, options)!.Expectations!.Suite!.Columns["checkout"].OtherColumns!["greater_than"].ShouldBe(["signup", "first_visit"]);
    }

    [Theory]
    [InlineData("""{"greater_than": ["lo", "hi"]}""", "columns.hi.greater_than[1]: compares the column with itself; name another column")]
    [InlineData("""{"greater_than": ["lo", "lo"]}""", "columns.hi.greater_than: 'lo' appears twice")]
    [InlineData("""{"equal_to": []}""", "columns.hi.equal_to: list at least one other column")]
    [InlineData("""{"greater_or_equal": ["lo", 3]}""", "columns.hi.greater_or_equal[1]: must be a column name (text), not 3")]
    [InlineData("""{"greater_than": ["", "lo"]}""", "columns.hi.greater_than[0]: name the other column")]
    [InlineData("""{"greater_than": 3}""", "columns.hi.greater_than: must be a column name or a list of column names, not 3")]
    [InlineData("""{"greater_than": {"value": ["lo", "lo"], "mostly": 0.9}}""", "columns.hi.greater_than: 'lo' appears twice")]
    [InlineData("""{"greater_than": {"value": ["lo"], "mostly": 1.5}}""", "columns.hi.greater_than.mostly: 1.5 must be between 0 and 1")]
    [InlineData("""{"greater_than": {"value": [["lo"]]}}""", "columns.hi.greater_than[0]: must be a column name (text), not [\"lo\"]")]
    [InlineData("""{"min": 0, "ignore_row_if": "neither", "equal_to": []}""", "columns.hi.equal_to: list at least one other column")]
    public void A_bad_list_is_refused_naming_the_field(string column, string problem)
    {
        SuiteProblems.ShouldInclude("""{"columns": {"hi": """ + column + "}}", problem);
    }

    [Fact]
    public void One_column_and_a_list_of_the_same_kind_are_refused_and_an_endpoint_names_the_list()
    {
        var both = new ExpectationSuite(new Dictionary<string, ColumnExpectations>
        {
            ["hi"] = new(GreaterThan: "lo", OtherColumns: new Dictionary<string, IReadOnlyList<string>> { ["greater_than"] = ["mid"] }),
        });
        both.Validate().ShouldBe(["columns.hi.greater_than: give one other column or a list of them, not both"]);
        new ExpectationSuite(new Dictionary<string, ColumnExpectations>
        {
            ["hi"] = new(Min: 0, OtherColumns: new Dictionary<string, IReadOnlyList<string>> { ["min"] = ["lo"] }),
        }).Validate().ShouldBe(["columns.hi.min: only greater_than, greater_or_equal and equal_to take a list of other columns"]);

        var spec = JsonSerializer.Deserialize<EndpointSpec>(
            """{"name": "shop", "variants": [{"name": "main", "model": "models:/shop/1"}], "expectations": {"suite": {"columns": {"checkout": {"greater_than": ["signup", "checkout"]}}}}}""",
            SnakeCase)!;
        Should.Throw<Ballast.Tracking.TrackingException>(() => EndpointValidation.Validate(spec))
            .Message.ShouldContain("expectations.suite.columns.checkout.greater_than[1]: compares the column with itself; name another column");
    }

    [Fact]
    public void A_monitor_lists_one_metric_per_listed_column_that_no_other_name_can_take()
    {
        var suite = ExpectationSuiteReader.Parse(Suite);
        var names = MonitorMetricNames.QualityNames(suite);

        names.ShouldBe(
        [
            "quality.flagged_rate",
            "quality.checkout.greater_than[signup]", "quality.checkout.greater_than[first_visit]", "quality.checkout.greater_or_equal", "quality.checkout.exists",
            "quality.failed", "quality.violation_rate",
        ]);
        // A column named like a kind or like "checkout.greater_than" cannot take a listed pair's name: those end in "]".
        var tricky = ExpectationSuiteReader.Parse("""
            {"columns": {"checkout": {"greater_than": ["min", "signup"]}, "checkout.greater_than": {"min": 0}, "checkout.greater_than[signup]": {"max": 1}}}
            """);
        tricky.Validate().ShouldBeEmpty();
        MonitorMetricNames.QualityNames(tricky).ShouldBeUnique();
    }

    private string WriteCsv()
    {
        var path = Path.Combine(_folder, "visits.csv");
        File.WriteAllText(path, Csv);
        return path;
    }
}
