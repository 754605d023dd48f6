using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Monitoring.Quality;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Ballast.Pipelines.Steps;

/// <summary>
/// <c>kind: validate</c>: checks <c>with.data</c> against an expectation suite (<c>with.expectations</c>: the suite
/// inline, or a file output, path or URI of a YAML/JSON suite) with <see cref="ExpectationValidator"/>. Outputs:
/// <c>success</c>, <c>failed</c> (expectations that failed), <c>rows</c>, <c>report</c> (the JSON result). Any failed
/// expectation fails the step (with the failures in the message) unless <c>fail_on_violation: false</c>.
/// </summary>
public sealed class ValidateDataStep : IPipelineStep
{
    private static readonly string[] Known = ["data", "expectations", "fail_on_violation"];

    public string Kind => "validate";

    public IReadOnlyList<string> Validate(JsonObject inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var problems = new List<string>();
        StepInputs.CheckKnown(inputs, Known, Kind, problems);
        StepInputs.CheckRequired(inputs, "data", "a CSV or Parquet file output", problems);
        StepInputs.CheckRequired(inputs, "expectations", "the suite inline, or a file output, path or URI of a YAML/JSON suite", problems);
        StepInputs.CheckBool(inputs, "fail_on_violation", problems);
        if (inputs["expectations"] is JsonObject inline && !StepOutputs.IsFile(inline) && !ContainsReference(inline))
        {
            problems.AddRange(ReadSuite(inline).Validate().Select(problem => "with.expectations: " + problem));
        }
        else if (inputs["expectations"] is JsonArray || (inputs["expectations"] is JsonValue value && !value.TryGetValue<string>(out _)))
        {
            problems.Add($"with.expectations must be a suite object or a file, not {inputs["expectations"]!.ToJsonString()}");
        }

        return problems;
    }

    public async Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var suite = context.With["expectations"] switch
        {
            JsonObject inline when !StepOutputs.IsFile(inline) => ReadSuite(inline),
            null => throw new StepFailedException("input 'expectations' is empty"),
            _ => await ReadSuiteFileAsync(context).ConfigureAwait(false),
        };
        if (suite.Validate() is { Count: > 0 } problems)
        {
            throw new StepFailedException("the expectation suite is invalid: " + ProblemList.Join(problems));
        }

        var data = await StepInputs.LocalFileAsync(context, "data").ConfigureAwait(false);
        ValidationResult result;
        try
        {
            result = await Task.Run(() => ExpectationValidator.ValidateFile(data, suite, context.CancellationToken), context.CancellationToken).ConfigureAwait(false);
        }
        catch (ExpectationSuiteException exception)
        {
            throw new StepFailedException(exception.Message);
        }

        var report = Path.Combine(context.WorkDirectory, "validation.json");
        await File.WriteAllTextAsync(report, ValidationResultJson.Write(result), context.CancellationToken).ConfigureAwait(false);
        var reportFile = await context.PutFileAsync("report", report).ConfigureAwait(false);
        var failures = result.Expectations.Where(expectation => !expectation.Success).ToList();
        await context.Log.WriteLineAsync($"validated {result.Rows} rows: {result.Expectations.Count - failures.Count} of {result.Expectations.Count} expectations met").ConfigureAwait(false);
        foreach (var failure in failures)
        {
            await context.Log.WriteLineAsync($"  failed {failure.Name}: {failure.UnexpectedCount} rows ({failure.UnexpectedPercent.ToString("0.##", CultureInfo.InvariantCulture)}%)"
                + (failure.Examples.Count > 0 ? $", e.g. {string.Join(", ", failure.Examples)}" : "")).ConfigureAwait(false);
        }

        if (failures.Count > 0 && StepInputs.ReadBool(context, "fail_on_violation", true))
        {
            throw new StepFailedException($"{failures.Count} expectation(s) failed on {result.Rows} rows: "
                + string.Join(", ", failures.Select(failure => $"{failure.Name} ({failure.UnexpectedCount} rows)")));
        }

        return new Dictionary<string, JsonNode?>
        {
            ["success"] = result.Success,
            ["failed"] = failures.Count,
            ["rows"] = result.Rows,
            ["report"] = reportFile,
        };
    }

    private static bool ContainsReference(JsonNode? node) => node switch
    {
        JsonObject obj => obj.Any(pair => ContainsReference(pair.Value)),
        JsonArray array => array.Any(ContainsReference),
        _ => StepInputs.IsReference(node),
    };

    private static ExpectationSuite ReadSuite(JsonNode node)
    {
        using var document = JsonDocument.Parse(node.ToJsonString());
        return ExpectationSuiteReader.Read(document.RootElement);
    }

    private static async Task<ExpectationSuite> ReadSuiteFileAsync(StepContext context)
    {
        var path = await StepInputs.LocalFileAsync(context, "expectations").ConfigureAwait(false);
        var text = await File.ReadAllTextAsync(path, context.CancellationToken).ConfigureAwait(false);
        try
        {
            return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? ExpectationSuiteReader.Parse(text) : ReadSuite(Yaml(text) ?? new JsonObject());
        }
        catch (ExpectationSuiteException exception)
        {
            throw new StepFailedException($"the expectation suite {Path.GetFileName(path)}: {exception.Message}");
        }
        catch (YamlException exception)
        {
            throw new StepFailedException($"the expectation suite {Path.GetFileName(path)} is not valid YAML: line {exception.Start.Line}: {exception.Message}");
        }
    }

    /// <summary>A YAML document as JSON (YAML 1.2 core schema: unquoted numbers, true/false and null are typed; JSON is YAML too).</summary>
    internal static JsonNode? Yaml(string text)
    {
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        if (!parser.TryConsume<DocumentStart>(out _))
        {
            return null;
        }

        return Node(parser, 0);
    }

    private static JsonNode? Node(IParser parser, int depth)
    {
        if (depth > 64)
        {
            throw new YamlException(parser.Current!.Start, parser.Current.End, "nesting is deeper than 64 levels");
        }

        if (parser.TryConsume<Scalar>(out var scalar))
        {
            return scalar.Style != ScalarStyle.Plain ? JsonValue.Create(scalar.Value) : scalar.Value switch
            {
                "" or "~" or "null" => null,
                "true" => JsonValue.Create(true),
                "false" => JsonValue.Create(false),
                // A whole number exactly (a double rounds those above 2^53: an allowed 9007199254740993 would become ...992).
                var plain when long.TryParse(plain, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole) => JsonValue.Create(whole),
                var plain when double.TryParse(plain, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) => JsonValue.Create(number),
                var plain => JsonValue.Create(plain),
            };
        }

        if (parser.TryConsume<SequenceStart>(out _))
        {
            var array = new JsonArray();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                array.Add(Node(parser, depth + 1));
            }

            return array;
        }

        if (parser.TryConsume<MappingStart>(out _))
        {
            var map = new JsonObject();
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var key = parser.Consume<Scalar>();
                map[key.Value] = Node(parser, depth + 1);
            }

            return map;
        }

        var current = parser.Current!;
        throw new YamlException(current.Start, current.End, "anchors and aliases are not supported in expectation suites");
    }
}
