namespace Ballast.Statistics.Performance;

/// <summary>
/// One sensitive group's rates: selection rate P(ŷ = 1), true positive rate P(ŷ = 1 | y = 1) and false positive
/// rate P(ŷ = 1 | y = 0). A rate is null when its denominator is empty (no actual positives, or no actual negatives).
/// </summary>
public sealed record GroupRates(string Group, int Count, int ActualPositives, int ActualNegatives, double SelectionRate, double? TruePositiveRate, double? FalsePositiveRate);

/// <summary>
/// fairlearn's disparity metrics over the groups: differences are the largest minus the smallest group rate
/// (<c>method="between_groups"</c>), ratios the smallest over the largest. Equalized odds takes the worse of the TPR and
/// FPR disparities (<c>agg="worst_case"</c>). Groups whose TPR (or FPR) is undefined are left out of that
/// disparity; they are listed in <see cref="Groups"/> with a null rate.
/// </summary>
public sealed record FairnessReport(
    IReadOnlyList<GroupRates> Groups,
    double DemographicParityDifference,
    double DemographicParityRatio,
    double EqualOpportunityDifference,
    double EqualizedOddsDifference,
    double EqualizedOddsRatio);

/// <summary>
/// Group fairness of a binary classifier's decisions, with fairlearn's definitions
/// (<c>fairlearn.metrics.demographic_parity_difference</c>, <c>demographic_parity_ratio</c>,
/// <c>equalized_odds_difference</c>, <c>equalized_odds_ratio</c>, and the TPR difference that fairlearn's user guide
/// calls equal opportunity). A ratio of 0 over 0 (no group selected at all) is 1: the groups are equal. fairlearn
/// returns NaN there.
/// </summary>
public static class Fairness
{
    public static FairnessReport Assess(ReadOnlySpan<bool> actual, ReadOnlySpan<bool> predicted, IReadOnlyList<string> groups)
    {
        var rates = ByGroup(actual, predicted, groups);
        var selection = rates.Select(r => r.SelectionRate).ToArray();
        var tpr = rates.Where(r => r.TruePositiveRate.HasValue).Select(r => r.TruePositiveRate!.Value).ToArray();
        var fpr = rates.Where(r => r.FalsePositiveRate.HasValue).Select(r => r.FalsePositiveRate!.Value).ToArray();
        var tprDifference = Difference(tpr);
        var fprDifference = Difference(fpr);
        return new FairnessReport(
            rates,
            Difference(selection),
            Ratio(selection),
            tprDifference,
            Math.Max(tprDifference, fprDifference),
            Math.Min(Ratio(tpr), Ratio(fpr)));
    }

    /// <summary>Each group's rates, groups in ordinal order of their names (fairlearn sorts them too).</summary>
    public static GroupRates[] ByGroup(ReadOnlySpan<bool> actual, ReadOnlySpan<bool> predicted, IReadOnlyList<string> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (actual.Length != predicted.Length || actual.Length != groups.Count)
        {
            throw new ArgumentException($"give one actual label, one prediction and one group per row: there are {actual.Length} labels, {predicted.Length} predictions and {groups.Count} groups.");
        }

        if (actual.Length == 0)
        {
            throw new ArgumentException("there are no rows; fairness needs at least one prediction per group.");
        }

        var counts = new SortedDictionary<string, int[]>(StringComparer.Ordinal); // n, selected, positives, true positives, negatives, false positives
        for (var i = 0; i < actual.Length; i++)
        {
            var group = groups[i] ?? throw new ArgumentException($"row {i} has no group; every row needs its sensitive group.");
            if (!counts.TryGetValue(group, out var c))
            {
                counts[group] = c = new int[6];
            }

            c[0]++;
            c[1] += predicted[i] ? 1 : 0;
            if (actual[i])
            {
                c[2]++;
                c[3] += predicted[i] ? 1 : 0;
            }
            else
            {
                c[4]++;
                c[5] += predicted[i] ? 1 : 0;
            }
        }

        return [.. counts.Select(kv => new GroupRates(
            kv.Key,
            kv.Value[0],
            kv.Value[2],
            kv.Value[4],
            (double)kv.Value[1] / kv.Value[0],
            kv.Value[2] > 0 ? (double)kv.Value[3] / kv.Value[2] : null,
            kv.Value[4] > 0 ? (double)kv.Value[5] / kv.Value[4] : null))];
    }

    /// <summary>Largest minus smallest selection rate; 0 is parity.</summary>
    public static double DemographicParityDifference(ReadOnlySpan<bool> actual, ReadOnlySpan<bool> predicted, IReadOnlyList<string> groups) =>
        Assess(actual, predicted, groups).DemographicParityDifference;

    /// <summary>Smallest over largest selection rate; 1 is parity.</summary>
    public static double DemographicParityRatio(ReadOnlySpan<bool> actual, ReadOnlySpan<bool> predicted, IReadOnlyList<string> groups) =>
        Assess(actual, predicted, groups).DemographicParityRatio;

    /// <summary>Largest minus smallest true positive rate.</summary>
    public static double EqualOpportunityDifference(ReadOnlySpan<bool> actual, ReadOnlySpan<bool> predicted, IReadOnlyList<string> groups) =>
        Assess(actual, predicted, groups).EqualOpportunityDifference;

    /// <summary>The larger of the TPR and the FPR differences.</summary>
    public static double EqualizedOddsDifference(ReadOnlySpan<bool> actual, ReadOnlySpan<bool> predicted, IReadOnlyList<string> groups) =>
        Assess(actual, predicted, groups).EqualizedOddsDifference;

    private static double Difference(double[] rates) => rates.Length == 0 ? 0 : rates.Max() - rates.Min();

    private static double Ratio(double[] rates)
    {
        if (rates.Length == 0)
        {
            return 1;
        }

        var max = rates.Max();
        return max == 0 ? 1 : rates.Min() / max;
    }
}
