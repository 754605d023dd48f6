namespace Ballast.Storage;

/// <summary>
/// An S3 artifact store: <paramref name="Bucket"/> and a key <paramref name="Prefix"/> ("" for the whole bucket).
/// <paramref name="ServiceUrl"/> points at an S3-compatible endpoint (MinIO, Ceph, moto…) and switches to path-style
/// addressing; null means AWS itself. Credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID, profiles, roles).
/// </summary>
public sealed record S3ArtifactStoreOptions(string Bucket, string Prefix, string? ServiceUrl, string? Region)
{
    /// <summary>Part size of multipart uploads, and the largest object sent in one PUT; one buffer of this size is held per upload.</summary>
    public int PartSize { get; init; } = 8 * 1024 * 1024;

    /// <summary>Where requests go, for messages.</summary>
    public string Endpoint => ServiceUrl ?? (Region is null ? "AWS S3" : $"AWS S3 ({Region})");
}
