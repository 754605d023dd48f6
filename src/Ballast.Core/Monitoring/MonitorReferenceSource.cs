namespace Ballast.Monitoring;

/// <summary>
/// A reference table to copy locally: its name in reports, its file path (for the format), how to open it, and the
/// dataset file it is when it is one (content-addressed, so the <see cref="ReferenceCache"/> may keep it).
/// </summary>
internal sealed record MonitorReferenceSource(string Name, string FilePath, Func<CancellationToken, Task<Stream>> OpenAsync, Datasets.DatasetFile? Blob = null);
