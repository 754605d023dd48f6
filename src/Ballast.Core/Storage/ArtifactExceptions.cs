namespace Ballast.Storage;

public sealed class InvalidArtifactPathException(string path, string reason)
    : ArgumentException($"Invalid artifact path '{ArtifactPath.Printable(path)}': {reason}.")
{
    public string ArtifactPathValue { get; } = path;
    public string Reason { get; } = reason;
}

public sealed class ArtifactNotFoundException(string path)
    : Exception($"Artifact '{path}' does not exist.")
{
    public string ArtifactPathValue { get; } = path;
}

public sealed class ArtifactStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
