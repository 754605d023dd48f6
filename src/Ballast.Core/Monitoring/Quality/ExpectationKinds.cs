namespace Ballast.Monitoring.Quality;

/// <summary>The expectation kinds as they are named in suites, results, headers and metric labels.</summary>
public static class ExpectationKinds
{
    /// <summary>Reported (batch only) when the data has no column the suite names; its other expectations are not checked.</summary>
    public const string Exists = "exists";
    public const string Type = "type";
    public const string Required = "required";
    public const string Min = "min";
    public const string Max = "max";
    public const string Allowed = "allowed";
    public const string MaxNullRate = "max_null_rate";
    public const string Unique = "unique";
    public const string Regex = "regex";

    /// <summary>Column pairs, row by row: the column's value is greater than the named column's (Great Expectations' <c>expect_column_pair_values_A_to_be_greater_than_B</c>).</summary>
    public const string GreaterThan = "greater_than";

    /// <summary>The same with <c>or_equal=True</c>.</summary>
    public const string GreaterOrEqual = "greater_or_equal";

    /// <summary>The column's value equals the named column's (<c>expect_column_pair_values_to_be_equal</c>).</summary>
    public const string EqualTo = "equal_to";

    /// <summary>
    /// A multicolumn expectation (the suite's <c>multicolumn</c> list): the row's values of its columns add up to a number
    /// (Great Expectations' <c>expect_multicolumn_sum_to_equal</c>). Its compound uniqueness is reported as <see cref="Unique"/>.
    /// </summary>
    public const string SumToEqual = "sum_to_equal";

    /// <summary>
    /// A multicolumn expectation: no two of the row's values of its columns are equal (Great Expectations'
    /// <c>expect_select_column_values_to_be_unique_within_record</c>); row by row, so also at serving.
    /// </summary>
    public const string UniqueWithinRecord = "unique_within_record";

    /// <summary>The table's (window's) row count within the suite's <c>rows</c> bounds (<c>expect_table_row_count_to_be_between</c>); it has no column.</summary>
    public const string RowCount = "row_count";

    /// <summary>The mean of the column's present values within bounds (Great Expectations' <c>expect_column_mean_to_be_between</c>).</summary>
    public const string Mean = "mean";

    /// <summary>The median of the present values, the mean of the two middle ones for an even count (<c>expect_column_median_to_be_between</c>).</summary>
    public const string Median = "median";

    /// <summary>The sample standard deviation (ddof = 1) of the present values (<c>expect_column_stdev_to_be_between</c>).</summary>
    public const string Stdev = "stdev";

    /// <summary>The sum of the present values (<c>expect_column_sum_to_be_between</c>).</summary>
    public const string Sum = "sum";

    /// <summary>Distinct present values over present values (<c>expect_column_proportion_of_unique_values_to_be_between</c>).</summary>
    public const string UniqueProportion = "unique_proportion";

    /// <summary>The number of distinct present values (<c>expect_column_unique_value_count_to_be_between</c>).</summary>
    public const string DistinctCount = "distinct_count";

    /// <summary>Given quantiles of the present values each within its range (<c>expect_column_quantile_values_to_be_between</c>).</summary>
    public const string Quantiles = "quantiles";

    /// <summary>The most common present value (every value tied for it) is in a set (<c>expect_column_most_common_value_to_be_in_set</c>).</summary>
    public const string MostCommonValue = "most_common_value";

    /// <summary>A column's kinds, in the order results list them.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Type, Required, Min, Max, Allowed, MaxNullRate, Unique, Regex, GreaterThan, GreaterOrEqual, EqualTo, Mean, Median, Stdev, Sum, UniqueProportion, DistinctCount, Quantiles, MostCommonValue];

    /// <summary>
    /// The column aggregates with bounds (<c>{min, max, strict_min, strict_max}</c>), in <see cref="All"/> order; with
    /// <see cref="Quantiles"/> they judge the column as a whole (Great Expectations' column aggregate expectations).
    /// </summary>
    public static IReadOnlyList<string> Bounded { get; } = [Mean, Median, Stdev, Sum, UniqueProportion, DistinctCount];

    /// <summary>Kinds that measure one value of the whole column (or table) and hold when it is within bounds: no row is unexpected.</summary>
    public static bool IsAggregate(string kind) => kind is RowCount or Quantiles or MostCommonValue || Bounded.Contains(kind);

    /// <summary>Aggregates of numbers: the column must hold numbers (not text, booleans or dates).</summary>
    public static bool IsNumericAggregate(string kind) => kind is Mean or Median or Stdev or Sum or Quantiles;

    /// <summary>Kinds that need more than one row; serving checks each row alone and refuses them.</summary>
    public static bool IsBatchOnly(string kind) => kind is MaxNullRate or Unique || IsAggregate(kind);

    /// <summary>
    /// Kinds a column's <c>mostly</c> relaxes: Great Expectations' column map and column pair map expectations, judged
    /// row by row over the rows they check. Not <see cref="Required"/> (it takes only a mostly of its own,
    /// <see cref="TakesOwnMostly"/>; <see cref="MaxNullRate"/> is the share of missing values allowed) nor the table's
    /// <see cref="RowCount"/>.
    /// </summary>
    public static bool TakesMostly(string kind) => kind is Type or Min or Max or Allowed or Unique or Regex or SumToEqual || IsPair(kind);

    /// <summary>
    /// Kinds that may have a <c>mostly</c> of their own (<c>KIND: {value: V, mostly: M}</c>): those of
    /// <see cref="TakesMostly"/>, and <see cref="Required"/> (Great Expectations' <c>expect_column_values_to_not_be_null</c>
    /// with <c>mostly</c>, over all rows), which the column's <c>mostly</c> does not relax.
    /// </summary>
    public static bool TakesOwnMostly(string kind) => TakesMostly(kind) || kind is Required;

    /// <summary>Kinds that compare a column with another column of the same row.</summary>
    public static bool IsPair(string kind) => kind is GreaterThan or GreaterOrEqual or EqualTo;

    /// <summary>The pair kinds, in <see cref="All"/> order.</summary>
    public static IReadOnlyList<string> Pairs { get; } = [GreaterThan, GreaterOrEqual, EqualTo];

    /// <summary>
    /// How results, headers and metrics name one pair of a pair kind written as a list of other columns:
    /// <c>greater_than[signup]</c> (so <c>quality.checkout.greater_than[signup]</c>). A kind written with one column is
    /// named by the kind alone, as before. The name ends in <c>]</c>, so it cannot be another expectation's (those end in
    /// their kind).
    /// </summary>
    public static string Pair(string kind, string other) => $"{kind}[{other}]";
}
