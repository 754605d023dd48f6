using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ballast.Cli;

namespace Ballast.Tests.Serving;

/// <summary>An endpoint's data-quality expectations on a real Kestrel server: reject and flag, V2 and MLflow, metrics and the prediction log.</summary>
public sealed class ExpectationServingTests
{
    private const string Suite = """{"columns": {"age": {"type": "number", "required": true, "min": 0, "max": 120}, "embarked": {"allowed": ["S", "C", "Q"]}}}""";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Reject_answers_400_naming_column_expectation_and_value_in_each_protocol_and_logs_nothing()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServeTitanicAsync(client, "titanic-reject", "reject");

        using var v2 = await client.PostAsJsonAsync("/v2/models/titanic-reject/infer", V2Request(age: 150, embarked: "S"), Cancel);
        v2.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await v2.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString()
            .ShouldBe("the input fails expectations: column 'age' max 120: row 1 has 150");

        using var mlflow = await client.PostAsJsonAsync("/endpoints/titanic-reject/invocations",
            new { dataframe_records = new object[] { new { pclass = 1, sex = "female", age = 29, fare = 211.3, embarked = "X" } } }, Cancel);
        mlflow.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var error = await mlflow.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        error.GetProperty("error_code").GetString().ShouldBe("INVALID_PARAMETER_VALUE");
        error.GetProperty("message").GetString().ShouldBe("the input fails expectations: column 'embarked' allowed [S, C, Q]: row 0 has 'X'");

        using var good = await client.PostAsJsonAsync("/v2/models/titanic-reject/infer", V2Request(age: 40, embarked: "Q"), Cancel);
        good.StatusCode.ShouldBe(HttpStatusCode.OK, await good.Content.ReadAsStringAsync(Cancel));
        good.Headers.Contains("Ballast-Expectations").ShouldBeFalse();

        // Only the good request was scored and logged.
        var export = await client.GetStringAsync("/api/v1/predictions/export?endpoint=titanic-reject&format=csv", Cancel);
        export.Trim().Split('\n').Length.ShouldBe(2, export);
        var metrics = await client.GetStringAsync("/metrics", Cancel);
        metrics.ShouldContain("ballast_expectation_requests_total{endpoint=\"titanic-reject\",outcome=\"rejected\"} 2\n");
        metrics.ShouldContain("ballast_expectation_requests_total{endpoint=\"titanic-reject\",outcome=\"passed\"} 1\n");
        metrics.ShouldContain("ballast_expectation_violations_total{endpoint=\"titanic-reject\",column=\"age\",expectation=\"max\"} 1\n");
        metrics.ShouldContain("ballast_expectation_violations_total{endpoint=\"titanic-reject\",column=\"embarked\",expectation=\"allowed\"} 1\n");
        metrics.ShouldContain("ballast_expectation_rows_total{endpoint=\"titanic-reject\"} 5\n");
    }

    [Fact]
    public async Task Flag_scores_marks_the_answer_and_the_logged_prediction_and_counts_the_violation()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServeTitanicAsync(client, "titanic-flag", "flag");

        using var flagged = await client.PostAsJsonAsync("/v2/models/titanic-flag/infer", V2Request(age: 150, embarked: "X"), Cancel);
        flagged.StatusCode.ShouldBe(HttpStatusCode.OK, await flagged.Content.ReadAsStringAsync(Cancel));
        flagged.Headers.GetValues("Ballast-Expectations").Single().ShouldBe("failed=age.max,embarked.allowed");
        (await flagged.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("outputs").GetArrayLength().ShouldBeGreaterThan(0);

        using var csv = await client.PostAsync("/endpoints/titanic-flag/invocations",
            new StringContent("pclass,sex,age,fare,embarked\n1,female,29,211.3,S\n", Encoding.UTF8, "text/csv"), Cancel);
        csv.StatusCode.ShouldBe(HttpStatusCode.OK);
        csv.Headers.Contains("Ballast-Expectations").ShouldBeFalse();

        // A segment written before the log had the expectations column is still exported, with it empty.
        var old = Path.Combine(server.DataDir, "artifacts", "predictions", "titanic-flag", "2026-01-01-00", "old-wal-0000000001.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(old)!);
        using (var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "COPY (SELECT 'old-1' AS prediction_id, 'titanic-flag' AS endpoint, 'main' AS variant, 'titanic/1' AS model, 1767225600000::BIGINT AS timestamp, "
                + $"1.5::DOUBLE AS latency_ms, NULL::VARCHAR AS routing_key, 'primary' AS kind, '[]' AS inputs, '[]' AS outputs) TO '{old}' (FORMAT parquet)";
            command.ExecuteNonQuery();
        }

        var export = await client.GetStringAsync("/api/v1/predictions/export?endpoint=titanic-flag&format=csv", Cancel);
        var lines = export.Trim().Split('\n');
        var column = lines[0].Split(',').ToList().IndexOf("expectations");
        column.ShouldBeGreaterThan(0, lines[0]);
        lines.Length.ShouldBe(4, export);
        lines.Count(line => line.StartsWith("old-1,", StringComparison.Ordinal)).ShouldBe(1, export);
        lines.Count(line => line.Contains("\"age.max,embarked.allowed\"", StringComparison.Ordinal)).ShouldBe(1, export);
        var metrics = await client.GetStringAsync("/metrics", Cancel);
        metrics.ShouldContain("ballast_expectation_requests_total{endpoint=\"titanic-flag\",outcome=\"flagged\"} 1\n");
        metrics.ShouldContain("ballast_expectation_violations_total{endpoint=\"titanic-flag\",column=\"embarked\",expectation=\"allowed\"} 1\n");
    }

    [Fact]
    public async Task Expectations_are_stored_answered_and_kept_by_apply_and_get_and_a_bad_suite_is_refused()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterTitanicAsync(client);
        var url = server.BaseAddress.ToString().TrimEnd('/');
        var manifest = Path.Combine(Directory.CreateTempSubdirectory("ballast-expectations-").FullName, "titanic.yaml");
        File.WriteAllText(manifest, """
            kind: Endpoint
            name: titanic
            variants:
              - name: main
                model: models:/titanic/1
            expectations:
              mode: flag
              suite:
                columns:
                  age: {type: number, min: 0, max: 120}
                  embarked: {allowed: [S, C, Q]}
                  pclass: {allowed: [1, 2, 3]}
                  sex: {allowed: [female, male, '0', false]}

            """.ReplaceLineEndings("\n"));

        var applied = await RunAsync("apply", "-f", manifest, "--url", url);
        applied.Code.ShouldBe(0, applied.Error);
        (await RunAsync("apply", "-f", manifest, "--url", url)).Output.ShouldBe("endpoint/titanic: unchanged (revision 1)\n");
        var stored = await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/titanic", Cancel);
        stored.GetProperty("expectations").GetProperty("mode").GetString().ShouldBe("flag");
        stored.GetProperty("expectations").GetProperty("suite").GetProperty("columns").GetProperty("age").GetProperty("max").GetDouble().ShouldBe(120);
        var yaml = await RunAsync("get", "endpoint", "titanic", "-o", "yaml", "--url", url);
        yaml.Output.ShouldContain("expectations:\n  suite:\n    columns:\n      age:\n        type: number\n        min: 0\n        max: 120\n");
        // Allowed values come back as written: numbers as numbers, text as text (quoted when it would read as another kind), booleans as booleans.
        var columns = stored.GetProperty("expectations").GetProperty("suite").GetProperty("columns");
        string Allowed(string column) => string.Join(",", columns.GetProperty(column).GetProperty("allowed").EnumerateArray().Select(value => value.GetRawText()));
        Allowed("pclass").ShouldBe("1,2,3");
        Allowed("sex").ShouldBe("\"female\",\"male\",\"0\",false");
        yaml.Output.ShouldContain("      pclass:\n        allowed:\n          - 1\n          - 2\n          - 3\n");
        yaml.Output.ShouldContain("      sex:\n        allowed:\n          - female\n          - male\n          - \"0\"\n          - false\n");

        using var bad = await client.PutAsJsonAsync("/api/v1/endpoints/titanic", JsonDocument.Parse("""
            {"name": "titanic", "variants": [{"name": "main", "model": "models:/titanic/1"}],
             "expectations": {"mode": "drop", "suite": {"columns": {"age": {"max": "old"}, "id": {"unique": true}}}}}
            """).RootElement, Cancel);
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        bad.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await bad.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid endpoint 'titanic': expectations.mode 'drop' is not one of reject, flag; expectations.suite.columns.age.max: must be a number, not \"old\"; "
            + "expectations.suite.columns.id: unique and max_null_rate need many rows; serving checks each row (use them in a monitor or ballast validate).");
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/titanic", Cancel)).GetProperty("revision").GetInt64().ShouldBe(1);

        // The suite has its own converter; the OpenAPI document still describes its shape.
        var openapi = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Cancel);
        var column = openapi.GetProperty("components").GetProperty("schemas").GetProperty("ExpectationSuite").GetProperty("properties").GetProperty("columns").GetProperty("additionalProperties");
        column.GetProperty("properties").EnumerateObject().Select(property => property.Name).ShouldBe(
            ["type", "required", "min", "max", "allowed", "max_null_rate", "unique", "regex", "greater_than", "greater_or_equal", "equal_to",
             "mean", "median", "stdev", "sum", "unique_proportion", "distinct_count", "quantiles", "most_common_value", "ignore_row_if", "mostly"]);
        column.GetProperty("properties").GetProperty("most_common_value").GetProperty("properties").EnumerateObject().Select(property => property.Name).ShouldBe(["value_set", "ties_okay"]);
        column.GetProperty("properties").GetProperty("greater_than").GetProperty("anyOf")[1].GetProperty("properties").EnumerateObject().Select(property => property.Name)
            .ShouldBe(["value", "mostly", "offset", "ratio"]);
        column.GetProperty("properties").GetProperty("mean").GetProperty("properties").EnumerateObject().Select(property => property.Name).ShouldBe(["min", "max", "strict_min", "strict_max"]);
        column.GetProperty("properties").GetProperty("quantiles").GetProperty("properties").EnumerateObject().Select(property => property.Name).ShouldBe(["quantiles", "value_ranges", "allow_relative_error"]);
        var suite = openapi.GetProperty("components").GetProperty("schemas").GetProperty("ExpectationSuite").GetProperty("properties");
        suite.GetProperty("rows").GetProperty("properties").EnumerateObject().Select(property => property.Name).ShouldBe(["min", "max"]);
    }

    [Fact]
    public async Task A_column_pair_rejects_or_flags_rows_and_round_trips_through_apply_while_a_row_count_is_refused()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterTitanicAsync(client);
        var url = server.BaseAddress.ToString().TrimEnd('/');
        var manifest = Path.Combine(Directory.CreateTempSubdirectory("ballast-pairs-").FullName, "titanic.yaml");
        File.WriteAllText(manifest, """
            kind: Endpoint
            name: titanic-pairs
            variants:
              - name: main
                model: models:/titanic/1
            expectations:
              suite:
                columns:
                  age: {greater_than: pclass}
                  fare: {greater_or_equal: [age, pclass], ignore_row_if: either_value_is_missing}

            """.ReplaceLineEndings("\n"));

        var applied = await RunAsync("apply", "-f", manifest, "--url", url);
        applied.Code.ShouldBe(0, applied.Error);
        (await RunAsync("apply", "-f", manifest, "--url", url)).Output.ShouldBe("endpoint/titanic-pairs: unchanged (revision 1)\n");
        var yaml = await RunAsync("get", "endpoint", "titanic-pairs", "-o", "yaml", "--url", url);
        yaml.Output.ShouldContain("    columns:\n      age:\n        greater_than: pclass\n      fare:\n        greater_or_equal:\n          - age\n          - pclass\n        ignore_row_if: either_value_is_missing\n");

        // Row 1: age 2 is not greater than pclass 3 (fare 7.9 >= 2 and >= 3 hold); the request is refused, naming the pair.
        using var rejected = await client.PostAsJsonAsync("/v2/models/titanic-pairs/infer", V2Request(age: 2, embarked: "S"), Cancel);
        rejected.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await rejected.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString()
            .ShouldBe("the input fails expectations: column 'age' greater_than 'pclass': row 1 has (2, 3)");
        // Row 1 again with age 10: greater than pclass 3, but fare 7.9 is not >= 10: the listed pair refuses it, by its own name.
        using var listed = await client.PostAsJsonAsync("/v2/models/titanic-pairs/infer", V2Request(age: 10, embarked: "S"), Cancel);
        listed.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await listed.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString()
            .ShouldBe("the input fails expectations: column 'fare' greater_or_equal 'age': row 1 has (7.9, 10)");
        using var passed = await client.PostAsJsonAsync("/v2/models/titanic-pairs/infer", V2Request(age: 5, embarked: "S"), Cancel);
        passed.StatusCode.ShouldBe(HttpStatusCode.OK, await passed.Content.ReadAsStringAsync(Cancel));
        var metrics = await client.GetStringAsync("/metrics", Cancel);
        metrics.ShouldContain("ballast_expectation_violations_total{endpoint=\"titanic-pairs\",column=\"age\",expectation=\"greater_than\"} 1\n");
        metrics.ShouldContain("ballast_expectation_violations_total{endpoint=\"titanic-pairs\",column=\"fare\",expectation=\"greater_or_equal[age]\"} 1\n");
        metrics.ShouldContain("ballast_expectation_requests_total{endpoint=\"titanic-pairs\",outcome=\"passed\"} 1\n");

        // A row count and a mostly are about many rows, not a request's: refused with the endpoint, every problem named.
        using var bad = await client.PutAsJsonAsync("/api/v1/endpoints/titanic-pairs", JsonDocument.Parse("""
            {"name": "titanic-pairs", "variants": [{"name": "main", "model": "models:/titanic/1"}],
             "expectations": {"suite": {"rows": {"min": 1}, "columns": {"age": {"greater_than": "age", "ignore_row_if": "never"}, "fare": {"min": 0, "mostly": 0.95}}}}}
            """).RootElement, Cancel);
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        bad.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await bad.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid endpoint 'titanic-pairs': expectations.suite.columns.age.greater_than: compares the column with itself; name another column; "
            + "expectations.suite.columns.age.ignore_row_if: 'never' is not one of both_values_are_missing, either_value_is_missing, neither; "
            + "expectations.suite.rows: a row count judges a whole table; serving checks each request's rows (use it in a monitor or ballast validate); "
            + "expectations.suite.columns.fare.mostly: a share of rows allowed to fail judges many rows; serving checks each row and rejects or flags any that fails (use mostly in a monitor or ballast validate).");
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/titanic-pairs", Cancel)).GetProperty("revision").GetInt64().ShouldBe(1, "nothing of the refused spec was applied");

        // A pair naming a column no model input provides is caught like any other column.
        using var typo = await client.PostAsJsonAsync("/api/v1/endpoints", JsonDocument.Parse("""
            {"name": "titanic-pair-typo", "variants": [{"name": "main", "model": "models:/titanic/1"}], "expectations": {"suite": {"columns": {"age": {"greater_than": "pclas"}}}}}
            """).RootElement, Cancel);
        typo.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await typo.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("status").GetProperty("problem").GetString()
            .ShouldStartWith("expectations name 'pclas', which titanic/1 (variant 'main') does not take as an input");
    }

    [Fact]
    public async Task Column_aggregates_are_refused_with_the_endpoint_naming_each()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterTitanicAsync(client);

        using var bad = await client.PostAsJsonAsync("/api/v1/endpoints", JsonDocument.Parse("""
            {"name": "titanic-means", "variants": [{"name": "main", "model": "models:/titanic/1"}],
             "expectations": {"suite": {"columns": {"age": {"min": 0, "mean": {"min": 20, "max": 40}, "quantiles": {"quantiles": [0.5], "value_ranges": [[20, 35]]}},
                                                    "embarked": {"distinct_count": {"max": 3}}}}}}
            """).RootElement, Cancel);

        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        bad.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await bad.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid endpoint 'titanic-means': "
            + "expectations.suite.columns.age.mean: mean is computed over a column's values as a whole; serving checks each row (use it in a monitor or ballast validate); "
            + "expectations.suite.columns.age.quantiles: quantiles is computed over a column's values as a whole; serving checks each row (use it in a monitor or ballast validate); "
            + "expectations.suite.columns.embarked.distinct_count: distinct_count is computed over a column's values as a whole; serving checks each row (use it in a monitor or ballast validate).");
        using var missing = await client.GetAsync("/api/v1/endpoints/titanic-means", Cancel);
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_multicolumn_sum_rejects_rows_at_serving_while_compound_unique_and_mostly_are_refused_with_the_endpoint()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterTitanicAsync(client);
        using var created = await client.PostAsJsonAsync("/api/v1/endpoints", JsonDocument.Parse("""
            {"name": "titanic-sums", "variants": [{"name": "main", "model": "models:/titanic/1"}],
             "expectations": {"suite": {"multicolumn": [{"columns": ["pclass", "age"], "sum_to_equal": 30}]}}}
            """).RootElement, Cancel);
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
        (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("expectations").GetProperty("suite").GetProperty("multicolumn")[0]
            .GetProperty("sum_to_equal").GetDouble().ShouldBe(30);

        // Row 0: pclass 1 + age 29 = 30. Row 1: pclass 3 + age 2 = 5, refused naming the columns and the row's values.
        using var rejected = await client.PostAsJsonAsync("/v2/models/titanic-sums/infer", V2Request(age: 2, embarked: "S"), Cancel);
        rejected.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await rejected.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString()
            .ShouldBe("the input fails expectations: columns 'pclass+age' sum_to_equal 30: row 1 has (3, 2)");
        using var passed = await client.PostAsJsonAsync("/v2/models/titanic-sums/infer", V2Request(age: 27, embarked: "S"), Cancel);
        passed.StatusCode.ShouldBe(HttpStatusCode.OK, await passed.Content.ReadAsStringAsync(Cancel));
        (await client.GetStringAsync("/metrics", Cancel)).ShouldContain("ballast_expectation_violations_total{endpoint=\"titanic-sums\",column=\"pclass+age\",expectation=\"sum_to_equal\"} 1\n");

        // Uniqueness across rows and a share of rows allowed to fail need many rows: refused, each named.
        using var bad = await client.PutAsJsonAsync("/api/v1/endpoints/titanic-sums", JsonDocument.Parse("""
            {"name": "titanic-sums", "variants": [{"name": "main", "model": "models:/titanic/1"}],
             "expectations": {"suite": {"columns": {"age": {"max": {"value": 120, "mostly": 0.95}}},
               "multicolumn": [{"columns": ["pclass", "age"], "unique": true}, {"columns": ["pclass", "age"], "sum_to_equal": 30, "mostly": 0.9}, {"columns": ["age"], "sum_to_equal": 1}]}}}
            """).RootElement, Cancel);
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        bad.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await bad.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(
            "Invalid endpoint 'titanic-sums': expectations.suite.multicolumn[2].columns: list at least two columns; "
            + "expectations.suite.multicolumn[0].unique: a combination of columns unique across rows judges many rows; serving checks each row (use it in a monitor or ballast validate); "
            + "expectations.suite.multicolumn[1].mostly: a share of rows allowed to fail judges many rows; serving checks each row and rejects or flags any that fails (use mostly in a monitor or ballast validate); "
            + "expectations.suite.columns.age.max.mostly: a share of rows allowed to fail judges many rows; serving checks each row and rejects or flags any that fails (use mostly in a monitor or ballast validate).");
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/titanic-sums", Cancel)).GetProperty("revision").GetInt64().ShouldBe(1);

        var openapi = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Cancel);
        openapi.GetProperty("components").GetProperty("schemas").GetProperty("ExpectationSuite").GetProperty("properties").GetProperty("multicolumn")
            .GetProperty("items").GetProperty("properties").EnumerateObject().Select(property => property.Name).ShouldBe(["columns", "sum_to_equal", "unique", "unique_within_record", "ignore_row_if", "mostly"]);
    }

    [Fact]
    public async Task A_shifted_pair_and_unique_within_record_reject_rows_while_most_common_value_and_a_zero_ratio_are_refused()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterTitanicAsync(client);
        using var created = await client.PostAsJsonAsync("/api/v1/endpoints", JsonDocument.Parse("""
            {"name": "titanic-shifts", "variants": [{"name": "main", "model": "models:/titanic/1"}],
             "expectations": {"suite": {"columns": {"fare": {"greater_or_equal": {"value": "age", "ratio": 0.25, "offset": 2}}},
                                        "multicolumn": [{"columns": ["pclass", "age"], "unique_within_record": true}]}}}
            """).RootElement, Cancel);
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
        var suite = (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("expectations").GetProperty("suite");
        suite.GetProperty("columns").GetProperty("fare").GetRawText().ShouldBe("""{"greater_or_equal":{"value":"age","offset":2,"ratio":0.25}}""");

        // Row 1: fare 7.9 is not >= 0.25 * 30 + 2 = 9.5 (row 0: 211.3 >= 9.25 holds).
        using var shifted = await client.PostAsJsonAsync("/v2/models/titanic-shifts/infer", V2Request(age: 30, embarked: "S"), Cancel);
        shifted.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await shifted.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString()
            .ShouldBe("the input fails expectations: column 'fare' greater_or_equal 0.25 * 'age' + 2: row 1 has (7.9, 30)");
        // Row 1: pclass 3 and age 3 repeat within the record (7.9 >= 2.75 holds).
        using var repeated = await client.PostAsJsonAsync("/v2/models/titanic-shifts/infer", V2Request(age: 3, embarked: "S"), Cancel);
        repeated.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await repeated.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString()
            .ShouldBe("the input fails expectations: columns 'pclass+age' unique_within_record: row 1 has (3, 3)");
        using var passed = await client.PostAsJsonAsync("/v2/models/titanic-shifts/infer", V2Request(age: 20, embarked: "S"), Cancel);
        passed.StatusCode.ShouldBe(HttpStatusCode.OK, await passed.Content.ReadAsStringAsync(Cancel));
        var metrics = await client.GetStringAsync("/metrics", Cancel);
        metrics.ShouldContain("ballast_expectation_violations_total{endpoint=\"titanic-shifts\",column=\"fare\",expectation=\"greater_or_equal\"} 1\n");
        metrics.ShouldContain("ballast_expectation_violations_total{endpoint=\"titanic-shifts\",column=\"pclass+age\",expectation=\"unique_within_record\"} 1\n");

        using var bad = await client.PutAsJsonAsync("/api/v1/endpoints/titanic-shifts", JsonDocument.Parse("""
            {"name": "titanic-shifts", "variants": [{"name": "main", "model": "models:/titanic/1"}],
             "expectations": {"suite": {"columns": {"fare": {"greater_than": {"value": "age", "ratio": 0}}, "age": {"greater_than": {"column": "pclass"}},
                                                    "embarked": {"most_common_value": {"value_set": ["S"]}}},
                                        "multicolumn": [{"columns": ["pclass", "age"], "unique_within_record": true, "mostly": 0.9}]}}}
            """).RootElement, Cancel);
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        bad.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var detail = (await bad.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!;
        detail.ShouldStartWith("Invalid endpoint 'titanic-shifts': ");
        detail.ShouldContain("expectations.suite.columns.fare.greater_than.ratio: 0 compares the column with a constant, not with the other column; give a ratio other than 0 (or use min, max)");
        detail.ShouldContain("expectations.suite.columns.age.greater_than.column: unknown field (known: value, mostly, offset, ratio); name the other column (or a list of them) in value: greater_than: {value: pclass, offset: 5}");
        detail.ShouldContain("expectations.suite.columns.embarked.most_common_value: most_common_value is computed over a column's values as a whole; serving checks each row (use it in a monitor or ballast validate)");
        detail.ShouldContain("expectations.suite.multicolumn[0].mostly: a share of rows allowed to fail judges many rows");
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/titanic-shifts", Cancel)).GetProperty("revision").GetInt64().ShouldBe(1);
    }

    [Fact]
    public async Task An_endpoint_whose_expectations_name_no_input_of_its_model_is_not_served_and_says_why()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterTitanicAsync(client);

        using var created = await client.PostAsJsonAsync("/api/v1/endpoints", JsonDocument.Parse("""
            {"name": "titanic-typo", "variants": [{"name": "main", "model": "models:/titanic/1"}], "expectations": {"suite": {"columns": {"agee": {"max": 120}}}}}
            """).RootElement, Cancel);

        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var status = (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("status");
        status.GetProperty("ready").GetBoolean().ShouldBeFalse();
        var problem = "expectations name 'agee', which titanic/1 (variant 'main') does not take as an input; its inputs are 'pclass' INT64 [-1,1], 'sex' BYTES [-1,1], "
            + "'age' FP32 [-1,1], 'fare' FP32 [-1,1], 'embarked' BYTES [-1,1] (name column i of an [N, K] input NAME[i])";
        status.GetProperty("problem").GetString().ShouldBe(problem);
        using var scored = await client.PostAsJsonAsync("/v2/models/titanic-typo/infer", V2Request(age: 40, embarked: "S"), Cancel);
        scored.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await scored.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe($"Endpoint 'titanic-typo' is not served: {problem}");
    }

    private static object V2Request(float age, string embarked) => new
    {
        inputs = new object[]
        {
            new { name = "pclass", shape = new[] { 2, 1 }, datatype = "INT64", data = new[] { 1, 3 } },
            new { name = "sex", shape = new[] { 2, 1 }, datatype = "BYTES", data = new[] { "female", "male" } },
            new { name = "age", shape = new[] { 2, 1 }, datatype = "FP32", data = new[] { 29f, age } },
            new { name = "fare", shape = new[] { 2, 1 }, datatype = "FP32", data = new[] { 211.3f, 7.9f } },
            new { name = "embarked", shape = new[] { 2, 1 }, datatype = "BYTES", data = new[] { "S", embarked } },
        },
    };

    private static async Task ServeTitanicAsync(HttpClient client, string name, string mode)
    {
        await RegisterTitanicAsync(client);
        using var response = await client.PostAsJsonAsync("/api/v1/endpoints", JsonDocument.Parse($$$"""
            {"name": "{{{name}}}", "variants": [{"name": "main", "model": "models:/titanic/1"}], "expectations": {"mode": "{{{mode}}}", "suite": {{{Suite}}}}}
            """).RootElement, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
    }

    private static async Task RegisterTitanicAsync(HttpClient client)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture("titanic_pipeline.onnx"), Cancel));
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "titanic_pipeline.onnx");
        using var response = await client.PostAsync("/api/v1/models/titanic/versions", form, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await BallastCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
