namespace Ballast.Monitoring.Quality;

/// <summary>
/// Which rows a column-pair expectation skips for missing values, named and defaulted as Great Expectations'
/// <c>ignore_row_if</c>: a row that is not skipped and has a missing value on either side fails.
/// </summary>
public static class IgnoreRowIf
{
    /// <summary>The default: skip a row only when both values are missing.</summary>
    public const string BothValuesAreMissing = "both_values_are_missing";

    /// <summary>Skip a row when either value is missing (compare present pairs only).</summary>
    public const string EitherValueIsMissing = "either_value_is_missing";

    /// <summary>Skip no row: a missing value on either side fails.</summary>
    public const string Neither = "neither";

    public static IReadOnlyList<string> All { get; } = [BothValuesAreMissing, EitherValueIsMissing, Neither];

    /// <summary>Whether a row with these missing flags is left out of the pair's check.</summary>
    public static bool Skips(string mode, bool missing, bool otherMissing) => mode switch
    {
        EitherValueIsMissing => missing || otherMissing,
        Neither => false,
        _ => missing && otherMissing,
    };
}
