namespace Ballast.Monitoring;

/// <summary>
/// A reference table to copy locally: its name in reports, its file path (for the format), how to open it, and the
/// dataset file it is when it is one (content-addressed, so the <see cref="ReferenceCache"/> may keep it) with its
/// stored profile when known.
/// </summary>
internal sealed record MonitorReferenceSource(string Name, string FilePath, Func<CancellationToken, Task<Stream>> OpenAsync, Datasets.DatasetFile? Blob = null,
    Datasets.TableProfile? Profile = null)
{
    /// <summary>A file of a dataset version, named <paramref name="name"/> in reports, read from the dataset store's blobs.</summary>
    public static MonitorReferenceSource OfDatasetFile(Datasets.DatasetStore datasets, string name, Datasets.DatasetFile file, Datasets.TableProfile? profile = null)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        ArgumentNullException.ThrowIfNull(file);
        return new MonitorReferenceSource(name, file.Path, token => datasets.OpenBlobAsync(file.Sha256, token), file, profile);
    }
}
