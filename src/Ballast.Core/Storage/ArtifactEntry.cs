namespace Ballast.Storage;

/// <summary>A file or folder in an artifact store. <see cref="Sha256"/> is set for files just written; listings leave it null.</summary>
public sealed record ArtifactEntry(string Path, bool IsDirectory, long? Size, string? Sha256 = null, DateTimeOffset? LastModified = null);
