namespace Ballast.Monitoring.Quality;

/// <summary>
/// One pair expectation of a column: its <see cref="Kind"/> (greater_than, greater_or_equal, equal_to), the
/// <see cref="Other"/> column, and whether the kind was written as a list of other columns (<see cref="Listed"/>), which
/// decides its name: the kind alone for a single column (<c>greater_than</c>), else one per other column
/// (<c>greater_than[signup]</c>, <see cref="ExpectationKinds.Pair"/>). <see cref="Shift"/>, when set, compares the column
/// with <c>ratio · other + offset</c> instead of the other column itself (numbers only).
/// </summary>
public readonly record struct ColumnPair(string Kind, string Other, bool Listed, PairShift? Shift = null)
{
    /// <summary>The expectation's name in results, headers, metric labels and window metrics.</summary>
    public string Expectation => Listed ? ExpectationKinds.Pair(Kind, Other) : Kind;
}
