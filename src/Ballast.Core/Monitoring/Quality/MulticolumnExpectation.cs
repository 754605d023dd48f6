namespace Ballast.Monitoring.Quality;

/// <summary>
/// An expectation over several columns of each row, in the suite's <c>multicolumn</c> list (Great Expectations' multicolumn
/// map expectations): <see cref="SumToEqual"/> is <c>expect_multicolumn_sum_to_equal</c> (the row's values of
/// <see cref="Columns"/> add up to it, exactly) and <see cref="Unique"/> is <c>expect_compound_columns_to_be_unique</c> (no two
/// rows share the combination; every row of a repeated one is unexpected, as pandas' <c>duplicated(keep=False)</c>).
/// <see cref="UniqueWithinRecord"/> is <c>expect_select_column_values_to_be_unique_within_record</c>: no two of the row's
/// values are equal (GE's <c>nunique(dropna=False, axis=1)</c>: two missing values are equal, a missing and a present one
/// are not; present values compare as a column pair's do, as numbers when both read as numbers, else as text, a
/// single-precision value as it was sent). <see cref="IgnoreRowIf"/> is GE's: <c>all_values_are_missing</c> (default), <c>any_value_is_missing</c> or <c>never</c>.
/// In a row not skipped a missing value fails the sum (GE sums with <c>skipna=False</c>) and is a value like any other for
/// uniqueness (rows missing the same column and equal elsewhere repeat the combination). <see cref="Mostly"/> is the
/// expectation's own, over the rows not skipped (GE's <c>filtered_row_count</c>).
/// </summary>
public sealed record MulticolumnExpectation(
    IReadOnlyList<string> Columns,
    double? SumToEqual = null,
    bool? Unique = null,
    string? IgnoreRowIf = null,
    double? Mostly = null,
    bool? UniqueWithinRecord = null)
{
    public const string AllValuesAreMissing = "all_values_are_missing";
    public const string AnyValueIsMissing = "any_value_is_missing";
    public const string Never = "never";

    public static IReadOnlyList<string> IgnoreModes { get; } = [AllValuesAreMissing, AnyValueIsMissing, Never];

    /// <summary>Which rows with missing values are left out (<see cref="IgnoreRowIf"/>, default all_values_are_missing).</summary>
    public string Missing => IgnoreRowIf ?? AllValuesAreMissing;

    /// <summary><see cref="ExpectationKinds.SumToEqual"/>, <see cref="ExpectationKinds.Unique"/> or <see cref="ExpectationKinds.UniqueWithinRecord"/>; null when none is set.</summary>
    public string? Kind => SumToEqual is not null ? ExpectationKinds.SumToEqual
        : Unique == true ? ExpectationKinds.Unique
        : UniqueWithinRecord == true ? ExpectationKinds.UniqueWithinRecord
        : null;

    /// <summary>The columns joined by <c>+</c>: the result's column (<c>a+b+c</c>), so the window metric <c>quality.a+b+c.sum_to_equal</c> and the header's <c>a+b+c.sum_to_equal</c>.</summary>
    public string Name => string.Join("+", Columns);

    /// <summary>Whether a row with <paramref name="missing"/> of its <paramref name="count"/> values missing is left out.</summary>
    public static bool Skips(string mode, int missing, int count) => mode switch
    {
        AnyValueIsMissing => missing > 0,
        Never => false,
        _ => missing == count,
    };

    internal void Validate(string path, List<string> problems, bool misread)
    {
        if (Columns.Count < 2 && !misread)
        {
            problems.Add($"{path}.columns: list at least two columns");
        }

        foreach (var column in Columns.Where(column => column.Length == 0))
        {
            problems.Add($"{path}.columns: a column name cannot be empty");
        }

        foreach (var column in Columns.GroupBy(column => column, StringComparer.Ordinal).Where(group => group.Count() > 1))
        {
            problems.Add($"{path}.columns: '{column.Key}' appears twice");
        }

        if (new[] { SumToEqual is not null, Unique == true, UniqueWithinRecord == true }.Count(set => set) > 1)
        {
            problems.Add($"{path}: give one of sum_to_equal, unique or unique_within_record per entry (write an entry for each)");
        }
        else if (Kind is null && !misread)
        {
            problems.Add($"{path}: no expectation (give sum_to_equal: NUMBER, unique: true or unique_within_record: true)");
        }

        if (SumToEqual is { } total && !double.IsFinite(total))
        {
            problems.Add($"{path}.sum_to_equal: must be a finite number");
        }

        if (IgnoreRowIf is { } mode && !IgnoreModes.Contains(mode))
        {
            problems.Add($"{path}.ignore_row_if: '{mode}' is not one of {string.Join(", ", IgnoreModes)}");
        }

        if (Mostly is { } mostly && !(mostly >= 0 && mostly <= 1))
        {
            problems.Add($"{path}.mostly: {mostly} must be between 0 and 1");
        }
    }
}
