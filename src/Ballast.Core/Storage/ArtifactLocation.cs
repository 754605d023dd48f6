using System.Text.RegularExpressions;

namespace Ballast.Storage;

/// <summary>
/// Where artifacts live: a local folder (a path or a <c>file:///abs</c> URI) or <c>s3://bucket/prefix</c>.
/// Parsing touches neither disk nor network, so configuration validation can report a bad value up front.
/// </summary>
public sealed partial record ArtifactLocation
{
    private ArtifactLocation(string? folder, string? bucket, string prefix)
    {
        Folder = folder;
        Bucket = bucket;
        Prefix = prefix;
    }

    /// <summary>The full path of the local folder; null for S3.</summary>
    public string? Folder { get; }

    /// <summary>The S3 bucket; null for a local folder.</summary>
    public string? Bucket { get; }

    /// <summary>The key prefix inside the bucket, without leading or trailing '/'; "" for the whole bucket or a local folder.</summary>
    public string Prefix { get; }

    public bool IsS3 => Bucket is not null;

    public static ArtifactLocation Parse(string value) =>
        TryParse(value, out var location, out var error) ? location! : throw new ArgumentException(error, nameof(value));

    /// <summary>Checks a value without keeping the result; <paramref name="error"/> completes a sentence that starts with the option's name.</summary>
    public static bool TryParse(string value, out string? error) => TryParse(value, out _, out error);

    public static bool TryParse(string value, out ArtifactLocation? location, out string? error)
    {
        location = null;
        error = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "is empty; give a folder or s3://bucket/prefix";
            return false;
        }

        if (value.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            return TryParseS3(value, out location, out error);
        }

        if (value.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || !uri.IsFile || uri.IsUnc || !string.IsNullOrEmpty(uri.Host))
            {
                error = $"'{value}' is not a local file URI; give file:///absolute/path or a plain folder path";
                return false;
            }

            location = new ArtifactLocation(Path.TrimEndingDirectorySeparator(Path.GetFullPath(uri.LocalPath)), null, "");
            return true;
        }

        if (SchemePattern().Match(value) is { Success: true } scheme)
        {
            error = $"'{value}' uses the unsupported scheme '{scheme.Groups[1].Value}'; give a folder or s3://bucket/prefix";
            return false;
        }

        try
        {
            location = new ArtifactLocation(Path.TrimEndingDirectorySeparator(Path.GetFullPath(value)), null, "");
            return true;
        }
        catch (Exception exception) when (exception is ArgumentException or NotSupportedException or PathTooLongException)
        {
            error = $"'{ArtifactPath.Printable(value)}' is not a usable folder path: {exception.Message}";
            return false;
        }
    }

    public override string ToString() => IsS3 ? $"s3://{Bucket}/{Prefix}".TrimEnd('/') : Folder!;

    private static bool TryParseS3(string value, out ArtifactLocation? location, out string? error)
    {
        location = null;
        error = null;
        var rest = value["s3://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].TrimEnd('/');
        if (bucket.Length == 0)
        {
            error = $"'{value}' names no bucket; give s3://bucket or s3://bucket/prefix";
            return false;
        }

        if (!IsValidBucketName(bucket))
        {
            error = $"'{value}' has an invalid bucket name '{ArtifactPath.Printable(bucket)}': S3 bucket names are 3 to 63 lowercase letters, digits, '.' and '-', start and end with a letter or digit, and do not look like an IP address";
            return false;
        }

        try
        {
            prefix = ArtifactPath.ValidatePrefix(prefix);
        }
        catch (InvalidArtifactPathException exception)
        {
            error = $"'{ArtifactPath.Printable(value)}' has an invalid key prefix: {exception.Reason}";
            return false;
        }

        location = new ArtifactLocation(null, bucket, prefix);
        return true;
    }

    private static bool IsValidBucketName(string bucket) =>
        bucket.Length is >= 3 and <= 63
        && BucketPattern().IsMatch(bucket)
        && !bucket.Contains("..", StringComparison.Ordinal)
        && !IpAddressPattern().IsMatch(bucket);

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]*[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex BucketPattern();

    [GeneratedRegex(@"^\d+\.\d+\.\d+\.\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex IpAddressPattern();

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]+)://", RegexOptions.CultureInvariant)]
    private static partial Regex SchemePattern();
}
