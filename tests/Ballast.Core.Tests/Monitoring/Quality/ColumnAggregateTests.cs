using System.Globalization;
using System.Text.Json;
using Ballast.Monitoring;
using Ballast.Monitoring.Quality;
using Ballast.Runtime;
using Ballast.Serving;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>
/// Column aggregate expectations (mean, median, stdev, sum, unique_proportion, distinct_count, quantiles) against Great
/// Expectations' own test definitions: great_expectations tests/test_definitions/column_aggregate_expectations/
/// expect_column_{mean,median,stdev,sum,proportion_of_unique_values,unique_value_count}_to_be_between.json, and for the
/// quantiles tests/integration/data_sources_and_expectations/expectations/test_expect_column_quantile_values_to_be_between.py
/// and the "Example Data" of great_expectations/expectations/core/expect_column_quantile_values_to_be_between.py.
/// </summary>
public sealed class ColumnAggregateTests : IDisposable
{
    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-aggregates-").FullName;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // kind, the column's values (GE's dataset), its DuckDB type, the bounds (GE's min_value / max_value), GE's observed_value, GE's success.
    [Theory]
    // expect_column_mean_to_be_between.json
    [InlineData("mean", "2.0, 5.0", "DOUBLE", """{"min": 2, "max": 5}""", 3.5, true)]
    [InlineData("mean", "2.0, 5.0", "DOUBLE", """{"min": 1, "max": 2}""", 3.5, false)]
    [InlineData("mean", "5, 5", "INTEGER", """{"min": 5, "max": 5}""", 5.0, true)]
    [InlineData("mean", "5, 5", "INTEGER", """{"min": 4, "max": 4}""", 5.0, false)]
    [InlineData("mean", "0, 10", "INTEGER", """{"min": 5, "max": 5}""", 5.0, true)]
    [InlineData("mean", "0, 10", "INTEGER", """{"min": 13, "max": 14}""", 5.0, false)]
    [InlineData("mean", "0, NULL", "INTEGER", """{"min": 0, "max": 0}""", 0.0, true)]
    [InlineData("mean", "", "INTEGER", """{"min": 0, "max": 1}""", null, false)]
    // expect_column_median_to_be_between.json
    [InlineData("median", "1, 2, 3, 4", "INTEGER", """{"min": 2.5, "max": 2.5}""", 2.5, true)]
    [InlineData("median", "1, 2, 3, 4", "INTEGER", """{"max": 3}""", 2.5, true)]
    [InlineData("median", "1, 2, 3, 4", "INTEGER", """{"min": 2}""", 2.5, true)]
    [InlineData("median", "1, 2, 2, 3", "INTEGER", """{"min": 5, "max": 5}""", 2.0, false)]
    [InlineData("median", "1, 2, 2, 3", "INTEGER", """{"max": 1}""", 2.0, false)]
    [InlineData("median", "1, 2, 2, 3", "INTEGER", """{"min": 2.5}""", 2.0, false)]
    [InlineData("median", "5, 7, 6, NULL", "INTEGER", """{"min": 6, "max": 6}""", 6.0, true)]
    [InlineData("median", "5, 7, 6, NULL", "INTEGER", """{"min": 7, "max": 7}""", 6.0, false)]
    [InlineData("median", "", "INTEGER", """{"min": 0, "max": 0}""", null, false)]
    // expect_column_stdev_to_be_between.json (sample standard deviation, ddof = 1)
    [InlineData("stdev", "1, 1, 3", "INTEGER", """{"min": 0.5, "max": 1.5}""", 1.1547005383792517, true)]
    [InlineData("stdev", "1, 1, 3", "INTEGER", """{"min": 0, "max": 1}""", 1.1547005383792517, false)]
    [InlineData("stdev", "0, 0, 0", "INTEGER", """{"min": 0, "max": 0}""", 0.0, true)]
    [InlineData("stdev", "-1, 0, 1", "INTEGER", """{"min": 1}""", 1.0, true)]
    [InlineData("stdev", "-1, 0, 1", "INTEGER", """{"max": 1}""", 1.0, true)]
    [InlineData("stdev", "-1, 0, 1", "INTEGER", """{"min": 1.5}""", 1.0, false)]
    [InlineData("stdev", "-1, 0, 1", "INTEGER", """{"max": 0.5}""", 1.0, false)]
    [InlineData("stdev", "-1, 1, NULL", "INTEGER", """{"min": 1, "max": 1}""", 1.4142135623730951, false)]
    // expect_column_sum_to_be_between.json
    [InlineData("sum", "1, 2, 3, 4, 5, 5, 4, 3, 2, 1", "INTEGER", """{"min": 30, "max": 30}""", 30.0, true)]
    [InlineData("sum", "1, 2, 3, 4, 5, 5, 4, 3, 2, 1", "INTEGER", """{"min": 40, "max": 50}""", 30.0, false)]
    [InlineData("sum", "2, 3, 4, 5, 6, 7, 8, 9, NULL, NULL", "INTEGER", """{"min": 30}""", 44.0, true)]
    [InlineData("sum", "1, 1, 1, 2, 2, 2, 3, 3, 3, 4", "INTEGER", """{"max": 20}""", 22.0, false)]
    // expect_column_proportion_of_unique_values_to_be_between.json
    [InlineData("unique_proportion", "1, 2, 3, 4, 5, 6, 7, 8", "INTEGER", """{"min": 0.5, "max": 1}""", 1.0, true)]
    [InlineData("unique_proportion", "1, 2, 3, 4, 5, NULL, NULL, NULL", "INTEGER", """{"min": 0.5, "max": 1}""", 1.0, true)]
    [InlineData("unique_proportion", "2, 2, 2, 2, 5, 6, 7, 8", "INTEGER", """{"min": 0.6, "max": 0.7}""", 0.625, true)]
    [InlineData("unique_proportion", "1, 1, 1, 1, NULL, NULL, NULL, NULL", "INTEGER", """{"min": 0.3}""", 0.25, false)]
    // expect_column_unique_value_count_to_be_between.json
    [InlineData("distinct_count", "1, 2, 3, 4, 5, 6, 7, 8", "INTEGER", """{"min": 0, "max": 10}""", 8.0, true)]
    [InlineData("distinct_count", "1, 2, 3, 4, 5, NULL, NULL, NULL", "INTEGER", """{"min": 0, "max": 10}""", 5.0, true)]
    [InlineData("distinct_count", "2, 2, 2, 2, 5, 6, 7, 8", "INTEGER", """{"max": 10}""", 5.0, true)]
    [InlineData("distinct_count", "1, 1, 1, 1, NULL, NULL, NULL, NULL", "INTEGER", """{"min": 2}""", 1.0, false)]
    public void An_aggregate_matches_great_expectations_test_definitions(string kind, string values, string type, string bounds, double? observed, bool success)
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"x": {""" + $"\"{kind}\": {bounds}" + "}}}");
        suite.Validate().ShouldBeEmpty();

        var result = Validate($"SELECT unnest([{values}]::{type}[]) AS x", suite);

        var expectation = result.Expectations.Single();
        (expectation.Name, expectation.Success, expectation.UnexpectedCount, expectation.UnexpectedPercent).ShouldBe(($"x.{kind}", success, 0L, 0.0));
        if (observed is { } value)
        {
            expectation.Observed!.Value.ShouldBe(value, 1e-12);
        }
        else
        {
            expectation.Observed.ShouldBeNull("no present value: GE's observed_value is null and the expectation fails");
        }

        result.RowsFailing.ShouldBe(0, "an aggregate judges the column, not a row");
        result.Success.ShouldBe(success);
    }

    [Theory]
    // GE (and SQL's percentile_disc): the smallest value whose cumulative share reaches q; [1, 2, 2, 3, 3, 3, 4] has 2 at 0.333 (rank 3) and 3 at 0.667 (rank 5).
    [InlineData("1, 2, 2, 3, 3, 3, 4", "[0, 0.333, 0.667, 1]", "[[0, 1], [2, 3], [3, 4], [4, 5]]", "1, 2, 3, 4", "true, true, true, true")]
    [InlineData("1, 2, 2, 3, 3, 3, 4, NULL, NULL", "[0, 0.333, 0.667, 1]", "[[0, 1], [2, 3], [3, 4], [4, 5]]", "1, 2, 3, 4", "true, true, true, true")]
    [InlineData("1, 2, 2, 3, 3, 3, 4", "[0, 0.333, 0.667, 1]", "[[null, 1], [2, 3], [3, 4], [4, null]]", "1, 2, 3, 4", "true, true, true, true")]
    [InlineData("1, 2, 2, 3, 3, 3, 4", "[0, 0.333, 0.667, 1]", "[[0, 1], [1, 2], [1, 2], [2, 3]]", "1, 2, 3, 4", "true, true, false, false")]
    [InlineData("10, 20, 30, 40", "[0.3, 0.6]", "[[20, 20], [30, 30]]", "20, 30", "true, true")]
    // 0.56 of 25 values is rank 14 exactly (in floating point 0.56 * 25 is 14.000000000000002, which would make it 15).
    [InlineData("1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25", "[0.56]", "[[14, 14]]", "14", "true")]
    // The docstring's failing case (column test2): observed [1.0, 2.5, 5.0, 7.0], success_details [true, true, false, false].
    [InlineData("1, 7, 2.5, 3, 2, 5, 6", "[0, 0.333, 0.667, 1]", "[[0, 1], [2, 3], [3, 4], [4, 5]]", "1, 2.5, 5, 7", "true, true, false, false")]
    [InlineData("NULL, NULL, NULL", "[0.25, 0.5]", "[[0, 99], [0, 99]]", "null, null", "false, false")]
    public void Quantiles_are_percentile_disc_as_in_great_expectations(string values, string quantiles, string ranges, string observed, string details)
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"x": {"quantiles": {"quantiles": """ + quantiles + """, "value_ranges": """ + ranges + "}}}}");
        suite.Validate().ShouldBeEmpty();

        var result = Validate($"SELECT unnest([{values}]::DOUBLE[]) AS x", suite).Expectations.Single();

        var expected = observed.Split(", ").Select(v => v == "null" ? (double?)null : double.Parse(v, CultureInfo.InvariantCulture)).ToList();
        var verdicts = details.Split(", ").Select(bool.Parse).ToList();
        result.Quantiles!.Select(q => q.Value).ShouldBe(expected);
        result.Quantiles!.Select(q => q.Success).ShouldBe(verdicts);
        result.Quantiles!.Select(q => q.Quantile).ShouldBe(JsonSerializer.Deserialize<double[]>(quantiles)!);
        (result.Name, result.Success, result.Observed).ShouldBe(("x.quantiles", verdicts.All(v => v), (double?)null));
    }

    [Theory]
    [InlineData("""{"min": 3.5}""", true)]
    [InlineData("""{"min": 3.5, "strict_min": true}""", false)]
    [InlineData("""{"max": 3.5, "strict_max": true}""", false)]
    [InlineData("""{"min": 3, "max": 4, "strict_min": true, "strict_max": true}""", true)]
    [InlineData("""{"min": 3.5, "max": 3.5}""", true)]
    public void Strict_bounds_exclude_their_value_as_in_great_expectations(string bounds, bool success)
    {
        // GE's strict_min / strict_max: observed > min / observed < max instead of >= / <=; the mean of [2, 5] is 3.5.
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"x": {"mean": """ + bounds + "}}}");
        suite.Validate().ShouldBeEmpty();

        Validate("SELECT unnest([2.0, 5.0]) AS x", suite).Expectations.Single().Success.ShouldBe(success);
    }

    [Fact]
    public void A_file_reports_each_aggregate_with_its_observed_value_and_quantiles_as_great_expectations_does()
    {
        // income: 10, 20, 30, 40, missing, NaN (missing too); segment: a, b, a, a, b, c. A mean of text fails, naming the type.
        var path = Path.Combine(_folder, "incomes.csv");
        File.WriteAllText(path, "income,segment\n10,a\n20,b\n30,a\n40,a\n,b\nnan,c\n");
        var suite = ExpectationSuiteReader.Parse("""
            {"columns": {"income": {"min": 0, "mean": {"min": 20, "max": 30}, "median": {"max": 20}, "sum": {"min": 100, "max": 100}, "stdev": {"max": 20},
                                    "quantiles": {"quantiles": [0.25, 0.5, 0.95], "value_ranges": [[null, 10], [20, 20], [35, null]]}},
                         "segment": {"allowed": ["a", "b", "c"], "distinct_count": {"min": 3, "max": 3}, "unique_proportion": {"max": 0.4}, "mean": {"min": 0}}}}
            """);
        suite.Validate().ShouldBeEmpty();

        var result = ExpectationValidator.ValidateFile(path, suite, Cancel);

        // mean 25, median (20 + 30) / 2 = 25 > 20, sum 100, stdev sqrt(500 / 3) = 12.909944487358056; quantiles by rank
        // max(1, ceil(q * 4)): 0.25 → 1st (10), 0.5 → 2nd (20), 0.95 → 4th (40). segment: 3 distinct of 6 present = 0.5 > 0.4.
        result.Expectations.Select(e => (e.Name, e.Success)).ShouldBe(
        [
            ("income.min", true), ("income.mean", true), ("income.median", false), ("income.stdev", true), ("income.sum", true), ("income.quantiles", true),
            ("segment.allowed", true), ("segment.mean", false), ("segment.unique_proportion", false), ("segment.distinct_count", true),
        ]);
        var observed = result.Expectations.Where(e => e.Observed is not null).Skip(1).ToList();
        observed.Select(e => e.Name).ShouldBe(["income.mean", "income.median", "income.stdev", "income.sum", "segment.unique_proportion", "segment.distinct_count"]);
        observed.Select(e => e.Observed!.Value).ShouldBe([25, 25, Math.Sqrt(500.0 / 3), 100, 0.5, 3], tolerance: 1e-12);
        result.Expectations.Single(e => e.Name == "segment.mean").ObservedText.ShouldBe("column 'segment' is VARCHAR, not numbers; mean is computed over numbers");
        result.RowsFailing.ShouldBe(0);

        var json = ValidationResultJson.Write(result, indented: false);
        json.ShouldContain("""{"column":"income","expectation":"median","success":false,"observed":25,"unexpected_count":0,"unexpected_percent":0,"examples":[]}""");
        json.ShouldContain("""{"column":"income","expectation":"quantiles","success":true,"observed":{"quantiles":[0.25,0.5,0.95],"values":[10,20,40],"success":[true,true,true]},"unexpected_count":0,"unexpected_percent":0,"examples":[]}""");
        var markdown = ValidationResultJson.Markdown(result, path);
        markdown.ShouldContain("| income | quantiles | pass | q0.25 = 10, q0.5 = 20, q0.95 = 40 |");
        markdown.ShouldContain("| income | median | FAIL | 25 |");
    }

    [Fact]
    public void A_suite_with_aggregates_round_trips_in_json_and_yaml_and_a_monitor_lists_their_metrics()
    {
        var written = """{"columns":{"x":{"min":0,"mean":{"min":1,"max":2,"strict_min":true},"distinct_count":{"max":10},"quantiles":{"quantiles":[0.05,0.5,0.95],"value_ranges":[[0,1],[null,5],[9,null]]}},"y":{"sum":{"max":100,"strict_max":true}}}}""";
        var suite = ExpectationSuiteReader.Parse(written);

        suite.Validate().ShouldBeEmpty();
        suite.Columns["x"].Bounds("mean").ShouldBe(new AggregateBounds(1, 2, StrictMin: true));
        suite.Columns["x"].Quantiles!.ValueRanges.ShouldBe([new QuantileRange(0, 1), new QuantileRange(null, 5), new QuantileRange(9, null)]);
        ExpectationSuiteReader.ToJson(suite, indented: false).ShouldBe(written);
        suite.Expectations().Select(e => $"{e.Column}.{e.Expectation}").ShouldBe(["x.min", "x.distinct_count", "x.quantiles", "x.mean", "y.sum"], ignoreOrder: true);
        suite.Expectations().Select(e => $"{e.Column}.{e.Expectation}").ShouldBe(["x.min", "x.mean", "x.distinct_count", "x.quantiles", "y.sum"]);

        var yaml = ExpectationSuiteReader.Parse(Ballast.Pipelines.Steps.ValidateDataStep.Yaml("""
            columns:
              x:
                min: 0
                mean: {min: 1, max: 2, strict_min: true}
                distinct_count: {max: 10}
                quantiles:
                  quantiles: [0.05, 0.5, 0.95]
                  value_ranges: [[0, 1], [null, 5], [9, null]]
              y: {sum: {max: 100, strict_max: true}}
            """)!.ToJsonString());
        yaml.Validate().ShouldBeEmpty();
        ExpectationSuiteReader.ToJson(yaml, indented: false).ShouldBe(written);

        MonitorMetricNames.QualityNames(suite).ShouldBe(
        [
            "quality.flagged_rate", "quality.x.min", "quality.x.mean", "quality.x.distinct_count", "quality.x.quantiles", "quality.x.exists",
            "quality.y.sum", "quality.y.exists", "quality.failed", "quality.violation_rate",
        ]);
    }

    [Theory]
    [InlineData("""{"mean": {"min": 5, "max": 1}}""", "columns.x.mean: min 5 is greater than max 1")]
    [InlineData("""{"mean": {}}""", "columns.x.mean: give min, max or both")]
    [InlineData("""{"mean": 3}""", "columns.x.mean: must be an object of bounds")]
    [InlineData("""{"mean": {"min": "low"}}""", "columns.x.mean.min: must be a number, not \"low\"")]
    [InlineData("""{"mean": {"min": 1, "mostly": 0.9}}""", "columns.x.mean.mostly: mean takes no mostly")]
    [InlineData("""{"mean": {"value": 1}}""", "columns.x.mean.value: unknown field (known: min, max, strict_min, strict_max)")]
    [InlineData("""{"mean": {"max": 1, "strict_min": true}}""", "columns.x.mean.strict_min: there is no min to be strict about")]
    [InlineData("""{"mean": {"min": 1, "strict_min": "yes"}}""", "columns.x.mean.strict_min: must be true or false")]
    [InlineData("""{"median": {"min": 1, "max": 1, "strict_max": true}}""", "columns.x.median: min and max are both 1, so a strict bound leaves no value to pass")]
    [InlineData("""{"unique_proportion": {"max": 1.5}}""", "columns.x.unique_proportion.max: 1.5 must be between 0 and 1")]
    [InlineData("""{"stdev": {"max": -1}}""", "columns.x.stdev.max: -1 must not be negative")]
    [InlineData("""{"distinct_count": {"min": -2}}""", "columns.x.distinct_count.min: -2 must not be negative")]
    [InlineData("""{"type": "string", "mean": {"min": 0}}""", "columns.x.mean: mean is computed over numbers, but the type is string")]
    [InlineData("""{"type": "boolean", "quantiles": {"quantiles": [0.5], "value_ranges": [[0, 1]]}}""", "columns.x.quantiles: quantiles is computed over numbers, but the type is boolean")]
    [InlineData("""{"sum": {"min": 0}, "mostly": 0.9}""", "columns.x.mostly: applies to type, min, max, allowed, unique, regex, greater_than, greater_or_equal and equal_to; the column has none, only sum (an aggregate judges the column's values as a whole")]
    [InlineData("""{"quantiles": {"quantiles": [0.5, 1.5], "value_ranges": [[0, 1], [0, 1]]}}""", "columns.x.quantiles.quantiles[1]: 1.5 must be between 0 and 1")]
    [InlineData("""{"quantiles": {"quantiles": [0.5, 0.5], "value_ranges": [[0, 1], [0, 1]]}}""", "columns.x.quantiles.quantiles[1]: 0.5 must be greater than the quantile before it (0.5)")]
    [InlineData("""{"quantiles": {"quantiles": [0.9, 0.1], "value_ranges": [[0, 1], [0, 1]]}}""", "columns.x.quantiles.quantiles[1]: 0.1 must be greater than the quantile before it (0.9)")]
    [InlineData("""{"quantiles": {"quantiles": [0.1, 0.9], "value_ranges": [[0, 1]]}}""", "columns.x.quantiles.value_ranges: give one range per quantile (2 quantiles, 1 value_ranges)")]
    [InlineData("""{"quantiles": {"quantiles": [0.25, 0.75], "value_ranges": [[-0.6, -0.8], [0, 1]]}}""", "columns.x.quantiles.value_ranges[0]: min -0.6 is greater than max -0.8 (write [min, max])")]
    [InlineData("""{"quantiles": {"quantiles": [0.5], "value_ranges": [[1, 2, 3]]}}""", "columns.x.quantiles.value_ranges[0]: must be a pair [min, max]")]
    [InlineData("""{"quantiles": {"quantiles": [0.5], "value_ranges": [[null, null]]}}""", "columns.x.quantiles.value_ranges[0]: give a min, a max or both")]
    [InlineData("""{"quantiles": {"quantiles": [0.5], "value_ranges": [["a", 1]]}}""", "columns.x.quantiles.value_ranges[0][0]: must be a number, not \"a\"")]
    [InlineData("""{"quantiles": {"quantiles": [], "value_ranges": []}}""", "columns.x.quantiles.quantiles: list at least one quantile")]
    [InlineData("""{"quantiles": {"value_ranges": [[0, 1]]}}""", "columns.x.quantiles.quantiles: list the quantiles")]
    [InlineData("""{"quantiles": {"quantiles": [0.5]}}""", "columns.x.quantiles.value_ranges: give one [min, max] range per quantile")]
    [InlineData("""{"quantiles": {"quantiles": [0.5], "value_ranges": [[0, 1]], "mostly": 0.9}}""", "columns.x.quantiles.mostly: quantiles takes no mostly")]
    [InlineData("""{"quantiles": [0.5]}""", "columns.x.quantiles: must be an object of quantiles and value_ranges")]
    [InlineData("""{"quantiles": {"quantiles": [0.5], "value_ranges": [[0, 1]], "relative_error": true}}""", "columns.x.quantiles.relative_error: unknown field (known: quantiles, value_ranges, allow_relative_error)")]
    public void A_bad_aggregate_is_refused_naming_the_field(string column, string problem)
    {
        SuiteProblems.ShouldInclude("""{"columns": {"x": """ + column + "}}", problem);
    }

    [Fact]
    public void Serving_refuses_an_aggregate_in_an_endpoints_suite_naming_it()
    {
        var spec = JsonSerializer.Deserialize<EndpointSpec>(
            """{"name": "shop", "variants": [{"name": "main", "model": "models:/shop/1"}], "expectations": {"suite": {"columns": {"age": {"min": 0, "mean": {"max": 60}, "quantiles": {"quantiles": [0.5], "value_ranges": [[20, 50]]}}}}}}""",
            SnakeCase)!;

        var message = Should.Throw<Ballast.Tracking.TrackingException>(() => EndpointValidation.Validate(spec)).Message;

        message.ShouldContain("expectations.suite.columns.age.mean: mean is computed over a column's values as a whole; serving checks each row (use it in a monitor or ballast validate)");
        message.ShouldContain("expectations.suite.columns.age.quantiles: quantiles is computed over a column's values as a whole; serving checks each row");
        ExpectationKinds.Bounded.Append(ExpectationKinds.Quantiles).ShouldAllBe(kind => ExpectationKinds.IsBatchOnly(kind));

        // Compiled for serving anyway (a monitor's suite is never compiled so; this is the validator's own guard), the
        // aggregates are not row checks: only min judges the rows.
        var check = RowValidator.Compile(ExpectationSuiteReader.Parse("""{"columns": {"age": {"min": 0, "mean": {"max": 1}}}}"""))
            .Check([new Tensor("age", TensorDatatypes.Fp64, [2], new[] { 30.0, 40.0 })]);
        check.Passed.ShouldBeTrue();
    }

    // allow_relative_error ε, read as Spark's approxQuantile bound (pyspark.sql.DataFrameStatFunctions.approxQuantile:
    // "floor((p - err) * N) <= rank(x) <= ceil((p + err) * N)"), on 1 … 10 (so rank r is the value r):
    //   q 0.5 is 5 exactly; ε 0.1 allows ranks 4 … 6, ε 0.2 ranks 3 … 7; q 0 with ε 0.1 allows rank 1 only (floor(-1)
    //   is below the first); q 1 with ε 0.05 ranks 9 … 10; q 0.55 with ε 0 ranks 5 … 6 (5.5 is not a whole rank).
    [Theory]
    [InlineData("0.5", null, "[6, 7]", false)]
    [InlineData("0.5", 0.1, "[6, 7]", true)]
    [InlineData("0.5", 0.1, "[7, 8]", false)]
    [InlineData("0.5", 0.2, "[7, 8]", true)]
    [InlineData("0.5", 0.1, "[null, 3]", false)]
    [InlineData("0", 0.1, "[2, 3]", false)]
    [InlineData("1", 0.05, "[null, 9]", true)]
    [InlineData("0.55", null, "[5, 5]", false)]
    [InlineData("0.55", 0.0, "[5, 5]", true)]
    [InlineData("0.5", 1.0, "[10, 10]", true)]
    public void Allow_relative_error_accepts_any_value_of_rank_within_sparks_bound(string quantile, double? error, string range, bool success)
    {
        var allow = error is { } e ? ", \"allow_relative_error\": " + e.ToString(CultureInfo.InvariantCulture) : "";
        var suite = ExpectationSuiteReader.Parse("{\"columns\": {\"x\": {\"quantiles\": {\"quantiles\": [" + quantile + "], \"value_ranges\": [" + range + "]" + allow + "}}}}");
        suite.Validate().ShouldBeEmpty();

        var result = Validate("SELECT unnest([3, 1, 4, 10, 5, 9, 2, 6, NULL, 8, 7]::DOUBLE[]) AS x", suite).Expectations.Single();

        result.Success.ShouldBe(success);
        result.Quantiles!.Single().Value.ShouldBe(quantile switch { "0" => 1, "1" => 10, "0.55" => 6, _ => 5 });   // the exact quantile, whatever ε
    }

    [Fact]
    public void Sum_and_quantiles_read_a_single_precision_column_as_sent_as_max_does()
    {
        // FLOAT 7.9 widens to 7.900000095367432: widened, q1 of [7.9, 7.9, 1.5, 3.25] is above max 7.9 and the sum is
        // 20.550000190734863. Read as sent (as max, the mean and the row checks read them), q1 is 7.9 and the sum 20.55.
        var suite = ExpectationSuiteReader.Parse("""
            {"columns": {"x": {"max": 7.9, "sum": {"min": 20.55, "max": 20.55},
              "quantiles": {"quantiles": [0.5, 1], "value_ranges": [[3.25, 3.25], [7.9, 7.9]]}},
             "y": {"quantiles": {"quantiles": [1], "value_ranges": [[7.9, 7.9]], "allow_relative_error": 0.1}}}}
            """);

        var result = Validate("SELECT x, x AS y FROM (SELECT unnest([7.9, 7.9, 1.5, 3.25]::FLOAT[]) AS x)", suite);

        result.Expectations.Select(e => (e.Name, e.Success)).ShouldBe([("x.max", true), ("x.sum", true), ("x.quantiles", true), ("y.quantiles", true)]);
        result.Expectations[0].Observed.ShouldBe(7.9);
        result.Expectations[1].Observed.ShouldBe(20.55);
        result.Expectations[2].Quantiles!.Select(q => q.Value).ShouldBe([3.25, 7.9]);
        result.Expectations[3].Quantiles!.Single().Value.ShouldBe(7.9);
    }

    [Fact]
    public void Allow_relative_error_round_trips_and_a_bad_one_is_refused()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"x": {"quantiles": {"quantiles": [0.5], "value_ranges": [[1, 2]], "allow_relative_error": 0.01}}}}""");
        var written = ExpectationSuiteReader.ToJson(suite, indented: false);
        written.ShouldBe("""{"columns":{"x":{"quantiles":{"quantiles":[0.5],"value_ranges":[[1,2]],"allow_relative_error":0.01}}}}""");
        ExpectationSuiteReader.ToJson(ExpectationSuiteReader.Parse(written), indented: false).ShouldBe(written);

        SuiteProblems.ShouldInclude("""{"columns": {"x": {"quantiles": {"quantiles": [0.5], "value_ranges": [[1, 2]], "allow_relative_error": 1.5}}}}""",
            "columns.x.quantiles.allow_relative_error: 1.5 must be between 0 and 1 (the rank error allowed, as a share of the present values)");
        SuiteProblems.ShouldInclude("""{"columns": {"x": {"quantiles": {"quantiles": [0.5], "value_ranges": [[1, 2]], "allow_relative_error": "linear"}}}}""",
            "columns.x.quantiles.allow_relative_error: must be a number between 0 and 1 (the rank error allowed, as a share of the present values, e.g. 0.01), not \"linear\"; leave it out for exact quantiles");
        SuiteProblems.ShouldInclude("""{"columns": {"x": {"quantiles": {"quantiles": [0.5], "value_ranges": [[1, 2]], "allow_relative_error": true}}}}""",
            "columns.x.quantiles.allow_relative_error: must be a number between 0 and 1");
        SuiteProblems.ShouldInclude("""{"columns": {"x": {"quantiles": {"quantiles": [0.5], "value_ranges": [[1, 2]], "relative_error": 0.1}}}}""",
            "columns.x.quantiles.relative_error: unknown field (known: quantiles, value_ranges, allow_relative_error)");
    }

    private static ValidationResult Validate(string query, ExpectationSuite suite) => InMemoryValidation.Validate(query, suite);
}
