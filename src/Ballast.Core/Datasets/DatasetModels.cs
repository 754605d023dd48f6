namespace Ballast.Datasets;

/// <summary>One file of a dataset version: its path inside the dataset ('/' separators), size and SHA-256.</summary>
public sealed record DatasetFile(string Path, long Size, string Sha256);

/// <summary>A dataset and its newest version.</summary>
public sealed record DatasetSummary(string Name, long LatestVersion, long VersionCount, long CreatedAt, long UpdatedAt);

/// <summary>
/// One immutable version of a dataset: the manifest of its files, the manifest's digest (equal digests mean equal
/// bytes), and the profile of its tabular files computed when it was added. Times are Unix milliseconds. Listings
/// leave <see cref="Files"/> and <see cref="Profile"/> out (null).
/// </summary>
public sealed record DatasetVersion(
    string Name,
    long Version,
    string Digest,
    string? Message,
    long CreatedAt,
    string? CreatedBy,
    long FileCount,
    long SizeBytes,
    long? RowCount,
    IReadOnlyList<DatasetFile>? Files,
    DatasetProfile? Profile)
{
    public string Reference => $"{Name}@{Version}";
}

/// <summary>The result of adding files: the version they form, and whether it is new or an identical earlier one.</summary>
public sealed record DatasetAddResult(DatasetVersion Version, bool Created);

/// <summary>Profiles of the tabular files (CSV, TSV, Parquet) of a version; other files are only in the manifest.</summary>
public sealed record DatasetProfile(IReadOnlyList<TableProfile> Tables);

/// <summary>The profile of one tabular file, or why it could not be read (<see cref="Error"/>).</summary>
public sealed record TableProfile(string Path, string Format, long Rows, IReadOnlyList<ColumnProfile> Columns, string? Error = null);

/// <summary>
/// One column: its type as read (DuckDB's name for it), its kind (<c>numeric</c>, <c>categorical</c>, <c>boolean</c>,
/// <c>datetime</c> or <c>other</c>), how many values are null, an estimate of the distinct values, and by kind: min,
/// max, mean, standard deviation, quantiles and an equal-width histogram (numeric), earliest and latest
/// (datetime), the most frequent values (categorical and boolean).
/// </summary>
public sealed record ColumnProfile(
    string Name,
    string Type,
    string Kind,
    long Count,
    long Nulls,
    long Distinct,
    double? Min = null,
    double? Max = null,
    double? Mean = null,
    double? Std = null,
    IReadOnlyDictionary<string, double>? Quantiles = null,
    Histogram? Histogram = null,
    string? Earliest = null,
    string? Latest = null,
    IReadOnlyList<ValueCount>? TopValues = null,
    long? OtherCount = null);

/// <summary>Equal-width bins: <c>edges</c> has one more entry than <c>counts</c>; the last bin includes its upper edge.</summary>
public sealed record Histogram(IReadOnlyList<double> Edges, IReadOnlyList<long> Counts);

public sealed record ValueCount(string Value, long Count);

/// <summary>A dataset version named as <c>name@version</c>, <c>name@latest</c> or just <c>name</c> (the latest).</summary>
public sealed record DatasetReference(string Name, long? Version)
{
    public static DatasetReference Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.LastIndexOf('@');
        if (at < 0)
        {
            return new DatasetReference(text, null);
        }

        var name = text[..at];
        var version = text[(at + 1)..];
        if (name.Length == 0)
        {
            throw Tracking.TrackingException.Invalid($"'{text}' names no dataset; write name@version, e.g. churn@3.");
        }

        if (version is "latest" or "")
        {
            return new DatasetReference(name, null);
        }

        return long.TryParse(version, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) && number > 0
            ? new DatasetReference(name, number)
            : throw Tracking.TrackingException.Invalid($"'{version}' in '{text}' is not a version: use a positive number or 'latest'.");
    }

    public override string ToString() => Version is { } version ? $"{Name}@{version}" : $"{Name}@latest";
}
