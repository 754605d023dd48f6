namespace Ballast.Storage;

/// <summary>Artifacts as local files, for readers that need a path (DuckDB, ONNX Runtime, ML.NET).</summary>
public static class ArtifactFiles
{
    /// <summary>
    /// The artifact at <paramref name="path"/> as a local file: a local store's own file (read it, never change it), or
    /// a copy written to <paramref name="copyPath"/>, which the caller deletes when done.
    /// </summary>
    public static async Task<string> LocalFileAsync(this IArtifactStore artifacts, string path, string copyPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        if (artifacts is FileArtifactStore local)
        {
            return local.LocalPath(path);
        }

        await using var source = await artifacts.OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
        await using var target = new FileStream(copyPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, ContentAddressing.CopyBufferSize, FileOptions.Asynchronous);
        await source.CopyToAsync(target, ContentAddressing.CopyBufferSize, cancellationToken).ConfigureAwait(false);
        return copyPath;
    }
}
