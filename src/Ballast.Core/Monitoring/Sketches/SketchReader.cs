using System.Buffers.Binary;

namespace Ballast.Monitoring.Sketches;

/// <summary>Reads the little-endian sketch formats, failing with a <see cref="FormatException"/> naming the sketch.</summary>
internal ref struct SketchReader(ReadOnlySpan<byte> bytes, string what)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;
    private int _position;

    public readonly int Remaining => _bytes.Length - _position;

    public void ExpectMagic(ReadOnlySpan<byte> magic)
    {
        if (!Take(magic.Length).SequenceEqual(magic))
        {
            throw new FormatException($"{what}: not a {what} (bad magic bytes).");
        }
    }

    public void ExpectVersion(byte version)
    {
        var found = ReadByte();
        if (found != version)
        {
            throw new FormatException($"{what}: format version {found} is not supported (expected {version}).");
        }
    }

    public readonly void ExpectEnd()
    {
        if (Remaining != 0)
        {
            throw new FormatException($"{what}: {Remaining} bytes left over.");
        }
    }

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public string ReadString()
    {
        var length = ReadInt32();
        if (length < 0 || length > Remaining)
        {
            throw new FormatException($"{what}: a string claims {length} bytes, more than remain.");
        }

        return System.Text.Encoding.UTF8.GetString(Take(length));
    }

    public ReadOnlySpan<byte> Take(int count)
    {
        if (count > Remaining)
        {
            throw new FormatException($"{what}: truncated (needed {count} more bytes, {Remaining} left).");
        }

        var span = _bytes.Slice(_position, count);
        _position += count;
        return span;
    }
}
