using System.Globalization;
using System.Text;
using System.Text.Json;
using Ballast.Cli;
using DuckDB.NET.Data;

namespace Ballast.Tests;

/// <summary>
/// <c>ballast drift</c> on files generated here with a seeded <see cref="Random"/>: CSV and Parquet, a known shift in
/// some columns, Evidently's automatic methods for small and large references, overrides, the three formats and the
/// exit codes. The statistics themselves are checked against scipy, Evidently and NannyML in the core tests.
/// </summary>
public sealed class DriftCliTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-drift-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_large_reference_gets_distances_and_flags_exactly_the_shifted_columns()
    {
        var (reference, current) = Generate(5000, 5000);

        var json = await JsonAsync("drift", "--reference", reference, "--current", current);

        var features = Features(json);
        features.Keys.ShouldBe(["stable", "shifted", "plan", "region", "code"], ignoreOrder: false);
        features.Where(feature => feature.Value.GetProperty("drifted").GetBoolean()).Select(feature => feature.Key).ShouldBe(["shifted", "region"]);
        Method(features["stable"]).ShouldBe("wasserstein");
        Method(features["plan"]).ShouldBe("jensenshannon");
        Method(features["code"]).ShouldBe("jensenshannon");
        features["code"].GetProperty("type").GetString().ShouldBe("numerical");
        foreach (var feature in features.Values)
        {
            feature.GetProperty("p_value").ValueKind.ShouldBe(JsonValueKind.Null);
            feature.GetProperty("statistic").GetDouble().ShouldBe(feature.GetProperty("score").GetDouble());
            feature.GetProperty("threshold").GetDouble().ShouldBe(0.1);
        }

        // The mean moved half a standard deviation: the normed Wasserstein distance is about 0.5.
        features["shifted"].GetProperty("score").GetDouble().ShouldBe(0.5, 0.06);
        json.GetProperty("drifted_features").GetInt32().ShouldBe(2);
        json.GetProperty("drift_share").GetDouble().ShouldBe(0.4, 1e-12);
        json.GetProperty("dataset_drift").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task A_small_reference_gets_tests_with_p_values()
    {
        var (reference, current) = Generate(800, 600);

        var features = Features(await JsonAsync("drift", "--reference", reference, "--current", current));

        Method(features["stable"]).ShouldBe("ks");
        Method(features["plan"]).ShouldBe("chisquare");
        Method(features["code"]).ShouldBe("chisquare");
        Method(features["flag"]).ShouldBe("z");
        foreach (var feature in features.Values)
        {
            feature.GetProperty("score").GetDouble().ShouldBe(feature.GetProperty("p_value").GetDouble());
            feature.GetProperty("threshold").GetDouble().ShouldBe(0.05);
            feature.GetProperty("drifted").GetBoolean().ShouldBe(feature.GetProperty("p_value").GetDouble() < 0.05);
        }

        features["shifted"].GetProperty("drifted").GetBoolean().ShouldBeTrue();
        features["region"].GetProperty("drifted").GetBoolean().ShouldBeTrue();
        features["stable"].GetProperty("drifted").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task Parquet_and_csv_give_the_same_result()
    {
        var (reference, current) = Generate(3000, 2000);

        var fromCsv = await TextAsync("drift", "--reference", reference, "--current", current);
        var fromParquet = await TextAsync("drift", "--reference", ToParquet(reference), "--current", ToParquet(current));

        fromParquet.ShouldBe(fromCsv);
    }

    [Fact]
    public async Task Methods_and_thresholds_are_overridden_for_every_column_or_one()
    {
        var (reference, current) = Generate(3000, 3000);

        var psi = Features(await JsonAsync("drift", "--reference", reference, "--current", current, "--method", "psi"));
        psi.Values.Select(Method).Distinct().ShouldBe(["psi"]);
        psi["shifted"].GetProperty("drifted").GetBoolean().ShouldBeTrue();
        psi["stable"].GetProperty("drifted").GetBoolean().ShouldBeFalse();

        var mixed = Features(await JsonAsync("drift", "--reference", reference, "--current", current,
            "--method", "ks", "--method", "chisquare", "--method", "region=l_infinity", "--threshold", "stable=0.999999"));
        Method(mixed["stable"]).ShouldBe("ks");
        Method(mixed["shifted"]).ShouldBe("ks");
        Method(mixed["plan"]).ShouldBe("chisquare");
        Method(mixed["region"]).ShouldBe("l_infinity");
        mixed["stable"].GetProperty("threshold").GetDouble().ShouldBe(0.999999);
        mixed["stable"].GetProperty("drifted").GetBoolean().ShouldBeTrue();

        var categorical = Features(await JsonAsync("drift", "--reference", reference, "--current", current, "--categorical", "code,stable", "--method", "stable=psi"));
        categorical["code"].GetProperty("type").GetString().ShouldBe("categorical");
        categorical["stable"].GetProperty("type").GetString().ShouldBe("categorical");
    }

    [Fact]
    public async Task Several_methods_per_column_come_from_one_run_beside_the_first_which_decides()
    {
        var (reference, current) = Generate(3000, 3000);
        string[] files = ["drift", "--reference", reference, "--current", current];

        var all = await JsonAsync([.. files, "--method", "psi", "--method", "ks", "--method", "chisquare"]);
        var psi = await JsonAsync([.. files, "--method", "psi"]);
        var tests = Features(await JsonAsync([.. files, "--method", "ks", "--method", "chisquare"]));

        // features[] is exactly the PSI run's (same shape, same verdicts); every method is listed beside it.
        var features = Features(all);
        foreach (var (name, feature) in Features(psi))
        {
            var methods = features[name].GetProperty("methods").EnumerateArray().ToList();
            methods.Select(method => method.GetProperty("method").GetString()).ShouldBe(["psi", tests[name].GetProperty("method").GetString()]);
            foreach (var field in new[] { "method", "statistic", "p_value", "score", "threshold", "drifted" })
            {
                features[name].GetProperty(field).GetRawText().ShouldBe(feature.GetProperty(field).GetRawText(), $"{name}.{field}");
                methods[0].GetProperty(field).GetRawText().ShouldBe(feature.GetProperty(field).GetRawText(), $"{name}.methods[0].{field}");
                methods[1].GetProperty(field).GetRawText().ShouldBe(tests[name].GetProperty(field).GetRawText(), $"{name}.methods[1].{field}");
            }
        }

        foreach (var field in new[] { "dataset_drift", "drift_share", "drifted_features" })
        {
            all.GetProperty(field).GetRawText().ShouldBe(psi.GetProperty(field).GetRawText());
        }

        var byMethod = all.GetProperty("by_method").EnumerateArray().ToDictionary(method => method.GetProperty("method").GetString()!);
        byMethod.Keys.ShouldBe(["psi", "ks", "chisquare"], ignoreOrder: false);
        byMethod["ks"].GetProperty("features").GetInt32().ShouldBe(3);
        byMethod["chisquare"].GetProperty("features").GetInt32().ShouldBe(2);
        byMethod["ks"].GetProperty("drifted_features").GetInt32().ShouldBe(tests.Values.Count(feature => Method(feature) == "ks" && feature.GetProperty("drifted").GetBoolean()));
        psi.TryGetProperty("by_method", out _).ShouldBeFalse();
        Features(psi).Values.Count(feature => feature.TryGetProperty("methods", out _)).ShouldBe(0);

        var markdown = await TextAsync([.. files, "--method", "psi", "--method", "ks", "--method", "chisquare", "--format", "md"]);
        markdown.Split('\n').Count(line => line.StartsWith("| ", StringComparison.Ordinal)).ShouldBe(2 + (5 * 2));
        markdown.ShouldContain("By method: psi ");
    }

    [Fact]
    public async Task Markdown_is_a_table_and_html_is_one_file_with_charts_and_a_sortable_table()
    {
        var (reference, current) = Generate(2000, 2000);

        var markdown = await TextAsync("drift", "--reference", reference, "--current", current, "--format", "md");
        markdown.ShouldContain("| column | type | method | statistic | p-value | score | threshold | drifted |");
        markdown.Split('\n').Count(line => line.StartsWith("| ", StringComparison.Ordinal)).ShouldBe(2 + 5);
        markdown.ShouldContain("| shifted | numerical | wasserstein |");

        var path = Path.Combine(_folder, "report.html");
        var (code, output, error) = await RunAsync("drift", "--reference", reference, "--current", current, "--format", "html", "-o", path);
        code.ShouldBe(0, error);
        output.ShouldContain("2 of 5 columns drifted");
        var html = await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken);
        html.ShouldStartWith("<!DOCTYPE html>");
        html.ShouldEndWith("</html>");
        CountOf(html, "<svg").ShouldBe(5);
        CountOf(html, "<tr").ShouldBe(6);
        html.ShouldContain("addEventListener('click'");
        html.ShouldNotContain("src=");
        html.ShouldNotContain("<link");
    }

    [Fact]
    public async Task Drift_exits_0_unless_fail_on_drift_asks_for_3()
    {
        var (reference, current) = Generate(2000, 2000);
        var (same, _) = Generate(2000, 2000);

        (await RunAsync("drift", "--reference", reference, "--current", current, "--drift-share", "0.3")).Code.ShouldBe(0);
        (await RunAsync("drift", "--reference", reference, "--current", current, "--drift-share", "0.3", "--fail-on-drift")).Code.ShouldBe(3);
        (await RunAsync("drift", "--reference", reference, "--current", same, "--fail-on-drift")).Code.ShouldBe(0);
    }

    [Fact]
    public async Task The_executable_exits_3_on_drift_with_fail_on_drift()
    {
        var (reference, current) = Generate(2000, 2000);

        var result = await CliProcess.RunAsync("drift", "--reference", reference, "--current", current, "--method", "psi", "--drift-share", "0.4", "--fail-on-drift");

        result.ExitCode.ShouldBe(3, result.ToString());
        JsonDocument.Parse(result.Output).RootElement.GetProperty("dataset_drift").GetBoolean().ShouldBeTrue();
    }

    [Theory]
    [InlineData("there is no current file at", "missing-current")]
    [InlineData("the current data has no column 'region'", "missing-column")]
    [InlineData("unknown drift method 'kolmogorov'", "--method", "kolmogorov")]
    [InlineData("method 'ks' does not apply to the categorical column 'plan'", "--method", "plan=ks")]
    [InlineData("no column 'nope' in the reference data", "--method", "nope=psi")]
    [InlineData("method 'ks' is given twice", "--method", "ks", "--method", "psi", "--method", "KS")]
    [InlineData("--threshold: 'abc' is not a number", "--threshold", "abc")]
    [InlineData("the memory limit must be at least 64 MB (got 10)", "--memory-limit", "10")]
    [InlineData("the z-test compares 2 categories (got 3)", "--method", "plan=z")]
    [InlineData("the threshold 2 is above 1, but ks gives a p-value", "--method", "ks", "--threshold", "2")]
    [InlineData("column 'stable': the threshold 1.5 is above 1, but ks gives a p-value", "--threshold", "1.5")]
    [InlineData("--categorical: a column name cannot be empty; write --categorical COL,COL", "--categorical", "")]
    [InlineData("--categorical: a column name cannot be empty; write --categorical COL,COL", "--categorical", "code,")]
    [InlineData("--categorical names column 'code' twice; name each column once", "--categorical", "code,plan,code")]
    [InlineData("--numerical names column 'code' twice; name each column once", "--numerical", "code", "--numerical", "code")]
    public async Task Bad_input_is_one_line_with_exit_code_2(string message, params string[] extra)
    {
        var (reference, current) = Generate(300, 300);
        var args = new List<string> { "drift", "--reference", reference, "--current", current };
        if (extra[0] == "missing-current")
        {
            args[4] = Path.Combine(_folder, "absent.csv");
        }
        else if (extra[0] == "missing-column")
        {
            args[4] = Path.Combine(_folder, "narrow.csv");
            await File.WriteAllTextAsync(args[4], "stable,shifted,plan,code,flag\n1,2,a,1,yes\n2,3,b,2,no\n", TestContext.Current.CancellationToken);
        }
        else
        {
            args.AddRange(extra);
        }

        var (code, output, error) = await RunAsync([.. args]);

        code.ShouldBe(2, error);
        output.ShouldBeEmpty();
        error.Trim().Split('\n').Length.ShouldBe(1, error);
        error.ShouldStartWith("error: ");
        error.ShouldContain(message);
    }

    [Fact]
    public async Task Columns_of_other_types_are_skipped_with_a_warning()
    {
        var reference = Path.Combine(_folder, "dated-ref.csv");
        var current = Path.Combine(_folder, "dated-cur.csv");
        await File.WriteAllTextAsync(reference, "day,x\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(current, "day,x\n2024-02-01,1\n2024-02-02,2\n2024-02-03,4\n", TestContext.Current.CancellationToken);

        var (code, output, error) = await RunAsync("drift", "--reference", reference, "--current", current);

        code.ShouldBe(0, error);
        error.ShouldContain("warning: column 'day' not compared: DATE");
        Features(JsonDocument.Parse(output).RootElement).Keys.ShouldBe(["x"]);
    }

    /// <summary>
    /// Seeded CSVs: stable ~ N(0, 1) on both sides; shifted ~ N(0, 1) then N(0.5, 1); plan a/b/c alike on both sides;
    /// region north/south/east at 50/30/20 then 20/30/50; code, a numeric code with 4 values alike on both sides;
    /// flag, yes/no alike (only written when the reference is small, to reach the z-test).
    /// </summary>
    private (string Reference, string Current) Generate(int referenceRows, int currentRows)
    {
        var name = $"{referenceRows}-{currentRows}-{Guid.NewGuid():N}";
        var reference = Path.Combine(_folder, $"ref-{name}.csv");
        var current = Path.Combine(_folder, $"cur-{name}.csv");
        var withFlag = referenceRows <= 1000;
        Write(reference, referenceRows, shifted: false, new Random(referenceRows), withFlag);
        Write(current, currentRows, shifted: true, new Random(currentRows + 1), withFlag);
        return (reference, current);
    }

    private static void Write(string path, int rows, bool shifted, Random random, bool withFlag)
    {
        var text = new StringBuilder(withFlag ? "stable,shifted,plan,region,code,flag\n" : "stable,shifted,plan,region,code\n");
        string[] plans = ["a", "b", "c"];
        for (var i = 0; i < rows; i++)
        {
            var u = random.NextDouble();
            var region = shifted ? (u < 0.2 ? "north" : u < 0.5 ? "south" : "east") : (u < 0.5 ? "north" : u < 0.8 ? "south" : "east");
            text.Append(CultureInfo.InvariantCulture, $"{Normal(random):R},{Normal(random) + (shifted ? 0.5 : 0):R},{plans[random.Next(3)]},{region},{random.Next(1, 5)}");
            text.Append(withFlag ? (random.Next(2) == 0 ? ",yes\n" : ",no\n") : "\n");
        }

        File.WriteAllText(path, text.ToString());
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static string ToParquet(string csv)
    {
        var parquet = Path.ChangeExtension(csv, ".parquet");
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"COPY (SELECT * FROM read_csv('{csv}')) TO '{parquet}' (FORMAT parquet)";
        command.ExecuteNonQuery();
        return parquet;
    }

    private static Dictionary<string, JsonElement> Features(JsonElement json) =>
        json.GetProperty("features").EnumerateArray().ToDictionary(feature => feature.GetProperty("name").GetString()!, feature => feature);

    private static string Method(JsonElement feature) => feature.GetProperty("method").GetString()!;

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static async Task<JsonElement> JsonAsync(params string[] args) => JsonDocument.Parse(await TextAsync(args)).RootElement.Clone();

    private static async Task<string> TextAsync(params string[] args)
    {
        var (code, output, error) = await RunAsync(args);
        code.ShouldBe(0, error);
        return output;
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await BallastCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
