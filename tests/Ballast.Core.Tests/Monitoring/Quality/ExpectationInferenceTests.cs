using Ballast.Datasets;
using Ballast.Monitoring.Quality;

namespace Ballast.Tests.Monitoring.Quality;

public sealed class ExpectationInferenceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-quality-infer-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_reference_file_gives_types_required_or_null_rates_ranges_categories_and_uniqueness()
    {
        // 8 rows: id unique; age 20..60 with one missing; plan two values; note free text; score 0.25..0.75; active booleans.
        var path = Path.Combine(_folder, "reference.csv");
        File.WriteAllText(path, """
            id,age,plan,note,score,active
            11,20,basic,a,0.25,true
            12,30,pro,b,0.5,false
            13,,basic,c,0.75,true
            14,40,pro,d,0.5,true
            15,50,basic,e,0.25,false
            16,60,pro,f,0.5,true
            17,25,basic,g,0.5,true
            18,35,pro,h,0.75,false

            """.ReplaceLineEndings("\n"));

        var suite = ExpectationInference.FromFile(path, new InferenceOptions { Margin = 0.1, MaxCategories = 4 }, TestContext.Current.CancellationToken);

        suite.Columns.Keys.ShouldBe(["id", "age", "plan", "note", "score", "active"]);
        // id: 11..18 widened by 10 % of 7 = 0.7 each side, then outward to whole numbers.
        suite.Columns["id"].ShouldBe(new ColumnExpectations(Type: "integer", Required: true, Min: 10, Max: 19, Unique: true));
        // age: 20..60 widened by 4 each side; one of 8 missing.
        suite.Columns["age"].ShouldBe(new ColumnExpectations(Type: "integer", Min: 16, Max: 64, MaxNullRate: 0.125));
        suite.Columns["plan"].Type.ShouldBe("string");
        suite.Columns["plan"].Allowed.ShouldBe(["basic", "pro"]);
        suite.Columns["plan"].Unique.ShouldBeNull();
        // 8 distinct notes in 8 rows are not categories; every value differs in more rows than max categories: unique.
        suite.Columns["note"].ShouldBe(new ColumnExpectations(Type: "string", Required: true, Unique: true));
        suite.Columns["score"].Min!.Value.ShouldBe(0.2, 1e-12);
        suite.Columns["score"].Max!.Value.ShouldBe(0.8, 1e-12);
        suite.Columns["score"].Type.ShouldBe("number");
        suite.Columns["active"].Type.ShouldBe("boolean");
        suite.Columns["active"].Allowed.ShouldBe(["false", "true"]);
        suite.Validate().ShouldBeEmpty();

        // The reference meets its own suite.
        ExpectationValidator.ValidateFile(path, suite, TestContext.Current.CancellationToken).Success.ShouldBeTrue();
    }

    [Fact]
    public void A_dataset_profile_gives_the_same_kinds_of_expectations()
    {
        var table = new TableProfile("train.csv", "csv", 100,
        [
            new ColumnProfile("age", "BIGINT", "numeric", 98, 2, 50, Min: 18, Max: 90),
            new ColumnProfile("plan", "VARCHAR", "categorical", 100, 0, 3, TopValues: [new ValueCount("pro", 50), new ValueCount("basic", 30), new ValueCount("free", 20)], OtherCount: 0),
            new ColumnProfile("city", "VARCHAR", "categorical", 100, 0, 40, TopValues: [new ValueCount("Paris", 10)], OtherCount: 90),
            new ColumnProfile("amount", "DOUBLE", "numeric", 100, 0, 100, Min: 1.5, Max: 99.5),
        ]);

        var suite = ExpectationInference.FromProfile(table);

        suite.Columns["age"].ShouldBe(new ColumnExpectations(Type: "integer", Min: 18, Max: 90, MaxNullRate: 0.02));
        suite.Columns["plan"].ShouldBe(new ColumnExpectations(Type: "string", Required: true) with { Allowed = suite.Columns["plan"].Allowed });
        suite.Columns["plan"].Allowed.ShouldBe(["basic", "free", "pro"]);
        suite.Columns["city"].Allowed.ShouldBeNull();
        suite.Columns["amount"].ShouldBe(new ColumnExpectations(Type: "number", Required: true, Min: 1.5, Max: 99.5));
    }

    [Fact]
    public void An_inferred_boolean_columns_allowed_values_are_written_as_booleans()
    {
        var path = Path.Combine(_folder, "flags.csv");
        File.WriteAllText(path, "active,plan\ntrue,1\nfalse,2\ntrue,1\nfalse,2\n");

        var suite = ExpectationInference.FromFile(path, cancellationToken: TestContext.Current.CancellationToken);

        // Booleans stay booleans; the integer column gets a range, not categories.
        ExpectationSuiteReader.ToJson(suite, indented: false).ShouldBe(
            """{"columns":{"active":{"type":"boolean","required":true,"allowed":[false,true]},"plan":{"type":"integer","required":true,"min":1,"max":2}}}""");
        var profiled = ExpectationInference.FromProfile(new TableProfile("flags.csv", "csv", 4,
            [new ColumnProfile("active", "BOOLEAN", "categorical", 4, 0, 2, TopValues: [new ValueCount("true", 2), new ValueCount("false", 2)], OtherCount: 0)]));
        ExpectationSuiteReader.ToJson(profiled, indented: false).ShouldBe("""{"columns":{"active":{"type":"boolean","required":true,"allowed":[false,true]}}}""");
    }

    [Fact]
    public void An_empty_reference_file_is_refused_rather_than_read_as_a_column0()
    {
        var path = Path.Combine(_folder, "empty.csv");
        File.WriteAllText(path, "");

        Should.Throw<ExpectationSuiteException>(() => ExpectationInference.FromFile(path, cancellationToken: TestContext.Current.CancellationToken))
            .Message.ShouldBe($"the reference file {path} is empty (0 bytes): no header names its columns");
        // Checking data against a suite refuses it the same way, instead of failing every column's exists.
        Should.Throw<ExpectationSuiteException>(() => ExpectationValidator.ValidateFile(path, ExpectationSuiteReader.Parse("""{"columns": {"a": {"min": 0}}}"""), TestContext.Current.CancellationToken))
            .Message.ShouldBe($"the data file {path} is empty (0 bytes): no header names its columns");
    }

    [Fact]
    public void A_reference_with_a_header_and_no_rows_is_refused_as_having_no_rows_to_infer_from()
    {
        // No null rate, range or category can be inferred from no rows (the bug was max_null_rate: 0 from none).
        var csv = Path.Combine(_folder, "header.csv");
        File.WriteAllText(csv, "id,plan\n");
        var parquet = Path.Combine(_folder, "header.parquet");
        using (var writer = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:"))
        {
            writer.Open();
            using var command = writer.CreateCommand();
            command.CommandText = $"COPY (SELECT 1 AS id, 'a' AS plan WHERE false) TO '{parquet}' (FORMAT parquet)";
            command.ExecuteNonQuery();
        }

        foreach (var path in new[] { csv, parquet })
        {
            Should.Throw<ExpectationSuiteException>(() => ExpectationInference.FromFile(path, cancellationToken: TestContext.Current.CancellationToken))
                .Message.ShouldBe($"the reference file {path} has no rows to infer from (only a header: id, plan); infer from data with rows, or write the suite by hand");
        }

        Should.Throw<ExpectationSuiteException>(() => ExpectationInference.FromProfile(new TableProfile("t.csv", "csv", 0, [new ColumnProfile("id", "BIGINT", "numeric", 0, 0, 0)])))
            .Message.ShouldBe("the profile of t.csv has no rows to infer from (only a header: id); infer from data with rows, or write the suite by hand");
    }

    [Fact]
    public void A_negative_margin_is_refused()
    {
        Should.Throw<ExpectationSuiteException>(() => ExpectationInference.FromProfile(new TableProfile("t.csv", "csv", 0, []), new InferenceOptions { Margin = -1 }))
            .Message.ShouldBe("--margin -1 must be 0 or more");
        Should.Throw<ExpectationSuiteException>(() => ExpectationInference.FromProfile(new TableProfile("t.csv", "csv", 0, []), new InferenceOptions { MaxCategories = -1 }))
            .Message.ShouldBe("--max-categories -1 must be 0 or more");
    }
}
