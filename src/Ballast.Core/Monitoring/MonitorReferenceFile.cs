using Ballast.Datasets;
using Ballast.Tracking;

namespace Ballast.Monitoring;

/// <summary>Which table of a dataset version a monitor compares with: the named file, or the version's only CSV, TSV or Parquet file.</summary>
public static class MonitorReferenceFile
{
    public static DatasetFile Choose(DatasetVersion version, string? file)
    {
        ArgumentNullException.ThrowIfNull(version);
        var tables = (version.Files ?? []).Where(candidate => DatasetProfiler.FormatOf(candidate.Path) is not null).ToList();
        if (file is not null)
        {
            return tables.FirstOrDefault(candidate => candidate.Path == file)
                ?? throw TrackingException.NotFound($"Dataset {version.Reference} has no table '{file}' (tables: {string.Join(", ", tables.Select(table => table.Path))}).");
        }

        return tables.Count == 1
            ? tables[0]
            : throw TrackingException.NotFound(tables.Count == 0
                ? $"Dataset {version.Reference} has no CSV, TSV or Parquet file to compare with."
                : $"Dataset {version.Reference} has {tables.Count} tables; name one in reference.file ({string.Join(", ", tables.Select(table => table.Path))}).");
    }

    /// <summary>The stored profile of <paramref name="file"/> (its columns and their kinds), null when the version has none for it.</summary>
    public static TableProfile? ProfileOf(DatasetVersion version, DatasetFile file)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(file);
        return version.Profile?.Tables.FirstOrDefault(table => table.Path == file.Path);
    }
}
