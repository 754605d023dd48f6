using Ballast.Statistics.Drift;

namespace Ballast.Monitoring;

/// <summary>
/// What to compare and how: methods for every column they apply to (<see cref="Methods"/>, e.g. ks and chisquare) or
/// for named columns (<see cref="ColumnMethods"/>), thresholds likewise, and columns forced to a type. Anything not
/// given is Evidently's default. <see cref="Validate"/> names every problem at once.
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

    /// <summary>DuckDB's memory limit while reading; it spills to disk beyond it.</summary>
    public int MemoryLimitMegabytes { get; init; } = 512;

    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Every problem with the options (unknown methods, a method given twice for one column type, bad thresholds), or none.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        var byType = new Dictionary<FeatureType, string>();
        foreach (var name in Methods)
        {
            if (DriftMethods.Find(name) is not { } method)
            {
                problems.Add(UnknownMethod(name));
                continue;
            }

            foreach (var type in new[] { FeatureType.Numerical, FeatureType.Categorical })
            {
                if (method.AppliesTo(type) && !byType.TryAdd(type, method.Name))
                {
                    problems.Add($"methods '{byType[type]}' and '{method.Name}' both apply to {type.ToString().ToLowerInvariant()} columns; give one, or name columns with COLUMN=METHOD");
                }
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

        foreach (var column in Categorical.Intersect(Numerical, StringComparer.Ordinal))
        {
            problems.Add($"column '{column}' is given as both categorical and numerical");
        }

        if (!(DatasetDriftShare > 0 && DatasetDriftShare <= 1))
        {
            problems.Add($"the dataset drift share must be in (0, 1] (got {DatasetDriftShare})");
        }

        return problems;
    }

    /// <summary>The method for a column: its own, else a general one that applies to its type, else Evidently's automatic choice.</summary>
    public DriftMethod? ChosenMethod(string column, FeatureType type)
    {
        if (ColumnMethods.TryGetValue(column, out var name))
        {
            return DriftMethods.Find(name);
        }

        return Methods.Select(DriftMethods.Find).FirstOrDefault(method => method is not null && method.AppliesTo(type));
    }

    public double? ThresholdFor(string column) => ColumnThresholds.TryGetValue(column, out var threshold) ? threshold : Threshold;

    private static string UnknownMethod(string name) =>
        $"unknown drift method '{name}' (known: {string.Join(", ", DriftMethods.All.Select(method => method.Name))})";
}
