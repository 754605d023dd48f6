using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ballast.Tests.Serving;

/// <summary>
/// <c>GET /api/v1/predictions/export?layout=flat</c> and <c>ballast predictions export --flat</c> on a real Kestrel server
/// serving the Titanic pipeline (five named inputs, strings and numbers): one row per scored row, and a bad layout or
/// bad <c>feature_names</c> answered 400 problem+json.
/// </summary>
public sealed class FlatExportServerTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static object Rows(params (long Pclass, string Sex, float Age, float Fare, string Embarked)[] rows) => new
    {
        inputs = new object[]
        {
            new { name = "pclass", shape = new[] { rows.Length, 1 }, datatype = "INT64", data = rows.Select(row => row.Pclass).ToArray() },
            new { name = "sex", shape = new[] { rows.Length, 1 }, datatype = "BYTES", data = rows.Select(row => row.Sex).ToArray() },
            new { name = "age", shape = new[] { rows.Length, 1 }, datatype = "FP32", data = rows.Select(row => row.Age).ToArray() },
            new { name = "fare", shape = new[] { rows.Length, 1 }, datatype = "FP32", data = rows.Select(row => row.Fare).ToArray() },
            new { name = "embarked", shape = new[] { rows.Length, 1 }, datatype = "BYTES", data = rows.Select(row => row.Embarked).ToArray() },
        },
    };

    [Fact]
    public async Task The_flat_export_has_a_row_per_scored_row_and_refuses_a_bad_layout_or_feature_names()
    {
        await using var server = await RunningServer.StartAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        using var client = server.Client();
        await ServingHelpers.RegisterAsync(client, "titanic", "titanic_pipeline.onnx");
        using (var created = await client.PostAsJsonAsync("/api/v1/endpoints", new { name = "titanic", variants = new[] { new { name = "main", model = "models:/titanic/1" } } }, Cancel))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Cancel));
        }

        // The fixture's known answers: labels [1, 0] for these two rows.
        using var two = await client.PostAsJsonAsync("/v2/models/titanic/infer", Rows((1, "female", 29, 211.3f, "S"), (3, "male", 40, 7.9f, "Q")), Cancel);
        two.StatusCode.ShouldBe(HttpStatusCode.OK, await two.Content.ReadAsStringAsync(Cancel));
        var first = two.Headers.GetValues("Ballast-Prediction-Id").Single();
        using var one = await client.PostAsJsonAsync("/v2/models/titanic/infer", Rows((3, "male", 40, 7.9f, "Q")), Cancel);
        var second = one.Headers.GetValues("Ballast-Prediction-Id").Single();
        using (var feedback = await client.PostAsJsonAsync("/api/v1/feedback", new { feedback = new object[] { new { prediction_id = first, outcome = new[] { 1, 1 } }, new { prediction_id = second, outcome = 0, reward = 0.5 } } }, Cancel))
        {
            feedback.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var lines = (await client.GetStringAsync("/api/v1/predictions/export?endpoint=titanic&format=csv&layout=flat", Cancel)).Trim().Split('\n');
        lines[0].ShouldBe("prediction_id,row,timestamp,variant,model,pclass,sex,age,fare,embarked,label,probabilities[0],probabilities[1],outcome,reward");
        lines.Length.ShouldBe(4);
        // Every column but the timestamp and model: id, row, variant, the five features, the label, outcome, reward.
        static string Cells(string line)
        {
            var cells = line.Split(',');
            return string.Join(",", cells[..2].Append(cells[3]).Concat(cells[5..11]).Concat(cells[13..]));
        }

        lines.Skip(1).Select(Cells).ShouldBe([
            $"{first},0,main,1.0,female,29.0,211.3,S,1,1.0,",
            $"{first},1,main,3.0,male,40.0,7.9,Q,0,1.0,",
            $"{second},0,main,3.0,male,40.0,7.9,Q,0,0.0,0.5",
        ]);
        var records = (await client.GetStringAsync("/api/v1/predictions/export?endpoint=titanic&format=csv&layout=records", Cancel)).Trim().Split('\n');
        records.Length.ShouldBe(3, "the default layout: one row per request");

        var parquet = Path.Combine(server.DataDir, "flat.parquet");
        await File.WriteAllBytesAsync(parquet, await client.GetByteArrayAsync(
            $"/api/v1/predictions/export?endpoint=titanic&layout=flat&feature_names={Uri.EscapeDataString("""{"sex": ["gender"]}""")}", Cancel), Cancel);
        using (var duck = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:"))
        {
            duck.Open();
            using var command = duck.CreateCommand();
            command.CommandText = $"SELECT string_agg(gender || ':' || label || ':' || round(\"probabilities[1]\", 3), ' ') FROM read_parquet('{parquet}')";
            command.ExecuteScalar().ShouldBe("female:1:0.881 male:0:0.081 male:0:0.081");
        }

        foreach (var (query, detail) in new[]
        {
            ("layout=wide", "layout 'wide' is not one of records, flat."),
            ("layout=flat&feature_names=" + Uri.EscapeDataString("{sex: 1"), "feature_names is not JSON: "),
            ("layout=flat&feature_names=" + Uri.EscapeDataString("""{"sex": "gender"}"""),
                """feature_names must map input tensors to lists of column names ({"features": ["age", "income"]}), not {"sex": "gender"}"""),
            ("layout=flat&feature_names=" + Uri.EscapeDataString("""{"sex": ["female", "male"]}"""),
                "feature_names does not fit the logged inputs: 'sex' has 1 value(s) a row, but feature_names gives it 2 name(s)."),
            ("feature_names=" + Uri.EscapeDataString("""{"sex": ["gender"]}"""), "feature_names names the columns of layout=flat; the records layout keeps the tensors as they are."),
        })
        {
            using var refused = await client.GetAsync($"/api/v1/predictions/export?endpoint=titanic&format=csv&{query}", Cancel);
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest, query);
            refused.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldStartWith(detail);
        }

        // A format is checked before it names the temporary file (a path in it never reaches the file system).
        using (var format = await client.GetAsync("/api/v1/predictions/export?endpoint=titanic&format=..%2F..%2Fx", Cancel))
        {
            format.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await format.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("format '../../x' is not one of parquet, csv.");
        }

        // The CLI: names from a file; --feature-names without --flat is a usage error; the server's refusal is printed.
        var names = Path.Combine(server.DataDir, "names.json");
        await File.WriteAllTextAsync(names, """{"sex": ["gender"], "embarked": ["port"]}""", Cancel);
        var csv = Path.Combine(server.DataDir, "flat.csv");
        var exported = await CliProcess.RunAsync("predictions", "export", "--endpoint", "titanic", "--flat", "--feature-names", "@" + names, "-o", csv, "--url", url);
        exported.ExitCode.ShouldBe(0, exported.ToString());
        (await File.ReadAllLinesAsync(csv, Cancel))[0].ShouldBe("prediction_id,row,timestamp,variant,model,pclass,gender,age,fare,port,label,probabilities[0],probabilities[1],outcome,reward");
        var usage = await CliProcess.RunAsync("predictions", "export", "--endpoint", "titanic", "--feature-names", "@" + names, "-o", csv, "--url", url);
        usage.ExitCode.ShouldBe(2, usage.ToString());
        usage.Error.ShouldContain("--feature-names names the columns of --flat; add --flat");
        var wrong = await CliProcess.RunAsync("predictions", "export", "--endpoint", "titanic", "--flat", "--feature-names", """{"age": ["a", "b"]}""", "-o", csv, "--url", url);
        wrong.ExitCode.ShouldBe(1, wrong.ToString());
        wrong.Error.ShouldContain("'age' has 1 value(s) a row, but feature_names gives it 2 name(s)");
    }
}
