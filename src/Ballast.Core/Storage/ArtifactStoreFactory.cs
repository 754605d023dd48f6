namespace Ballast.Storage;

/// <summary>Builds the artifact store a configured location names.</summary>
public static class ArtifactStoreFactory
{
    /// <summary>
    /// <c>s3://bucket/prefix</c> gives an S3 store (path-style addressing at <paramref name="s3Endpoint"/> when one is given,
    /// AWS otherwise); anything else — a path or a <c>file:///abs</c> URI — a local folder. Nothing is contacted or created
    /// here: call <see cref="IArtifactStore.CheckAsync"/> for that. The store may be <see cref="IDisposable"/>.
    /// </summary>
    public static IArtifactStore Create(string location, string? s3Endpoint, string? region)
    {
        var parsed = ArtifactLocation.Parse(location);
        if (!parsed.IsS3)
        {
            return new FileArtifactStore(parsed.Folder!);
        }

        return S3ArtifactStore.Create(new S3ArtifactStoreOptions(
            parsed.Bucket!,
            parsed.Prefix,
            string.IsNullOrWhiteSpace(s3Endpoint) ? null : s3Endpoint.Trim(),
            string.IsNullOrWhiteSpace(region) ? null : region.Trim()));
    }
}
