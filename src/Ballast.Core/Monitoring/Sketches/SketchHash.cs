using System.Runtime.InteropServices;

namespace Ballast.Monitoring.Sketches;

/// <summary>
/// 64-bit hashes for the sketches, fixed forever because serialized sketches depend on them: FNV-1a over the bytes,
/// then the SplitMix64 finalizer (Steele, Lea and Flood 2014) so every input bit reaches every output bit.
/// </summary>
internal static class SketchHash
{
    public static ulong Of(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Of(MemoryMarshal.AsBytes(value.AsSpan()));
    }

    /// <summary>Hashes a number so that 0.0 and −0.0 agree (they compare equal).</summary>
    public static ulong Of(double value) => Mix((ulong)BitConverter.DoubleToInt64Bits(value == 0 ? 0.0 : value) ^ 0x6A09E667F3BCC909UL);

    public static ulong Of(ReadOnlySpan<byte> bytes)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 0x100000001B3UL;
        }

        return Mix(hash ^ (ulong)bytes.Length);
    }

    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
