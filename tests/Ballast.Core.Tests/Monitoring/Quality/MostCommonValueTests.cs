using System.Text.Json;
using Ballast.Monitoring;
using Ballast.Monitoring.Quality;
using Ballast.Serving;
using Ballast.Tracking;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>
/// <c>most_common_value: {value_set, ties_okay}</c>, Great Expectations' <c>expect_column_most_common_value_to_be_in_set</c>,
/// against GE's published cases (tests/test_definitions/column_aggregate_expectations/expect_column_most_common_value_to_be_in_set.json,
/// whose dataset is x = [1, 1, 2, 2, 3, null × 5], y = [hello, jello, mello, hello, jello, mello, hello, jello, mello, jello]).
/// </summary>
public sealed class MostCommonValueTests
{
    private const string GeData = """
        SELECT * FROM (VALUES (1, 'hello'), (1, 'jello'), (2, 'mello'), (2, 'hello'), (3, 'jello'),
                              (NULL, 'mello'), (NULL, 'hello'), (NULL, 'jello'), (NULL, 'mello'), (NULL, 'jello')) t(x, y)
        """;

    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    [Theory]
    [InlineData("x", "[1]", null, false, "1, 2")]               // negative_test_tie_for_most_common_with_missing_values_and_complete_result_format
    [InlineData("x", "[1, 2]", null, false, "1, 2")]            // negative_test__tie_for_most_common__full_value_set__ties_okay__false
    [InlineData("x", "[1]", true, true, "1, 2")]                // positive_test__tie_for_most_common__ties_okay__true
    [InlineData("x", "[2]", true, true, "1, 2")]                // positive_test__tie_for_most_common_but_test_for_last_value__ties_okay__true
    [InlineData("x", "[3]", null, false, "1, 2")]               // negative_test__tie_for_most_common__value_set_does_not_match__ties_okay__false
    [InlineData("x", "[3]", true, false, "1, 2")]               // negative_test__tie_for_most_common__value_set_does_not_match__ties_okay__true
    [InlineData("y", """["jello", "hello"]""", null, true, "jello")]   // positive_test_string_values_value_set_contains_more_than_actual_mode_list
    [InlineData("y", """["mello", "hello"]""", null, false, "jello")]  // negative_test_string_values_value_set_contains_more_than_actual_mode_list
    public void The_most_common_value_matches_GEs_published_cases(string column, string valueSet, bool? tiesOkay, bool success, string observed)
    {
        var ties = tiesOkay is { } okay ? $", \"ties_okay\": {(okay ? "true" : "false")}" : "";
        var suite = ExpectationSuiteReader.Parse("{\"columns\": {\"" + column + "\": {\"most_common_value\": {\"value_set\": " + valueSet + ties + "}}}}");
        suite.Validate().ShouldBeEmpty();

        var result = Validate(GeData, suite);

        var expectation = result.Expectations.Single();
        (expectation.Expectation, expectation.Success, expectation.UnexpectedCount).ShouldBe(("most_common_value", success, 0L));
        string.Join(", ", expectation.ObservedValues!).ShouldBe(observed);
        result.RowsFailing.ShouldBe(0);
    }

    [Fact]
    public void Numbers_in_the_set_match_numerically_and_a_column_without_values_fails()
    {
        // 2.0 is the most common value of a DOUBLE column; the set's 2 matches it, as allowed matches numbers.
        var numbers = Validate("SELECT * FROM (VALUES (2.0::DOUBLE), (2.0), ('NaN'::DOUBLE), ('NaN'::DOUBLE), ('NaN'::DOUBLE), (1.5)) t(v)",
            ExpectationSuiteReader.Parse("""{"columns": {"v": {"most_common_value": {"value_set": [2]}}}}"""));
        numbers.Success.ShouldBeTrue();
        numbers.Expectations.Single().ObservedValues.ShouldBe(["2.0"]);   // NaN is missing, so not a value (three NaN do not win)

        var empty = Validate("SELECT CAST(NULL AS INTEGER) AS v", ExpectationSuiteReader.Parse("""{"columns": {"v": {"most_common_value": {"value_set": [1], "ties_okay": true}}}}"""));
        empty.Success.ShouldBeFalse();
        empty.Expectations.Single().ObservedValues.ShouldBeEmpty();
    }

    [Fact]
    public void The_result_json_and_markdown_list_the_tied_values_and_the_suite_round_trips()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"x": {"most_common_value": {"value_set": [1, "a"], "ties_okay": true}}}}""");
        var result = Validate(GeData, suite);

        ValidationResultJson.Write(result, indented: false).ShouldContain(
            """{"column":"x","expectation":"most_common_value","success":true,"observed":["1","2"],"unexpected_count":0,"unexpected_percent":0,"examples":[]}""");
        ValidationResultJson.Markdown(result, "t").ShouldContain("| x | most_common_value | pass | 1, 2 |");
        var written = ExpectationSuiteReader.ToJson(suite, indented: false);
        written.ShouldBe("""{"columns":{"x":{"most_common_value":{"value_set":[1,"a"],"ties_okay":true}}}}""");
        ExpectationSuiteReader.ToJson(ExpectationSuiteReader.Parse(written), indented: false).ShouldBe(written);
        MonitorMetricNames.QualityNames(suite).ShouldContain("quality.x.most_common_value");
    }

    [Theory]
    [InlineData("""{"most_common_value": {"value_set": []}}""", "columns.x.most_common_value.value_set: list at least one value")]
    [InlineData("""{"most_common_value": {"ties_okay": true}}""", "columns.x.most_common_value.value_set: list the values the most common one may be")]
    [InlineData("""{"most_common_value": [1, 2]}""", "columns.x.most_common_value: must be an object, e.g. most_common_value: {value_set: [a, b], ties_okay: false}, not [1, 2]")]
    [InlineData("""{"most_common_value": {"value_set": [1], "ties_okay": "yes"}}""", "columns.x.most_common_value.ties_okay: must be true or false, not \"yes\"")]
    [InlineData("""{"most_common_value": {"value_set": [1], "mostly": 0.9}}""", "columns.x.most_common_value.mostly: most_common_value takes no mostly")]
    [InlineData("""{"most_common_value": {"value_set": 1}}""", "columns.x.most_common_value.value_set: must be a list of values")]
    [InlineData("""{"most_common_value": {"value_set": [1], "mostly_common": 1}}""", "columns.x.most_common_value.mostly_common: unknown field (known: value_set, ties_okay)")]
    public void A_bad_most_common_value_is_refused_naming_the_field(string column, string problem)
    {
        SuiteProblems.ShouldInclude("""{"columns": {"x": """ + column + "}}", problem);
    }

    [Fact]
    public void Serving_refuses_it_in_an_endpoints_suite()
    {
        var spec = JsonSerializer.Deserialize<EndpointSpec>(
            """{"name": "shop", "variants": [{"name": "main", "model": "models:/shop/1"}], "expectations": {"suite": {"columns": {"embarked": {"most_common_value": {"value_set": ["S"]}}}}}}""",
            SnakeCase)!;

        Should.Throw<TrackingException>(() => EndpointValidation.Validate(spec)).Message.ShouldContain(
            "expectations.suite.columns.embarked.most_common_value: most_common_value is computed over a column's values as a whole; serving checks each row (use it in a monitor or ballast validate)");
    }

    private static ValidationResult Validate(string query, ExpectationSuite suite) => InMemoryValidation.Validate(query, suite);
}
