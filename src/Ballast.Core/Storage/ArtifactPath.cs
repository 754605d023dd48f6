namespace Ballast.Storage;

/// <summary>
/// Validation of artifact paths. A valid path is relative, uses '/' between segments and has no empty,
/// '.' or '..' segment, no backslash, no drive letter and no control character (NUL included), so it can
/// never escape the store's root on disk or become a surprising S3 key.
/// </summary>
public static class ArtifactPath
{
    public const int MaxLength = 1024;

    /// <summary>Returns the path when it names a file; throws <see cref="InvalidArtifactPathException"/> otherwise.</summary>
    public static string Validate(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            throw new InvalidArtifactPathException(path, "the path is empty");
        }

        return Check(path);
    }

    /// <summary>Validates a folder prefix for listing: "" means the root; a trailing '/' is allowed and removed.</summary>
    public static string ValidatePrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var trimmed = prefix.EndsWith('/') ? prefix[..^1] : prefix;
        return trimmed.Length == 0 ? "" : Check(trimmed);
    }

    /// <summary>Joins validated segments with '/'.</summary>
    public static string Combine(string folder, string name) => folder.Length == 0 ? name : folder + "/" + name;

    internal static string Printable(string path)
    {
        var builder = new System.Text.StringBuilder(Math.Min(path.Length, 200));
        foreach (var c in path.AsSpan(0, Math.Min(path.Length, 200)))
        {
            builder.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString());
        }

        return path.Length > 200 ? builder.Append('…').ToString() : builder.ToString();
    }

    private static string Check(string path)
    {
        if (path.Length > MaxLength)
        {
            throw new InvalidArtifactPathException(path, $"it is longer than {MaxLength} characters");
        }

        foreach (var c in path)
        {
            if (c == '\0')
            {
                throw new InvalidArtifactPathException(path, "it contains a NUL character");
            }

            if (char.IsControl(c))
            {
                throw new InvalidArtifactPathException(path, "it contains a control character");
            }

            if (c == '\\')
            {
                throw new InvalidArtifactPathException(path, "use '/' to separate folders, not '\\'");
            }
        }

        if (path[0] == '/')
        {
            throw new InvalidArtifactPathException(path, "absolute paths are not allowed; give a path relative to the store");
        }

        if (path.Length >= 2 && path[1] == ':' && char.IsAsciiLetter(path[0]))
        {
            throw new InvalidArtifactPathException(path, "drive-letter paths are not allowed; give a path relative to the store");
        }

        foreach (var segment in path.Split('/'))
        {
            switch (segment)
            {
                case "":
                    throw new InvalidArtifactPathException(path, "it has an empty segment ('//' or a trailing '/')");
                case ".":
                    throw new InvalidArtifactPathException(path, "'.' segments are not allowed");
                case "..":
                    throw new InvalidArtifactPathException(path, "'..' segments are not allowed");
            }
        }

        return path;
    }
}
