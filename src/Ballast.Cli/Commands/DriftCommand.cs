using System.CommandLine;
using System.Globalization;
using Ballast.Monitoring;
using Ballast.Statistics.Drift;

namespace Ballast.Cli.Commands;

/// <summary>
/// <c>ballast drift --reference REF --current CUR</c>: per-column drift between two CSV or Parquet files, offline, with
/// Evidently's automatic method choice unless methods are named. JSON (default), a self-contained HTML report or
/// Markdown, to stdout or a file. Exit code 0 whether or not there is drift, 3 with <c>--fail-on-drift</c> when the
/// dataset drifts; bad input is one line and exit code 2. See docs/monitoring.md.
/// </summary>
internal static class DriftCommand
{
    /// <summary>The exit code of <c>--fail-on-drift</c> when the dataset drifts.</summary>
    public const int DriftDetected = 3;

    public static Command Create(TextWriter output)
    {
        var reference = new Option<string>("--reference") { Description = "The reference data: a CSV, TSV (optionally .gz) or Parquet file.", Required = true };
        var current = new Option<string>("--current") { Description = "The current data to compare with it, in any of the same formats.", Required = true };
        var format = new Option<string>("--format") { Description = "json: the result; html: a self-contained report with charts; md: a Markdown table.", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "html", "md");
        var method = new Option<string[]>("--method")
        {
            Description = "A method for every column it applies to (e.g. ks, psi, chisquare), or COLUMN=METHOD for one column; repeatable. "
                + "Several general methods are all computed, in one pass, for every column they apply to (--method psi --method ks --method chisquare: "
                + "PSI on every column, KS on numbers, chi-square on categories); each column's first decides its verdict, the others are listed under "
                + "\"methods\" and \"by_method\". Default: Evidently's choice per column. Methods: " + string.Join(", ", DriftMethods.All.Select(m => m.Name)) + ".",
        };
        var threshold = new Option<string[]>("--threshold") { Description = "The threshold for every column (X) or one column (COLUMN=X); repeatable. It is the column's first method's; further methods keep their own. "
            + "Default: each method's own (p < 0.05 for ks, chisquare, z; 0.1 for distances)." };
        var categorical = new Option<string[]>("--categorical") { Description = "Columns to compare as categories, comma-separated (e.g. numeric codes)." };
        var numerical = new Option<string[]>("--numerical") { Description = "Columns to compare as numbers, comma-separated." };
        var driftShare = new Option<double>("--drift-share") { Description = "The share of drifted columns at which the dataset drifts.", DefaultValueFactory = _ => DriftDefaults.DatasetDriftShare };
        var memoryLimit = new Option<int>("--memory-limit")
        {
            Description = "DuckDB's memory limit in MB while reading; sorts and aggregates spill to a temporary folder beyond it, and a column is sorted in value ranges of a quarter of it, so peak memory does not grow with the number of rows.",
            DefaultValueFactory = _ => new DriftOptions().MemoryLimitMegabytes,
        };
        var file = new Option<string?>("--output", "-o") { Description = "Write the report to FILE instead of stdout." };
        var failOnDrift = new Option<bool>("--fail-on-drift") { Description = $"Exit with code {DriftDetected} when the dataset drifts (for CI)." };
        var command = new Command("drift", "Compare a current dataset with a reference, column by column (offline: no server).")
        {
            reference, current, format, method, threshold, categorical, numerical, driftShare, memoryLimit, file, failOnDrift,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var options = Options(parse.GetValue(method) ?? [], parse.GetValue(threshold) ?? [], parse.GetValue(categorical) ?? [], parse.GetValue(numerical) ?? [], parse.GetValue(driftShare))
                with { MemoryLimitMegabytes = parse.GetValue(memoryLimit) };
            DriftReport report;
            try
            {
                report = DriftTableReader.Compare(parse.GetValue(reference)!, parse.GetValue(current)!, options, cancel);
            }
            catch (DriftInputException exception)
            {
                throw new CommandUsageException(exception.Message);
            }

            var error = parse.InvocationConfiguration.Error;
            foreach (var skipped in report.Skipped)
            {
                await error.WriteLineAsync($"warning: column '{skipped.Name}' not compared: {skipped.Reason}").ConfigureAwait(false);
            }

            var text = parse.GetValue(format) switch
            {
                "html" => DriftReportHtml.Write(report),
                "md" => DriftReportMarkdown.Write(report),
                _ => DriftReportJson.Write(report.Result) + "\n",
            };
            var result = report.Result;
            if (parse.GetValue(file) is { } path)
            {
                await File.WriteAllTextAsync(path, text, cancel).ConfigureAwait(false);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{path}: {result.DriftedFeatures} of {result.Features.Count} columns drifted; {(result.DatasetDrift ? "dataset drift" : "no dataset drift")}")).ConfigureAwait(false);
            }
            else
            {
                await output.WriteAsync(text).ConfigureAwait(false);
            }

            return result.DatasetDrift && parse.GetValue(failOnDrift) ? DriftDetected : BallastCli.Success;
        });
        return command;
    }

    private static DriftOptions Options(string[] methods, string[] thresholds, string[] categorical, string[] numerical, double driftShare)
    {
        var (general, perColumn) = Split(methods, "--method");
        var (generalThresholds, columnThresholds) = Split(thresholds, "--threshold");
        if (generalThresholds.Count > 1)
        {
            throw new CommandUsageException($"--threshold is given {generalThresholds.Count} times for every column; give one, or name columns with COLUMN=X");
        }

        var options = new DriftOptions
        {
            Methods = general,
            ColumnMethods = perColumn,
            Threshold = generalThresholds.Count == 1 ? Number(generalThresholds[0], "--threshold") : null,
            ColumnThresholds = columnThresholds.ToDictionary(pair => pair.Key, pair => Number(pair.Value, $"--threshold {pair.Key}"), StringComparer.Ordinal),
            Categorical = Columns(categorical, "--categorical"),
            Numerical = Columns(numerical, "--numerical"),
            DatasetDriftShare = driftShare,
        };
        return options.Validate() is { Count: > 0 } problems ? throw new CommandUsageException(ProblemList.Join(problems)) : options;
    }

    /// <summary>Values as given for every column, and COLUMN=VALUE pairs (the last = splits, so a column name may hold one).</summary>
    private static (List<string> General, Dictionary<string, string> PerColumn) Split(string[] values, string option)
    {
        var (general, perColumn) = (new List<string>(), new Dictionary<string, string>(StringComparer.Ordinal));
        foreach (var value in values)
        {
            var equals = value.LastIndexOf('=');
            if (equals < 0)
            {
                general.Add(value.Trim());
            }
            else if (equals == 0 || equals == value.Length - 1)
            {
                throw new CommandUsageException($"{option} '{value}' needs a column and a value, like amount=psi");
            }
            else if (!perColumn.TryAdd(value[..equals], value[(equals + 1)..].Trim()))
            {
                throw new CommandUsageException($"{option} is given twice for column '{value[..equals]}'");
            }
        }

        return (general, perColumn);
    }

    /// <summary>The column names of comma-separated lists; an empty name or one given twice is refused, not dropped.</summary>
    private static List<string> Columns(string[] lists, string option)
    {
        var names = new List<string>();
        foreach (var name in lists.SelectMany(list => list.Split(',', StringSplitOptions.TrimEntries)))
        {
            if (name.Length == 0)
            {
                throw new CommandUsageException($"{option}: a column name cannot be empty; write {option} COL,COL");
            }

            if (names.Contains(name, StringComparer.Ordinal))
            {
                throw new CommandUsageException($"{option} names column '{name}' twice; name each column once");
            }

            names.Add(name);
        }

        return names;
    }

    private static double Number(string text, string option) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new CommandUsageException($"{option}: '{text}' is not a number");
}
