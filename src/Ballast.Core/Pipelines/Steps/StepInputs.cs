using System.Globalization;
using System.Text.Json.Nodes;

namespace Ballast.Pipelines.Steps;

/// <summary>
/// Checks and reads the inputs of the built-in training steps. <c>Check…</c> methods collect problems of inputs as
/// written (a <c>${{ … }}</c> reference is accepted for any type: it is resolved at run time); <c>Read…</c> methods read
/// resolved inputs and throw a <see cref="StepFailedException"/> naming the input.
/// </summary>
internal static class StepInputs
{
    public static bool IsReference(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && text.Contains("${{", StringComparison.Ordinal);

    /// <summary>Every key of <paramref name="inputs"/> that the step does not take: nothing given is silently dropped.</summary>
    public static void CheckKnown(JsonObject inputs, IReadOnlyCollection<string> known, string kind, List<string> problems)
    {
        foreach (var key in inputs.Select(pair => pair.Key).Where(key => !known.Contains(key)))
        {
            problems.Add($"with.{key} is not an input of {kind} steps (they take {string.Join(", ", known)})");
        }
    }

    public static void CheckRequired(JsonObject inputs, string name, string what, List<string> problems)
    {
        if (inputs[name] is null || (inputs[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length == 0))
        {
            problems.Add($"with.{name} ({what}) is required");
        }
    }

    public static void CheckText(JsonObject inputs, string name, List<string> problems, IReadOnlyCollection<string>? allowed = null)
    {
        var node = inputs[name];
        if (node is null || IsReference(node))
        {
            return;
        }

        if (node is not JsonValue value || !value.TryGetValue<string>(out var text))
        {
            problems.Add($"with.{name} must be text, not {node.ToJsonString()}");
        }
        else if (allowed is not null && !allowed.Contains(text))
        {
            problems.Add($"with.{name} '{text}' is not one of {string.Join(", ", allowed)}");
        }
        else if (text.Length == 0)
        {
            problems.Add($"with.{name} must not be empty");
        }
    }

    public static void CheckNumber(JsonObject inputs, string name, List<string> problems, double? min = null, double? max = null, bool whole = false, bool exclusiveMin = false)
    {
        var node = inputs[name];
        if (node is null || IsReference(node))
        {
            return;
        }

        if (NumberOf(node) is not { } number)
        {
            problems.Add($"with.{name} must be a number, not {node.ToJsonString()}");
            return;
        }

        if (whole && number != Math.Floor(number))
        {
            problems.Add($"with.{name} must be a whole number, not {F(number)}");
        }

        if ((min is { } low && (exclusiveMin ? number <= low : number < low)) || (max is { } high && number > high))
        {
            problems.Add($"with.{name} must be {(exclusiveMin ? "above" : "at least")} {F(min ?? double.NegativeInfinity)}" + (max is { } top ? $" and at most {F(top)}" : "") + $", not {F(number)}");
        }
    }

    public static void CheckBool(JsonObject inputs, string name, List<string> problems)
    {
        var node = inputs[name];
        if (node is not null && !IsReference(node) && BoolOf(node) is null)
        {
            problems.Add($"with.{name} must be true or false, not {node.ToJsonString()}");
        }
    }

    public static void CheckTextList(JsonObject inputs, string name, List<string> problems)
    {
        var node = inputs[name];
        if (node is null || IsReference(node))
        {
            return;
        }

        if (node is not JsonArray array || array.Any(item => item is not JsonValue value || !value.TryGetValue<string>(out var text) || text.Length == 0))
        {
            problems.Add($"with.{name} must be a list of column names, not {node.ToJsonString()}");
        }
    }

    public static void CheckObject(JsonObject inputs, string name, List<string> problems)
    {
        var node = inputs[name];
        if (node is not null && !IsReference(node) && node is not JsonObject)
        {
            problems.Add($"with.{name} must be an object, not {node.ToJsonString()}");
        }
    }

    public static double? NumberOf(JsonNode? node) => node is JsonValue value
        ? value.TryGetValue<double>(out var number) ? number
        : value.TryGetValue<long>(out var integer) ? integer
        : value.TryGetValue<string>(out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : null
        : null;

    public static bool? BoolOf(JsonNode? node) => node is JsonValue value
        ? value.TryGetValue<bool>(out var flag) ? flag
        : value.TryGetValue<string>(out var text) && bool.TryParse(text, out var parsed) ? parsed
        : null
        : null;

    public static double ReadNumber(StepContext context, string name, double fallback) => context.With[name] switch
    {
        null => fallback,
        var node => NumberOf(node) ?? throw new StepFailedException($"input '{name}' must be a number, not {node.ToJsonString()}"),
    };

    public static int ReadInt(StepContext context, string name, int fallback)
    {
        var number = ReadNumber(context, name, fallback);
        return number == Math.Floor(number) && number is >= int.MinValue and <= int.MaxValue
            ? (int)number
            : throw new StepFailedException($"input '{name}' must be a whole number, not {F(number)}");
    }

    public static bool ReadBool(StepContext context, string name, bool fallback) => context.With[name] switch
    {
        null => fallback,
        var node => BoolOf(node) ?? throw new StepFailedException($"input '{name}' must be true or false, not {node.ToJsonString()}"),
    };

    public static IReadOnlyList<string> ReadTextList(StepContext context, string name) => context.With[name] switch
    {
        null => [],
        JsonArray array when array.All(item => item is JsonValue value && value.TryGetValue<string>(out _)) => array.Select(item => item!.GetValue<string>()).ToList(),
        var node => throw new StepFailedException($"input '{name}' must be a list of column names, not {node.ToJsonString()}"),
    };

    /// <summary>A metrics object (name → number; null for an undefined metric) as a dictionary; a null metric is left out (the gate treats it as missing).</summary>
    public static Dictionary<string, double>? ReadMetrics(JsonNode? node, string name) => node switch
    {
        null => null,
        JsonObject metrics => metrics.Where(pair => pair.Value is not null).ToDictionary(pair => pair.Key,
            pair => NumberOf(pair.Value) ?? throw new StepFailedException($"input '{name}': metric '{pair.Key}' must be a number, not {pair.Value!.ToJsonString()}"), StringComparer.Ordinal),
        _ => throw new StepFailedException($"input '{name}' must be a metrics object (an evaluate step's metrics output), not {node.ToJsonString()}"),
    };

    /// <summary>Metrics as an output object: NaN (undefined on the rows) becomes null.</summary>
    public static JsonObject MetricsObject(IReadOnlyDictionary<string, double> metrics)
    {
        var result = new JsonObject();
        foreach (var (name, value) in metrics.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            result[name] = double.IsFinite(value) ? JsonValue.Create(value) : null;
        }

        return result;
    }

    /// <summary>A file output or URI input copied into the work folder.</summary>
    public static async Task<string> LocalFileAsync(StepContext context, string name, bool required = true)
    {
        var node = context.With[name];
        if (node is null)
        {
            return required ? throw new StepFailedException($"input '{name}' is empty") : "";
        }

        if (node is JsonValue value && value.TryGetValue<string>(out var text) && !text.Contains(":/", StringComparison.Ordinal))
        {
            return File.Exists(text) ? Path.GetFullPath(text) : throw new StepFailedException($"input '{name}': there is no file at {text}");
        }

        return await context.DownloadAsync(node).ConfigureAwait(false);
    }

    public static string F(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
