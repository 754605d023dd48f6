namespace Ballast.Monitoring.Sketches;

/// <summary>
/// Misra–Gries frequent items (Misra and Gries 1982) over string values with capacity m, merged as Agarwal et al.,
/// "Mergeable Summaries" (2012): add the counters, then subtract the (m+1)-th largest from all and drop what falls to 0.
/// Every estimate is a lower bound and undercounts by at most <see cref="MaximumError"/> ≤ N/(m+1) &lt; N/m, also
/// after any merges; so every item with true frequency above N/m is reported. Up to 2m counters are kept between
/// reductions (amortizing them), at most m after one.
/// </summary>
public sealed class FrequentItems
{
    public const int DefaultCapacity = 64;
    private const byte FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "MGF"u8;

    private readonly Dictionary<string, long> _counters = new(StringComparer.Ordinal);

    public FrequentItems(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>Number of items seen (N).</summary>
    public long Count { get; private set; }

    /// <summary>The most any estimate undercounts by: the total subtracted from each counter, ≤ N/(m+1).</summary>
    public long MaximumError { get; private set; }

    public void Update(string item, long weight = 1)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentOutOfRangeException.ThrowIfLessThan(weight, 1);
        Count += weight;
        _counters[item] = _counters.GetValueOrDefault(item) + weight;
        if (_counters.Count > 2 * Capacity)
        {
            Reduce();
        }
    }

    public void Merge(FrequentItems other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Capacity != Capacity)
        {
            throw new ArgumentException($"Frequent-items sketches merge only with the same capacity (this {Capacity}, other {other.Capacity}).", nameof(other));
        }

        Count += other.Count;
        MaximumError += other.MaximumError;
        foreach (var (item, count) in other._counters)
        {
            _counters[item] = _counters.GetValueOrDefault(item) + count;
        }

        if (_counters.Count > Capacity)
        {
            Reduce();
        }
    }

    /// <summary>The lower-bound estimate of an item's count (0 when not tracked).</summary>
    public long Estimate(string item) => _counters.GetValueOrDefault(item);

    /// <summary>Tracked items with estimate, most frequent first (ties in ordinal order).</summary>
    public IReadOnlyList<(string Item, long Estimate, long UpperBound)> Items() =>
        [.. _counters
            .OrderByDescending(pair => pair.Value)
            .ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => (pair.Key, pair.Value, pair.Value + MaximumError))];

    /// <summary>"MGF", version, capacity, N, error, counter count, then (UTF-8 item, count) pairs in ordinal order.</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(Capacity);
            writer.Write(Count);
            writer.Write(MaximumError);
            writer.Write(_counters.Count);
            foreach (var (item, count) in _counters.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                var utf8 = System.Text.Encoding.UTF8.GetBytes(item);
                writer.Write(utf8.Length);
                writer.Write(utf8);
                writer.Write(count);
            }
        }

        return stream.ToArray();
    }

    public static FrequentItems FromBytes(ReadOnlySpan<byte> bytes)
    {
        var reader = new SketchReader(bytes, "Frequent items");
        reader.ExpectMagic(Magic);
        reader.ExpectVersion(FormatVersion);
        var capacity = reader.ReadInt32();
        if (capacity < 1)
        {
            throw new FormatException($"Frequent items: capacity {capacity} is not positive.");
        }

        var sketch = new FrequentItems(capacity) { Count = reader.ReadInt64(), MaximumError = reader.ReadInt64() };
        var counters = reader.ReadInt32();
        for (var i = 0; i < counters; i++)
        {
            var item = reader.ReadString();
            sketch._counters[item] = reader.ReadInt64();
        }

        reader.ExpectEnd();
        return sketch;
    }

    private void Reduce()
    {
        // Subtracting the (m+1)-th largest count d from every counter removes at least d·(m+1) from the total,
        // so the subtractions sum to at most N/(m+1).
        var counts = _counters.Values.ToArray();
        Array.Sort(counts);
        Array.Reverse(counts);
        var d = counts[Capacity];
        MaximumError += d;
        foreach (var item in _counters.Keys.ToArray())
        {
            var left = _counters[item] - d;
            if (left > 0)
            {
                _counters[item] = left;
            }
            else
            {
                _counters.Remove(item);
            }
        }
    }
}
