namespace Ballast.Storage;

/// <summary>
/// A place for artifacts (models, dataset files, prediction segments), addressed by relative paths
/// with '/' separators. Implementations stream (never buffer whole files) and write atomically:
/// a reader sees either the previous content or the complete new content, never a partial file.
/// Paths are validated with <see cref="ArtifactPath"/>; invalid paths throw <see cref="InvalidArtifactPathException"/>.
/// </summary>
public interface IArtifactStore
{
    /// <summary>Where the store points, for messages and artifact URIs (a folder or <c>s3://bucket/prefix</c>).</summary>
    string Location { get; }

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/>, replacing what was there, and returns its size and SHA-256.</summary>
    Task<ArtifactEntry> PutAsync(string path, Stream content, CancellationToken cancellationToken = default);

    /// <summary>Opens the artifact for reading; throws <see cref="ArtifactNotFoundException"/> when it does not exist.</summary>
    Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists what lies under the folder <paramref name="prefix"/> ("" for the root). Non-recursive listing returns
    /// the files directly inside it and one entry per sub-folder (<see cref="ArtifactEntry.IsDirectory"/>);
    /// recursive listing returns every file below it. Entries are ordered by path.
    /// </summary>
    IAsyncEnumerable<ArtifactEntry> ListAsync(string prefix, bool recursive = false, CancellationToken cancellationToken = default);

    Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Deletes one artifact; returns false when there was nothing to delete.</summary>
    Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Checks that the store is reachable and writable with the configured credentials; throws <see cref="ArtifactStoreUnavailableException"/> with a readable reason.</summary>
    Task CheckAsync(CancellationToken cancellationToken = default);
}
