namespace Ballast.Statistics.Drift;

/// <summary>
/// What the drift methods read about one column: the counts of non-missing values always, and the rest when a method
/// needs it (<see cref="DriftInputs"/>). Build it from raw values with <see cref="FromNumbers"/> or
/// <see cref="FromCategories"/>, or fill it from a database's aggregates.
/// </summary>
public sealed class DriftColumn
{
    public required string Name { get; init; }

    public required FeatureType Type { get; init; }

    /// <summary>Non-missing reference values.</summary>
    public required long ReferenceCount { get; init; }

    /// <summary>Non-missing current values.</summary>
    public required long CurrentCount { get; init; }

    /// <summary>Distinct non-missing reference values.</summary>
    public required long ReferenceDistinct { get; init; }

    /// <summary>Distinct non-missing values over both samples, or null when only known to exceed <see cref="DriftDefaults.BinnedAbove"/>.</summary>
    public long? Distinct { get; init; }

    /// <summary>Every non-missing reference number, ascending.</summary>
    public double[]? ReferenceValues { get; init; }

    /// <summary>Every non-missing current number, ascending.</summary>
    public double[]? CurrentValues { get; init; }

    /// <summary>
    /// The walk over both samples' sorted values, for the methods that read sorted values when the values themselves
    /// are not held (<see cref="ReferenceValues"/> null): what a database streams for columns of any size.
    /// </summary>
    public EmpiricalCdfScan? Scan { get; init; }

    public SampleSummary? ReferenceSummary { get; init; }

    public SampleSummary? CurrentSummary { get; init; }

    public CategoryCounts? Categories { get; init; }

    /// <summary>Sturges bins over both samples (numerical columns).</summary>
    public BinnedCounts? Histogram { get; init; }

    /// <summary>Sturges bins across the distinct values of both samples (Hellinger on numbers).</summary>
    public BinnedCounts? DistinctHistogram { get; init; }

    /// <summary>Whether PSI and Jensen–Shannon bin this column (numerical with more than 20 distinct reference values) or compare it value by value.</summary>
    public bool UsesBins => Type == FeatureType.Numerical && ReferenceDistinct > DriftDefaults.BinnedAbove;

    /// <summary>Every input of every method, from raw numbers (NaN and infinities are missing values and left out).</summary>
    public static DriftColumn FromNumbers(string name, ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        var referenceValues = Finite(reference);
        var currentValues = Finite(current);
        if (referenceValues.Length == 0 || currentValues.Length == 0)
        {
            throw new ArgumentException($"column '{name}' has no values in the {(referenceValues.Length == 0 ? "reference" : "current")} data.");
        }

        var (min, max) = (Math.Min(referenceValues[0], currentValues[0]), Math.Max(referenceValues[^1], currentValues[^1]));
        var categories = NumberCategories(referenceValues, currentValues);
        return new DriftColumn
        {
            Name = name,
            Type = FeatureType.Numerical,
            ReferenceCount = referenceValues.Length,
            CurrentCount = currentValues.Length,
            ReferenceDistinct = CountDistinct(referenceValues),
            Distinct = categories.Count,
            ReferenceValues = referenceValues,
            CurrentValues = currentValues,
            ReferenceSummary = SampleSummary.FromValues(referenceValues),
            CurrentSummary = SampleSummary.FromValues(currentValues),
            Categories = categories,
            Histogram = BinnedCounts.OfSorted(HistogramBins.Sturges(min, max, referenceValues.Length + currentValues.Length), referenceValues, currentValues),
            DistinctHistogram = BinnedCounts.OfSorted(HistogramBins.Sturges(min, max, categories.Count), referenceValues, currentValues),
        };
    }

    /// <summary>Every input of the categorical methods, from raw values (null is a missing value and left out).</summary>
    public static DriftColumn FromCategories(string name, IEnumerable<string?> reference, IEnumerable<string?> current)
    {
        var categories = CategoryCounts.Of(reference, current);
        var referenceCount = (long)categories.Reference.Sum();
        var currentCount = (long)categories.Current.Sum();
        if (referenceCount == 0 || currentCount == 0)
        {
            throw new ArgumentException($"column '{name}' has no values in the {(referenceCount == 0 ? "reference" : "current")} data.");
        }

        return new DriftColumn
        {
            Name = name,
            Type = FeatureType.Categorical,
            ReferenceCount = referenceCount,
            CurrentCount = currentCount,
            ReferenceDistinct = categories.Reference.Count(count => count > 0),
            Distinct = categories.Count,
            Categories = categories,
        };
    }

    /// <summary>Counts per distinct number of two sorted samples, keys in numeric order.</summary>
    public static CategoryCounts NumberCategories(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent)
    {
        var keys = new List<string>();
        var (reference, current) = (new List<double>(), new List<double>());
        int i = 0, j = 0;
        while (i < sortedReference.Length || j < sortedCurrent.Length)
        {
            var x = j >= sortedCurrent.Length || (i < sortedReference.Length && sortedReference[i] <= sortedCurrent[j]) ? sortedReference[i] : sortedCurrent[j];
            var (startI, startJ) = (i, j);
            while (i < sortedReference.Length && sortedReference[i] == x)
            {
                i++;
            }

            while (j < sortedCurrent.Length && sortedCurrent[j] == x)
            {
                j++;
            }

            keys.Add(x.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            reference.Add(i - startI);
            current.Add(j - startJ);
        }

        return new CategoryCounts(keys, [.. reference], [.. current]);
    }

    private static double[] Finite(ReadOnlySpan<double> values)
    {
        var finite = new List<double>(values.Length);
        foreach (var value in values)
        {
            if (double.IsFinite(value))
            {
                finite.Add(value);
            }
        }

        var sorted = finite.ToArray();
        Array.Sort(sorted);
        return sorted;
    }

    private static long CountDistinct(ReadOnlySpan<double> sorted)
    {
        long distinct = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            if (i == 0 || sorted[i] != sorted[i - 1])
            {
                distinct++;
            }
        }

        return distinct;
    }
}
