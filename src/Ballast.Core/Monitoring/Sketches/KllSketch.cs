using Ballast.Statistics;

namespace Ballast.Monitoring.Sketches;

/// <summary>
/// A KLL quantile sketch (Karnin, Lang and Liberty, "Optimal Quantile Approximation in Streams", 2016), laid out as
/// Apache DataSketches' <c>KllDoublesSketch</c>: compactors per level, level h holding items of weight 2ʰ, capacity
/// max(8, ⌈k·(2/3)^depth⌉) so the top level is k wide, and a full level compacted by sorting it and promoting every
/// other item (odd or even ones by a coin).
/// </summary>
/// <remarks>
/// Normalized rank error, as DataSketches states it at 99% confidence (<c>getNormalizedRankError</c>):
/// single-sided (rank, quantile) ε ≈ 2.296 / k^0.9723, 1.33% at k = 200; double-sided (PMF) ε ≈ 2.446 / k^0.9433,
/// 1.65% at k = 200. The bound holds for merged sketches too. The coin is a seeded generator kept in the sketch, so a
/// sketch built from the same values and seed is the same sketch.
/// </remarks>
public sealed class KllSketch
{
    public const int DefaultK = 200;
    private const int MinLevelCapacity = 8;
    private const byte FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "KLL"u8;

    private readonly List<List<double>> _levels = [[]];
    private ulong _random;
    private (double[] Values, double[] CumulativeWeights)? _sorted;

    public KllSketch(int k = DefaultK, ulong seed = 0x5EED)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, MinLevelCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, ushort.MaxValue);
        K = k;
        _random = seed;
    }

    public int K { get; }

    public long Count { get; private set; }

    /// <summary>The smallest value seen (NaN when empty).</summary>
    public double Min { get; private set; } = double.NaN;

    /// <summary>The largest value seen (NaN when empty).</summary>
    public double Max { get; private set; } = double.NaN;

    public bool IsEmpty => Count == 0;

    /// <summary>Items kept (the sketch's size), not the stream length.</summary>
    public int RetainedItems => _levels.Sum(level => level.Count);

    /// <summary>Single-sided normalized rank error at 99% confidence (DataSketches' empirical fit).</summary>
    public static double NormalizedRankError(int k) => 2.296 / Math.Pow(k, 0.9723);

    /// <summary>Double-sided (PMF) normalized rank error at 99% confidence (DataSketches' empirical fit).</summary>
    public static double NormalizedPmfError(int k) => 2.446 / Math.Pow(k, 0.9433);

    /// <summary>Adds a value; NaN is ignored (count it as a null or mismatch in the column profile).</summary>
    public void Update(double value)
    {
        if (double.IsNaN(value))
        {
            return;
        }

        if (Count == 0)
        {
            Min = value;
            Max = value;
        }
        else
        {
            Min = Math.Min(Min, value);
            Max = Math.Max(Max, value);
        }

        Count++;
        _levels[0].Add(value);
        _sorted = null;
        CompressWhileFull();
    }

    /// <summary>Adds everything <paramref name="other"/> has seen; <paramref name="other"/> is unchanged.</summary>
    public void Merge(KllSketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.K != K)
        {
            throw new ArgumentException($"KLL sketches merge only with the same k (this {K}, other {other.K}).", nameof(other));
        }

        if (other.Count == 0)
        {
            return;
        }

        Min = Count == 0 ? other.Min : Math.Min(Min, other.Min);
        Max = Count == 0 ? other.Max : Math.Max(Max, other.Max);
        Count += other.Count;
        while (_levels.Count < other._levels.Count)
        {
            _levels.Add([]);
        }

        for (var h = 0; h < other._levels.Count; h++)
        {
            _levels[h].AddRange(other._levels[h]);
        }

        _sorted = null;
        CompressWhileFull();
    }

    /// <summary>Estimated fraction of the stream ≤ <paramref name="x"/> (inclusive rank), in [0, 1].</summary>
    public double Rank(double x)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        var (values, cumulative) = Sorted();
        var index = SortedSearch.CountAtOrBelow(values, x);
        return index == 0 ? 0 : cumulative[index - 1] / Count;
    }

    /// <summary>Estimated value of normalized rank <paramref name="q"/>: the smallest retained value whose inclusive rank reaches q.</summary>
    public double Quantile(double q)
    {
        if (!(q >= 0 && q <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(q), q, "q must be in [0, 1].");
        }

        if (Count == 0)
        {
            return double.NaN;
        }

        if (q == 0)
        {
            return Min;
        }

        if (q == 1)
        {
            return Max;
        }

        var (values, cumulative) = Sorted();
        var target = q * Count;
        int low = 0, high = values.Length - 1;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (cumulative[middle] < target)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return values[low];
    }

    /// <summary>Compact little-endian bytes: "KLL", version, k, count, min, max, coin state, then each level's items.</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write((ushort)K);
            writer.Write(Count);
            writer.Write(Min);
            writer.Write(Max);
            writer.Write(_random);
            writer.Write((byte)_levels.Count);
            foreach (var level in _levels)
            {
                writer.Write(level.Count);
                foreach (var value in level)
                {
                    writer.Write(value);
                }
            }
        }

        return stream.ToArray();
    }

    public static KllSketch FromBytes(ReadOnlySpan<byte> bytes)
    {
        var reader = new SketchReader(bytes, "KLL sketch");
        reader.ExpectMagic(Magic);
        reader.ExpectVersion(FormatVersion);
        var k = reader.ReadUInt16();
        if (k < MinLevelCapacity)
        {
            throw new FormatException($"KLL sketch: k = {k} is below {MinLevelCapacity}.");
        }

        var sketch = new KllSketch(k)
        {
            Count = reader.ReadInt64(),
            Min = reader.ReadDouble(),
            Max = reader.ReadDouble(),
            _random = reader.ReadUInt64(),
        };
        var levels = reader.ReadByte();
        sketch._levels.Clear();
        long weight = 0;
        for (var h = 0; h < levels; h++)
        {
            var count = reader.ReadInt32();
            if (count < 0 || count > reader.Remaining / sizeof(double))
            {
                throw new FormatException($"KLL sketch: level {h} claims {count} items, more than the bytes hold.");
            }

            var level = new List<double>(count);
            for (var i = 0; i < count; i++)
            {
                level.Add(reader.ReadDouble());
            }

            sketch._levels.Add(level);
            weight += (long)count << h;
        }

        reader.ExpectEnd();
        if (sketch._levels.Count == 0 || weight != sketch.Count)
        {
            throw new FormatException($"KLL sketch: items weigh {weight} but the count is {sketch.Count}.");
        }

        return sketch;
    }

    private int Capacity(int level)
    {
        var depth = _levels.Count - level - 1;
        return Math.Max(MinLevelCapacity, (int)Math.Ceiling(K * Math.Pow(2.0 / 3.0, depth)));
    }

    private void CompressWhileFull()
    {
        while (true)
        {
            var total = 0;
            var capacity = 0;
            for (var h = 0; h < _levels.Count; h++)
            {
                total += _levels[h].Count;
                capacity += Capacity(h);
            }

            if (total < capacity)
            {
                return;
            }

            // The lowest level at or over its own capacity; one always exists when the total is over.
            var level = 0;
            while (_levels[level].Count < Capacity(level))
            {
                level++;
            }

            Compact(level);
        }
    }

    private void Compact(int level)
    {
        if (level == _levels.Count - 1)
        {
            _levels.Add([]);
        }

        var items = _levels[level];
        items.Sort();
        // An odd item stays behind so weight is conserved exactly.
        List<double> kept = items.Count % 2 == 1 ? [items[0]] : [];
        var start = items.Count % 2;
        var offset = (int)(NextRandom() & 1);
        var above = _levels[level + 1];
        for (var i = start + offset; i < items.Count; i += 2)
        {
            above.Add(items[i]);
        }

        _levels[level] = kept;
    }

    private ulong NextRandom()
    {
        // SplitMix64 (Steele, Lea and Flood 2014).
        var z = _random += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private (double[] Values, double[] CumulativeWeights) Sorted()
    {
        if (_sorted is { } cached)
        {
            return cached;
        }

        var pairs = new List<(double Value, long Weight)>(RetainedItems);
        for (var h = 0; h < _levels.Count; h++)
        {
            foreach (var value in _levels[h])
            {
                pairs.Add((value, 1L << h));
            }
        }

        pairs.Sort((a, b) => a.Value.CompareTo(b.Value));
        var values = new double[pairs.Count];
        var cumulative = new double[pairs.Count];
        double running = 0;
        for (var i = 0; i < pairs.Count; i++)
        {
            running += pairs[i].Weight;
            values[i] = pairs[i].Value;
            cumulative[i] = running;
        }

        _sorted = (values, cumulative);
        return (values, cumulative);
    }
}
