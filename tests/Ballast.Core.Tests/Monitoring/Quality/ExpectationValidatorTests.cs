using Ballast.Monitoring.Quality;
using DuckDB.NET.Data;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>Batch and window validation over DuckDB, on a small file whose every failure is counted by hand in the comments.</summary>
public sealed class ExpectationValidatorTests : IDisposable
{
    // 10 rows. id: 3 appears twice. age: one missing, 150 and -2 out of [0, 120]. state: TX twice, one missing.
    // email: 'bad' and 'also bad' have no @. score: 'n/a' is not a number.
    private const string Csv = """
        id,age,state,email,score
        1,34,CA,a@x.com,0.5
        2,45,NY,b@x.com,0.7
        3,,CA,c@x.com,0.1
        3,29,TX,bad,0.9
        5,150,NY,e@x.com,n/a
        6,-2,CA,f@x.com,0.3
        7,61,TX,g@x.com,0.2
        8,18,CA,also bad,0.4
        9,40,NY,i@x.com,0.6
        10,33,,j@x.com,0.8
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-quality-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("csv")]
    [InlineData("parquet")]
    public void Each_expectation_kind_fails_with_its_count_share_and_examples(string format)
    {
        var path = Write(format);
        var suite = ExpectationSuiteReader.Parse("""
            {"columns": {
              "id": {"type": "integer", "unique": true},
              "age": {"required": true, "min": 0, "max": 120},
              "state": {"allowed": ["CA", "NY"], "max_null_rate": 0.05},
              "email": {"regex": "^[^@]+@[^@]+$"},
              "score": {"type": "number"}
            }}
            """);

        var result = ExpectationValidator.ValidateFile(path, suite, TestContext.Current.CancellationToken);

        result.Success.ShouldBeFalse();
        result.Rows.ShouldBe(10);
        var byName = result.Expectations.ToDictionary(e => $"{e.Column}.{e.Expectation}");
        byName.Keys.ShouldBe(["id.type", "id.unique", "age.required", "age.min", "age.max", "state.allowed", "state.max_null_rate", "email.regex", "score.type"]);
        Assert(byName["id.type"], true, 0, 0, []);
        byName["id.type"].ObservedText.ShouldBe("BIGINT");
        Assert(byName["id.unique"], false, 2, 20, ["3"]);
        byName["id.unique"].Observed.ShouldBe(9);
        Assert(byName["age.required"], false, 1, 10, []);
        byName["age.required"].Observed.ShouldBe(1);
        Assert(byName["age.min"], false, 1, 100.0 / 9, ["-2"]);
        byName["age.min"].Observed.ShouldBe(-2);
        Assert(byName["age.max"], false, 1, 100.0 / 9, ["150"]);
        byName["age.max"].Observed.ShouldBe(150);
        Assert(byName["state.allowed"], false, 2, 200.0 / 9, ["TX"]);
        Assert(byName["state.max_null_rate"], false, 1, 10, []);
        byName["state.max_null_rate"].Observed.ShouldBe(0.1);
        Assert(byName["email.regex"], false, 2, 20, ["also bad", "bad"]);
        Assert(byName["score.type"], false, 1, 10, ["n/a"]);
        byName["score.type"].ObservedText.ShouldBe("VARCHAR");
    }

    [Fact]
    public void Every_kind_passes_when_the_data_meets_it()
    {
        var suite = ExpectationSuiteReader.Parse("""
            {"columns": {
              "id": {"type": "number", "required": true, "min": 1, "max": 10},
              "age": {"type": "integer", "max_null_rate": 0.1, "min": -2, "max": 150},
              "state": {"type": "string", "allowed": ["CA", "NY", "TX"]},
              "email": {"regex": "x|bad"},
              "score": {"allowed": ["n/a", 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]}
            }}
            """);

        var result = ExpectationValidator.ValidateFile(Write("csv"), suite, TestContext.Current.CancellationToken);

        result.Expectations.Where(e => !e.Success).Select(e => $"{e.Column}.{e.Expectation}").ShouldBeEmpty();
        result.Success.ShouldBeTrue();
    }

    [Fact]
    public void A_column_the_data_lacks_fails_exists_and_is_not_checked_further()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"zip": {"type": "string", "required": true}, "id": {"min": 1}}}""");

        var result = ExpectationValidator.ValidateFile(Write("csv"), suite, TestContext.Current.CancellationToken);

        result.Expectations.Select(e => $"{e.Column}.{e.Expectation}.{e.Success}").ShouldBe(["zip.exists.False", "id.min.True"]);
        result.Expectations[0].ObservedText.ShouldBe("no column 'zip' (the data has id, age, state, email, score)");
    }

    [Fact]
    public void A_window_is_any_duckdb_query_for_monitors()
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "CREATE TABLE log AS SELECT range AS ts, CASE WHEN range % 4 = 0 THEN NULL ELSE range * 10 END AS amount FROM range(100)";
            command.ExecuteNonQuery();
        }

        var suite = ExpectationSuiteReader.Parse("""{"columns": {"amount": {"max": 500, "max_null_rate": 0.2}}}""");

        // Window [40, 60): amounts 410..590 with nulls at 40, 44, 48, 52, 56: 5 of 20 rows missing, 7 of the 15 present over 500.
        var result = ExpectationValidator.Validate(connection, "SELECT * FROM log WHERE ts >= 40 AND ts < 60", suite, TestContext.Current.CancellationToken);

        result.Rows.ShouldBe(20);
        Assert(result.Expectations[0], false, 7, 700.0 / 15, ["510", "530", "540", "550", "570"]);
        result.Expectations[1].Observed.ShouldBe(0.25);
        result.Expectations[1].Success.ShouldBeFalse();
    }

    [Fact]
    public void Columns_named_like_the_queries_own_aliases_are_counted_right()
    {
        var path = Path.Combine(_folder, "aliases.csv");
        File.WriteAllText(path, "quality_value,quality_count,v\n1,a,x\n1,b,y\n2,c,x\n");
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"quality_value": {"unique": true}, "quality_count": {"allowed": ["a"]}, "v": {"unique": true}}}""");

        var result = ExpectationValidator.ValidateFile(path, suite, TestContext.Current.CancellationToken);

        Assert(result.Expectations[0], false, 2, 200.0 / 3, ["1"]);
        Assert(result.Expectations[1], false, 2, 200.0 / 3, ["b", "c"]);
        Assert(result.Expectations[2], false, 2, 200.0 / 3, ["x"]);
    }

    [Fact]
    public void A_regex_duckdb_cannot_run_is_refused_naming_its_field()
    {
        // .NET accepts lookahead; DuckDB's RE2 does not, and the batch path runs in DuckDB.
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"email": {"regex": "^(?=a)"}}}""");

        var exception = Should.Throw<ExpectationSuiteException>(() => ExpectationValidator.ValidateFile(Write("csv"), suite, TestContext.Current.CancellationToken));

        exception.Message.ShouldStartWith("columns.email.regex: '^(?=a)' is not a regular expression DuckDB (RE2) accepts");
    }

    [Fact]
    public void A_missing_file_or_an_invalid_suite_is_refused_before_reading()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"age": {"min": 1}}}""");
        Should.Throw<ExpectationSuiteException>(() => ExpectationValidator.ValidateFile(Path.Combine(_folder, "none.csv"), suite, TestContext.Current.CancellationToken))
            .Message.ShouldBe($"there is no data file at {Path.Combine(_folder, "none.csv")}");
        Should.Throw<ExpectationSuiteException>(() => ExpectationValidator.ValidateFile(Write("csv"), ExpectationSuiteReader.Parse("""{"columns": {"age": {"min": 5, "max": 1}}}"""), TestContext.Current.CancellationToken))
            .Message.ShouldBe("invalid expectations: columns.age: min 5 is greater than max 1");
    }

    private static void Assert(ExpectationResult result, bool success, long count, double percent, string[] examples)
    {
        result.Success.ShouldBe(success, $"{result.Column}.{result.Expectation}");
        result.UnexpectedCount.ShouldBe(count, $"{result.Column}.{result.Expectation}");
        result.UnexpectedPercent.ShouldBe(percent, 1e-9, $"{result.Column}.{result.Expectation}");
        result.Examples.ShouldBe(examples, $"{result.Column}.{result.Expectation}");
    }

    private string Write(string format)
    {
        var csv = Path.Combine(_folder, "data.csv");
        File.WriteAllText(csv, Csv.ReplaceLineEndings("\n") + "\n");
        if (format == "csv")
        {
            return csv;
        }

        var parquet = Path.Combine(_folder, "data.parquet");
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"COPY (SELECT * FROM read_csv('{csv}')) TO '{parquet}' (FORMAT parquet)";
        command.ExecuteNonQuery();
        return parquet;
    }
}
