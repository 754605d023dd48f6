using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Cli.Manifests;
using Ballast.Monitoring.Quality;
using YamlDotNet.Core;

namespace Ballast.Cli.Commands;

/// <summary>
/// <c>ballast validate DATA --expectations FILE</c>: checks a CSV, TSV or Parquet file against a suite of data-quality
/// expectations, offline, with DuckDB aggregates; <c>ballast validate --infer REF -o FILE</c> writes a suite inferred
/// from reference data. Exit code 0 when every expectation holds, 3 when one fails, 2 for a bad file or suite (the
/// message names the line and field). See docs/quality.md.
/// </summary>
internal static class ValidateCommand
{
    /// <summary>The exit code when an expectation fails (as <c>ballast drift --fail-on-drift</c> on drift).</summary>
    public const int ExpectationsFailed = 3;

    public static Command Create(TextWriter output)
    {
        var data = new Argument<string?>("DATA") { Description = "The data to check: a CSV, TSV (optionally .gz) or Parquet file.", Arity = ArgumentArity.ZeroOrOne };
        var expectations = new Option<string?>("--expectations", "-e") { Description = "The suite: a YAML or JSON file of columns and their expectations (docs/quality.md)." };
        var infer = new Option<string?>("--infer") { Description = "Infer a suite from this reference file (CSV, TSV or Parquet) instead of checking DATA." };
        var inferDataset = new Option<string?>("--infer-dataset") { Description = "Infer a suite from the profile of a dataset version on the server (NAME@VERSION, or NAME for the latest)." };
        var table = new Option<string?>("--table") { Description = "With --infer-dataset: the version's tabular file to use when it has several." };
        var client = new ClientOptions();
        var margin = new Option<double>("--margin") { Description = "With --infer: widen each range by this share of (max - min) on both sides, e.g. 0.1.", DefaultValueFactory = _ => 0 };
        var maxCategories = new Option<int>("--max-categories") { Description = "With --infer: text columns with at most this many distinct values get an allowed list.", DefaultValueFactory = _ => QualityDefaults.MaxCategories };
        var format = new Option<string?>("--format") { Description = "json: the result (default); md: a Markdown table. With --infer: yaml (default) or json." };
        format.AcceptOnlyFromAmong("json", "md", "yaml");
        var file = new Option<string?>("--output", "-o") { Description = "Write the result (or the inferred suite) to FILE instead of stdout." };
        var command = new Command("validate", "Check data against data-quality expectations, or infer expectations from reference data (offline; --infer-dataset asks the server).")
        {
            data, expectations, infer, inferDataset, table, margin, maxCategories, format, file, client.Url, client.ApiKey,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var (dataPath, suitePath, referencePath, outputPath) = (parse.GetValue(data), parse.GetValue(expectations), parse.GetValue(infer), parse.GetValue(file));
            var chosen = parse.GetValue(format) ?? "";
            var dataset = parse.GetValue(inferDataset);
            // Options of the other mode would be ignored: refuse them rather than drop them.
            var given = new Option[] { margin, maxCategories, table, client.Url, client.ApiKey }.Where(option => parse.GetResult(option) is { Implicit: false }).Select(option => option.Name).ToList();
            var misplaced = referencePath is null && dataset is null ? given
                : dataset is null ? given.Where(name => name is "--table" or "--url" or "--api-key").ToList() : [];
            if (misplaced.Count > 0)
            {
                var verb = misplaced.Count == 1 ? "is" : "are";
                throw new CommandUsageException(referencePath is null
                    ? $"{string.Join(", ", misplaced)} {verb} for inferring a suite (--infer, --infer-dataset); checking DATA does not use {(misplaced.Count == 1 ? "it" : "them")}"
                    : $"{string.Join(", ", misplaced)} {verb} for --infer-dataset; --infer reads a local file");
            }

            if (referencePath is not null || dataset is not null)
            {
                if (dataPath is not null || suitePath is not null || (referencePath is not null && dataset is not null))
                {
                    throw new CommandUsageException("--infer REF (or --infer-dataset NAME@VERSION) writes a suite; give DATA and --expectations in a separate run to check data");
                }

                if (chosen is "md")
                {
                    throw new CommandUsageException("--format md is for results; an inferred suite is yaml or json");
                }

                var options = new InferenceOptions { Margin = parse.GetValue(margin), MaxCategories = parse.GetValue(maxCategories) };
                ExpectationSuite suite;
                if (dataset is null)
                {
                    suite = Usage(() => ExpectationInference.FromFile(referencePath!, options, cancel));
                }
                else
                {
                    var version = await client.Client(parse).GetJsonAsync(DataCommand.VersionPath(dataset), cancel).ConfigureAwait(false);
                    var profile = ProfileTable(dataset, parse.GetValue(table), version);
                    suite = Usage(() => ExpectationInference.FromProfile(profile, options));
                }

                referencePath ??= dataset;
                var json = chosen == "json" || (chosen.Length == 0 && outputPath?.EndsWith(".json", StringComparison.OrdinalIgnoreCase) == true);
                var text = json ? ExpectationSuiteReader.ToJson(suite) + "\n" : ManifestYaml.Write([JsonNode.Parse(ExpectationSuiteReader.ToJson(suite, indented: false))]);
                await WriteAsync(output, outputPath, text, $"{outputPath}: expectations for {suite.Columns.Count} columns inferred from {referencePath}", cancel).ConfigureAwait(false);
                return BallastCli.Success;
            }

            if (dataPath is null || suitePath is null)
            {
                throw new CommandUsageException("give DATA and --expectations FILE to check data, or --infer REF to write a suite");
            }

            if (chosen is "yaml")
            {
                throw new CommandUsageException("--format yaml is for --infer; results are json or md");
            }

            var expected = await ReadSuiteAsync(suitePath, cancel).ConfigureAwait(false);
            var result = Usage(() => ExpectationValidator.ValidateFile(dataPath, expected, cancel));
            var report = chosen == "md" ? ValidationResultJson.Markdown(result, dataPath) : ValidationResultJson.Write(result) + "\n";
            await WriteAsync(output, outputPath, report, string.Create(CultureInfo.InvariantCulture,
                $"{outputPath}: {(result.Success ? "passed" : "failed")}: {result.Expectations.Count - result.Failed} of {result.Expectations.Count} expectations hold over {result.Rows} rows"), cancel).ConfigureAwait(false);
            return result.Success ? BallastCli.Success : ExpectationsFailed;
        });
        return command;
    }

    /// <summary>The profile of one tabular file of a dataset version: the one named by --table, or the only one.</summary>
    private static Ballast.Datasets.TableProfile ProfileTable(string dataset, string? path, JsonElement version)
    {
        var tables = version.TryGetProperty("profile", out var profile) && profile.ValueKind == JsonValueKind.Object
            ? JsonSerializer.Deserialize(profile, ValidateJsonContext.Default.DatasetProfile)?.Tables ?? []
            : [];
        var names = string.Join(", ", tables.Select(table => table.Path));
        if (path is not null)
        {
            return tables.FirstOrDefault(table => table.Path == path)
                ?? throw new CommandUsageException($"{dataset} has no tabular file '{path}' (it has {(names.Length > 0 ? names : "none")})");
        }

        return tables.Count == 1 ? tables[0] : throw new CommandUsageException(tables.Count == 0
            ? $"{dataset} has no profiled tabular file (CSV, TSV or Parquet) to infer expectations from"
            : $"{dataset} has {tables.Count} tabular files ({names}); choose one with --table");
    }

    /// <summary>Reads a YAML or JSON suite; every problem is reported at once, each with its line when it can be found.</summary>
    public static async Task<ExpectationSuite> ReadSuiteAsync(string path, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new CommandUsageException($"cannot read the expectations file {path}: {exception.Message}");
        }

        ExpectationSuite suite;
        try
        {
            if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                suite = ExpectationSuiteReader.Parse(text);
            }
            else
            {
                var documents = ManifestYaml.Read(text);
                if (documents.Count != 1 || documents[0].Content is null)
                {
                    throw new CommandUsageException($"{path}: an expectations file holds one YAML document with 'columns' (found {documents.Count(document => document.Content is not null)})");
                }

                using var document = JsonDocument.Parse(documents[0].Content!.ToJsonString());
                suite = ExpectationSuiteReader.Read(document.RootElement);
            }
        }
        catch (ExpectationSuiteException exception)
        {
            throw new CommandUsageException($"{path}: {exception.Message}");
        }
        catch (YamlException exception)
        {
            throw new CommandUsageException($"{path}: line {exception.Start.Line}: {exception.InnerException?.Message ?? exception.Message}");
        }

        if (suite.Validate() is { Count: > 0 } problems)
        {
            throw new CommandUsageException($"{path}: invalid expectations: " + ProblemList.Join(problems.Select(problem => LineOf(text, problem) is { } line ? $"line {line}: {problem}" : problem)));
        }

        return suite;
    }

    /// <summary>The line where a problem's field (<c>columns.age.max: …</c>) is written, found by its keys in order.</summary>
    private static int? LineOf(string text, string problem)
    {
        var colon = problem.IndexOf(": ", StringComparison.Ordinal);
        var path = colon > 0 ? problem[..colon] : problem;
        var bracket = path.IndexOf('[', StringComparison.Ordinal);
        if (bracket > 0)
        {
            path = path[..bracket];
        }

        var lines = text.Split('\n');
        var at = 0;
        int? found = null;
        foreach (var key in path.Split('.'))
        {
            var hit = -1;
            for (var i = at; i < lines.Length; i++)
            {
                var line = lines[i].TrimStart(' ', '\t', '{', ',', '-');
                if (line.StartsWith(key + ":", StringComparison.Ordinal) || line.StartsWith($"\"{key}\"", StringComparison.Ordinal) || line.StartsWith($"'{key}'", StringComparison.Ordinal))
                {
                    hit = i;
                    break;
                }
            }

            if (hit < 0)
            {
                return found;
            }

            (at, found) = (hit, hit + 1);
        }

        return found;
    }

    private static async Task WriteAsync(TextWriter output, string? path, string text, string summary, CancellationToken cancellationToken)
    {
        if (path is null)
        {
            await output.WriteAsync(text).ConfigureAwait(false);
            return;
        }

        try
        {
            await File.WriteAllTextAsync(path, text, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new CommandUsageException($"cannot write {path}: {exception.Message}");
        }

        await output.WriteLineAsync(summary).ConfigureAwait(false);
    }

    private static T Usage<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (ExpectationSuiteException exception)
        {
            throw new CommandUsageException(exception.Message);
        }
    }
}

/// <summary>The dataset profile as the API answers it (snake_case; NaN as a named literal).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[System.Text.Json.Serialization.JsonSerializable(typeof(Ballast.Datasets.DatasetProfile))]
internal sealed partial class ValidateJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
