using System.Globalization;
using Ballast.Statistics.Drift;

namespace Ballast.Monitoring.Sketches;

/// <summary>
/// What one replica keeps about one column over a window, without the rows: counts of rows, nulls and type mismatches,
/// and the column type's sketches — numerical: <see cref="KllSketch"/> and, given edges (usually the reference's), a
/// <see cref="FixedBinHistogram"/>; categorical: <see cref="FrequentItems"/> and <see cref="HyperLogLog"/>. Profiles of
/// the same column with the same parameters merge; the counters merge exactly, each sketch within its own bound.
/// </summary>
public sealed class ColumnProfile
{
    private const byte FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "COL"u8;

    private ColumnProfile(string name, FeatureType type)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Type = type;
    }

    public string Name { get; }

    public FeatureType Type { get; }

    public long Rows { get; private set; }

    /// <summary>Missing values: null, empty text, and NaN.</summary>
    public long Nulls { get; private set; }

    /// <summary>Text in a numerical column that does not parse as a number (invariant culture).</summary>
    public long TypeMismatches { get; private set; }

    public KllSketch? Quantiles { get; private init; }

    public FixedBinHistogram? Histogram { get; private init; }

    public FrequentItems? FrequentItems { get; private init; }

    public HyperLogLog? Distinct { get; private init; }

    /// <summary>A numerical column. Give each replica its own <paramref name="seed"/> so their KLL coins are independent.</summary>
    public static ColumnProfile Numerical(string name, HistogramBins? bins = null, int k = KllSketch.DefaultK, ulong seed = 0x5EED) =>
        new(name, FeatureType.Numerical)
        {
            Quantiles = new KllSketch(k, seed),
            Histogram = bins is null ? null : new FixedBinHistogram(bins),
        };

    public static ColumnProfile Categorical(string name, int capacity = FrequentItems.DefaultCapacity, int precision = HyperLogLog.DefaultPrecision) =>
        new(name, FeatureType.Categorical)
        {
            FrequentItems = new FrequentItems(capacity),
            Distinct = new HyperLogLog(precision),
        };

    /// <summary>Adds a number (null or NaN is a null); a categorical column takes its invariant text.</summary>
    public void Update(double? value)
    {
        Rows++;
        if (value is not { } number || double.IsNaN(number))
        {
            Nulls++;
            return;
        }

        if (Type == FeatureType.Numerical)
        {
            AddNumber(number);
        }
        else
        {
            AddCategory(number.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Adds raw text: null or empty is a null; a numerical column parses it (invariant) or counts a mismatch.</summary>
    public void Update(string? value)
    {
        Rows++;
        if (string.IsNullOrEmpty(value))
        {
            Nulls++;
            return;
        }

        if (Type == FeatureType.Categorical)
        {
            AddCategory(value);
        }
        else if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            if (double.IsNaN(number))
            {
                Nulls++;
            }
            else
            {
                AddNumber(number);
            }
        }
        else
        {
            TypeMismatches++;
        }
    }

    public void Merge(ColumnProfile other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Name != Name || other.Type != Type || (other.Histogram is null) != (Histogram is null))
        {
            throw new ArgumentException(
                $"profiles merge only for the same column, type and sketches (this {Name} {Type}, other {other.Name} {other.Type}).", nameof(other));
        }

        // Parameters are checked before anything changes, so a mismatch leaves this profile as it was.
        if (Type == FeatureType.Numerical)
        {
            var (quantiles, otherQuantiles) = (Quantiles!, other.Quantiles!);
            ThrowIfMismatched(quantiles.K == otherQuantiles.K && (Histogram is null || Histogram.SameEdges(other.Histogram!.Bins)));
            quantiles.Merge(otherQuantiles);
            Histogram?.Merge(other.Histogram!);
        }
        else
        {
            var (frequent, otherFrequent) = (FrequentItems!, other.FrequentItems!);
            var (distinct, otherDistinct) = (Distinct!, other.Distinct!);
            ThrowIfMismatched(frequent.Capacity == otherFrequent.Capacity && distinct.Precision == otherDistinct.Precision);
            frequent.Merge(otherFrequent);
            distinct.Merge(otherDistinct);
        }

        Rows += other.Rows;
        Nulls += other.Nulls;
        TypeMismatches += other.TypeMismatches;
    }

    /// <summary>"COL", version, name, type, counters, then each sketch's own bytes, length-prefixed (0 when absent).</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            var name = System.Text.Encoding.UTF8.GetBytes(Name);
            writer.Write(name.Length);
            writer.Write(name);
            writer.Write((byte)Type);
            writer.Write(Rows);
            writer.Write(Nulls);
            writer.Write(TypeMismatches);
            foreach (var sketch in new[] { Quantiles?.ToBytes(), Histogram?.ToBytes(), FrequentItems?.ToBytes(), Distinct?.ToBytes() })
            {
                writer.Write(sketch?.Length ?? 0);
                writer.Write(sketch ?? []);
            }
        }

        return stream.ToArray();
    }

    public static ColumnProfile FromBytes(ReadOnlySpan<byte> bytes)
    {
        var reader = new SketchReader(bytes, "Column profile");
        reader.ExpectMagic(Magic);
        reader.ExpectVersion(FormatVersion);
        var name = reader.ReadString();
        var type = (FeatureType)reader.ReadByte();
        if (!Enum.IsDefined(type) || name.Length == 0)
        {
            throw new FormatException($"Column profile: type {(int)type} or name '{name}' is not valid.");
        }

        var rows = reader.ReadInt64();
        var nulls = reader.ReadInt64();
        var mismatches = reader.ReadInt64();
        var quantiles = Sketch(ref reader, KllSketch.FromBytes);
        var histogram = Sketch(ref reader, FixedBinHistogram.FromBytes);
        var frequent = Sketch(ref reader, Sketches.FrequentItems.FromBytes);
        var distinct = Sketch(ref reader, HyperLogLog.FromBytes);
        reader.ExpectEnd();
        var complete = type == FeatureType.Numerical
            ? quantiles is not null && frequent is null && distinct is null
            : quantiles is null && histogram is null && frequent is not null && distinct is not null;
        if (!complete)
        {
            throw new FormatException($"Column profile: the sketches stored do not fit a {type} column.");
        }

        return new ColumnProfile(name, type)
        {
            Rows = rows,
            Nulls = nulls,
            TypeMismatches = mismatches,
            Quantiles = quantiles,
            Histogram = histogram,
            FrequentItems = frequent,
            Distinct = distinct,
        };
    }

    private static T? Sketch<T>(ref SketchReader reader, SketchParser<T> parse)
        where T : class
    {
        var length = reader.ReadInt32();
        if (length < 0 || length > reader.Remaining)
        {
            throw new FormatException($"Column profile: a sketch claims {length} bytes, more than remain.");
        }

        return length == 0 ? null : parse(reader.Take(length));
    }

    private delegate T SketchParser<out T>(ReadOnlySpan<byte> bytes);

    private static void ThrowIfMismatched(bool same)
    {
        if (!same)
        {
            throw new ArgumentException("profiles merge only with the same sketch parameters.");
        }
    }

    private void AddNumber(double number)
    {
        Quantiles!.Update(number);
        Histogram?.Update(number);
    }

    private void AddCategory(string value)
    {
        FrequentItems!.Update(value);
        Distinct!.Update(value);
    }
}
