using System.Text.Json;
using Ballast.Monitoring.Quality;
using Ballast.Serving;
using Ballast.Tracking;

namespace Ballast.Tests.Monitoring.Quality;

public sealed class ExpectationSuiteTests
{
    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private const string Example = """
        {"columns": {
          "age": {"type": "integer", "required": true, "min": 0, "max": 120},
          "state": {"type": "string", "allowed": ["CA", "NY"], "max_null_rate": 0.01},
          "email": {"regex": "^[^@]+@[^@]+$"},
          "id": {"unique": true},
          "code": {"allowed": [1, 2.5, true]}
        }}
        """;

    [Fact]
    public void A_suite_is_read_in_order_and_written_back_to_the_same_json()
    {
        var suite = ExpectationSuiteReader.Parse(Example);

        suite.Validate().ShouldBeEmpty();
        suite.Expectations().Select(e => $"{e.Column}.{e.Expectation}").ShouldBe(
            ["age.type", "age.required", "age.min", "age.max", "state.type", "state.allowed", "state.max_null_rate", "email.regex", "id.unique", "code.allowed"]);
        suite.Columns["code"].Allowed.ShouldBe(["1", "2.5", "true"]);
        var written = ExpectationSuiteReader.ToJson(suite, indented: false);
        ExpectationSuiteReader.ToJson(ExpectationSuiteReader.Parse(written), indented: false).ShouldBe(written);
        written.ShouldContain("\"regex\":\"^[^@]+@[^@]+$\"");
    }

    [Theory]
    [InlineData("""{"columns": {"age": {"min": "zero"}}}""", "columns.age.min: must be a number, not \"zero\"")]
    [InlineData("""{"columns": {"age": {"maximum": 3}}}""", "columns.age.maximum: unknown field (known: type, required, min, max, allowed, max_null_rate, unique, regex, greater_than, greater_or_equal, equal_to, ignore_row_if, mostly, mean, median, stdev, sum, unique_proportion, distinct_count, quantiles, most_common_value)")]
    [InlineData("""{"columns": {"age": {"type": "int"}}}""", "columns.age.type: 'int' is not one of integer, number, string, boolean")]
    [InlineData("""{"columns": {"age": {"min": 10, "max": 1}}}""", "columns.age: min 10 is greater than max 1")]
    [InlineData("""{"columns": {"age": {"max_null_rate": 1.5}}}""", "columns.age.max_null_rate: 1.5 must be between 0 and 1")]
    [InlineData("""{"columns": {"age": {"required": "yes"}}}""", "columns.age.required: must be true or false, not \"yes\"")]
    [InlineData("""{"columns": {"email": {"regex": "(unclosed"}}}""", "columns.email.regex: '(unclosed' is not a regular expression: ")]
    [InlineData("""{"columns": {"state": {"allowed": [["CA"]]}}}""", "columns.state.allowed[0]: must be text, a number or true/false, not [\"CA\"]")]
    [InlineData("""{"columns": {"state": {"type": "string", "min": 1}}}""", "columns.state: min and max compare numbers, but the type is string")]
    [InlineData("""{"columns": {"age": {}}}""", "columns.age: no expectation")]
    [InlineData("""{"colums": {}}""", "colums: unknown field (known: columns, rows, multicolumn)")]
    [InlineData("""[1]""", "the suite must be an object with 'columns'")]
    public void A_bad_suite_is_refused_with_a_message_naming_the_field(string json, string problem)
    {
        SuiteProblems.ShouldInclude(json, problem);
    }

    [Theory]
    // An unreadable allowed list is not also an empty one.
    [InlineData("""{"columns": {"state": {"allowed": [{"a": 1}]}}}""", "columns.state.allowed[0]: must be text, a number or true/false, not {\"a\": 1}")]
    // An unreadable median bound beside dates has no number in it, so it is not told its bounds are numbers.
    [InlineData("""{"columns": {"signup": {"min": "2024-01-01", "median": {"min": "10:00:00"}}}}""", "columns.signup.median.min: must be a number, not \"10:00:00\"")]
    [InlineData("""{"multicolumn": []}""", "multicolumn: the list is empty; give at least one expectation, e.g. [{columns: [a, b], sum_to_equal: 100}], or leave multicolumn out")]
    [InlineData("""{"columns": {"age": {"min": null}}}""", "columns.age.min: must be a bound, not null; leave min out for no bound")]
    [InlineData("""{"columns": {"age": {"min": 0, "max": null}}}""", "columns.age.max: must be a bound, not null; leave max out for no bound")]
    [InlineData("""{"rows": {"min": null}}""", "rows.min: must be a bound, not null; leave min out for no bound")]
    [InlineData("""{"columns": {"age": {"mean": {"min": 0, "max": null}}}}""", "columns.age.mean.max: must be a bound, not null; leave max out for no bound")]
    public void A_bad_field_is_its_only_problem(string json, string problem)
    {
        ExpectationSuiteReader.Parse(json).Validate().ShouldBe([problem]);
    }

    [Fact]
    public void An_empty_multicolumn_list_is_refused_beside_columns_too()
    {
        SuiteProblems.ShouldInclude("""{"columns": {"age": {"min": 0}}, "multicolumn": []}""", "multicolumn: the list is empty;");
    }

    [Fact]
    public void Invalid_json_names_the_line_and_column()
    {
        var exception = Should.Throw<ExpectationSuiteException>(() => ExpectationSuiteReader.Parse("{\"columns\": {\n  \"age\": {\"min\": }\n}}"));

        exception.Message.ShouldStartWith("line 2, column 18: not valid JSON");
        exception.Message.ShouldNotContain("LineNumber");
    }

    [Theory]
    [InlineData("{\"columns\": {\"a\": {\"min\": 1,}}}", "line 1, column 29")]
    [InlineData("{\"columns\": {\"a\": {\"min\": 1}},}", "line 1, column 31")]
    [InlineData("{\"columns\": {\"a\": {\"allowed\": [1, 2,]}}}", "line 1, column 37")]
    [InlineData("{\"columns\": {\n  \"é\": {\"min\": 1,},\n}}", "line 2, column 18")]
    public void A_json_suite_with_a_trailing_comma_is_refused_naming_its_position(string json, string position)
    {
        var exception = Should.Throw<ExpectationSuiteException>(() => ExpectationSuiteReader.Parse(json));

        exception.Message.ShouldBe($"{position}: not valid JSON: a comma before a closing '}}' or ']' (a trailing comma) is not JSON; remove it");
    }

    // Comments were skipped while trailing commas were refused: a .json suite is JSON, as strict as the API reads a body.
    [Theory]
    [InlineData("{\"columns\": {\"a\": {\"min\": 1} // why\n}}", "line 1, column 30")]
    [InlineData("{\"columns\": {\n  /* a */ \"a\": {\"min\": 1}}}", "line 2, column 3")]
    [InlineData("{\"columns\": {\"é\": {\"min\": 1 /* é */}}}", "line 1, column 29")]
    public void A_json_suite_with_a_comment_is_refused_naming_its_position(string json, string position)
    {
        var exception = Should.Throw<ExpectationSuiteException>(() => ExpectationSuiteReader.Parse(json));

        exception.Message.ShouldBe($"{position}: not valid JSON: a comment is not JSON; remove it, or write the suite in YAML");
    }

    [Fact]
    public void Allowed_and_value_set_are_written_back_as_numbers_text_and_booleans_as_given()
    {
        const string Suite = """{"columns":{"code":{"allowed":[1,"2",true,2.5,"x",false,-3]},"port":{"most_common_value":{"value_set":[80,"443",true]}}}}""";
        var suite = ExpectationSuiteReader.Parse(Suite);
        suite.Validate().ShouldBeEmpty();

        // Matched as text (numbers also numerically), as before; written back as written.
        suite.Columns["code"].Allowed.ShouldBe(["1", "2", "true", "2.5", "x", "false", "-3"]);
        ExpectationSuiteReader.ToJson(suite, indented: false).ShouldBe(Suite);
        // Through an endpoint's JSON (the API's answers and the metadata store's column) too.
        var spec = new EndpointSpec("e", null, [new VariantSpec("a", "models:/m/1")], Expectations: new ExpectationsSpec(suite));
        JsonSerializer.Serialize(spec, SnakeCase).ShouldContain("\"allowed\":[1,\"2\",true,2.5,\"x\",false,-3]");
    }

    // A double holds whole numbers exactly only up to 2^53: 9007199254740993 was read as 9007199254740992.
    [Fact]
    public void Whole_numbers_above_2_pow_53_in_allowed_round_trip_exactly_and_match_only_themselves()
    {
        const string Suite = """{"columns":{"id":{"allowed":[9007199254740993,-9223372036854775808,18446744073709551615,1.5]}}}""";
        var suite = ExpectationSuiteReader.Parse(Suite);
        suite.Validate().ShouldBeEmpty();
        suite.Columns["id"].Allowed.ShouldBe(["9007199254740993", "-9223372036854775808", "18446744073709551615", "1.5"]);
        ExpectationSuiteReader.ToJson(suite, indented: false).ShouldBe(Suite);
        var spec = new EndpointSpec("e", null, [new VariantSpec("a", "models:/m/1")], Expectations: new ExpectationsSpec(suite));
        JsonSerializer.Serialize(spec, SnakeCase).ShouldContain("\"allowed\":[9007199254740993,-9223372036854775808,18446744073709551615,1.5]");

        // A pipeline's YAML suite too.
        var yaml = ExpectationSuiteReader.Parse(Ballast.Pipelines.Steps.ValidateDataStep.Yaml("columns:\n  id: {allowed: [9007199254740993]}\n")!.ToJsonString());
        yaml.Columns["id"].Allowed.ShouldBe(["9007199254740993"]);

        // Matched by its digits: 9007199254740992 (the double 9007199254740993 rounds to) is not allowed.
        var result = InMemoryValidation.Validate("SELECT unnest([9007199254740992, 9007199254740993, 9007199254740993]::BIGINT[]) AS id", yaml);
        result.Expectations.Single().UnexpectedCount.ShouldBe(1);
        var ids = new Ballast.Runtime.Tensor("id", Ballast.Runtime.TensorDatatypes.Int64, [3, 1], new[] { 9007199254740993L, 9007199254740992L, 9007199254740993L });
        RowValidator.Compile(yaml).Check([ids]).Violations.Single().Rows.ShouldBe(1);
        var texts = new Ballast.Runtime.Tensor("id", Ballast.Runtime.TensorDatatypes.Bytes, [2, 1], new[] { "9007199254740993", "9007199254740992" });
        RowValidator.Compile(yaml).Check([texts]).Violations.Single().Rows.ShouldBe(1);
    }

    [Fact]
    public void A_suite_stored_with_numbers_as_text_is_still_read_and_matches_numbers()
    {
        // Before kinds were kept, allowed: [1, 2] was stored as ["1", "2"]: it reads as text and stays text, and text that
        // reads as a number matches numerically (docs/quality.md, allowed), so the suite checks what it checked.
        var stored = ExpectationSuiteReader.Parse("""{"columns":{"pclass":{"allowed":["1","2"]}}}""");
        stored.Validate().ShouldBeEmpty();
        ExpectationSuiteReader.ToJson(stored, indented: false).ShouldBe("""{"columns":{"pclass":{"allowed":["1","2"]}}}""");

        var result = InMemoryValidation.Validate("SELECT unnest([1.0, 2, 3]) AS pclass", stored);
        result.Expectations.Single().UnexpectedCount.ShouldBe(1);
    }

    [Fact]
    public void A_suite_built_in_code_writes_its_allowed_text_as_text()
    {
        var suite = new ExpectationSuite(new Dictionary<string, ColumnExpectations> { ["pclass"] = new(Allowed: ["1", "a"]) });

        ExpectationSuiteReader.ToJson(suite, indented: false).ShouldBe("""{"columns":{"pclass":{"allowed":["1","a"]}}}""");
    }

    [Fact]
    public void An_endpoint_with_expectations_defaults_to_reject_and_round_trips_through_its_json()
    {
        var spec = JsonSerializer.Deserialize<EndpointSpec>(
            """{"name": "titanic", "variants": [{"name": "main", "model": "models:/titanic/1"}], "expectations": {"suite": {"columns": {"age": {"max": 120}}}}}""",
            SnakeCase)!;

        var validated = EndpointValidation.Validate(spec);

        validated.Expectations!.Mode.ShouldBe(ExpectationsSpec.Reject);
        validated.Expectations.Suite!.Columns["age"].Max.ShouldBe(120);
    }

    [Theory]
    [InlineData("""{"suite": {"columns": {"age": {"max": 120}}}, "mode": "drop"}""", "expectations.mode 'drop' is not one of reject, flag")]
    [InlineData("""{"mode": "flag"}""", "expectations.suite: give the suite inline")]
    [InlineData("""{"suite": {"columns": {"age": {"maxx": 120}}}}""", "expectations.suite.columns.age.maxx: unknown field")]
    [InlineData("""{"suite": {"columns": {"id": {"unique": true}}}}""", "expectations.suite.columns.id: unique and max_null_rate need many rows; serving checks each row")]
    [InlineData("""{"suite": {"rows": {"min": 1}, "columns": {"age": {"max": 120}}}}""", "expectations.suite.rows: a row count judges a whole table; serving checks each request's rows")]
    public void An_endpoint_with_bad_expectations_is_refused_naming_the_field(string expectations, string problem)
    {
        var spec = JsonSerializer.Deserialize<EndpointSpec>(
            $$"""{"name": "titanic", "variants": [{"name": "main", "model": "models:/titanic/1"}], "expectations": {{expectations}}}""",
            SnakeCase)!;

        var exception = Should.Throw<TrackingException>(() => EndpointValidation.Validate(spec));

        exception.Message.ShouldContain(problem);
    }

    [Fact]
    public void A_suite_that_is_not_an_object_is_named_by_the_field_holding_it()
    {
        // Not "expectations.suite.the suite must be …": the suite itself has no field path to append.
        var endpoint = JsonSerializer.Deserialize<EndpointSpec>(
            """{"name": "titanic", "variants": [{"name": "main", "model": "models:/titanic/1"}], "expectations": {"suite": "columns: {age: {min: 0}}"}}""", SnakeCase)!;
        Should.Throw<TrackingException>(() => EndpointValidation.Validate(endpoint)).Problems
            .ShouldContain("expectations.suite: the suite must be an object with 'columns' (and optionally 'rows' and 'multicolumn')");

        var monitor = JsonSerializer.Deserialize<Ballast.Monitoring.MonitorSpec>(
            """{"name": "m", "endpoint": "titanic", "window": {"rows": 100}, "reference": {"dataset": "train"}, "quality": {"suite": [1]}}""", SnakeCase)!;
        Should.Throw<TrackingException>(() => Ballast.Monitoring.MonitorValidation.Validate(monitor)).Problems
            .ShouldBe(["quality.suite: the suite must be an object with 'columns' (and optionally 'rows' and 'multicolumn')"]);
    }
}
