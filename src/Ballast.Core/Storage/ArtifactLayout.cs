namespace Ballast.Storage;

/// <summary>
/// A path in an artifact store is a file or a folder, never both. A local folder cannot hold both anyway; S3 can (the
/// keys <c>a</c> and <c>a/b</c> are unrelated), which would list <c>a</c> twice and never download the same way from a
/// local store. Writers that take paths from clients check here first, so both stores refuse alike.
/// </summary>
public static class ArtifactLayout
{
    /// <summary>
    /// Throws <see cref="InvalidArtifactPathException"/> when a file cannot be written at <paramref name="path"/>:
    /// artifacts already lie below it (it is a folder), or one of its parent folders is a file.
    /// </summary>
    public static async Task EnsureFileFitsAsync(this IArtifactStore store, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var valid = ArtifactPath.Validate(path);
        var segments = valid.Split('/');
        var parents = Enumerable.Range(1, segments.Length - 1).Select(count => string.Join('/', segments, 0, count)).ToList();
        // The parents are independent look-ups: one round trip to S3, not one per level.
        var parentIsFile = await Task.WhenAll(parents.Select(parent => store.ExistsAsync(parent, cancellationToken))).ConfigureAwait(false);
        var file = Array.IndexOf(parentIsFile, true);
        if (file >= 0)
        {
            throw new InvalidArtifactPathException(path, $"'{segments[file]}' is a file, so nothing can be stored below it");
        }

        await foreach (var _ in store.ListAsync(valid, recursive: true, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidArtifactPathException(path, "it is a folder of artifacts, which a file cannot replace; upload files below it instead");
        }
    }
}
