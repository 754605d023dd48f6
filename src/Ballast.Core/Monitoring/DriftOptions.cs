using Ballast.Statistics.Drift;

namespace Ballast.Monitoring;

/// <summary>
/// What to compare and how: methods for every column they apply to (<see cref="Methods"/>, e.g. psi, ks and
/// chisquare: a column gets every one that applies to its type, in the order given, and the first is the one its
/// verdict in <see cref="DriftResult.Features"/> follows) or one method for a named column (<see cref="ColumnMethods"/>),
/// thresholds likewise (a column's threshold is its first method's), and columns forced to a type. Anything not given
/// is Evidently's default. <see cref="Validate"/> names every problem at once.
/// </summary>
public sealed record DriftOptions
{
    public IReadOnlyList<string> Methods { get; init; } = [];

    public IReadOnlyDictionary<string, string> ColumnMethods { get; init; } = new Dictionary<string, string>();

    public double? Threshold { get; init; }

    public IReadOnlyDictionary<string, double> ColumnThresholds { get; init; } = new Dictionary<string, double>();

    public IReadOnlyList<string> Categorical { get; init; } = [];

    public IReadOnlyList<string> Numerical { get; init; } = [];

    /// <summary>The share of drifted columns at which the dataset drifts.</summary>
    public double DatasetDriftShare { get; init; } = DriftDefaults.DatasetDriftShare;

    /// <summary>The smallest memory limit accepted: below it DuckDB cannot hold a sort's working set for a wide file.</summary>
    public const int MinimumMemoryLimitMegabytes = 64;

    /// <summary>DuckDB's memory limit while reading; it spills sorts and aggregates to disk beyond it, so it bounds memory for any number of rows.</summary>
    public int MemoryLimitMegabytes { get; init; } = 512;

    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// The most values of a column DuckDB sorts at once for the methods over sorted values: a larger column is sorted
    /// in value ranges of about this many, one after another. Derived from the memory limit unless set (tests set it
    /// to force ranges): a quarter of it at <see cref="SortBytesPerRow"/> a value, 2,097,152 values at the default
    /// 512 MB. A constant, not a share of the rows, so a column of any length is sorted in pieces of the same size and
    /// the process's peak memory does not grow with the rows (bench/results/drift.md).
    /// </summary>
    internal long? SortRangeRows { get; init; }

    /// <summary>DuckDB's sort of (value, side) adds 35-40 bytes a row to the process (measured at 1-3 M rows); the rest is headroom.</summary>
    internal const int SortBytesPerRow = 64;

    /// <summary>
    /// One sort takes at most 1/this of the memory limit. The whole limit for one sort let memory grow with the rows
    /// until the ranges reached 8.4 M values (262 MiB at 10 M rows against 181 MiB at 1 M, 428 MiB at 30 M); a quarter
    /// keeps every sort (75 MiB or so at 2 M values) mostly within memory the aggregate passes over 20 columns held and
    /// freed before, so the peak stays about that of a million rows, and leaves the rest of the limit to DuckDB's readers
    /// and the grouped queries.
    /// </summary>
    internal const int SortShareOfLimit = 4;

    internal long RowsPerSortRange => SortRangeRows ?? Math.Max(100_000, MemoryLimitMegabytes * 1024L * 1024 / SortShareOfLimit / SortBytesPerRow);

    /// <summary>Every problem with the options (unknown methods, a method given twice, bad thresholds), or none.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in Methods)
        {
            if (DriftMethods.Find(name) is not { } method)
            {
                problems.Add(UnknownMethod(name));
            }
            else if (!seen.Add(method.Name))
            {
                problems.Add($"method '{method.Name}' is given twice");
            }
        }

        foreach (var (column, name) in ColumnMethods)
        {
            if (DriftMethods.Find(name) is null)
            {
                problems.Add($"column '{column}': {UnknownMethod(name)}");
            }
        }

        if (Threshold is { } threshold && !(threshold >= 0 && double.IsFinite(threshold)))
        {
            problems.Add($"the threshold must be a finite number, 0 or more (got {threshold})");
        }

        foreach (var (column, value) in ColumnThresholds)
        {
            if (!(value >= 0 && double.IsFinite(value)))
            {
                problems.Add($"column '{column}': the threshold must be a finite number, 0 or more (got {value})");
            }
        }

        // A p-value is at most 1, so a test's threshold above 1 flags every column: refused where the method is known here
        // (the automatic choice is checked per column when the data is read, DriftTableReader).
        var general = Methods.Select(DriftMethods.Find).ToList();
        if (Threshold is > 1 and var above && double.IsFinite(above) && general.Count > 0 && general.All(method => method?.Kind == DriftScoreKind.PValue))
        {
            problems.Add(AboveOne(null, string.Join(", ", Methods), above));
        }

        foreach (var (column, value) in ColumnThresholds)
        {
            if (value > 1 && double.IsFinite(value) && ColumnMethods.TryGetValue(column, out var own) && DriftMethods.Find(own) is { Kind: DriftScoreKind.PValue } test)
            {
                problems.Add(AboveOne(column, test.Name, value));
            }
        }

        foreach (var column in Categorical.Intersect(Numerical, StringComparer.Ordinal))
        {
            problems.Add($"column '{column}' is given as both categorical and numerical");
        }

        if (MemoryLimitMegabytes < MinimumMemoryLimitMegabytes)
        {
            problems.Add($"the memory limit must be at least {MinimumMemoryLimitMegabytes} MB (got {MemoryLimitMegabytes})");
        }

        if (!(DatasetDriftShare > 0 && DatasetDriftShare <= 1))
        {
            problems.Add($"the dataset drift share must be in (0, 1] (got {DatasetDriftShare})");
        }

        return problems;
    }

    /// <summary>The first of <see cref="ChosenMethods"/>, or null for Evidently's automatic choice.</summary>
    public DriftMethod? ChosenMethod(string column, FeatureType type) => ChosenMethods(column, type) is { Count: > 0 } methods ? methods[0] : null;

    /// <summary>
    /// The methods for a column: its own, else every general one that applies to its type in the order given, else
    /// none (Evidently's automatic choice).
    /// </summary>
    public IReadOnlyList<DriftMethod> ChosenMethods(string column, FeatureType type)
    {
        if (ColumnMethods.TryGetValue(column, out var name))
        {
            return DriftMethods.Find(name) is { } own ? [own] : [];
        }

        return Methods.Select(DriftMethods.Find).OfType<DriftMethod>().Where(method => method.AppliesTo(type)).DistinctBy(method => method.Name).ToList();
    }

    public double? ThresholdFor(string column) => ColumnThresholds.TryGetValue(column, out var threshold) ? threshold : Threshold;

    /// <summary>The problem of a test's threshold above 1 (its score is a p-value, so every column would drift).</summary>
    internal static string AboveOne(string? column, string method, double threshold) =>
        $"{(column is null ? "" : $"column '{column}': ")}the threshold {threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)} is above 1, but {method} " +
        "gives a p-value (at most 1), so every column would drift; give a threshold between 0 and 1 (drift when p < threshold)";

    private static string UnknownMethod(string name) =>
        $"unknown drift method '{name}' (known: {string.Join(", ", DriftMethods.All.Select(method => method.Name))})";
}
