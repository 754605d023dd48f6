namespace Ballast.Statistics;

/// <summary>
/// The treatment effect (relative lift or absolute difference) with its standard error, a two-sided confidence
/// interval and a p-value; for the sequential test the interval is a confidence sequence, valid at every look.
/// </summary>
public sealed record EffectResult(
    DifferenceType Type,
    double Estimate,
    double StandardError,
    double Lower,
    double Upper,
    double PValue)
{
    /// <summary>The interval excludes 0.</summary>
    public bool IsSignificant => Lower > 0 || Upper < 0;
}
