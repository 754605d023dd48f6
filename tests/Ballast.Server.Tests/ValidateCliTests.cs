using System.Text.Json;

namespace Ballast.Tests;

/// <summary>
/// <c>ballast validate</c> run as the real executable: inferring a suite from a reference, checking data against it
/// (exit 0 when it holds, 3 when an expectation fails, JSON and Markdown, to a file), and bad input (exit 2, one line
/// naming the file, line and field). The counting itself is checked in the core tests.
/// </summary>
public sealed class ValidateCliTests : IDisposable
{
    private const string Reference = """
        id,age,state,score
        1,34,CA,0.5
        2,45,NY,0.7
        3,29,CA,0.1
        4,52,NY,0.9
        5,38,CA,0.4
        6,41,NY,0.6

        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-validate-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_suite_inferred_from_a_reference_passes_the_reference_and_fails_shifted_data_with_exit_code_3()
    {
        var reference = Write("reference.csv", Reference);
        var suite = Path.Combine(_folder, "expectations.yaml");

        var inferred = await CliProcess.RunAsync("validate", "--infer", reference, "--margin", "0.1", "--max-categories", "3", "-o", suite);
        inferred.ExitCode.ShouldBe(0, inferred.ToString());
        inferred.Output.ShouldBe($"{suite}: expectations for 4 columns inferred from {reference}\n");
        // age 29..52 widened by 2.3 each side, outward to whole numbers; state has two values, each seen three times.
        File.ReadAllText(suite).ShouldContain("  age:\n    type: integer\n    required: true\n    min: 26\n    max: 55\n");
        File.ReadAllText(suite).ShouldContain("  state:\n    type: string\n    required: true\n    allowed:\n      - CA\n      - NY\n");

        var same = await CliProcess.RunAsync("validate", reference, "--expectations", suite);
        same.ExitCode.ShouldBe(0, same.ToString());
        JsonDocument.Parse(same.Output).RootElement.GetProperty("success").GetBoolean().ShouldBeTrue();

        var current = Write("current.csv", "id,age,state,score\n1,34,CA,0.5\n2,99,TX,0.7\n3,29,,0.1\n");
        var failed = await CliProcess.RunAsync("validate", current, "-e", suite);
        failed.ExitCode.ShouldBe(3, failed.ToString());
        var result = JsonDocument.Parse(failed.Output).RootElement;
        result.GetProperty("success").GetBoolean().ShouldBeFalse();
        result.GetProperty("rows").GetInt64().ShouldBe(3);
        var failures = result.GetProperty("expectations").EnumerateArray().Where(e => !e.GetProperty("success").GetBoolean())
            .Select(e => $"{e.GetProperty("column").GetString()}.{e.GetProperty("expectation").GetString()}").ToList();
        failures.ShouldBe(["age.max", "state.required", "state.allowed"]);
        var max = result.GetProperty("expectations").EnumerateArray().Single(e => e.GetProperty("column").GetString() == "age" && e.GetProperty("expectation").GetString() == "max");
        max.GetProperty("observed").GetDouble().ShouldBe(99);
        max.GetProperty("unexpected_count").GetInt64().ShouldBe(1);
        max.GetProperty("examples").EnumerateArray().Select(e => e.GetString()).ShouldBe(["99"]);

        var report = Path.Combine(_folder, "report.md");
        var markdown = await CliProcess.RunAsync("validate", current, "-e", suite, "--format", "md", "-o", report);
        markdown.ExitCode.ShouldBe(3, markdown.ToString());
        markdown.Output.ShouldBe($"{report}: failed: 13 of 16 expectations hold over 3 rows\n");
        File.ReadAllText(report).ShouldContain("| age | max | FAIL | 99 | 1 (33.33 %) | 99 |");
    }

    [Fact]
    public async Task A_json_suite_is_read_too()
    {
        var data = Write("data.csv", Reference);
        var suite = Write("suite.json", """{"columns": {"age": {"min": 40}}}""");

        var result = await CliProcess.RunAsync("validate", data, "-e", suite);

        result.ExitCode.ShouldBe(3, result.ToString());
        JsonDocument.Parse(result.Output).RootElement.GetProperty("expectations")[0].GetProperty("unexpected_count").GetInt64().ShouldBe(3);
    }

    [Fact]
    public async Task Column_pairs_and_the_row_count_are_checked_and_a_bad_one_is_named_with_its_line()
    {
        var data = Write("data.csv", Reference);
        // Six rows, fewer than 7; every id (1-6) is above its score (0.1-0.9); no age equals its id.
        var suite = Write("pairs.yaml", "rows: {min: 7}\ncolumns:\n  id: {greater_than: score}\n  age: {equal_to: id}\n");

        var result = await CliProcess.RunAsync("validate", data, "-e", suite);

        result.ExitCode.ShouldBe(3, result.ToString());
        var expectations = JsonDocument.Parse(result.Output).RootElement.GetProperty("expectations");
        expectations.EnumerateArray().Select(e => (e.GetProperty("column").ValueKind == JsonValueKind.Null ? null : e.GetProperty("column").GetString(),
            e.GetProperty("expectation").GetString(), e.GetProperty("success").GetBoolean(), e.GetProperty("unexpected_count").GetInt64()))
            .ShouldBe([(null, "row_count", false, 0L), ("id", "greater_than", true, 0L), ("age", "equal_to", false, 6L)]);
        expectations[0].GetProperty("observed").GetInt64().ShouldBe(6);

        var bad = await CliProcess.RunAsync("validate", data, "-e", Write("bad-pairs.yaml", "rows:\n  min: 2.5\ncolumns:\n  id: {greater_than: id}\n"));
        bad.ExitCode.ShouldBe(2);
        bad.Error.ShouldBe($"error: {Path.Combine(_folder, "bad-pairs.yaml")}: invalid expectations: line 2: rows.min: must be a whole number, not 2.5; "
            + "line 4: columns.id.greater_than: compares the column with itself; name another column\n");
    }

    [Fact]
    public async Task Mostly_lets_a_share_of_rows_fail_and_a_bad_one_is_named_with_its_line()
    {
        var data = Write("data.csv", Reference);
        // One age of six (52) is over 50: 5 / 6 = 0.833 of the rows meet max, enough for mostly 0.8 and not for 0.9.
        var loose = await CliProcess.RunAsync("validate", data, "-e", Write("loose.yaml", "columns:\n  age: {max: 50, mostly: 0.8}\n"));
        loose.ExitCode.ShouldBe(0, loose.ToString());
        var max = JsonDocument.Parse(loose.Output).RootElement.GetProperty("expectations")[0];
        (max.GetProperty("success").GetBoolean(), max.GetProperty("unexpected_count").GetInt64(), max.GetProperty("mostly").GetDouble()).ShouldBe((true, 1L, 0.8));
        max.GetProperty("examples").EnumerateArray().Select(e => e.GetString()).ShouldBe(["52"]);

        var report = Path.Combine(_folder, "mostly.md");
        var strict = await CliProcess.RunAsync("validate", data, "-e", Write("strict.yaml", "columns:\n  age: {max: 50, mostly: 0.9}\n"), "--format", "md", "-o", report);
        strict.ExitCode.ShouldBe(3, strict.ToString());
        File.ReadAllText(report).ShouldContain("| age | max | FAIL (mostly 0.9) | 52 | 1 (16.67 %) | 52 |");

        var bad = await CliProcess.RunAsync("validate", data, "-e", Write("bad-mostly.yaml", "columns:\n  age:\n    max: 50\n    mostly: 95\n"));
        bad.ExitCode.ShouldBe(2);
        bad.Error.ShouldBe($"error: {Path.Combine(_folder, "bad-mostly.yaml")}: invalid expectations: line 4: columns.age.mostly: 95 must be between 0 and 1\n");
    }

    [Fact]
    public async Task Column_aggregates_are_checked_and_reported_and_a_bad_one_is_named_with_its_line()
    {
        var data = Write("data.csv", Reference);
        // age 29, 34, 38, 41, 45, 52: mean 239 / 6, median (38 + 41) / 2 = 39.5 (over the max of 39), percentile_disc 0.5 →
        // rank 3 (38), 0.9 → rank ⌈5.4⌉ = 6 (52); state has 2 distinct values.
        var checkedData = await CliProcess.RunAsync("validate", data, "-e", Write("aggregates.yaml", """
            columns:
              age:
                mean: {min: 35, max: 45}
                median: {max: 39}
                quantiles: {quantiles: [0.5, 0.9], value_ranges: [[38, 38], [50, null]]}
              state: {distinct_count: {max: 2}}

            """.ReplaceLineEndings("\n")));
        checkedData.ExitCode.ShouldBe(3, checkedData.ToString());
        var results = JsonDocument.Parse(checkedData.Output).RootElement.GetProperty("expectations").EnumerateArray().ToList();
        results.Select(e => (e.GetProperty("expectation").GetString(), e.GetProperty("success").GetBoolean())).ShouldBe(
            [("mean", true), ("median", false), ("quantiles", true), ("distinct_count", true)]);
        results[0].GetProperty("observed").GetDouble().ShouldBe(239.0 / 6, 1e-12);
        results[1].GetProperty("observed").GetDouble().ShouldBe(39.5);
        results[2].GetProperty("observed").GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ShouldBe([38.0, 52.0]);
        results[3].GetProperty("observed").GetDouble().ShouldBe(2);

        var bad = await CliProcess.RunAsync("validate", data, "-e", Write("bad-median.yaml", "columns:\n  age:\n    median: {min: 40, max: 30}\n"));
        bad.ExitCode.ShouldBe(2);
        bad.Error.ShouldBe($"error: {Path.Combine(_folder, "bad-median.yaml")}: invalid expectations: line 3: columns.age.median: min 40 is greater than max 30\n");
    }

    [Fact]
    public async Task Dates_in_a_csv_are_checked_with_iso_bounds_and_reported_as_iso_text()
    {
        // GE's expect_column_max_to_be_between.json (commit 0534f002), "Test on a series containing dates": max 3/1/2016
        // fails on 2/1/2017. DuckDB reads the ISO column as DATE. Median of six: (2016-02-02 + 2016-02-02) / 2; percentile_disc
        // 0.5 → rank 3 (2016-02-02), 0.9 → rank 6 (2017-02-01), as PostgreSQL 15's percentile_disc gives.
        var data = Write("signups.csv", "id,signup\n1,2016-01-01\n2,2016-01-02\n3,2016-02-02\n4,2016-02-02\n5,2016-03-01\n6,2017-02-01\n7,\n");
        var checkedData = await CliProcess.RunAsync("validate", data, "-e", Write("dates.yaml", """
            columns:
              signup:
                min: 2016-01-01
                max: '2016-03-01'
                median: {min: 2016-02-01, max: 2016-02-29}
                quantiles: {quantiles: [0.5, 0.9], value_ranges: [['2016-02-02', '2016-02-02'], ['2017-01-01', null]]}

            """.ReplaceLineEndings("\n")));
        checkedData.ExitCode.ShouldBe(3, checkedData.ToString());
        var results = JsonDocument.Parse(checkedData.Output).RootElement.GetProperty("expectations").EnumerateArray().ToList();
        results.Select(e => (e.GetProperty("expectation").GetString(), e.GetProperty("success").GetBoolean(), JsonSerializer.Serialize(e.GetProperty("observed")))).ShouldBe(
        [
            ("min", true, "\"2016-01-01\""), ("max", false, "\"2017-02-01\""), ("median", true, "\"2016-02-02\""),
            ("quantiles", true, """{"quantiles":[0.5,0.9],"values":["2016-02-02","2017-02-01"],"success":[true,true]}"""),
        ]);
        results[1].GetProperty("examples").EnumerateArray().Select(e => e.GetString()).ShouldBe(["2017-02-01"]);

        var bad = await CliProcess.RunAsync("validate", data, "-e", Write("bad-dates.yaml", "columns:\n  signup:\n    min: 2016-01-01\n    median: {max: 5}\n"));
        bad.ExitCode.ShouldBe(2);
        bad.Error.ShouldBe($"error: {Path.Combine(_folder, "bad-dates.yaml")}: invalid expectations: line 4: columns.signup.median: its bounds are numbers, but the column's other bounds are dates or times ('2016-01-01'); a column holds numbers or dates, not both\n");
    }

    [Fact]
    public async Task Bad_input_exits_2_with_one_line_naming_the_file_line_and_field()
    {
        var data = Write("data.csv", Reference);
        var badSuite = Write("bad.yaml", "columns:\n  age:\n    type: integer\n    max: old\n  state:\n    allowed: CA\n");

        var bad = await CliProcess.RunAsync("validate", data, "-e", badSuite);
        bad.ExitCode.ShouldBe(2);
        bad.Output.ShouldBeEmpty();
        bad.Error.ShouldBe($"error: {badSuite}: invalid expectations: line 4: columns.age.max: must be a number, not \"old\"; line 6: columns.state.allowed: must be a list of values\n");

        var syntax = await CliProcess.RunAsync("validate", data, "-e", Write("syntax.yaml", "columns:\n  age: {min: 1\n"));
        syntax.ExitCode.ShouldBe(2);
        syntax.Error.ShouldStartWith($"error: {Path.Combine(_folder, "syntax.yaml")}: line ");

        var missing = await CliProcess.RunAsync("validate", Path.Combine(_folder, "none.csv"), "-e", Write("ok.yaml", "columns:\n  age: {min: 1}\n"));
        missing.ExitCode.ShouldBe(2);
        missing.Error.ShouldBe($"error: there is no data file at {Path.Combine(_folder, "none.csv")}\n");

        var neither = await CliProcess.RunAsync("validate", data);
        neither.ExitCode.ShouldBe(2);
        neither.Error.ShouldBe("error: give DATA and --expectations FILE to check data, or --infer REF to write a suite\n");
    }

    [Fact]
    public async Task A_suite_is_inferred_from_a_dataset_versions_profile_on_the_server()
    {
        await using var server = await RunningServer.StartAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        var folder = Path.Combine(_folder, "churn");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "train.csv"), Reference.ReplaceLineEndings("\n"));
        File.WriteAllText(Path.Combine(folder, "test.csv"), Reference.ReplaceLineEndings("\n"));
        (await InProcessAsync("data", "add", folder, "--name", "churn", "--url", url)).Code.ShouldBe(0);

        var several = await InProcessAsync("validate", "--infer-dataset", "churn@1", "--url", url);
        several.Code.ShouldBe(2);
        several.Error.ShouldBe("error: churn@1 has 2 tabular files (test.csv, train.csv); choose one with --table\n");

        var inferred = await InProcessAsync("validate", "--infer-dataset", "churn@1", "--table", "train.csv", "--format", "json", "--url", url);
        inferred.Code.ShouldBe(0, inferred.Error);
        var columns = JsonDocument.Parse(inferred.Output).RootElement.GetProperty("columns");
        var age = columns.GetProperty("age");
        age.EnumerateObject().Select(field => $"{field.Name}={field.Value.GetRawText()}").ShouldBe(["type=\"integer\"", "required=true", "min=29", "max=52"]);
        columns.GetProperty("state").GetProperty("allowed").EnumerateArray().Select(value => value.GetString()).ShouldBe(["CA", "NY"]);

        var misplaced = await InProcessAsync("validate", "--infer", Path.Combine(folder, "train.csv"), "--table", "train.csv");
        misplaced.Code.ShouldBe(2);
        misplaced.Error.ShouldBe("error: --table is for --infer-dataset; --infer reads a local file\n");
    }

    [Fact]
    public async Task An_empty_or_header_only_reference_is_refused_with_exit_code_2()
    {
        var empty = Write("empty.csv", "");
        var header = Write("header.csv", "id,age,state\n");

        var none = await InProcessAsync("validate", "--infer", empty, "-o", Path.Combine(_folder, "none.yaml"));
        none.Code.ShouldBe(2);
        none.Error.ShouldBe($"error: the reference file {empty} is empty (0 bytes): no header names its columns\n");

        var rows = await InProcessAsync("validate", "--infer", header);
        rows.Code.ShouldBe(2);
        rows.Output.ShouldBeEmpty();
        rows.Error.ShouldBe($"error: the reference file {header} has no rows to infer from (only a header: id, age, state); infer from data with rows, or write the suite by hand\n");
        File.Exists(Path.Combine(_folder, "none.yaml")).ShouldBeFalse();
    }

    [Fact]
    public async Task A_json_suite_with_a_trailing_comma_exits_2_naming_its_position()
    {
        var data = Write("data.csv", Reference);
        var suite = Write("trailing.json", "{\"columns\": {\"age\": {\"min\": 1,}}}");

        var result = await InProcessAsync("validate", data, "-e", suite);

        result.Code.ShouldBe(2);
        result.Error.ShouldBe($"error: {suite}: line 1, column 31: not valid JSON: a comma before a closing '}}' or ']' (a trailing comma) is not JSON; remove it\n");
    }

    [Fact]
    public async Task A_negative_margin_is_refused_naming_the_option()
    {
        var reference = Write("reference.csv", Reference);

        var result = await InProcessAsync("validate", "--infer", reference, "--margin", "-1");

        result.Code.ShouldBe(2);
        result.Output.ShouldBeEmpty();
        result.Error.ShouldBe("error: --margin -1 must be 0 or more\n");
    }

    private static async Task<(int Code, string Output, string Error)> InProcessAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await Ballast.Cli.BallastCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content.ReplaceLineEndings("\n"));
        return path;
    }
}
