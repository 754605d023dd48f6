using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using Ballast.Runtime;

namespace Ballast.Serving;

/// <summary>
/// The assignments waiting for the next flush, kept so that the garbage collector never sees them. They live about a
/// second, long enough to survive every gen0 and gen1 collection of a busy server and be promoted to gen2 (tens of
/// thousands of records and strings a second), which made the split endpoint's server run a blocking gen1 collection
/// every few hundred milliseconds and a gen2 one every few seconds (bench/results/serving.md, Investigation 2026-12-05).
/// Here a pending assignment is a struct in a reused chunk: the prediction id as a <see cref="Guid"/>, the label as a
/// number or a cached string, the endpoint and variant as the routing snapshot's own strings; the text is made at flush time.
/// </summary>
internal sealed class AssignmentQueue
{
    /// <summary>Entries per chunk: 1,024 × 72 bytes stays under the large-object heap's 85,000 bytes.</summary>
    internal const int ChunkSize = 1024;

    /// <summary>Free chunks kept for reuse: a second of a busy server's assignments.</summary>
    private const int MaxFreeChunks = 64;

    /// <summary>Distinct string labels kept as shared strings (the classes of a classifier); past it a label is stored as given.</summary>
    private const int MaxCachedLabels = 4096;

    private static readonly string[] SmallIntegers = [.. Enumerable.Range(-1, 1026).Select(i => i.ToString(CultureInfo.InvariantCulture))];

    private readonly Lock _gate = new();
    private readonly List<Chunk> _full = [];
    private readonly ConcurrentBag<Entry[]> _free = [];
    private readonly ConcurrentDictionary<string, string> _labels = new(StringComparer.Ordinal);
    private Entry[]? _current;
    private int _currentCount;
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Queues an assignment from the hot path: copies it into the current chunk, allocating nothing that outlives the request.</summary>
    public void Add(Guid predictionId, string endpoint, string variant, long assignedAt, IReadOnlyList<Tensor> outputs, bool banditArm)
    {
        var entry = new Entry { Id = predictionId, Endpoint = endpoint, Variant = variant, AssignedAt = assignedAt, BanditArm = banditArm };
        SetLabel(ref entry, outputs);
        Add(in entry);
    }

    /// <summary>Queues an assignment given as a record (tests, tools): its id and label are kept as text.</summary>
    public void Add(PredictionAssignment assignment) =>
        Add(new Entry
        {
            IdText = assignment.PredictionId, Endpoint = assignment.Endpoint, Variant = assignment.Variant, AssignedAt = assignment.AssignedAt,
            BanditArm = assignment.BanditArm, Text = assignment.Predicted, Kind = assignment.Predicted is null ? LabelKind.None : LabelKind.Text,
        });

    private void Add(in Entry entry)
    {
        lock (_gate)
        {
            if (_current is null || _currentCount == ChunkSize)
            {
                if (_current is not null)
                {
                    _full.Add(new Chunk(_current, _currentCount));
                }

                _current = _free.TryTake(out var chunk) ? chunk : new Entry[ChunkSize];
                _currentCount = 0;
            }

            _current[_currentCount++] = entry;
            _count++;
        }
    }

    /// <summary>Takes whole chunks, oldest first, until at least <paramref name="max"/> assignments or none are left.</summary>
    public List<Chunk> Take(int max)
    {
        var taken = new List<Chunk>();
        lock (_gate)
        {
            var count = 0;
            var chunks = 0;
            while (chunks < _full.Count && count < max)
            {
                count += _full[chunks].Count;
                chunks++;
            }

            taken.AddRange(_full.GetRange(0, chunks));
            _full.RemoveRange(0, chunks);
            if (count < max && _current is not null && _currentCount > 0)
            {
                taken.Add(new Chunk(_current, _currentCount));
                count += _currentCount;
                _current = null;
                _currentCount = 0;
            }

            _count -= count;
        }

        return taken;
    }

    /// <summary>Puts chunks a failed flush took back in front, in their order, for the next flush.</summary>
    public void Return(List<Chunk> chunks)
    {
        lock (_gate)
        {
            _full.InsertRange(0, chunks);
            _count += chunks.Sum(chunk => chunk.Count);
        }
    }

    /// <summary>Clears written chunks (dropping their references) and keeps a few for reuse.</summary>
    public void Recycle(List<Chunk> chunks)
    {
        foreach (var chunk in chunks)
        {
            Array.Clear(chunk.Entries, 0, chunk.Count);
            if (_free.Count < MaxFreeChunks)
            {
                _free.Add(chunk.Entries);
            }
        }
    }

    /// <summary>The label as <see cref="PredictionAssignment.LabelOf"/> writes it, without making a string for a number.</summary>
    private void SetLabel(ref Entry entry, IReadOnlyList<Tensor> outputs)
    {
        if (outputs.Count == 0 || outputs[0].Data.Length == 0)
        {
            return;
        }

        var data = outputs[0].Data;
        // By exact type: the runtime lets a ulong[] match long[] (and a uint[] int[]), which would read a large unsigned label as negative.
        switch (data)
        {
            case long[] values when data.GetType() == typeof(long[]):
                (entry.Kind, entry.Bits) = (LabelKind.Integer, values[0]);
                return;
            case int[] values when data.GetType() == typeof(int[]):
                (entry.Kind, entry.Bits) = (LabelKind.Integer, values[0]);
                return;
            case float[] values:
                SetNumber(ref entry, values[0]);
                return;
            case double[] values:
                SetNumber(ref entry, values[0]);
                return;
            case string[] values:
                var text = values[0];
                if (_labels.TryGetValue(text, out var cached))
                {
                    (entry.Kind, entry.Text) = (LabelKind.Text, cached);
                    return;
                }

                var json = PredictionAssignment.LabelOf(outputs);
                if (json is not null && _labels.Count < MaxCachedLabels)
                {
                    json = _labels.GetOrAdd(text, json);
                }

                (entry.Kind, entry.Text) = (json is null ? LabelKind.None : LabelKind.Text, json);
                return;
            default:
                var label = PredictionAssignment.LabelOf(outputs);
                (entry.Kind, entry.Text) = (label is null ? LabelKind.None : LabelKind.Text, label);
                return;
        }
    }

    private static void SetNumber(ref Entry entry, double value)
    {
        if (!double.IsFinite(value))
        {
            return;
        }

        if (value == Math.Floor(value) && Math.Abs(value) < 1e15)
        {
            (entry.Kind, entry.Bits) = (LabelKind.Integer, (long)value);
        }
        else
        {
            (entry.Kind, entry.Bits) = (LabelKind.Double, BitConverter.DoubleToInt64Bits(value));
        }
    }

    internal enum LabelKind : byte
    {
        None,
        Text,
        Integer,
        Double,
    }

    [StructLayout(LayoutKind.Auto)]
    internal struct Entry
    {
        public Guid Id;
        public string? IdText;
        public string Endpoint;
        public string Variant;
        public string? Text;
        public long Bits;
        public long AssignedAt;
        public LabelKind Kind;
        public bool BanditArm;

        public readonly string PredictionId => IdText ?? Id.ToString();

        /// <summary>The label's JSON text: made here, on the flushing thread, for numbers.</summary>
        public readonly string? Predicted => Kind switch
        {
            LabelKind.Text => Text,
            LabelKind.Integer => Bits is >= -1 and <= 1024 ? SmallIntegers[Bits + 1] : Bits.ToString(CultureInfo.InvariantCulture),
            LabelKind.Double => BitConverter.Int64BitsToDouble(Bits).ToString("R", CultureInfo.InvariantCulture),
            _ => null,
        };
    }

    internal readonly record struct Chunk(Entry[] Entries, int Count);
}
