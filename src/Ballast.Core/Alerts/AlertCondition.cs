namespace Ballast.Alerts;

/// <summary>The comparison of a rule: <c>value OPERATOR threshold</c>.</summary>
public static class AlertCondition
{
    public static IReadOnlyList<string> Operators { get; } = [">", ">=", "<", "<=", "==", "!="];

    /// <summary>Whether the condition holds; a NaN value never holds (except for <c>!=</c>, as IEEE comparison says).</summary>
    public static bool Holds(double value, string op, double threshold) => op switch
    {
        ">" => value > threshold,
        ">=" => value >= threshold,
        "<" => value < threshold,
        "<=" => value <= threshold,
        "==" => value == threshold,
        "!=" => value != threshold,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not an alert operator"),
    };
}
