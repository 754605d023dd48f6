namespace Ballast.Monitoring;

/// <summary>
/// A server's in-process cache of monitor references as the windows use them, so consecutive windows neither read
/// nor parse a reference again: a dataset reference's row count and columns, each column's values and the Parquet
/// file of the columns a drift comparison reads (<see cref="Profile"/>, keyed by the file's SHA-256 and format, which
/// fix them), and a closed window of traffic (<see cref="Traffic"/>, keyed by endpoint, range and feature names; its
/// feedback is joined again for each window, as labels arrive late). The entries' estimated sizes are kept within
/// <see cref="MaxBytes"/> by dropping the least recently used first; an entry larger than the bound is not kept.
/// </summary>
public sealed class ReferenceProfiles
{
    /// <summary>Observer kind of a dataset reference's entries (row count and columns, column values, Parquet projections).</summary>
    public const string Profile = "profile";

    /// <summary>Observer kind of a traffic reference's predictions.</summary>
    public const string Traffic = "traffic";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _order = [];
    private readonly IReferenceCacheObserver? _observer;
    private long _bytes;

    /// <param name="maxBytes">The bound on the entries' estimated total size; 0 turns the cache off.</param>
    public ReferenceProfiles(long maxBytes, TimeProvider? time = null, IReferenceCacheObserver? observer = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        MaxBytes = maxBytes;
        Time = time ?? TimeProvider.System;
        _observer = observer;
    }

    public long MaxBytes { get; }

    /// <summary>The clock that says whether a traffic reference's range is over.</summary>
    public TimeProvider Time { get; }

    /// <summary>The entries' estimated total size in bytes.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    private sealed record Entry(string Kind, string Key, object Value, long Bytes);

    /// <summary>
    /// The value cached under <paramref name="key"/> (a hit), or the one <paramref name="create"/> makes now with its
    /// estimated size (a miss), kept when it fits. Values are shared by every window: never change one.
    /// </summary>
    public T GetOrAdd<T>(string kind, string key, Func<(T Value, long Bytes)> create)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(create);
        if (TryGet<T>(kind, key) is { } cached)
        {
            return cached;
        }

        var (value, bytes) = create();
        Add(kind, key, value, bytes);
        return value;
    }

    /// <summary>The value cached under <paramref name="key"/> (a hit, made the most recently used), or null (a miss).</summary>
    public T? TryGet<T>(string kind, string key)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(key);
        if (MaxBytes == 0)
        {
            return null;
        }

        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node) && node.Value.Value is T value)
            {
                _order.Remove(node);
                _order.AddFirst(node);
                _observer?.Hit(kind, key);
                return value;
            }
        }

        _observer?.Miss(kind, key);
        return null;
    }

    /// <summary>Keeps <paramref name="value"/> under <paramref name="key"/> (replacing any), dropping the least recently used entries to make room.</summary>
    public void Add(string kind, string key, object value, long bytes)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (MaxBytes == 0)
        {
            return;
        }

        if (bytes > MaxBytes)
        {
            _observer?.TooLarge(kind, key, bytes);
            return;
        }

        var dropped = new List<Entry>();
        lock (_lock)
        {
            if (_entries.Remove(key, out var old))
            {
                _order.Remove(old);
                _bytes -= old.Value.Bytes;
            }

            while (_bytes + bytes > MaxBytes && _order.Last is { } last)
            {
                _order.RemoveLast();
                _entries.Remove(last.Value.Key);
                _bytes -= last.Value.Bytes;
                dropped.Add(last.Value);
            }

            _entries[key] = _order.AddFirst(new Entry(kind, key, value, bytes));
            _bytes += bytes;
        }

        foreach (var entry in dropped)
        {
            _observer?.Dropped(entry.Kind, entry.Key, entry.Bytes);
        }
    }

    /// <summary>An estimate of the memory a column of values holds: a reference per row, a boxed double or a string each.</summary>
    public static long Estimate<T>(IReadOnlyCollection<T?> values)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(values);
        long bytes = 32 + (8L * values.Count);
        foreach (var value in values)
        {
            bytes += value switch
            {
                null => 0,
                string text => 22 + (2L * text.Length),
                _ => 24,
            };
        }

        return bytes;
    }
}
