using System.Numerics;

namespace Ballast.Monitoring.Sketches;

/// <summary>
/// HyperLogLog distinct count (Flajolet, Fusy, Gandouet and Meunier 2007) over 2ᵖ one-byte registers and a 64-bit
/// hash, with linear counting below 2.5·2ᵖ (as the paper). Relative standard error 1.04/√(2ᵖ): 1.63% at the default
/// p = 12 (4 KiB). Merge is the register-wise maximum, so it is exactly associative, commutative and idempotent: a
/// merge of shards is the sketch of their union, bit for bit.
/// </summary>
public sealed class HyperLogLog
{
    public const int DefaultPrecision = 12;
    private const byte FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "HLL"u8;

    private readonly byte[] _registers;

    public HyperLogLog(int precision = DefaultPrecision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(precision, 4);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(precision, 18);
        Precision = precision;
        _registers = new byte[1 << precision];
    }

    public int Precision { get; }

    /// <summary>1.04/√(2ᵖ), the relative standard error of <see cref="Estimate"/>.</summary>
    public double RelativeStandardError => 1.04 / Math.Sqrt(_registers.Length);

    public void Update(string value) => UpdateHash(SketchHash.Of(value));

    public void Update(double value) => UpdateHash(SketchHash.Of(value));

    public void UpdateHash(ulong hash)
    {
        var index = (int)(hash >> (64 - Precision));
        // Rank of the first 1 bit in the remaining 64 − p bits (64 − p + 1 when they are all zero).
        var rest = hash << Precision;
        var rank = (byte)Math.Min(BitOperations.LeadingZeroCount(rest) + 1, 64 - Precision + 1);
        if (rank > _registers[index])
        {
            _registers[index] = rank;
        }
    }

    public void Merge(HyperLogLog other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Precision != Precision)
        {
            throw new ArgumentException($"HyperLogLog sketches merge only with the same precision (this {Precision}, other {other.Precision}).", nameof(other));
        }

        for (var i = 0; i < _registers.Length; i++)
        {
            _registers[i] = Math.Max(_registers[i], other._registers[i]);
        }
    }

    /// <summary>Estimated number of distinct values.</summary>
    public double Estimate()
    {
        var m = (double)_registers.Length;
        var alpha = _registers.Length switch
        {
            16 => 0.673,
            32 => 0.697,
            64 => 0.709,
            _ => 0.7213 / (1 + (1.079 / m)),
        };
        double sum = 0;
        var zeros = 0;
        foreach (var register in _registers)
        {
            sum += Math.ScaleB(1.0, -register);
            if (register == 0)
            {
                zeros++;
            }
        }

        var raw = alpha * m * m / sum;
        return raw <= 2.5 * m && zeros > 0 ? m * Math.Log(m / zeros) : raw;
    }

    /// <summary>"HLL", version, precision, then the 2ᵖ registers.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Magic.Length + 2 + _registers.Length];
        Magic.CopyTo(bytes);
        bytes[3] = FormatVersion;
        bytes[4] = (byte)Precision;
        _registers.CopyTo(bytes, 5);
        return bytes;
    }

    public static HyperLogLog FromBytes(ReadOnlySpan<byte> bytes)
    {
        var reader = new SketchReader(bytes, "HyperLogLog");
        reader.ExpectMagic(Magic);
        reader.ExpectVersion(FormatVersion);
        int precision = reader.ReadByte();
        if (precision is < 4 or > 18)
        {
            throw new FormatException($"HyperLogLog: precision {precision} is out of range.");
        }

        var sketch = new HyperLogLog(precision);
        reader.Take(sketch._registers.Length).CopyTo(sketch._registers);
        reader.ExpectEnd();
        return sketch;
    }
}
