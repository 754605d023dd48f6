using System.Text.Json;
using Ballast.Monitoring.Quality;
using Ballast.Serving;
using Ballast.Tracking;
using DuckDB.NET.Data;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>
/// A column's <c>mostly</c>, checked against Great Expectations' rule (great_expectations/expectations/expectation.py,
/// <c>_mostly_success</c> and <c>ColumnMapExpectation._validate</c>): success when (checked − unexpected) / checked ≥
/// mostly, where the rows checked are the non-null values (a pair: the rows <c>ignore_row_if</c> keeps), and vacuously
/// when none is checked. Every count below is worked out by hand in the comments.
/// </summary>
public sealed class MostlyTests
{
    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    // 44 rows: i 1-4 missing, i 5-7 are 200 (over max 120), i 8-44 are 8..44. So 40 non-null values, 3 unexpected:
    // 37 / 40 = 0.925 meet it. Counting the 4 nulls as checked would give 41 / 44 = 0.9318 (or 37 / 44 = 0.841 as failures).
    private const string Ages = "SELECT CASE WHEN i <= 4 THEN NULL WHEN i <= 7 THEN 200 ELSE i END AS age FROM range(1, 45) t(i)";

    [Theory]
    [InlineData(0.9, true)]     // 0.925 >= 0.9
    [InlineData(0.925, true)]   // the boundary holds: GE compares with >=
    [InlineData(0.93, false)]   // 0.925 < 0.93, though 41 / 44 = 0.9318 would pass: nulls are not in the denominator
    [InlineData(0.95, false)]   // 0.925 < 0.95
    [InlineData(0.0, true)]
    public void Three_failing_of_forty_non_null_values_hold_up_to_mostly_0_925(double mostly, bool success)
    {
        var result = Validate(Ages, new ColumnExpectations(Max: 120, Mostly: mostly));

        var max = result.Expectations.Single();
        max.Success.ShouldBe(success);
        max.Mostly.ShouldBe(mostly);
        max.UnexpectedCount.ShouldBe(3, "the unexpected rows are reported whatever mostly allows");
        max.UnexpectedPercent.ShouldBe(7.5, 1e-12); // 3 / 40
        max.Examples.ShouldBe(["200"]);
        result.Success.ShouldBe(success);
        result.Failed.ShouldBe(success ? 0 : 1);
        result.RowsFailing.ShouldBe(3, "the rows that break it still break it");
    }

    [Fact]
    public void Without_mostly_every_present_value_must_hold_and_required_is_not_relaxed()
    {
        var strict = Validate(Ages, new ColumnExpectations(Max: 120));
        strict.Expectations.Single().Success.ShouldBeFalse();
        strict.Expectations.Single().Mostly.ShouldBeNull();

        // mostly relaxes max (3 of 40) but not required (4 missing of 44): max_null_rate is the tolerance for those.
        var both = Validate(Ages, new ColumnExpectations(Required: true, Max: 120, Mostly: 0.9));
        both.Expectations.Select(e => (e.Expectation, e.Success, e.Mostly)).ShouldBe([("required", false, (double?)null), ("max", true, 0.9)]);
        both.Failed.ShouldBe(1);
    }

    [Theory]
    [InlineData("either_value_is_missing", 0.944, true)]    // 2 rows skipped: 17 / 18 = 0.9444 meet it
    [InlineData("either_value_is_missing", 0.945, false)]   // 0.9444 < 0.945, though 19 / 20 = 0.95 would pass
    [InlineData("both_values_are_missing", 0.85, true)]     // none skipped; the 2 rows missing b fail too: 17 / 20 = 0.85
    [InlineData("both_values_are_missing", 0.851, false)]
    public void A_pair_counts_the_rows_its_ignore_row_if_keeps(string ignore, double mostly, bool success)
    {
        // 20 rows: i 1-2 have no b; i 3 has a 0 and b 1 (not greater); the others a = i > b = 0.
        const string Pairs = "SELECT CASE WHEN i = 3 THEN 0 ELSE i END AS a, CASE WHEN i <= 2 THEN NULL WHEN i = 3 THEN 1 ELSE 0 END AS b FROM range(1, 21) t(i)";

        var result = Validate(Pairs, new ColumnExpectations(GreaterThan: "b", IgnoreRowIf: ignore, Mostly: mostly), "a");

        var pair = result.Expectations.Single();
        pair.Success.ShouldBe(success);
        pair.UnexpectedCount.ShouldBe(ignore == "both_values_are_missing" ? 3 : 1);
    }

    [Theory]
    [InlineData(0.5, true)]
    [InlineData(0.51, false)]
    public void Unique_counts_every_row_of_a_duplicated_value_as_GE_does(double mostly, bool success)
    {
        // [1, 2, 3, 3, null]: 4 present, both 3s unexpected (GE's docstring: [1, 2, 3, 3, 3] has unexpected_percent 60), 2 / 4 = 0.5 unique.
        var result = Validate("SELECT * FROM (VALUES (1), (2), (3), (3), (NULL)) t(id)", new ColumnExpectations(Unique: true, Mostly: mostly), "id");

        var unique = result.Expectations.Single();
        (unique.Success, unique.UnexpectedCount, unique.UnexpectedPercent).ShouldBe((success, 2L, 50.0));
    }

    [Fact]
    public void Nothing_checked_holds_vacuously()
    {
        var result = Validate("SELECT CAST(NULL AS INTEGER) AS age FROM range(3)", new ColumnExpectations(Max: 120, Mostly: 1));

        result.Expectations.Single().Success.ShouldBeTrue();
    }

    [Fact]
    public void Mostly_round_trips_through_json_and_yaml_and_is_written_in_the_result()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"age": {"type": "integer", "max": 120, "mostly": 0.95}, "b": {"greater_than": "a", "ignore_row_if": "neither", "mostly": 0.5}}}""");

        suite.Validate().ShouldBeEmpty();
        suite.Columns["age"].Mostly.ShouldBe(0.95);
        var written = ExpectationSuiteReader.ToJson(suite, indented: false);
        written.ShouldBe("""{"columns":{"age":{"type":"integer","max":120,"mostly":0.95},"b":{"greater_than":"a","ignore_row_if":"neither","mostly":0.5}}}""");
        ExpectationSuiteReader.ToJson(ExpectationSuiteReader.Parse(written), indented: false).ShouldBe(written);

        var json = ValidationResultJson.Write(Validate(Ages, new ColumnExpectations(Max: 120, Mostly: 0.9)), indented: false);
        json.ShouldContain("""{"column":"age","expectation":"max","success":true,"observed":200,"unexpected_count":3,"unexpected_percent":7.5,"mostly":0.9,"examples":["200"]}""");
    }

    [Theory]
    [InlineData("""{"columns": {"age": {"max": 120, "mostly": 1.5}}}""", "columns.age.mostly: 1.5 must be between 0 and 1")]
    [InlineData("""{"columns": {"age": {"max": 120, "mostly": -0.1}}}""", "columns.age.mostly: -0.1 must be between 0 and 1")]
    [InlineData("""{"columns": {"age": {"max": 120, "mostly": "most"}}}""", "columns.age.mostly: must be a number, not \"most\"")]
    [InlineData("""{"columns": {"age": {"max": 120, "mostly": true}}}""", "columns.age.mostly: must be a number, not true")]
    [InlineData("""{"columns": {"age": {"required": true, "mostly": 0.9}}}""", "columns.age.mostly: applies to type, min, max, allowed, unique, regex, greater_than, greater_or_equal and equal_to; the column has none")]
    [InlineData("""{"columns": {"age": {"max_null_rate": 0.1, "mostly": 0.9}}}""", "columns.age.mostly: applies to type")]
    [InlineData("""{"columns": {"age": {"mostly": 0.9}}}""", "columns.age: no expectation")]
    public void A_bad_mostly_is_refused_naming_the_field(string json, string problem)
    {
        SuiteProblems.ShouldInclude(json, problem);
    }

    [Fact]
    public void An_endpoints_suite_refuses_mostly()
    {
        var spec = JsonSerializer.Deserialize<EndpointSpec>(
            """{"name": "titanic", "variants": [{"name": "main", "model": "models:/titanic/1"}], "expectations": {"suite": {"columns": {"age": {"max": 120, "mostly": 0.95}}}}}""",
            SnakeCase)!;

        var exception = Should.Throw<TrackingException>(() => EndpointValidation.Validate(spec));

        exception.Message.ShouldContain("expectations.suite.columns.age.mostly: a share of rows allowed to fail judges many rows; serving checks each row and rejects or flags any that fails");
    }

    // GE sets mostly on each expectation; one of its own overrides the column's. Over Ages (40 present values):
    // min 10 has 2 unexpected (8, 9): 38 / 40 = 0.95; max 120 has 3 (the 200s): 37 / 40 = 0.925.
    [Theory]
    [InlineData("""{"min": 10, "max": {"value": 120, "mostly": 0.9}, "mostly": 0.95}""", true, 0.95, true, 0.9)]     // min by the column's 0.95 (0.95 >= 0.95), max by its own 0.9 (0.925 >= 0.9), though 0.95 would fail it
    [InlineData("""{"min": 10, "max": {"value": 120, "mostly": 0.93}, "mostly": 0.9}""", true, 0.9, false, 0.93)]    // max's own 0.93 fails it (0.925 < 0.93), though the column's 0.9 would pass
    [InlineData("""{"min": {"value": 10, "mostly": 0.96}, "max": {"value": 120, "mostly": 0.925}}""", false, 0.96, true, 0.925)] // no column mostly: each its own
    [InlineData("""{"min": 10, "max": {"value": 120, "mostly": 0.925}}""", false, null, true, 0.925)]                  // min without any mostly: every value must hold
    public void A_mostly_of_its_own_overrides_the_columns_for_that_expectation_only(string column, bool minHolds, double? minMostly, bool maxHolds, double? maxMostly)
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"age": """ + column + "}}");
        suite.Validate().ShouldBeEmpty();

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var result = ExpectationValidator.Validate(connection, Ages, suite, Cancel);

        result.Expectations.Select(e => (e.Expectation, e.Success, e.Mostly, e.UnexpectedCount)).ShouldBe([("min", minHolds, minMostly, 2L), ("max", maxHolds, maxMostly, 3L)]);
        result.RowsFailing.ShouldBe(5, "mostly changes what passes, not which rows break an expectation");
    }

    [Fact]
    public void A_mostly_of_its_own_round_trips_as_value_and_mostly_in_json_and_yaml_and_the_plain_form_stays()
    {
        var suite = ExpectationSuiteReader.Parse("""
            {"columns": {"zip": {"type": "string", "regex": {"value": "^[0-9]{5}$", "mostly": 0.95}, "allowed": {"value": ["1", 2], "mostly": 0.5}, "mostly": 0.99},
                         "id": {"unique": {"value": true, "mostly": 0.9}}, "b": {"greater_than": {"value": "a", "mostly": 0.8}, "ignore_row_if": "neither"}}}
            """);

        suite.Validate().ShouldBeEmpty();
        (suite.Columns["zip"].MostlyFor("type"), suite.Columns["zip"].MostlyFor("regex"), suite.Columns["zip"].MostlyFor("allowed")).ShouldBe((0.99, 0.95, 0.5));
        suite.Columns["zip"].MostlyFor("required").ShouldBeNull();
        (suite.Columns["zip"].Regex, suite.Columns["id"].Unique, suite.Columns["b"].GreaterThan).ShouldBe(("^[0-9]{5}$", true, "a"));
        var written = ExpectationSuiteReader.ToJson(suite, indented: false);
        written.ShouldBe("""{"columns":{"zip":{"type":"string","allowed":{"value":["1",2],"mostly":0.5},"regex":{"value":"^[0-9]{5}$","mostly":0.95},"mostly":0.99},"id":{"unique":{"value":true,"mostly":0.9}},"b":{"greater_than":{"value":"a","mostly":0.8},"ignore_row_if":"neither"}}}""");
        ExpectationSuiteReader.ToJson(ExpectationSuiteReader.Parse(written), indented: false).ShouldBe(written);

        var yaml = ExpectationSuiteReader.Parse(Ballast.Pipelines.Steps.ValidateDataStep.Yaml("""
            columns:
              zip: {regex: {value: '^[0-9]{5}$', mostly: 0.95}, mostly: 0.99}
              id:
                unique: {value: true, mostly: 0.9}
            """)!.ToJsonString());
        yaml.Validate().ShouldBeEmpty();
        (yaml.Columns["zip"].MostlyFor("regex"), yaml.Columns["id"].MostlyFor("unique")).ShouldBe((0.95, 0.9));
    }

    [Theory]
    [InlineData("""{"max": {"value": 120, "mostly": 1.5}}""", "columns.age.max.mostly: 1.5 must be between 0 and 1")]
    [InlineData("""{"max": {"value": 120, "mostly": "most"}}""", "columns.age.max.mostly: must be a number, not \"most\"")]
    [InlineData("""{"max": {"mostly": 0.9}}""", "columns.age.max.value: give the expectation's value, e.g. max: {value: …, mostly: 0.95}")]
    [InlineData("""{"max": {"value": 120, "most": 0.9}}""", "columns.age.max.most: unknown field (known: value, mostly)")]
    [InlineData("""{"max": {"value": "old", "mostly": 0.9}}""", "columns.age.max: must be a number, not \"old\"")]
    [InlineData("""{"max_null_rate": {"value": 0.1, "mostly": 0.9}}""", "columns.age.max_null_rate: max_null_rate takes no mostly")]
    [InlineData("""{"min": 0, "unique": {"value": false, "mostly": 0.9}}""", "columns.age.unique.mostly: the expectation is off (unique: false), so it has nothing to relax")]
    public void A_bad_mostly_of_its_own_is_refused_naming_the_field(string column, string problem)
    {
        SuiteProblems.ShouldInclude("""{"columns": {"age": """ + column + "}}", problem);
    }

    [Theory]
    [InlineData("""{"max": {"mostly": 0.9}}""", "columns.age.max.value: give the expectation's value, e.g. max: {value: …, mostly: 0.95}")]
    [InlineData("""{"greater_than": {"mostly": 0.9, "offset": 5}}""", "columns.age.greater_than.value: give the expectation's value, e.g. greater_than: {value: …, offset: 5}")]
    public void An_object_without_its_value_is_one_problem_not_also_an_expectation_that_is_off(string column, string problem)
    {
        // The expectation is missing its value, not written as false: no second "the expectation is off (max: false)".
        ExpectationSuiteReader.Parse("""{"columns": {"age": """ + column + "}}").Validate().ShouldBe([problem]);
    }

    [Fact]
    public void An_endpoints_suite_refuses_a_mostly_of_its_own()
    {
        var spec = JsonSerializer.Deserialize<EndpointSpec>(
            """{"name": "titanic", "variants": [{"name": "main", "model": "models:/titanic/1"}], "expectations": {"suite": {"columns": {"age": {"max": {"value": 120, "mostly": 0.95}}}}}}""",
            SnakeCase)!;

        var exception = Should.Throw<TrackingException>(() => EndpointValidation.Validate(spec));

        exception.Message.ShouldContain("expectations.suite.columns.age.max.mostly: a share of rows allowed to fail judges many rows; serving checks each row and rejects or flags any that fails");
    }

    private static ValidationResult Validate(string query, ColumnExpectations column, string name = "age")
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        return ExpectationValidator.Validate(connection, query, new ExpectationSuite(new Dictionary<string, ColumnExpectations> { [name] = column }), Cancel);
    }
}
