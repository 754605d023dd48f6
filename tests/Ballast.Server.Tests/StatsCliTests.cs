using System.Text.Json;
using Ballast.Cli;

namespace Ballast.Tests;

/// <summary>
/// <c>ballast stats</c>: the offline calculators, run in-process through <see cref="BallastCli.RunAsync"/> (the same
/// entry point as the executable), with their JSON checked against published known answers.
/// </summary>
public sealed class StatsCliTests
{
    [Fact]
    public async Task Ttest_prints_welch_t_df_and_p()
    {
        // scipy 1.10.1: ttest_ind([1,2,3], [4,5,6], equal_var=False) = (-3.6742346141747673, 0.021311641128756727), df 4.
        var json = await JsonAsync("stats", "ttest", "--a", "1,2,3", "--b", "4,5,6", "--json");

        json.GetProperty("t").GetDouble().ShouldBe(-3.6742346141747673, 1e-12);
        json.GetProperty("df").GetDouble().ShouldBe(4, 1e-12);
        json.GetProperty("p_value").GetDouble().ShouldBe(0.021311641128756727, 1e-12);

        // scipy's test_ttest_ind_with_uneq_var known answer (checked there against R).
        var scipy = await JsonAsync("stats", "ttest", "--a", "1,2,3", "--b", "1.1,2.9,4.2", "--json");
        scipy.GetProperty("t").GetDouble().ShouldBe(-0.68649512735572582, 1e-12);
        scipy.GetProperty("p_value").GetDouble().ShouldBe(0.53619490753126731, 1e-12);
    }

    [Fact]
    public async Task Ztest_prints_z_and_p()
    {
        // statsmodels proportions_ztest documentation example: count [5, 12], nobs [83, 99] -> p 0.159
        // (full precision from statsmodels 0.13.5).
        var json = await JsonAsync("stats", "ztest", "--successes", "5,12", "--trials", "83,99", "--json");

        json.GetProperty("z").GetDouble().ShouldBe(-1.4078304151258787, 1e-12);
        json.GetProperty("p_value").GetDouble().ShouldBe(0.15918129181156992, 1e-12);
    }

    [Fact]
    public async Task Srm_flags_a_skewed_split_and_weights_default_to_equal()
    {
        // GrowthBook gbstats test_srm: check_srm([1000, 1200], [0.5, 0.5]) = 0.000020079 (9 decimals).
        var json = await JsonAsync("stats", "srm", "--counts", "1000,1200", "--weights", "0.5,0.5", "--json");

        json.GetProperty("chi2").GetDouble().ShouldBe(18.181818181818183, 1e-10);
        Math.Round(json.GetProperty("p_value").GetDouble(), 9).ShouldBe(0.000020079);
        json.GetProperty("mismatch").GetBoolean().ShouldBeTrue();

        var unweighted = await JsonAsync("stats", "srm", "--counts", "1000,1200", "--json");
        unweighted.GetProperty("p_value").GetDouble().ShouldBe(json.GetProperty("p_value").GetDouble());

        var fine = await JsonAsync("stats", "srm", "--counts", "1010,990", "--json");
        fine.GetProperty("mismatch").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task Power_is_the_t_test_power_by_default_and_the_z_test_power_on_request()
    {
        // statsmodels 0.13.5 TTestIndPower().power(0.3, 80, 0.05) = 0.4705116609702241 (noncentral t).
        var t = await JsonAsync("stats", "power", "--effect", "0.3", "--n", "80", "--alpha", "0.05", "--json");
        t.GetProperty("power").GetDouble().ShouldBe(0.4705116609702241, 1e-9);
        t.GetProperty("test").GetString().ShouldBe("t");

        // statsmodels test_power.py test_normal_power_explicit: NormalIndPower().power(0.3, 80, 0.05) = 0.475100870572638.
        var z = await JsonAsync("stats", "power", "--effect", "0.3", "--n", "80", "--alpha", "0.05", "--test", "z", "--json");
        z.GetProperty("power").GetDouble().ShouldBe(0.475100870572638, 1e-13);

        // R pwr.t.test(d = 1, n = 30) = 0.967708258242517 (statsmodels test_power.py TestTTPowerTwoS1).
        var r = await JsonAsync("stats", "power", "--effect", "1", "--n", "30", "--json");
        r.GetProperty("power").GetDouble().ShouldBe(0.967708258242517, 1e-9);
    }

    [Fact]
    public async Task Sample_size_takes_the_effect_absolute_or_relative()
    {
        // R power.prop.test(p1 = .50, p2 = .75, power = .90) "=> n = 76.7" (R documentation example).
        var r = await JsonAsync("stats", "sample-size", "--baseline", "0.5", "--mde", "0.25", "--power", "0.9", "--json");
        Math.Round(r.GetProperty("n_exact").GetDouble(), 1).ShouldBe(76.7);
        r.GetProperty("n_per_variant").GetInt64().ShouldBe(77);

        var absolute = await JsonAsync("stats", "sample-size", "--baseline", "0.1", "--mde", "0.02", "--alpha", "0.05", "--power", "0.8", "--json");
        var relative = await JsonAsync("stats", "sample-size", "--baseline", "0.1", "--mde", "0.2", "--relative", "--json");
        absolute.GetProperty("n_per_variant").GetInt64().ShouldBe(3841);
        relative.GetProperty("n_per_variant").GetInt64().ShouldBe(3841);
        relative.GetProperty("treatment").GetDouble().ShouldBe(0.12, 1e-12);
    }

    [Fact]
    public async Task Human_output_is_one_sentence()
    {
        var (code, output, error) = await RunAsync("stats", "srm", "--counts", "1000,1200");

        code.ShouldBe(0, error);
        output.ShouldBe("chi2 = 18.1818, df = 1, p = 2.00787E-05: sample-ratio mismatch (p < 0.001); check assignment and logging before trusting the results\n");
        (await RunAsync("stats", "sample-size", "--baseline", "0.1", "--mde", "0.02")).Output.ShouldStartWith("3841 per variant");
    }

    [Theory]
    [InlineData("--a: 'x' is not a number", "stats", "ttest", "--a", "1,x", "--b", "4,5")]
    [InlineData("--b needs at least 2 values (got 1)", "stats", "ttest", "--a", "1,2", "--b", "4")]
    [InlineData("--a '1,,2' has an empty item", "stats", "ttest", "--a", "1,,2", "--b", "4,5")]
    [InlineData("need exactly 2 values each", "stats", "ztest", "--successes", "5,12,1", "--trials", "83,99")]
    [InlineData("--trials: '9.5' is not a count", "stats", "ztest", "--successes", "5,12", "--trials", "83,9.5")]
    [InlineData("successes must be between 0 and trials", "stats", "ztest", "--successes", "100,12", "--trials", "83,99")]
    [InlineData("--weights has 3 values but --counts has 2", "stats", "srm", "--counts", "10,20", "--weights", "1,1,1")]
    [InlineData("--alpha must be between 0 and 1 exclusive (got 1.5)", "stats", "power", "--effect", "0.3", "--n", "80", "--alpha", "1.5")]
    [InlineData("--alpha must be between 0 and 1 exclusive (got 0)", "stats", "sample-size", "--baseline", "0.1", "--mde", "0.02", "--alpha", "0")]
    [InlineData("n per group must be at least 2 (got 1)", "stats", "power", "--effect", "0.3", "--n", "1")]
    [InlineData("'abc'", "stats", "power", "--effect", "abc", "--n", "80")]
    [InlineData("outside (0, 1)", "stats", "sample-size", "--baseline", "0.95", "--mde", "0.1")]
    public async Task Bad_input_is_one_line_with_exit_code_2(string message, params string[] args)
    {
        var (code, output, error) = await RunAsync(args);

        code.ShouldBe(2, error);
        output.ShouldBeEmpty();
        error.Trim().Split('\n').Length.ShouldBe(1, error);
        error.ShouldStartWith("error: ");
        error.ShouldContain(message);
    }

    [Fact]
    public async Task The_executable_reports_bad_input_with_exit_code_2()
    {
        var result = await CliProcess.RunAsync("stats", "ttest", "--a", "1", "--b", "2,3");

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldBe("error: --a needs at least 2 values (got 1)\n");
    }

    [Fact]
    public async Task Stats_commands_have_help()
    {
        foreach (var command in new[] { "ttest", "ztest", "srm", "power", "sample-size" })
        {
            var (code, output, _) = await RunAsync("stats", command, "--help");
            code.ShouldBe(0);
            output.ShouldContain("--json");
        }
    }

    private static async Task<JsonElement> JsonAsync(params string[] args)
    {
        var (code, output, error) = await RunAsync(args);
        code.ShouldBe(0, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await BallastCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
