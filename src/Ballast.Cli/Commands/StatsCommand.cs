using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Ballast.Statistics;

namespace Ballast.Cli.Commands;

/// <summary>
/// <c>ballast stats ttest|ztest|srm|power|sample-size</c>: offline experiment calculators over Ballast.Statistics,
/// needing no server. A sentence by default, exact JSON with <c>--json</c>; bad input is one line and exit code 2.
/// See docs/statistics.md for the formulas and their sources.
/// </summary>
internal static class StatsCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("stats", "Experiment calculators (offline): Welch t-test, two-proportion z-test, sample-ratio mismatch, power, sample size.");
        command.Subcommands.Add(TTest(output));
        command.Subcommands.Add(ZTest(output));
        command.Subcommands.Add(Srm(output));
        command.Subcommands.Add(Power(output));
        command.Subcommands.Add(SampleSizeCommand(output));
        return command;
    }

    private static Command TTest(TextWriter output)
    {
        var a = new Option<string>("--a") { Description = "Values of group A, comma-separated, e.g. 1,2,3.", Required = true };
        var b = new Option<string>("--b") { Description = "Values of group B, comma-separated.", Required = true };
        var json = CommonOptions.Json();
        var command = new Command("ttest", "Welch's two-sample t-test (unequal variances): t = (mean A − mean B)/se, Welch–Satterthwaite df, two-sided p.") { a, b, json };
        command.SetAction(async parse =>
        {
            var (valuesA, valuesB) = (Numbers(parse.GetValue(a)!, "--a"), Numbers(parse.GetValue(b)!, "--b"));
            foreach (var (values, name) in new[] { (valuesA, "--a"), (valuesB, "--b") })
            {
                if (values.Length < 2)
                {
                    throw new CommandUsageException($"{name} needs at least 2 values (got {values.Length})");
                }
            }

            var result = Calculate(() => WelchTTest.Test(valuesA, valuesB));
            return await WriteAsync(output, parse.GetValue(json),
                () => JsonSerializer.Serialize(new StatsTTestOutput(result.T, result.DegreesOfFreedom, result.PValue), CliJsonContext.Default.StatsTTestOutput),
                () => $"Welch t-test: t = {G(result.T)}, df = {G(result.DegreesOfFreedom)}, p = {G(result.PValue)}").ConfigureAwait(false);
        });
        return command;
    }

    private static Command ZTest(TextWriter output)
    {
        var successes = new Option<string>("--successes") { Description = "Successes of groups A and B, e.g. 5,12.", Required = true };
        var trials = new Option<string>("--trials") { Description = "Trials of groups A and B, e.g. 83,99.", Required = true };
        var json = CommonOptions.Json();
        var command = new Command("ztest", "Two-proportion z-test with pooled variance: z = (rate A − rate B)/se, two-sided p.") { successes, trials, json };
        command.SetAction(async parse =>
        {
            var (x, n) = (Counts(parse.GetValue(successes)!, "--successes"), Counts(parse.GetValue(trials)!, "--trials"));
            if (x.Length != 2 || n.Length != 2)
            {
                throw new CommandUsageException($"--successes and --trials need exactly 2 values each, one per group (got {x.Length} and {n.Length})");
            }

            var result = Calculate(() => TwoProportionZTest.Test(x[0], n[0], x[1], n[1]));
            return await WriteAsync(output, parse.GetValue(json),
                () => JsonSerializer.Serialize(new StatsZTestOutput(result.Z, result.PValue), CliJsonContext.Default.StatsZTestOutput),
                () => $"two-proportion z-test: rates {G((double)x[0] / n[0])} vs {G((double)x[1] / n[1])}, z = {G(result.Z)}, p = {G(result.PValue)}").ConfigureAwait(false);
        });
        return command;
    }

    private static Command Srm(TextWriter output)
    {
        var counts = new Option<string>("--counts") { Description = "Units observed per variant, e.g. 1000,1200.", Required = true };
        var weights = new Option<string?>("--weights") { Description = "Planned traffic per variant, any scale, e.g. 0.5,0.5 (default: equal)." };
        var threshold = new Option<double>("--threshold") { Description = "p-values below this are a mismatch.", DefaultValueFactory = _ => StatisticsDefaults.SrmThreshold };
        var json = CommonOptions.Json();
        var command = new Command("srm", "Sample-ratio mismatch: chi-square test of observed counts against the planned split.") { counts, weights, threshold, json };
        command.SetAction(async parse =>
        {
            var observed = Counts(parse.GetValue(counts)!, "--counts");
            var planned = parse.GetValue(weights) is { } text ? Numbers(text, "--weights") : null;
            if (observed.Length < 2)
            {
                throw new CommandUsageException($"--counts needs at least 2 values, one per variant (got {observed.Length})");
            }

            if (planned is not null && planned.Length != observed.Length)
            {
                throw new CommandUsageException($"--weights has {planned.Length} values but --counts has {observed.Length}; give one weight per variant");
            }

            var limit = parse.GetValue(threshold);
            CheckProbability(limit, "--threshold");
            var result = Calculate(() => SampleRatioMismatch.Check(observed, planned, limit));
            return await WriteAsync(output, parse.GetValue(json),
                () => JsonSerializer.Serialize(new StatsSrmOutput(result.ChiSquare, result.DegreesOfFreedom, result.PValue, result.Mismatch), CliJsonContext.Default.StatsSrmOutput),
                () => $"chi2 = {G(result.ChiSquare)}, df = {result.DegreesOfFreedom}, p = {G(result.PValue)}: " + (result.Mismatch
                    ? $"sample-ratio mismatch (p < {G(limit)}); check assignment and logging before trusting the results"
                    : $"no mismatch (p >= {G(limit)})")).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Power(TextWriter output)
    {
        var effect = new Option<double>("--effect") { Description = "Standardized effect size (Cohen's d), e.g. 0.3.", Required = true };
        var n = new Option<int>("--n") { Description = "Units per group.", Required = true };
        var alpha = Alpha();
        var test = new Option<string>("--test") { Description = "t: two-sample t-test, noncentral t (statsmodels TTestIndPower); z: normal approximation (NormalIndPower).", DefaultValueFactory = _ => "t" };
        test.AcceptOnlyFromAmong("t", "z");
        var json = CommonOptions.Json();
        var command = new Command("power", "Power of a two-sided two-sample test for a standardized effect and n per group.") { effect, n, alpha, test, json };
        command.SetAction(async parse =>
        {
            var (d, perGroup, level, kind) = (parse.GetValue(effect), parse.GetValue(n), parse.GetValue(alpha), parse.GetValue(test)!);
            CheckProbability(level, "--alpha");
            var power = Calculate(() => kind == "z" ? PowerAnalysis.TwoSampleZTest(d, perGroup, level) : PowerAnalysis.TwoSampleTTest(d, perGroup, level));
            var name = kind == "z" ? "two-sample z-test" : "two-sample t-test";
            return await WriteAsync(output, parse.GetValue(json),
                () => JsonSerializer.Serialize(new StatsPowerOutput(power, kind), CliJsonContext.Default.StatsPowerOutput),
                () => $"power = {G(power)} ({name}, d = {G(d)}, n = {perGroup} per group, alpha = {G(level)}, two-sided)").ConfigureAwait(false);
        });
        return command;
    }

    private static Command SampleSizeCommand(TextWriter output)
    {
        var baseline = new Option<double>("--baseline") { Description = "Baseline conversion rate, e.g. 0.1.", Required = true };
        var mde = new Option<double>("--mde") { Description = "Minimum detectable effect: absolute (0.02 = two points) or, with --relative, a fraction of the baseline (0.2 = 20 %).", Required = true };
        var relative = new Option<bool>("--relative") { Description = "Read --mde as relative to the baseline." };
        var alpha = Alpha();
        var power = new Option<double>("--power") { Description = "Chance of detecting the effect if it is real.", DefaultValueFactory = _ => StatisticsDefaults.Power };
        var json = CommonOptions.Json();
        var command = new Command("sample-size", "Units per variant for a two-sided two-proportion test (normal approximation, as R's power.prop.test).") { baseline, mde, relative, alpha, power, json };
        command.SetAction(async parse =>
        {
            CheckProbability(parse.GetValue(alpha), "--alpha");
            CheckProbability(parse.GetValue(power), "--power");
            var result = Calculate(() => SampleSize.TwoProportions(parse.GetValue(baseline), parse.GetValue(mde), parse.GetValue(relative), parse.GetValue(alpha), parse.GetValue(power)));
            return await WriteAsync(output, parse.GetValue(json),
                () => JsonSerializer.Serialize(new StatsSampleSizeOutput(result.PerVariant, result.Exact, result.Baseline, result.Treatment), CliJsonContext.Default.StatsSampleSizeOutput),
                () => string.Create(CultureInfo.InvariantCulture,
                    $"{result.PerVariant} per variant ({result.PerVariant * 2} for A/B) to detect {G(result.Baseline)} -> {G(result.Treatment)} with power {G(parse.GetValue(power))} at alpha {G(parse.GetValue(alpha))}, two-sided")).ConfigureAwait(false);
        });
        return command;
    }

    private static Option<double> Alpha() => new("--alpha")
    {
        Description = "Significance level, between 0 and 1.",
        DefaultValueFactory = _ => StatisticsDefaults.Alpha,
    };

    private static async Task<int> WriteAsync(TextWriter output, bool json, Func<string> toJson, Func<string> toText)
    {
        await output.WriteLineAsync(json ? toJson() : toText()).ConfigureAwait(false);
        return BallastCli.Success;
    }

    /// <summary>The library refuses impossible input with ArgumentException; here that is a usage error (exit code 2).</summary>
    private static T Calculate<T>(Func<T> calculation)
    {
        try
        {
            return calculation();
        }
        catch (ArgumentException exception)
        {
            throw new CommandUsageException(exception.Message);
        }
    }

    private static void CheckProbability(double value, string option)
    {
        if (!(value > 0 && value < 1))
        {
            throw new CommandUsageException($"{option} must be between 0 and 1 exclusive (got {G(value)})");
        }
    }

    private static double[] Numbers(string text, string option) => Split(text, option).Select(item =>
        double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new CommandUsageException($"{option}: '{item}' is not a number")).ToArray();

    private static long[] Counts(string text, string option) => Split(text, option).Select(item =>
        long.TryParse(item, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new CommandUsageException($"{option}: '{item}' is not a count (a whole number, 0 or more)")).ToArray();

    private static string[] Split(string text, string option)
    {
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        return items.Any(item => item.Length == 0)
            ? throw new CommandUsageException($"{option} '{text}' has an empty item; give comma-separated values like 1,2,3")
            : items;
    }

    private static string G(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}

internal sealed record StatsTTestOutput(double T, double Df, double PValue);

internal sealed record StatsZTestOutput(double Z, double PValue);

internal sealed record StatsSrmOutput(double Chi2, int Df, double PValue, bool Mismatch);

internal sealed record StatsPowerOutput(double Power, string Test);

internal sealed record StatsSampleSizeOutput(long NPerVariant, double NExact, double Baseline, double Treatment);
