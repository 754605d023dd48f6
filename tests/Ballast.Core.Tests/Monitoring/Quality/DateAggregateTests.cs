using System.Text.Json;
using Ballast.Monitoring;
using Ballast.Monitoring.Quality;
using Ballast.Serving;
using DuckDB.NET.Data;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>
/// Dates and times (DuckDB's DATE, TIMESTAMP, TIMESTAMP WITH TIME ZONE, and ISO-8601 text) in min, max, median and
/// quantiles, with ISO-8601 bounds. References: Great Expectations' tests/test_definitions/column_aggregate_expectations/
/// expect_column_max_to_be_between.json (commit 0534f002cabed79bceec0f915473bb7412833b66, "Test on a series containing
/// dates", parse_strings_as_datetimes: the dates 1/1/2016 … 2/1/2017 with max_value 3/1/2016 fail, observed 02/01/2017),
/// and PostgreSQL 15.18's percentile_disc over the same dates and percentile_cont(0.5) over their intervals since 1970
/// (the median as the mean of the two middle values, as GE's pandas engine takes a median of datetimes).
/// </summary>
public sealed class DateAggregateTests : IDisposable
{
    // GE's column zz, as ISO dates: 1/1/2016, 1/2/2016, 2/2/2016, 2/2/2016, 3/1/2016, 2/1/2017 and four nulls.
    private const string GeDates = "'2016-01-01', '2016-01-02', '2016-02-02', '2016-02-02', '2016-03-01', '2017-02-01', NULL, NULL, NULL, NULL";

    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-dates-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("DATE", "2017-02-01")]
    [InlineData("TIMESTAMP", "2017-02-01T00:00:00")]
    [InlineData("TIMESTAMPTZ", "2017-02-01T00:00:00Z")]
    [InlineData("VARCHAR", "2017-02-01T00:00:00")]   // GE's parse_strings_as_datetimes: ISO text read as dates
    public void Max_of_dates_matches_great_expectations_test_on_a_series_containing_dates(string type, string observed)
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"zz": {"max": "2016-03-01"}}}""");
        suite.Validate().ShouldBeEmpty();

        var result = Validate($"SELECT unnest([{GeDates}]::{type}[]) AS zz", suite).Expectations.Single();

        // GE: success false, observed_value 02/01/2017 (its output_strftime_format); here ISO-8601. One present value is after.
        (result.Name, result.Success, result.ObservedText, result.Observed, result.UnexpectedCount).ShouldBe(("zz.max", false, observed, (double?)null, 1L));
        result.UnexpectedPercent.ShouldBe(100.0 / 6, 1e-9);
        result.Examples.Single().ShouldStartWith("2017-02-01");
    }

    [Theory]
    [InlineData("""{"min": "2016-01-01", "max": "2017-02-01"}""", true, true)]
    [InlineData("""{"min": "2016-01-02"}""", false, true)]
    [InlineData("""{"min": "2015-12-31T23:59:59Z", "max": "2017-02-01T00:00:00"}""", true, true)]
    [InlineData("""{"max": "2017-01-31T23:59:59.999999"}""", true, false)]
    public void Min_and_max_compare_each_date_with_an_iso_bound(string bounds, bool minHolds, bool maxHolds)
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"zz": """ + bounds + "}}");
        suite.Validate().ShouldBeEmpty();

        var result = Validate($"SELECT unnest([{GeDates}]::DATE[]) AS zz", suite);

        foreach (var expectation in result.Expectations)
        {
            expectation.Success.ShouldBe(expectation.Expectation == "min" ? minHolds : maxHolds, expectation.Name);
            expectation.ObservedText.ShouldBe(expectation.Expectation == "min" ? "2016-01-01" : "2017-02-01");
        }
    }

    [Theory]
    // PostgreSQL 15.18: timestamp '1970-01-01' + percentile_cont(0.5) WITHIN GROUP (ORDER BY d - timestamp '1970-01-01').
    [InlineData("'2016-01-01', '2016-01-02', '2016-02-02', '2016-03-01'", "DATE", """{"min": "2016-01-17", "max": "2016-01-18"}""", "2016-01-17T12:00:00", true)]
    [InlineData("'2016-01-01', '2016-01-02', '2016-02-02', '2016-03-01'", "DATE", """{"max": "2016-01-17T11:59:59"}""", "2016-01-17T12:00:00", false)]
    [InlineData(GeDates, "DATE", """{"min": "2016-02-02", "max": "2016-02-02"}""", "2016-02-02", true)]
    [InlineData(GeDates, "TIMESTAMP", """{"min": "2016-02-01T00:00:00", "max": "2016-02-02", "strict_max": true}""", "2016-02-02T00:00:00", false)]
    // Instants with offsets: 08:00Z, 07:30Z (09:30+02), 04:00Z (23:00-05 the day before), 12:00Z; PostgreSQL: 2024-03-10 07:45:00+00.
    [InlineData("'2024-03-10T08:00:00+00:00', '2024-03-10T09:30:00+02:00', '2024-03-09T23:00:00-05:00', '2024-03-10T12:00:00Z'", "TIMESTAMPTZ",
        """{"min": "2024-03-10T09:45:00+02:00", "max": "2024-03-10T07:45:00Z"}""", "2024-03-10T07:45:00Z", true)]
    [InlineData("'2024-03-10T08:00:00+00:00', '2024-03-10T09:30:00+02:00', '2024-03-09T23:00:00-05:00', '2024-03-10T12:00:00Z'", "VARCHAR",
        """{"min": "2024-03-10T07:45:00"}""", "2024-03-10T07:45:00", true)]
    [InlineData("NULL, NULL", "DATE", """{"min": "2016-01-01"}""", null, false)]
    public void The_median_of_dates_is_the_mean_of_the_two_middle_ones_for_an_even_count(string values, string type, string bounds, string? observed, bool success)
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"d": {"median": """ + bounds + "}}}");
        suite.Validate().ShouldBeEmpty();

        var result = Validate($"SELECT unnest([{values}]::{type}[]) AS d", suite).Expectations.Single();

        (result.Name, result.Success, result.ObservedText, result.UnexpectedCount).ShouldBe(("d.median", success, observed, 0L));
    }

    [Theory]
    // PostgreSQL 15.18: percentile_disc(ARRAY[0.25, 0.5, 0.75, 1]) over GE's dates is {2016-01-02, 2016-02-02, 2016-03-01, 2017-02-01}.
    [InlineData(GeDates, "DATE", "[0.25, 0.5, 0.75, 1]", """[["2016-01-02", "2016-01-02"], ["2016-02-01", "2016-02-29"], ["2016-03-01", null], [null, "2016-12-31"]]""",
        "2016-01-02, 2016-02-02, 2016-03-01, 2017-02-01", "true, true, true, false")]
    // PostgreSQL 15.18: percentile_disc(ARRAY[0.1, 0.5, 0.9]) over the instants is {04:00Z, 07:30Z, 12:00Z} on 2024-03-10.
    [InlineData("'2024-03-10T08:00:00+00:00', '2024-03-10T09:30:00+02:00', '2024-03-09T23:00:00-05:00', '2024-03-10T12:00:00Z'", "TIMESTAMPTZ", "[0.1, 0.5, 0.9]",
        """[["2024-03-10T04:00:00Z", "2024-03-10T04:00:00Z"], ["2024-03-10", "2024-03-10T09:30:00+02:00"], ["2024-03-10T12:00:01Z", null]]""",
        "2024-03-10T04:00:00Z, 2024-03-10T07:30:00Z, 2024-03-10T12:00:00Z", "true, true, false")]
    public void Quantiles_of_dates_are_percentile_disc_as_in_postgresql(string values, string type, string quantiles, string ranges, string observed, string details)
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"d": {"quantiles": {"quantiles": """ + quantiles + """, "value_ranges": """ + ranges + "}}}}");
        suite.Validate().ShouldBeEmpty();

        var result = Validate($"SELECT unnest([{values}]::{type}[]) AS d", suite).Expectations.Single();

        result.Quantiles!.Select(q => q.Text).ShouldBe(observed.Split(", "));
        result.Quantiles!.Select(q => q.Success).ShouldBe(details.Split(", ").Select(bool.Parse));
        result.Success.ShouldBe(details.Split(", ").All(bool.Parse));
        var json = ValidationResultJson.Write(new ValidationResult(result.Success, 4, [result], 0), indented: false);
        json.ShouldContain("\"values\":[\"" + string.Join("\",\"", observed.Split(", ")) + "\"]");
    }

    [Fact]
    public void Allow_relative_error_widens_a_date_quantile_by_rank()
    {
        // 2024-01-01 … 2024-01-10: q 0.5 is the 5th (2024-01-05); with ε 0.1 ranks 4 … 6 may answer, so [01-06, 01-07] holds.
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"d": {"quantiles": {"quantiles": [0.5], "value_ranges": [["2024-01-06", "2024-01-07"]], "allow_relative_error": 0.1}}}}""");
        var strict = ExpectationSuiteReader.Parse("""{"columns": {"d": {"quantiles": {"quantiles": [0.5], "value_ranges": [["2024-01-06", "2024-01-07"]]}}}}""");
        const string query = "SELECT DATE '2024-01-01' + CAST(i AS INTEGER) AS d FROM range(10) t(i)";

        var loose = Validate(query, suite).Expectations.Single();

        (loose.Success, loose.Quantiles!.Single().Text).ShouldBe((true, "2024-01-05"));
        Validate(query, strict).Expectations.Single().Success.ShouldBeFalse();
    }

    [Fact]
    public void A_bound_of_the_other_kind_fails_naming_the_columns_type()
    {
        var suite = ExpectationSuiteReader.Parse("""
            {"columns": {"d": {"min": 0, "median": {"min": 1}}, "x": {"max": "2024-01-01", "quantiles": {"quantiles": [0.5], "value_ranges": [["2024-01-01", null]]}},
                         "t": {"median": {"min": "2024-01-01"}}}}
            """);
        suite.Validate().ShouldBeEmpty();

        var result = Validate("SELECT DATE '2024-01-02' AS d, 1.5 AS x, 'soon' AS t", suite);

        result.Expectations.Select(e => (e.Name, e.Success, e.ObservedText)).ShouldBe(
        [
            ("d.min", false, "column 'd' is DATE, not numbers; give min as a date or time (min: '2024-01-31')"),
            ("d.median", false, "column 'd' is DATE, not numbers; median is computed over numbers (give its bounds as dates or times, e.g. median: {min: '2024-01-01'})"),
            ("x.max", false, "column 'x' is DECIMAL(2,1), not dates or times; max '2024-01-01' compares dates"),
            ("x.quantiles", false, "column 'x' is DECIMAL(2,1), not dates or times; its quantiles bounds are dates"),
            ("t.median", false, "column 't' has 1 text value that is not ISO-8601 dates or times (e.g. 'soon'); median is computed over dates"),
        ]);
    }

    [Theory]
    [InlineData("""{"min": 0, "max": "2024-01-01"}""", "columns.d: min and max are a number and a date or time; give both as numbers or both as dates")]
    [InlineData("""{"min": "2024-02-01", "max": "2024-01-01"}""", "columns.d: min 2024-02-01 is after max 2024-01-01")]
    [InlineData("""{"min": "2024-13-01"}""", "columns.d.min: '2024-13-01' is not an ISO-8601 date or time (write 2024-01-31, 2024-01-31T12:00:00 or 2024-01-31T12:00:00Z)")]
    [InlineData("""{"min": "01/02/2024"}""", "columns.d.min: must be a number, not \"01/02/2024\"")]
    [InlineData("""{"type": "integer", "min": "2024-01-01"}""", "columns.d: bounds that are dates or times ('2024-01-01') compare dates, but the type is integer")]
    [InlineData("""{"mean": {"min": "2024-01-01"}}""", "columns.d.mean: bounds that are dates or times ('2024-01-01') apply to median (and quantiles, min and max); mean is computed over numbers")]
    [InlineData("""{"distinct_count": {"max": "2024-01-01"}}""", "columns.d.distinct_count: bounds that are dates or times ('2024-01-01') apply to median (and quantiles, min and max); distinct_count is a count or a proportion")]
    [InlineData("""{"median": {"min": 5, "max": "2024-01-01"}}""", "columns.d.median: one bound is a number and the other a date or time")]
    [InlineData("""{"median": {"min": "2024-03-01", "max": "2024-01-01"}}""", "columns.d.median: min 2024-03-01 is after max 2024-01-01")]
    [InlineData("""{"median": {"min": "2024-01-01", "max": "2024-01-01T00:00:00Z", "strict_min": true}}""", "columns.d.median: min and max are both 2024-01-01, so a strict bound leaves no value to pass")]
    [InlineData("""{"min": "2024-01-01", "median": {"max": 5}}""", "columns.d.median: its bounds are numbers, but the column's other bounds are dates or times ('2024-01-01'); a column holds numbers or dates, not both")]
    [InlineData("""{"median": {"min": "2024-01-01"}, "mean": {"max": 5}}""", "columns.d.mean: mean is computed over numbers, but the column's other bounds are dates or times")]
    [InlineData("""{"max": 10, "quantiles": {"quantiles": [0.5], "value_ranges": [["2024-01-01", null]]}}""", "columns.d.max: its bounds are numbers, but the column's other bounds are dates or times")]
    [InlineData("""{"quantiles": {"quantiles": [0.5, 0.9], "value_ranges": [["2024-01-01", null], [0, 10]]}}""", "columns.d.quantiles.value_ranges[1]: mixes numbers with dates or times; give every range as dates")]
    [InlineData("""{"quantiles": {"quantiles": [0.5], "value_ranges": [["2024-02-01", "2024-01-01"]]}}""", "columns.d.quantiles.value_ranges[0]: min 2024-02-01 is after max 2024-01-01 (write [min, max])")]
    public void A_date_bound_that_cannot_hold_is_refused_at_load_naming_the_field(string column, string problem)
    {
        SuiteProblems.ShouldInclude("""{"columns": {"d": """ + column + "}}", problem);
    }

    [Fact]
    public void Date_bounds_round_trip_in_json_and_yaml_and_a_monitor_lists_their_metrics()
    {
        var written = """{"columns":{"signup":{"min":"2020-01-01","max":"2026-12-31T23:59:59Z","median":{"min":"2024-01-01T00:00:00+02:00"},"quantiles":{"quantiles":[0.5],"value_ranges":[["2024-01-01",null]]}}}}""";
        var suite = ExpectationSuiteReader.Parse(written);

        suite.Validate().ShouldBeEmpty();
        suite.Columns["signup"].MinTime!.Microseconds.ShouldBe(1_577_836_800_000_000L);   // 2020-01-01T00:00:00Z (date -d 2020-01-01Z +%s)
        suite.Columns["signup"].Bounds("median")!.MinTime!.Microseconds.ShouldBe(1_704_060_000_000_000L);   // 2023-12-31T22:00:00Z
        ExpectationSuiteReader.ToJson(suite, indented: false).ShouldBe(written);

        // YAML: a date unquoted is still text (ISO), as quoted.
        var yaml = ExpectationSuiteReader.Parse(Ballast.Pipelines.Steps.ValidateDataStep.Yaml("""
            columns:
              signup:
                min: 2020-01-01
                max: '2026-12-31T23:59:59Z'
                median: {min: '2024-01-01T00:00:00+02:00'}
                quantiles: {quantiles: [0.5], value_ranges: [['2024-01-01', null]]}
            """)!.ToJsonString());
        yaml.Validate().ShouldBeEmpty();
        ExpectationSuiteReader.ToJson(yaml, indented: false).ShouldBe(written);

        MonitorMetricNames.QualityNames(suite).ShouldBe(
            ["quality.flagged_rate", "quality.signup.min", "quality.signup.max", "quality.signup.median", "quality.signup.quantiles", "quality.signup.exists", "quality.failed", "quality.violation_rate"]);
    }

    [Fact]
    public void A_monitor_window_of_iso_text_is_checked_as_dates()
    {
        // A monitor reads the window's inputs from Parquet (ExpectationWindowCheck: SELECT * FROM read_parquet(…)); a
        // string input is text there. Ten requests on 2024-03-01 … 2024-03-10 at noon UTC, one with an offset, one missing.
        var path = Path.Combine(_folder, "inputs.parquet");
        using (var writer = new DuckDBConnection("Data Source=:memory:"))
        {
            writer.Open();
            using var command = writer.CreateCommand();
            command.CommandText = $"COPY (SELECT CASE WHEN i = 9 THEN NULL WHEN i = 0 THEN '2024-03-01T14:00:00+02:00' ELSE strftime(TIMESTAMP '2024-03-01 12:00:00' + INTERVAL (i) DAY, '%Y-%m-%dT%H:%M:%S') END AS seen FROM range(10) t(i)) TO '{path}' (FORMAT parquet)";
            command.ExecuteNonQuery();
        }

        var suite = ExpectationSuiteReader.Parse("""
            {"columns": {"seen": {"min": "2024-03-01T12:00:00Z", "max": "2024-03-08T12:00:00Z",
                                  "median": {"min": "2024-03-05", "max": "2024-03-05T23:59:59"},
                                  "quantiles": {"quantiles": [0.25, 1], "value_ranges": [["2024-03-03", "2024-03-03T23:59:59"], [null, "2024-03-09T12:00:00"]]}}}}
            """);
        suite.Validate().ShouldBeEmpty();

        var result = Validate($"SELECT * FROM read_parquet('{path}')", suite);

        // Present: 03-01 … 03-09 at 12:00 (nine values). max: 03-09 is after 03-08 (1 of 9). Median: the 5th, 03-05T12:00.
        // percentile_disc 0.25 of 9: rank ⌈2.25⌉ = 3 (03-03T12:00); 1: 03-09T12:00.
        result.Expectations.Select(e => (e.Name, e.Success, e.UnexpectedCount)).ShouldBe(
            [("seen.min", true, 0L), ("seen.max", false, 1L), ("seen.median", true, 0L), ("seen.quantiles", true, 0L)]);
        result.Expectations.Select(e => e.ObservedText).ShouldBe(["2024-03-01T12:00:00", "2024-03-09T12:00:00", "2024-03-05T12:00:00", null]);
        result.Expectations[3].Quantiles!.Select(q => q.Text).ShouldBe(["2024-03-03T12:00:00", "2024-03-09T12:00:00"]);
        (result.RowsFailing, result.Failed).ShouldBe((1L, 1));
    }

    [Fact]
    public void Serving_refuses_a_date_bound_in_an_endpoints_suite()
    {
        var spec = JsonSerializer.Deserialize<EndpointSpec>(
            """{"name": "shop", "variants": [{"name": "main", "model": "models:/shop/1"}], "expectations": {"suite": {"columns": {"signup": {"min": "2020-01-01"}}}}}""", SnakeCase)!;

        Should.Throw<Ballast.Tracking.TrackingException>(() => EndpointValidation.Validate(spec)).Message
            .ShouldContain("expectations.suite.columns.signup.min: '2020-01-01' is a date or time, and serving checks tensors of numbers or text and does not read text as dates (type string included); compare dates in a monitor or ballast validate");
    }

    [Fact]
    public void Type_string_with_date_bounds_checks_iso_text_as_dates_in_batch_and_is_refused_at_serving_saying_why()
    {
        // docs/quality.md, "Dates and times": text that is all ISO-8601 compares as dates, so type string and date bounds agree.
        const string Suite = """{"columns": {"signup": {"type": "string", "min": "2024-01-01", "max": "2024-12-31"}}}""";
        var suite = ExpectationSuiteReader.Parse(Suite);
        suite.Validate().ShouldBeEmpty();

        // A Parquet string column of ISO dates is VARCHAR: text (type holds) compared as dates (2023-12-31 is before min).
        var parquet = Path.Combine(_folder, "signup.parquet");
        using (var writer = new DuckDBConnection("Data Source=:memory:"))
        {
            writer.Open();
            using var command = writer.CreateCommand();
            command.CommandText = $"COPY (SELECT unnest(['2023-12-31', '2024-01-01', '2024-06-30T12:00:00Z', NULL]) AS signup) TO '{parquet}' (FORMAT parquet)";
            command.ExecuteNonQuery();
        }

        var result = ExpectationValidator.ValidateFile(parquet, suite, TestContext.Current.CancellationToken);
        result.Expectations.Select(e => (e.Name, e.Success, e.UnexpectedCount)).ShouldBe(
            [("signup.type", true, 0L), ("signup.min", false, 1L), ("signup.max", true, 0L)]);
        result.Expectations[1].ObservedText.ShouldBe("2023-12-31T00:00:00");

        // A CSV column of plain dates is read as DATE, not text: type string fails, saying so, and the bounds still compare.
        var csv = Path.Combine(_folder, "signup.csv");
        File.WriteAllText(csv, "signup\n2024-01-01\n2024-02-01\n");
        var dates = ExpectationValidator.ValidateFile(csv, suite, TestContext.Current.CancellationToken);
        dates.Expectations.Select(e => (e.Name, e.Success)).ShouldBe([("signup.type", false), ("signup.min", true), ("signup.max", true)]);
        dates.Expectations[0].ObservedText.ShouldBe("DATE");

        // Serving compares numbers only: a date bound is refused whatever the type, the problem saying why.
        var spec = JsonSerializer.Deserialize<EndpointSpec>(
            """{"name": "shop", "variants": [{"name": "main", "model": "models:/shop/1"}], "expectations": {"suite": """ + Suite + "}}", SnakeCase)!;
        var message = Should.Throw<Ballast.Tracking.TrackingException>(() => EndpointValidation.Validate(spec)).Message;
        message.ShouldContain("expectations.suite.columns.signup.min: '2024-01-01' is a date or time, and serving checks tensors of numbers or text and does not read text as dates (type string included)");
        message.ShouldContain("expectations.suite.columns.signup.max: '2024-12-31' is a date or time");
    }

    [Theory]
    [InlineData("""{"columns": {"signup": {"type": "string", "min": 0}}}""", "columns.signup: min and max compare numbers, but the type is string; for text of ISO-8601 dates or times give the bounds as dates (min: '2024-01-01')")]
    [InlineData("""{"columns": {"signup": {"type": "string", "max": 20240101}}}""", "columns.signup: min and max compare numbers, but the type is string;")]
    [InlineData("""{"columns": {"signup": {"type": "boolean", "min": "2024-01-01"}}}""", "columns.signup: bounds that are dates or times ('2024-01-01') compare dates, but the type is boolean")]
    [InlineData("""{"columns": {"signup": {"type": "integer", "max": "2024-01-01"}}}""", "columns.signup: bounds that are dates or times ('2024-01-01') compare dates, but the type is integer (a column of dates has no type, leave it out; text of ISO-8601 dates is type string)")]
    public void Type_string_takes_date_bounds_but_not_number_bounds(string json, string problem)
    {
        SuiteProblems.ShouldInclude(json, problem);
    }

    private static ValidationResult Validate(string query, ExpectationSuite suite) => InMemoryValidation.Validate(query, suite);
}
