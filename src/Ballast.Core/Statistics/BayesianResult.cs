namespace Ballast.Statistics;

/// <summary>
/// The posterior view of a treatment against its control. <see cref="ChanceToWin"/> is P(treatment better);
/// <see cref="ExpectedLossControl"/> is E[max(treatment − control, 0)], what is given up on average by keeping the
/// control, and <see cref="ExpectedLossTreatment"/> is E[max(control − treatment, 0)], by shipping the treatment
/// (GrowthBook's <c>risk</c> pair). Ship when the treatment's expected loss is below what you can tolerate.
/// </summary>
public sealed record BayesianResult(double ChanceToWin, double ExpectedLossControl, double ExpectedLossTreatment);

/// <summary>
/// A normal posterior on the effect: its mean and standard deviation, a (1 − α) credible interval, and the
/// chance to win and expected losses on the effect's scale (relative or absolute).
/// </summary>
public sealed record BayesianEffectResult(
    DifferenceType Type,
    double Expected,
    double StandardDeviation,
    double Lower,
    double Upper,
    double ChanceToWin,
    double ExpectedLossControl,
    double ExpectedLossTreatment);
