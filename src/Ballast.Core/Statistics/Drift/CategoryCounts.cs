namespace Ballast.Statistics.Drift;

/// <summary>Counts per distinct value over the union of both samples, aligned: <c>Reference[i]</c> and <c>Current[i]</c> count <c>Keys[i]</c>.</summary>
public sealed record CategoryCounts(IReadOnlyList<string> Keys, double[] Reference, double[] Current)
{
    public int Count => Keys.Count;

    /// <summary>Counts raw values (missing ones, null, skipped), keys in ordinal order.</summary>
    public static CategoryCounts Of(IEnumerable<string?> reference, IEnumerable<string?> current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        var counts = new SortedDictionary<string, (double Reference, double Current)>(StringComparer.Ordinal);
        foreach (var value in reference)
        {
            if (value is not null)
            {
                var entry = counts.GetValueOrDefault(value);
                counts[value] = (entry.Reference + 1, entry.Current);
            }
        }

        foreach (var value in current)
        {
            if (value is not null)
            {
                var entry = counts.GetValueOrDefault(value);
                counts[value] = (entry.Reference, entry.Current + 1);
            }
        }

        return new CategoryCounts([.. counts.Keys], [.. counts.Values.Select(entry => entry.Reference)], [.. counts.Values.Select(entry => entry.Current)]);
    }
}
