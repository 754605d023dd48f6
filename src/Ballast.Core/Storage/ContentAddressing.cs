using System.Buffers;
using System.Security.Cryptography;

namespace Ballast.Storage;

/// <summary>
/// Storing content under its SHA-256: <c>&lt;folder&gt;/&lt;first two hex digits&gt;/&lt;64 hex digits&gt;</c>.
/// The same bytes always land on the same path and are stored once.
/// </summary>
public static class ContentAddressing
{
    public const string DefaultFolder = "sha256";

    // Large enough to keep the per-read overhead negligible, below the large-object-heap threshold when pooled.
    internal const int CopyBufferSize = 81_920;

    /// <summary>
    /// Stores <paramref name="content"/> under its SHA-256 unless that content is already there. The stream is read once,
    /// spooled to a local temporary file while it is hashed (the address must be known before the upload starts),
    /// and the temporary file is removed afterwards.
    /// </summary>
    public static async Task<ArtifactEntry> PutContentAddressedAsync(
        this IArtifactStore store,
        Stream content,
        string folder = DefaultFolder,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(content);
        folder = ArtifactPath.ValidatePrefix(folder);

        var spoolPath = Path.Combine(Path.GetTempPath(), "ballast-spool-" + Guid.NewGuid().ToString("N"));
        await using var spool = new FileStream(
            spoolPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, CopyBufferSize,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);

        var (size, sha256) = await CopyAndHashAsync(content, spool, cancellationToken).ConfigureAwait(false);
        var path = PathFor(sha256, folder);
        if (await store.ExistsAsync(path, cancellationToken).ConfigureAwait(false))
        {
            return new ArtifactEntry(path, IsDirectory: false, size, sha256);
        }

        spool.Position = 0;
        var stored = await store.PutAsync(path, spool, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(stored.Sha256, sha256, StringComparison.Ordinal))
        {
            throw new IOException($"Content stored at '{path}' hashed to {stored.Sha256} while it was being written; the spooled copy changed.");
        }

        return stored;
    }

    /// <summary>The content address of a SHA-256 given as 64 lowercase hex digits.</summary>
    public static string PathFor(string sha256Hex, string folder = DefaultFolder)
    {
        ArgumentNullException.ThrowIfNull(sha256Hex);
        if (sha256Hex.Length != 64 || !sha256Hex.All(char.IsAsciiHexDigitLower))
        {
            throw new ArgumentException($"'{sha256Hex}' is not a SHA-256 in 64 lowercase hex digits.", nameof(sha256Hex));
        }

        return ArtifactPath.Combine(ArtifactPath.ValidatePrefix(folder), sha256Hex[..2] + "/" + sha256Hex);
    }

    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Hashes a stream from its current position to its end.</summary>
    public static async Task<string> Sha256HexAsync(Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> with a pooled buffer, hashing on the way.</summary>
    internal static async Task<(long Size, string Sha256)> CopyAndHashAsync(Stream source, Stream destination, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            long size = 0;
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                size += read;
            }

            await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
            return (size, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
