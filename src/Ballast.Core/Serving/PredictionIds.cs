using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Ballast.Serving;

/// <summary>
/// Prediction ids: version 7 GUIDs (RFC 9562), as <see cref="Guid.CreateVersion7(DateTimeOffset)"/> makes them (48 bits
/// of Unix milliseconds, then 74 random bits), with the random bits drawn from a per-thread buffer that
/// <see cref="RandomNumberGenerator.Fill"/> refills 4 KiB at a time: one system call per 256 ids rather than one per id.
/// </summary>
public static class PredictionIds
{
    private const int BufferSize = 4096;
    private const int RandomBytes = 10;

    [ThreadStatic]
    private static byte[]? t_random;

    [ThreadStatic]
    private static int t_used;

    /// <summary>A new version 7 id stamped with <paramref name="now"/> (times before 1970 are not ids' business).</summary>
    public static Guid NewId(DateTimeOffset now)
    {
        var milliseconds = now.ToUnixTimeMilliseconds();
        ArgumentOutOfRangeException.ThrowIfNegative(milliseconds, nameof(now));
        var random = t_random;
        var used = t_used;
        if (random is null || used > BufferSize - RandomBytes)
        {
            random = t_random ??= new byte[BufferSize];
            RandomNumberGenerator.Fill(random);
            used = 0;
        }

        t_used = used + RandomBytes;
        var source = random.AsSpan(used, RandomBytes);
        Span<byte> bytes = stackalloc byte[16];
        // Big-endian layout: unix_ts_ms (48 bits), version (4 bits) and rand_a (12), variant (2 bits) and rand_b (62).
        BinaryPrimitives.WriteInt64BigEndian(bytes, milliseconds << 16);
        bytes[6] = (byte)(0x70 | (source[0] & 0x0F));
        bytes[7] = source[1];
        bytes[8] = (byte)(0x80 | (source[2] & 0x3F));
        source[3..].CopyTo(bytes[9..]);
        // Used bytes are not handed out twice.
        source.Clear();
        return new Guid(bytes, bigEndian: true);
    }
}
