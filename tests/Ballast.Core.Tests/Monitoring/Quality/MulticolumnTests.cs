using System.Text.Json;
using Ballast.Monitoring.Quality;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Tracking;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>
/// The suite's <c>multicolumn</c> list: Great Expectations' <c>expect_multicolumn_sum_to_equal</c> (batch, windows and
/// serving) and <c>expect_compound_columns_to_be_unique</c> (batch and windows). Semantics from GE's source
/// (great_expectations/expectations/metrics/multicolumn_map_metrics/multicolumn_sum_equal.py: pandas
/// <c>sum(axis=1, skipna=False) == sum_total</c>; compound_columns_unique.py: <c>~duplicated(keep=False)</c>; the execution
/// engines' <c>ignore_row_if</c> filter: all_values_are_missing by default, any_value_is_missing, never; and
/// <c>MulticolumnMapExpectation._validate</c>: mostly over <c>filtered_row_count</c>, vacuously true when it is 0).
/// </summary>
public sealed class MulticolumnTests
{
    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    // GE's docstring example of ExpectMulticolumnSumToEqual (expect_multicolumn_sum_to_equal.py): test/test2/test3 rows
    // (1, 2, 4), (2, -2, 7), (4, 4, -3) with sum_total 7: unexpected_count 1, unexpected_percent 33.33333333333333,
    // partial_unexpected_list [{4, 4, -3}]; success with mostly 0.66, failure without.
    private const string Docstring = "SELECT * FROM (VALUES (1, 2, 4), (2, -2, 7), (4, 4, -3)) t(test, test2, test3)";

    [Theory]
    [InlineData(null, false)]
    [InlineData(0.66, true)]
    [InlineData(0.67, false)]   // 2 / 3 = 0.6667 < 0.67
    public void Sum_to_equal_matches_GEs_docstring_example(double? mostly, bool success)
    {
        var suite = Parse("""{"multicolumn": [{"columns": ["test", "test2", "test3"], "sum_to_equal": 7""" + (mostly is { } m ? $", \"mostly\": {m}" : "") + "}]}");

        var result = Validate(Docstring, suite);

        var sum = result.Expectations.Single();
        (sum.Column, sum.Expectation, sum.Success, sum.UnexpectedCount, sum.Mostly, sum.Observed).ShouldBe(("test+test2+test3", "sum_to_equal", success, 1L, mostly, (double?)null));
        sum.UnexpectedPercent.ShouldBe(33.33333333333333, 1e-9);
        sum.Examples.ShouldBe(["(4, 4, -3)"]);
        result.RowsFailing.ShouldBe(1, "a sum is judged row by row, so its rows count as failing");

        // Serving checks the same rows, one request.
        var violation = RowValidator.Compile(Parse("""{"multicolumn": [{"columns": ["test", "test2", "test3"], "sum_to_equal": 7}]}"""))
            .Check([Column("test", 1, 2, 4), Column("test2", 2, -2, 4), Column("test3", 4, 7, -3)]).Violations.Single();
        (violation.Column, violation.Expectation, violation.Rows, violation.FirstRow, violation.FirstValue).ShouldBe(("test+test2+test3", "sum_to_equal", 1, 2, "(4, 4, -3)"));
    }

    [Fact]
    public void Single_precision_values_are_read_as_sent_in_batch_as_at_serving()
    {
        // 211.3 + 0.7 is 212 in doubles; widened, FLOAT 211.3 + 0.7 is 212.00000303983688, and FLOAT 7.9 is above max 7.9.
        // Batch reads a FLOAT column's values through their shortest text, as serving reads an FP32 tensor (RowValidatorTests).
        var suite = Parse("""{"columns": {"fare": {"max": 211.3}, "tip": {"min": 0.7, "allowed": [0.7, 0.71]}}, "multicolumn": [{"columns": ["fare", "tip"], "sum_to_equal": 212}]}""");

        var result = Validate("SELECT CAST(fare AS FLOAT) AS fare, CAST(tip AS FLOAT) AS tip FROM (VALUES (211.3, 0.7), (211.3, 0.71)) t(fare, tip)", suite);

        result.Expectations.Select(e => (e.Name, e.Success, e.UnexpectedCount)).ShouldBe(
            [("fare.max", true, 0L), ("tip.min", true, 0L), ("tip.allowed", true, 0L), ("fare+tip.sum_to_equal", false, 1L)]);
        result.Expectations[^1].Examples.ShouldBe(["(211.3, 0.71)"]);
    }

    // a + b = 7 over five rows: (1, 6) holds; (null, 7); (null, null); (3, 3) does not add up; (7, null).
    // all_values_are_missing (GE's default) skips the all-null row: 4 checked, the 2 rows missing one value and (3, 3)
    // fail (GE sums with skipna=False, so a missing value never equals the total): 3 of 4. any_value_is_missing skips the
    // three rows with a missing value: 1 of 2. never skips none: 4 of 5.
    [Theory]
    [InlineData(null, 3, 4)]
    [InlineData("all_values_are_missing", 3, 4)]
    [InlineData("any_value_is_missing", 1, 2)]
    [InlineData("never", 4, 5)]
    public void Sum_to_equal_skips_the_rows_ignore_row_if_names_and_fails_a_missing_value_in_the_others(string? ignore, int failing, int checkedRows)
    {
        var field = ignore is null ? "" : $", \"ignore_row_if\": \"{ignore}\"";
        var suite = Parse("""{"multicolumn": [{"columns": ["a", "b"], "sum_to_equal": 7""" + field + "}]}");

        var sum = Validate("SELECT * FROM (VALUES (1.0, 6.0), (NULL, 7.0), (NULL, NULL), (3.0, 3.0), (7.0, 'NaN'::DOUBLE)) t(a, b)", suite).Expectations.Single();

        (sum.Success, sum.UnexpectedCount).ShouldBe((false, (long)failing));
        sum.UnexpectedPercent.ShouldBe(100.0 * failing / checkedRows, 1e-9);
        sum.Examples.ShouldContain("(3.0, 3.0)");

        var violation = RowValidator.Compile(suite).Check([Column("a", 1, double.NaN, double.NaN, 3, 7), Column("b", 6, 7, double.NaN, 3, double.NaN)]).Violations.Single();
        (violation.Rows, violation.FirstRow).ShouldBe((failing, ignore == "any_value_is_missing" ? 3 : 1));
    }

    // GE's docstring example of expect_multicolumn_values_to_be_unique (the former name of compound uniqueness):
    // A B C = (1 1 2) Fail, (1 2 3) Pass, (1 1 2) Fail, (2 2 2) Pass, (3 2 3) Pass: every row of a repeated combination
    // fails, so 2 of 5 (40%); 4 distinct combinations. Success for mostly 0.6 ((5 - 2) / 5), not 0.61.
    [Theory]
    [InlineData(null, false)]
    [InlineData(0.6, true)]
    [InlineData(0.61, false)]
    public void Compound_unique_fails_every_row_of_a_repeated_combination(double? mostly, bool success)
    {
        var suite = Parse("""{"multicolumn": [{"columns": ["A", "B", "C"], "unique": true""" + (mostly is { } m ? $", \"mostly\": {m}" : "") + "}]}");

        var result = Validate("SELECT * FROM (VALUES (1, 1, 2), (1, 2, 3), (1, 1, 2), (2, 2, 2), (3, 2, 3)) t(A, B, C)", suite);

        var unique = result.Expectations.Single();
        (unique.Column, unique.Expectation, unique.Success, unique.UnexpectedCount, unique.Observed).ShouldBe(("A+B+C", "unique", success, 2L, (double?)4));
        unique.UnexpectedPercent.ShouldBe(40, 1e-9);
        unique.Examples.ShouldBe(["(1, 1, 2)"]);
        result.RowsFailing.ShouldBe(0, "uniqueness judges the table, as a column's unique does");
    }

    // (1, null) twice and (null, null) twice. Missing values group together, as pandas' duplicated does: all_values_are_missing
    // skips the all-null rows, leaving the two (1, null): both repeated, 2 of 2. never keeps all four: 4 of 4.
    // any_value_is_missing keeps none: nothing checked holds (vacuously, as GE).
    [Theory]
    [InlineData(null, 2, 2)]
    [InlineData("never", 4, 4)]
    [InlineData("any_value_is_missing", 0, 0)]
    public void Compound_unique_groups_missing_values_together_in_the_rows_ignore_row_if_keeps(string? ignore, long failing, long checkedRows)
    {
        var field = ignore is null ? "" : $", \"ignore_row_if\": \"{ignore}\"";
        var suite = Parse("""{"multicolumn": [{"columns": ["a", "b"], "unique": true""" + field + "}]}");

        var unique = Validate("SELECT * FROM (VALUES (1, NULL), (1, NULL), (NULL, NULL), (NULL, NULL)) t(a, b)", suite).Expectations.Single();

        (unique.Success, unique.UnexpectedCount).ShouldBe((failing == 0, failing));
        unique.UnexpectedPercent.ShouldBe(checkedRows == 0 ? 0 : 100.0 * failing / checkedRows, 1e-9);
    }

    [Fact]
    public void A_column_the_data_lacks_fails_the_multicolumn_expectation_on_every_row()
    {
        var result = Validate(Docstring, Parse("""{"columns": {"test": {"min": 0}}, "multicolumn": [{"columns": ["test", "tset"], "sum_to_equal": 7}]}"""));

        var sum = result.Expectations[1];
        (sum.Name, sum.Success, sum.UnexpectedCount, sum.UnexpectedPercent, sum.ObservedText).ShouldBe(
            ("test+tset.sum_to_equal", false, 3L, 100.0, "no column 'tset' (the data has test, test2, test3)"));
        result.RowsFailing.ShouldBe(3);
    }

    [Fact]
    public void Multicolumn_round_trips_through_json_and_yaml_after_the_columns()
    {
        var suite = Parse("""{"multicolumn": [{"columns": ["a", "b"], "sum_to_equal": 100, "ignore_row_if": "never", "mostly": 0.9}, {"columns": ["a", "c"], "unique": true}, {"columns": ["a", "c"], "unique_within_record": true}], "columns": {"a": {"min": 0}}}""");

        suite.Validate().ShouldBeEmpty();
        suite.Expectations().ShouldBe([("a", "min"), ("a+b", "sum_to_equal"), ("a+c", "unique"), ("a+c", "unique_within_record")]);
        var written = ExpectationSuiteReader.ToJson(suite, indented: false);
        written.ShouldBe("""{"columns":{"a":{"min":0}},"multicolumn":[{"columns":["a","b"],"sum_to_equal":100,"ignore_row_if":"never","mostly":0.9},{"columns":["a","c"],"unique":true},{"columns":["a","c"],"unique_within_record":true}]}""");
        ExpectationSuiteReader.ToJson(Parse(written), indented: false).ShouldBe(written);

        var yaml = ExpectationSuiteReader.Parse(Ballast.Pipelines.Steps.ValidateDataStep.Yaml("""
            multicolumn:
              - {columns: [net, tax, gross_negated], sum_to_equal: 0}
              - columns: [first_name, last_name]
                unique: true
                ignore_row_if: any_value_is_missing
            """)!.ToJsonString());
        yaml.Validate().ShouldBeEmpty();
        yaml.Multicolumn.Select(multi => (multi.Name, multi.Kind, multi.Missing)).ShouldBe(
            [("net+tax+gross_negated", "sum_to_equal", "all_values_are_missing"), ("first_name+last_name", "unique", "any_value_is_missing")]);
    }

    [Theory]
    [InlineData("""[{"columns": ["a"], "sum_to_equal": 1}]""", "multicolumn[0].columns: list at least two columns")]
    [InlineData("""[{"columns": ["a", "a"], "sum_to_equal": 1}]""", "multicolumn[0].columns: 'a' appears twice")]
    [InlineData("""[{"columns": "a,b", "sum_to_equal": 1}]""", "multicolumn[0].columns: must be a list of column names, not \"a,b\"")]
    [InlineData("""[{"columns": ["a", 2], "sum_to_equal": 1}]""", "multicolumn[0].columns[1]: must be a column name (text), not 2")]
    [InlineData("""[{"sum_to_equal": 1}]""", "multicolumn[0].columns: name the columns, e.g. columns: [a, b]")]
    [InlineData("""[{"columns": ["a", "b"], "sum_to_equal": 1, "unique": true}]""", "multicolumn[0]: give one of sum_to_equal, unique or unique_within_record per entry")]
    [InlineData("""[{"columns": ["a", "b"]}]""", "multicolumn[0]: no expectation (give sum_to_equal: NUMBER, unique: true or unique_within_record: true)")]
    [InlineData("""[{"columns": ["a", "b"], "unique": true, "unique_within_record": true}]""", "multicolumn[0]: give one of sum_to_equal, unique or unique_within_record per entry")]
    [InlineData("""[{"columns": ["a", "b"], "unique_within_record": "yes"}]""", "multicolumn[0].unique_within_record: must be true or false, not \"yes\"")]
    [InlineData("""[{"columns": ["a", "c"], "unique_within_record": true, "mostly": -0.3}]""", "multicolumn[0].mostly: -0.3 must be between 0 and 1")]   // GE's mostly_set_incorrectly: "must be between 0 and 1"
    [InlineData("""[{"columns": ["a", "b"], "unique_within_record": true}, {"columns": ["a", "b"], "unique_within_record": true}]""", "multicolumn[1]: repeats multicolumn[0] (unique_within_record of a+b)")]
    [InlineData("""[{"columns": ["a", "b"], "sum_to_equal": "ten"}]""", "multicolumn[0].sum_to_equal: must be a number, not \"ten\"")]
    [InlineData("""[{"columns": ["a", "b"], "unique": "yes"}]""", "multicolumn[0].unique: must be true or false, not \"yes\"")]
    [InlineData("""[{"columns": ["a", "b"], "unique": true, "ignore_row_if": "neither"}]""", "multicolumn[0].ignore_row_if: 'neither' is not one of all_values_are_missing, any_value_is_missing, never")]
    [InlineData("""[{"columns": ["a", "b"], "unique": true, "mostly": 2}]""", "multicolumn[0].mostly: 2 must be between 0 and 1")]
    [InlineData("""[{"columns": ["a", "b"], "unique": true, "sum": 3}]""", "multicolumn[0].sum: unknown field (known: columns, sum_to_equal, unique, unique_within_record, ignore_row_if, mostly)")]
    [InlineData("""[{"columns": ["a", "b"], "unique": true}, {"columns": ["a", "b"], "unique": true}]""", "multicolumn[1]: repeats multicolumn[0] (unique of a+b)")]
    [InlineData("""[["a", "b"]]""", "multicolumn[0]: must be an object of columns and sum_to_equal, unique or unique_within_record")]
    [InlineData("""{"a": 1}""", "multicolumn: must be a list of expectations")]
    public void A_bad_multicolumn_expectation_is_refused_naming_the_field(string multicolumn, string problem)
    {
        SuiteProblems.ShouldInclude("""{"multicolumn": """ + multicolumn + "}", problem);
    }

    [Fact]
    public void An_endpoints_suite_takes_a_sum_but_refuses_compound_unique_and_mostly()
    {
        var ok = Endpoint("""[{"columns": ["age", "fare"], "sum_to_equal": 100}]""");
        Should.NotThrow(() => EndpointValidation.Validate(ok));

        var exception = Should.Throw<TrackingException>(() => EndpointValidation.Validate(Endpoint("""[{"columns": ["age", "fare"], "unique": true}, {"columns": ["age", "fare"], "sum_to_equal": 1, "mostly": 0.9}]""")));

        exception.Message.ShouldContain("expectations.suite.multicolumn[0].unique: a combination of columns unique across rows judges many rows; serving checks each row (use it in a monitor or ballast validate)");
        exception.Message.ShouldContain("expectations.suite.multicolumn[1].mostly: a share of rows allowed to fail judges many rows");
    }

    [Fact]
    public void At_serving_a_sum_names_its_columns_and_values_and_a_missing_input_is_unknown()
    {
        var suite = Parse("""{"columns": {"a": {"min": 0}}, "multicolumn": [{"columns": ["a", "m[1]"], "sum_to_equal": 10}]}""");
        var validator = RowValidator.Compile(suite);

        // m is [2, 2]: its column 1 is 4 and 5; a is 6 and 6: row 1 adds up to 11.
        var check = validator.Check([Column("a", 6, 6), new Tensor("m", TensorDatatypes.Fp64, [2, 2], new double[] { 0, 4, 0, 5 })]);

        check.Describe(suite).ShouldBe("the input fails expectations: columns 'a+m[1]' sum_to_equal 10: row 1 has (6, 5)");
        check.FailedList().ShouldBe("a+m[1].sum_to_equal");
        validator.UnknownColumns([new TensorSpec("a", TensorDatatypes.Fp64, [-1, 1])]).ShouldBe(["m[1]"]);
    }

    // GE's tests/test_definitions/multicolumn_map_expectations/expect_select_column_values_to_be_unique_within_record.json,
    // first dataset: a = [1, 2, 3, 4], b = [5, 6, 7, 8], c = [1, 4, 2, 3].
    private const string GeRecords = "SELECT * FROM (VALUES (1, 5, 1), (2, 6, 4), (3, 7, 2), (4, 8, 3)) t(a, b, c)";

    // Its second dataset: w = [2 … 10, null], x = [1 … 10], a = [1 × 5, 2 × 4, null], b = [1, 2, 1, 2, 1, 2, 1, 2, 1, null].
    private const string GeRecordsWithNulls = """
        SELECT * FROM (VALUES (2, 1, 1, 1), (3, 2, 1, 2), (4, 3, 1, 1), (5, 4, 1, 2), (6, 5, 1, 1),
                              (7, 6, 2, 2), (8, 7, 2, 1), (9, 8, 2, 2), (10, 9, 2, 1), (NULL, 10, NULL, NULL)) t(w, x, a, b)
        """;

    [Theory]
    [InlineData(GeRecords, "a, b", null, null, true, 0L, 0.0)]                                 // mostly_default_successful_expectation
    [InlineData(GeRecords, "a, c", null, null, false, 1L, 25.0)]                               // mostly_default_fails_expectation: [{a: 1, c: 1}]
    [InlineData(GeRecords, "a, c", 0.7, null, true, 1L, 25.0)]                                 // mostly_set_successful_expectation (3 / 4 >= 0.7)
    [InlineData(GeRecords, "a, c", 0.8, null, false, 1L, 25.0)]                                // mostly_set_fails_expectation (0.75 < 0.8)
    [InlineData(GeRecordsWithNulls, "w, x", null, null, true, 0L, 0.0)]                        // basic_test_ignore_if_all_are_missing_the_default_behavior
    [InlineData(GeRecordsWithNulls, "w, x", null, "any_value_is_missing", true, 0L, 0.0)]      // basic_test_ignore_if_any_are_missing
    [InlineData(GeRecordsWithNulls, "a, b", null, null, false, 5L, 55.55555555555556)]         // unexpected_values_exact_match_out…: 5 of the 9 rows kept (rows 0, 2, 4, 5, 7)
    public void Unique_within_record_matches_GEs_published_cases(string data, string columns, double? mostly, string? ignore, bool success, long unexpected, double percent)
    {
        var list = string.Join(", ", columns.Split(", ").Select(column => $"\"{column}\""));
        var suite = Parse("{\"multicolumn\": [{\"columns\": [" + list + "], \"unique_within_record\": true"
            + (mostly is { } m ? $", \"mostly\": {m}" : "") + (ignore is null ? "" : $", \"ignore_row_if\": \"{ignore}\"") + "}]}");
        suite.Validate().ShouldBeEmpty();

        var result = Validate(data, suite);

        var expectation = result.Expectations.Single();
        (expectation.Column, expectation.Expectation, expectation.Success, expectation.UnexpectedCount)
            .ShouldBe((columns.Replace(", ", "+", StringComparison.Ordinal), "unique_within_record", success, unexpected));
        expectation.UnexpectedPercent.ShouldBe(percent, tolerance: 1e-9);
        result.RowsFailing.ShouldBe(unexpected);
    }

    [Fact]
    public void Unique_within_record_repeats_two_missing_values_and_compares_as_pairs_do()
    {
        // Every row kept (ignore_row_if never): (1, "1", 2) repeats 1 (a number and text reading as it); (null, null, 3)
        // repeats the missing value (GE's dropna=False); (null, "2", 3) does not; (null, "x", null) does; (5, "X", 1) does not.
        var query = "SELECT * FROM (VALUES (1, '1', 2), (NULL, NULL, 3), (NULL, '2', 3), (NULL, 'x', NULL), (5, 'X', 1)) t(p, q, r)";
        var result = Validate(query, Parse("""{"multicolumn": [{"columns": ["p", "q", "r"], "unique_within_record": true, "ignore_row_if": "never"}]}"""));

        result.Expectations.Single().UnexpectedCount.ShouldBe(3);
        result.Expectations.Single().Examples.ShouldBe(["(1, 1, 2)", "(null, null, 3)", "(null, x, null)"], ignoreOrder: true);

        // A single-precision value as it was sent: FLOAT 0.1 is 0.1, so it repeats DOUBLE 0.1.
        Validate("SELECT CAST(0.1 AS FLOAT) AS f, 0.1::DOUBLE AS d", Parse("""{"multicolumn": [{"columns": ["f", "d"], "unique_within_record": true}]}"""))
            .Success.ShouldBeFalse();
    }

    [Fact]
    public void At_serving_unique_within_record_checks_each_row_as_batch_does()
    {
        var suite = Parse("""{"multicolumn": [{"columns": ["a", "b"], "unique_within_record": true}, {"columns": ["f", "d", "s"], "unique_within_record": true}]}""");
        var validator = RowValidator.Compile(suite);

        // GE's second dataset's a and b (row 9 all missing, skipped): rows 0, 2, 4, 5, 7 repeat. f (FP32) as sent: row 0's
        // 0.1f repeats d's 0.1; row 1's s "0.2" reads as f's 0.2; row 2 has none alike.
        var check = validator.Check([
            Column("a", 1, 1, 1, 1, 1, 2, 2, 2, 2, double.NaN), Column("b", 1, 2, 1, 2, 1, 2, 1, 2, 1, double.NaN),
            new Tensor("f", TensorDatatypes.Fp32, [10, 1], new[] { 0.1f, 0.2f, 0.3f, 1, 1, 1, 1, 1, 1, 1 }),
            Column("d", 0.1, 0.3, 0.2, 2, 2, 2, 2, 2, 2, 2),
            new Tensor("s", TensorDatatypes.Bytes, [10, 1], new[] { "x", "0.2", "y", "z", "z", "z", "z", "z", "z", "z" })]);

        check.Violations.Select(v => (v.Column, v.Expectation, v.Rows, v.FirstRow, v.FirstValue)).ShouldBe(
            [("a+b", "unique_within_record", 5, 0, "(1, 1)"), ("f+d+s", "unique_within_record", 2, 0, "(0.1, 0.1, 'x')")]);
        check.FailedList().ShouldBe("a+b.unique_within_record,f+d+s.unique_within_record");
        check.Describe(suite).ShouldBe("the input fails expectations: columns 'a+b' unique_within_record: row 0 has (1, 1) (5 rows fail); "
            + "columns 'f+d+s' unique_within_record: row 0 has (0.1, 0.1, 'x') (2 rows fail)");
        validator.UnknownColumns([new TensorSpec("a", TensorDatatypes.Fp64, [-1, 1])]).ShouldBe(["b", "f", "d", "s"]);
        Ballast.Monitoring.MonitorMetricNames.QualityNames(suite).ShouldContain("quality.f+d+s.unique_within_record");
        Should.NotThrow(() => EndpointValidation.Validate(Endpoint("""[{"columns": ["age", "fare"], "unique_within_record": true}]""")));
    }

    private static ExpectationSuite Parse(string json) => ExpectationSuiteReader.Parse(json);

    private static EndpointSpec Endpoint(string multicolumn) => JsonSerializer.Deserialize<EndpointSpec>(
        """{"name": "titanic", "variants": [{"name": "main", "model": "models:/titanic/1"}], "expectations": {"suite": {"multicolumn": """ + multicolumn + "}}}",
        SnakeCase)!;

    private static Tensor Column(string name, params double[] values) => new(name, TensorDatatypes.Fp64, [values.Length, 1], values);

    private static ValidationResult Validate(string query, ExpectationSuite suite) => InMemoryValidation.Validate(query, suite);
}
