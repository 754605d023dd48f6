using System.Globalization;

namespace Ballast.Monitoring;

/// <summary>Window and reference cells as the hooks compare them.</summary>
internal static class WindowValues
{
    /// <summary>A cell as a label: numbers in their shortest invariant form (1, not 1.0), text as it is, missing as null.</summary>
    public static string? Text(object? value) => value switch
    {
        null => null,
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    /// <summary>A cell as a number, or null when it is missing or not a number.</summary>
    public static double? Number(object? value) => value switch
    {
        double number when double.IsFinite(number) => number,
        string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed) => parsed,
        _ => null,
    };

    /// <summary>
    /// The column holding the probability of the positive class: <paramref name="name"/> itself when it is a column,
    /// else <c>name[1]</c> of a two-column output (the second class's probability, as ONNX and scikit-learn order them).
    /// </summary>
    public static string? ProbabilityColumn(IReadOnlyDictionary<string, List<object?>> outputs, string name)
    {
        if (outputs.ContainsKey(name))
        {
            return name;
        }

        var columns = outputs.Keys.Count(key => key.StartsWith(name + "[", StringComparison.Ordinal));
        return columns == 2 && outputs.ContainsKey(Column(name, 1)) ? Column(name, 1) : null;
    }

    /// <summary>The column <paramref name="index"/> of an [N, k] output <paramref name="name"/>, as a window names it: <c>NAME[index]</c>.</summary>
    public static string Column(string name, int index) => $"{name}[{index.ToString(CultureInfo.InvariantCulture)}]";
}
