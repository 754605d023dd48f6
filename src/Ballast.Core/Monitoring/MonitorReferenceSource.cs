namespace Ballast.Monitoring;

/// <summary>A reference table to copy locally: its name in reports, its file path (for the format) and how to open it.</summary>
internal sealed record MonitorReferenceSource(string Name, string FilePath, Func<CancellationToken, Task<Stream>> OpenAsync);
