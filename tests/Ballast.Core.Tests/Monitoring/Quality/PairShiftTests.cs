using System.Text.Json;
using Ballast.Monitoring.Quality;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Tracking;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>
/// A column pair against an offset or a multiple of the other column (<c>greater_than: {value: w, offset: 5}</c> is
/// w' &gt; w + 5, <c>ratio: 1.5</c> is 1.5 · w): in batch (DuckDB) and at serving. The data is the dataset of Great
/// Expectations' tests/test_definitions/column_pair_map_expectations/expect_column_pair_values_a_to_be_greater_than_b.json
/// (w = 1..10, x = w + 1, z = 1..5 then nulls, c = [1, 2, 3, 6, 7, 6, 7, 8, 9, 10]): with offset 0 and ratio 1 a shifted
/// pair gives GE's published outcomes, and each offset and ratio below is worked out by hand on it.
/// </summary>
public sealed class PairShiftTests
{
    private const string GeData = """
        SELECT * FROM (VALUES (1, 2, 1, 1), (2, 3, 2, 2), (3, 4, 3, 3), (4, 5, 4, 6), (5, 6, 5, 7),
                              (6, 7, NULL, 6), (7, 8, NULL, 7), (8, 9, NULL, 8), (9, 10, NULL, 9), (10, 11, NULL, 10)) t(w, x, z, c)
        """;

    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    // GE's cases (title: in → out), here with offset 0 or ratio 1, which must not change them.
    [Theory]
    [InlineData("x", "greater_than", "w", null, null, true, 0L)]                                  // basic_positive_test
    [InlineData("x", "greater_than", "z", "either_value_is_missing", null, true, 0L)]             // basic_positive_test_with_missing_values_and_ignore_row_if__either_value_is_missing
    [InlineData("w", "greater_than", "z", "either_value_is_missing", null, false, 5L)]            // test_ties: 5 unexpected, [1,1] … [5,5]
    [InlineData("w", "greater_or_equal", "z", "either_value_is_missing", null, true, 0L)]         // test_ties_with_or_equal
    [InlineData("x", "greater_than", "c", null, 0.8, true, 2L)]                                   // test_mostly: [5, 6], [6, 7] unexpected
    public void With_offset_0_and_ratio_1_a_pair_gives_GEs_published_outcomes(string column, string kind, string other, string? ignore, double? mostly, bool success, long unexpected)
    {
        foreach (var shift in new[] { "\"offset\": 0", "\"ratio\": 1" })
        {
            var own = mostly is { } m ? $", \"mostly\": {m}" : "";
            var field = ignore is null ? "" : $", \"ignore_row_if\": \"{ignore}\"";
            var suite = ExpectationSuiteReader.Parse("{\"columns\": {\"" + column + "\": {\"" + kind + "\": {\"value\": \"" + other + "\", " + shift + own + "}" + field + "}}}");
            suite.Validate().ShouldBeEmpty();

            var result = Validate(GeData, suite).Expectations.Single();

            (result.Expectation, result.Success, result.UnexpectedCount).ShouldBe((kind, success, unexpected), shift);
        }
    }

    // x = w + 1 on every row:
    //   x >  w + 1: no row (10 fail);  x >= w + 1: every row;  x > w + 0.5: every row;  x > w - 2 … every row
    //   x >= 1.5 w: w + 1 >= 1.5 w, so w <= 2: rows w = 1, 2 hold (3 >= 3 at w = 2), 8 fail
    //   x == 2 w - 1: w + 1 = 2 w - 1, so w = 2 only: 9 fail;  x >= 2 w - 1: w <= 2: 8 fail
    [Theory]
    [InlineData("greater_than", """ "offset": 1""", 10L)]
    [InlineData("greater_or_equal", """ "offset": 1""", 0L)]
    [InlineData("greater_than", """ "offset": 0.5""", 0L)]
    [InlineData("greater_than", """ "offset": -2""", 0L)]
    [InlineData("greater_or_equal", """ "ratio": 1.5""", 8L)]
    [InlineData("equal_to", """ "ratio": 2, "offset": -1""", 9L)]
    [InlineData("greater_or_equal", """ "ratio": 2, "offset": -1""", 8L)]
    [InlineData("equal_to", """ "offset": 1""", 0L)]
    public void An_offset_and_a_ratio_shift_the_other_column(string kind, string shift, long unexpected)
    {
        var suite = ExpectationSuiteReader.Parse("{\"columns\": {\"x\": {\"" + kind + "\": {\"value\": \"w\", " + shift + "}}}}");
        suite.Validate().ShouldBeEmpty();

        var batch = Validate(GeData, suite);
        var serving = RowValidator.Compile(suite).Check([Column("x", 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), Column("w", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)]);

        batch.Expectations.Single().UnexpectedCount.ShouldBe(unexpected);
        batch.RowsFailing.ShouldBe(unexpected);
        (serving.Violations.SingleOrDefault()?.Rows ?? 0).ShouldBe((int)unexpected);
    }

    [Fact]
    public void A_shifted_pair_compares_numbers_only_and_keeps_ignore_row_if_and_the_list_form()
    {
        // a: 10, "7", "x", null, 3;  b: 4, 1, 1, 2, null;  a > b + 5: 10 > 9 holds, "7" reads as 7 > 6 holds, "x" is not a
        // number (fails, where a plain pair would compare it as text), row 4 misses a (fails), row 5 misses b (fails).
        var query = "SELECT * FROM (VALUES ('10', 4, 4), ('7', 1, 9), ('x', 1, 1), (NULL, 2, 2), ('3', NULL, NULL)) t(a, b, c)";
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"a": {"greater_than": {"value": ["b", "c"], "offset": 5}}}}""");

        var result = Validate(query, suite);

        // a > c + 5: 10 > 9 holds, 7 > 14 fails, "x" fails, row 4 misses a, row 5 misses c: 4 fail.
        result.Expectations.Select(e => (e.Expectation, e.UnexpectedCount)).ShouldBe([("greater_than[b]", 3L), ("greater_than[c]", 4L)]);
        result.Expectations[0].Examples.ShouldBe(["(3, null)", "(null, 2)", "(x, 1)"], ignoreOrder: true);

        var either = Validate(query, ExpectationSuiteReader.Parse("""{"columns": {"a": {"greater_than": {"value": "b", "offset": 5}, "ignore_row_if": "either_value_is_missing"}}}"""));
        (either.Expectations.Single().UnexpectedCount, either.Expectations.Single().UnexpectedPercent).ShouldBe((1L, 100.0 / 3));
    }

    [Fact]
    public void A_single_precision_value_is_shifted_as_it_was_sent_in_batch_and_at_serving()
    {
        // FP32 7.9 is 7.900000095367432 as a double; as sent it is 7.9, which 2.9 + 5 is (in doubles, 2.9 + 5 == 7.9).
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"fare": {"equal_to": {"value": "base", "offset": 5}}}}""");

        Validate("SELECT CAST(7.9 AS FLOAT) AS fare, 2.9::DOUBLE AS base", suite).Success.ShouldBeTrue();
        RowValidator.Compile(suite).Check([new Tensor("fare", TensorDatatypes.Fp32, [1, 1], new[] { 7.9f }), Column("base", 2.9)]).Passed.ShouldBeTrue();
        RowValidator.Compile(suite).Check([new Tensor("fare", TensorDatatypes.Fp32, [1, 1], new[] { 8f }), Column("base", 2.9)]).Passed.ShouldBeFalse();
    }

    [Fact]
    public void Serving_names_the_shift_in_its_message_and_the_pair_in_its_header()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"fare": {"greater_or_equal": {"value": ["age"], "ratio": 1.5, "offset": -2}}, "total": {"greater_than": {"value": "fare", "offset": 5}}}}""");
        var validator = RowValidator.Compile(suite);

        // fare 7.9 >= 1.5 * 6 - 2 = 7 holds in row 0; row 1: 7.9 >= 1.5 * 8 - 2 = 10 fails. total 20 > 12.9, 10 > 12.9 fails.
        var check = validator.Check([
            new Tensor("fare", TensorDatatypes.Fp32, [2, 1], new[] { 7.9f, 7.9f }), Column("age", 6, 8), Column("total", 20, 10)]);

        check.FailedList().ShouldBe("fare.greater_or_equal[age],total.greater_than");
        check.Describe(suite).ShouldBe("the input fails expectations: column 'fare' greater_or_equal 1.5 * 'age' - 2: row 1 has (7.9, 8); "
            + "column 'total' greater_than 'fare' + 5: row 1 has (10, 7.9)");
        validator.UnknownColumns([new TensorSpec("fare", TensorDatatypes.Fp32, [-1, 1]), new TensorSpec("total", TensorDatatypes.Fp64, [-1])]).ShouldBe(["age"]);
        Should.NotThrow(() => EndpointValidation.Validate(Endpoint("""{"fare": {"greater_or_equal": {"value": "age", "ratio": 1.5}}}""")));
    }

    [Fact]
    public void The_object_form_round_trips_as_written()
    {
        var suite = ExpectationSuiteReader.Parse("""
            {"columns": {"x": {"greater_than": {"value": "w", "offset": 5}, "greater_or_equal": {"value": ["w", "c"], "ratio": 1.5, "mostly": 0.9}, "equal_to": {"value": "c", "offset": 0}}}}
            """);
        suite.Validate().ShouldBeEmpty();

        var written = ExpectationSuiteReader.ToJson(suite, indented: false);

        written.ShouldBe("""{"columns":{"x":{"greater_than":{"value":"w","offset":5},"greater_or_equal":{"value":["w","c"],"ratio":1.5,"mostly":0.9},"equal_to":{"value":"c","offset":0}}}}""");
        ExpectationSuiteReader.ToJson(ExpectationSuiteReader.Parse(written), indented: false).ShouldBe(written);
        suite.Columns["x"].Pairs().Select(pair => (pair.Expectation, pair.Shift)).ShouldBe(
            [("greater_than", new PairShift(5, null)), ("greater_or_equal[w]", new PairShift(null, 1.5)), ("greater_or_equal[c]", new PairShift(null, 1.5)), ("equal_to", new PairShift(0, null))]);
        var yaml = ExpectationSuiteReader.Parse(Ballast.Pipelines.Steps.ValidateDataStep.Yaml("columns:\n  x: {greater_than: {value: w, offset: 5}}\n")!.ToJsonString());
        yaml.Columns["x"].Shift("greater_than").ShouldBe(new PairShift(5, null));
    }

    [Theory]
    [InlineData("""{"greater_than": {"value": "w", "offset": "five"}}""", "columns.x.greater_than.offset: must be a number, not \"five\"")]
    [InlineData("""{"greater_than": {"value": "w", "ratio": 0}}""", "columns.x.greater_than.ratio: 0 compares the column with a constant")]
    [InlineData("""{"greater_than": {"column": "w", "offset": 5}}""", "columns.x.greater_than.column: unknown field (known: value, mostly, offset, ratio); name the other column (or a list of them) in value: greater_than: {value: w, offset: 5}")]
    [InlineData("""{"greater_than": {"offset": 5}}""", "columns.x.greater_than.value: give the expectation's value, e.g. greater_than: {value: …, offset: 5}")]
    [InlineData("""{"min": {"value": 1, "offset": 5}}""", "columns.x.min.offset: unknown field (known: value, mostly)")]
    [InlineData("""{"greater_than": {"value": "x", "offset": 5}}""", "columns.x.greater_than: compares the column with itself")]
    public void A_bad_offset_or_ratio_is_refused_naming_the_field(string column, string problem)
    {
        SuiteProblems.ShouldInclude("""{"columns": {"x": """ + column + "}}", problem);
    }

    private static EndpointSpec Endpoint(string columns) => JsonSerializer.Deserialize<EndpointSpec>(
        """{"name": "shop", "variants": [{"name": "main", "model": "models:/shop/1"}], "expectations": {"suite": {"columns": """ + columns + "}}}",
        SnakeCase)!;

    private static Tensor Column(string name, params double[] values) => new(name, TensorDatatypes.Fp64, [values.Length, 1], values);

    private static ValidationResult Validate(string query, ExpectationSuite suite) => InMemoryValidation.Validate(query, suite);
}
