using System.Text.Json;
using Ballast.Monitoring.Quality;
using Ballast.Serving;
using Ballast.Tracking;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>
/// <c>required: {value: true, mostly: M}</c>: Great Expectations' <c>expect_column_values_to_not_be_null</c> with
/// <c>mostly</c>, whose share is of all rows ((rows − missing) / rows ≥ M; vacuously true with no row), unlike the other
/// map expectations' share of the present values. Reference cases: GE's test definitions
/// (tests/test_definitions/column_map_expectations/expect_column_values_to_not_be_null.json): one_null [4, 5, null, 7]
/// holds with mostly 0.7 and fails with 0.8 and without; no_null holds with 0.9; all_null and three_null fail without.
/// </summary>
public sealed class RequiredMostlyTests
{
    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private const string GeData = "SELECT * FROM (VALUES (4, 'a', NULL, NULL, CAST(NULL AS VARCHAR)), (5, 'b', NULL, NULL, NULL), (NULL, 'c', 5, NULL, NULL), (7, 'd', 6, 5, NULL)) "
        + "t(one_null, no_null, two_null, three_null, all_null)";

    [Theory]
    [InlineData("one_null", 0.7, true, 1L)]     // GE positive_mostly: 3 / 4 = 0.75 >= 0.7
    [InlineData("one_null", 0.8, false, 1L)]    // GE negative_mostly: 0.75 < 0.8
    [InlineData("one_null", 0.75, true, 1L)]    // the boundary holds: GE compares with >=
    [InlineData("one_null", null, false, 1L)]   // GE negative_no_mostly_one_missing
    [InlineData("no_null", 0.9, true, 0L)]      // GE positive_case_with_mostly_and_no_unexpected_values
    [InlineData("three_null", null, false, 3L)] // GE negative_case_with_75percent_null_values_no_mostly
    [InlineData("three_null", 0.25, true, 3L)]  // 1 / 4 = 0.25
    [InlineData("all_null", 0.0, true, 4L)]     // 0 / 4 >= 0
    [InlineData("all_null", null, false, 4L)]   // GE negative_all_missing_values
    public void Required_with_mostly_is_the_share_of_all_rows_present_as_in_GE(string column, double? mostly, bool success, long missing)
    {
        var required = mostly is { } share ? $$"""{"value": true, "mostly": {{share.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""" : "true";
        var suite = ExpectationSuiteReader.Parse($$"""{"columns": {"{{column}}": {"required": """ + required + "}}}");
        suite.Validate().ShouldBeEmpty();

        var result = Validate(GeData, suite);

        var expectation = result.Expectations.Single();
        (expectation.Expectation, expectation.Success, expectation.UnexpectedCount, expectation.Observed, expectation.Mostly).ShouldBe(("required", success, missing, (double?)missing, mostly));
        expectation.UnexpectedPercent.ShouldBe(100.0 * missing / 4, 1e-12, "a share of all rows, as GE's element_count");
        result.RowsFailing.ShouldBe(missing, "the missing rows still break required, whatever mostly allows");
        result.Success.ShouldBe(success);
    }

    [Fact]
    public void No_row_holds_and_the_columns_mostly_does_not_relax_required()
    {
        Validate("SELECT CAST(NULL AS INTEGER) AS age FROM range(0)", ExpectationSuiteReader.Parse("""{"columns": {"age": {"required": {"value": true, "mostly": 1}}}}"""))
            .Expectations.Single().Success.ShouldBeTrue();

        // 44 rows, 4 missing (40 / 44 = 0.909 present), 3 of the 40 present over max (37 / 40 = 0.925 meet it).
        const string Ages = "SELECT CASE WHEN i <= 4 THEN NULL WHEN i <= 7 THEN 200 ELSE i END AS age FROM range(1, 45) t(i)";
        var own = Validate(Ages, ExpectationSuiteReader.Parse("""{"columns": {"age": {"required": {"value": true, "mostly": 0.9}, "max": 120, "mostly": 0.95}}}"""));
        own.Expectations.Select(e => (e.Expectation, e.Success, e.Mostly)).ShouldBe([("required", true, (double?)0.9), ("max", false, 0.95)]);
        var column = Validate(Ages, ExpectationSuiteReader.Parse("""{"columns": {"age": {"required": true, "max": 120, "mostly": 0.9}}}"""));
        column.Expectations.Select(e => (e.Expectation, e.Success, e.Mostly)).ShouldBe([("required", false, (double?)null), ("max", true, 0.9)]);

        var json = ValidationResultJson.Write(own, indented: false);
        json.ShouldContain("""{"column":"age","expectation":"required","success":true,"observed":4,"unexpected_count":4,"unexpected_percent":9.090909,"mostly":0.9,"examples":[]}""");
    }

    [Fact]
    public void Required_with_mostly_round_trips_as_value_and_mostly()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"age": {"required": {"value": true, "mostly": 0.99}, "max": 120}, "id": {"required": true}}}""");

        suite.Validate().ShouldBeEmpty();
        (suite.Columns["age"].Required, suite.Columns["age"].MostlyFor("required"), suite.Columns["id"].MostlyFor("required")).ShouldBe((true, 0.99, null));
        var written = ExpectationSuiteReader.ToJson(suite, indented: false);
        written.ShouldBe("""{"columns":{"age":{"required":{"value":true,"mostly":0.99},"max":120},"id":{"required":true}}}""");
        ExpectationSuiteReader.ToJson(ExpectationSuiteReader.Parse(written), indented: false).ShouldBe(written);

        var yaml = ExpectationSuiteReader.Parse(Ballast.Pipelines.Steps.ValidateDataStep.Yaml("""
            columns:
              age: {required: {value: true, mostly: 0.99}}
            """)!.ToJsonString());
        yaml.Validate().ShouldBeEmpty();
        yaml.Columns["age"].MostlyFor("required").ShouldBe(0.99);
    }

    [Theory]
    [InlineData("""{"required": {"value": true, "mostly": 0.99}, "max_null_rate": 0.01}""", "columns.age: required with mostly 0.99 already bounds the share of missing values (to 1 - 0.99); give it or max_null_rate, not both")]
    [InlineData("""{"required": true, "max_null_rate": 0.01}""", "columns.age: required already allows no missing values; leave out max_null_rate")]
    [InlineData("""{"required": {"value": true, "mostly": 1.5}}""", "columns.age.required.mostly: 1.5 must be between 0 and 1")]
    [InlineData("""{"required": {"value": true, "mostly": "most"}}""", "columns.age.required.mostly: must be a number, not \"most\"")]
    [InlineData("""{"required": {"value": "yes", "mostly": 0.9}}""", "columns.age.required: must be true or false, not \"yes\"")]
    [InlineData("""{"required": {"mostly": 0.9}}""", "columns.age.required.value: give the expectation's value, e.g. required: {value: …, mostly: 0.95}")]
    [InlineData("""{"min": 0, "required": {"value": false, "mostly": 0.9}}""", "columns.age.required.mostly: the expectation is off (required: false), so it has nothing to relax")]
    [InlineData("""{"max_null_rate": {"value": 0.1, "mostly": 0.9}}""", "columns.age.max_null_rate: max_null_rate takes no mostly, so write its value alone, not an object (it is itself the share of missing values allowed)")]
    [InlineData("""{"required": true, "mostly": 0.9}""", "columns.age.mostly: applies to type, min, max, allowed, unique, regex, greater_than, greater_or_equal and equal_to; the column has none (for missing values give max_null_rate, or required: {value: true, mostly: M})")]
    public void A_bad_required_mostly_is_refused_naming_the_field(string column, string problem)
    {
        SuiteProblems.ShouldInclude("""{"columns": {"age": """ + column + "}}", problem);
    }

    [Fact]
    public void An_endpoints_suite_refuses_required_with_mostly_as_it_refuses_max_null_rate()
    {
        var spec = JsonSerializer.Deserialize<EndpointSpec>(
            """{"name": "titanic", "variants": [{"name": "main", "model": "models:/titanic/1"}], "expectations": {"suite": {"columns": {"age": {"required": {"value": true, "mostly": 0.99}}}}}}""",
            SnakeCase)!;

        var exception = Should.Throw<TrackingException>(() => EndpointValidation.Validate(spec));

        exception.Message.ShouldContain("expectations.suite.columns.age.required.mostly: a share of rows allowed to fail judges many rows; serving checks each row and rejects or flags any that fails (use mostly in a monitor or ballast validate)");
    }

    private static ValidationResult Validate(string query, ExpectationSuite suite) => InMemoryValidation.Validate(query, suite);
}
