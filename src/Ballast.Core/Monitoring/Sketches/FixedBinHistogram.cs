using Ballast.Statistics.Drift;

namespace Ballast.Monitoring.Sketches;

/// <summary>
/// Counts over fixed bin edges (placed as <see cref="HistogramBins.IndexOf"/>, numpy's rule), plus the values below
/// the first edge, above the last, and NaN. Exact: merge adds counts, so it is associative and commutative; merging
/// requires the same edges. A reference window's edges are the natural choice for the current window's histogram.
/// </summary>
public sealed class FixedBinHistogram
{
    private const byte FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "FBH"u8;

    private readonly long[] _counts;

    public FixedBinHistogram(HistogramBins bins)
    {
        ArgumentNullException.ThrowIfNull(bins);
        Bins = bins;
        _counts = new long[bins.Count];
    }

    public HistogramBins Bins { get; }

    public IReadOnlyList<long> Counts => _counts;

    public long Below { get; private set; }

    public long Above { get; private set; }

    public long NaN { get; private set; }

    /// <summary>Every value seen, in range or not.</summary>
    public long Total => _counts.Sum() + Below + Above + NaN;

    public void Update(double value)
    {
        var index = Bins.IndexOf(value);
        if (index >= 0)
        {
            _counts[index]++;
        }
        else if (double.IsNaN(value))
        {
            NaN++;
        }
        else if (value < Bins.First)
        {
            Below++;
        }
        else
        {
            Above++;
        }
    }

    public void Merge(FixedBinHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!SameEdges(other.Bins))
        {
            throw new ArgumentException("histograms merge only over the same bin edges.", nameof(other));
        }

        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Below += other.Below;
        Above += other.Above;
        NaN += other.NaN;
    }

    /// <summary>
    /// The drift library's counts for a reference and a current histogram over the same edges; values outside the
    /// edges are left out, as <see cref="BinnedCounts.OfSorted"/> leaves them out.
    /// </summary>
    public static BinnedCounts ToBinnedCounts(FixedBinHistogram reference, FixedBinHistogram current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        if (!reference.SameEdges(current.Bins))
        {
            throw new ArgumentException("reference and current histograms need the same bin edges.", nameof(current));
        }

        return new BinnedCounts(reference.Bins, [.. reference._counts.Select(c => (double)c)], [.. current._counts.Select(c => (double)c)]);
    }

    /// <summary>"FBH", version, edge count, edges, counts, below, above, NaN.</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(Bins.Edges.Count);
            foreach (var edge in Bins.Edges)
            {
                writer.Write(edge);
            }

            foreach (var count in _counts)
            {
                writer.Write(count);
            }

            writer.Write(Below);
            writer.Write(Above);
            writer.Write(NaN);
        }

        return stream.ToArray();
    }

    public static FixedBinHistogram FromBytes(ReadOnlySpan<byte> bytes)
    {
        var reader = new SketchReader(bytes, "Histogram");
        reader.ExpectMagic(Magic);
        reader.ExpectVersion(FormatVersion);
        var edgeCount = reader.ReadInt32();
        if (edgeCount < 2 || edgeCount > reader.Remaining / sizeof(double))
        {
            throw new FormatException($"Histogram: {edgeCount} edges do not fit the bytes.");
        }

        var edges = new double[edgeCount];
        for (var i = 0; i < edgeCount; i++)
        {
            edges[i] = reader.ReadDouble();
        }

        HistogramBins bins;
        try
        {
            bins = new HistogramBins(edges);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"Histogram: {e.Message}", e);
        }

        var histogram = new FixedBinHistogram(bins);
        for (var i = 0; i < histogram._counts.Length; i++)
        {
            histogram._counts[i] = reader.ReadInt64();
        }

        histogram.Below = reader.ReadInt64();
        histogram.Above = reader.ReadInt64();
        histogram.NaN = reader.ReadInt64();
        reader.ExpectEnd();
        return histogram;
    }

    internal bool SameEdges(HistogramBins other) => ReferenceEquals(Bins, other) || Bins.Edges.SequenceEqual(other.Edges);
}
