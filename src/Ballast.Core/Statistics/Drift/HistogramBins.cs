namespace Ballast.Statistics.Drift;

/// <summary>
/// Equal-width bins as numpy draws them: <see cref="Sturges"/> is <c>np.histogram_bin_edges(values, bins="sturges")</c>
/// (⌈log₂ n + 1⌉ bins from the minimum to the maximum, edges from <c>np.linspace</c>), and <see cref="IndexOf"/>
/// places a value as <c>np.histogram</c> does: bin k holds edgeₖ ≤ x &lt; edgeₖ₊₁, the last bin also its right edge.
/// </summary>
public sealed class HistogramBins
{
    private readonly double[] _edges;

    public HistogramBins(IReadOnlyList<double> edges)
    {
        ArgumentNullException.ThrowIfNull(edges);
        if (edges.Count < 2)
        {
            throw new ArgumentException($"bins need at least 2 edges (got {edges.Count}).");
        }

        _edges = [.. edges];
        for (var i = 1; i < _edges.Length; i++)
        {
            if (!(_edges[i] > _edges[i - 1]))
            {
                throw new ArgumentException($"bin edges must increase (edge {i} is {_edges[i]} after {_edges[i - 1]}).");
            }
        }
    }

    public IReadOnlyList<double> Edges => _edges;

    public int Count => _edges.Length - 1;

    public double First => _edges[0];

    public double Last => _edges[^1];

    /// <summary>Sturges' rule over n values from min to max, with numpy's arithmetic so the edges agree to the last bit.</summary>
    public static HistogramBins Sturges(double min, double max, long count)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max) || min > max)
        {
            throw new ArgumentException($"Sturges bins need a finite range (got {min} to {max}).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        double first = min, last = max;
        var bins = 1;
        if (first == last)
        {
            first -= 0.5;
            last += 0.5;
        }
        else
        {
            var width = (max - min) / (Math.Log2(count) + 1.0);
            if (width != 0)
            {
                bins = (int)Math.Ceiling((last - first) / width);
            }
        }

        return Linspace(first, last, bins);
    }

    /// <summary><c>np.linspace(first, last, bins + 1)</c>: edge k is k·step + first and the last edge is exactly <paramref name="last"/>.</summary>
    public static HistogramBins Linspace(double first, double last, int bins)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var edges = new double[bins + 1];
        var step = (last - first) / bins;
        for (var k = 0; k <= bins; k++)
        {
            edges[k] = (k * step) + first;
        }

        edges[bins] = last;
        return new HistogramBins(edges);
    }

    /// <summary>The bin of <paramref name="x"/>, or −1 outside [first edge, last edge] (NaN included).</summary>
    public int IndexOf(double x)
    {
        if (!(x >= _edges[0] && x <= _edges[^1]))
        {
            return -1;
        }

        var bins = Count;
        var index = (int)((x - _edges[0]) / (_edges[^1] - _edges[0]) * bins);
        index = Math.Clamp(index, 0, bins - 1);
        // The estimate can be off by one where floating point rounds near an edge; the edges decide.
        while (index > 0 && x < _edges[index])
        {
            index--;
        }

        while (index < bins - 1 && x >= _edges[index + 1])
        {
            index++;
        }

        return index;
    }

    /// <summary>How many values fall in each bin (values outside the edges are not counted, as numpy).</summary>
    public long[] Counts(ReadOnlySpan<double> values)
    {
        var counts = new long[Count];
        foreach (var value in values)
        {
            var index = IndexOf(value);
            if (index >= 0)
            {
                counts[index]++;
            }
        }

        return counts;
    }
}
