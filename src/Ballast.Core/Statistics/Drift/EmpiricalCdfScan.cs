using System.Globalization;

namespace Ballast.Statistics.Drift;

/// <summary>
/// One ascending walk over the distinct values of two samples pooled, each with how often it occurs in the reference
/// and in the current sample, computing on the way everything the methods over sorted values read: the KS statistic
/// (sup |F_r − F_c|), the integrals ∫ |F_r − F_c| dx and ∫ (F_r − F_c)² dx (Wasserstein, energy distance), the
/// Cramér–von Mises rank sum U, the Anderson–Darling midrank sums, count/mean/variance of both samples (Welford, value
/// by value), Sturges bins and, when asked, the counts per value. Memory is constant in the number of values (the
/// counts per value grow with the distinct values, and only when asked), so a database can stream
/// <c>value, count in reference, count in current ORDER BY value</c> into it for any number of rows. The arithmetic is
/// that of the array methods (<see cref="KolmogorovSmirnovTest.Statistic"/>, <see cref="CdfDistance"/>,
/// <see cref="CramerVonMisesTest"/>, <see cref="AndersonDarlingTest"/>, <see cref="SampleSummary.FromValues"/>,
/// <see cref="BinnedCounts.OfSorted"/>), step for step, so both give the same numbers.
/// </summary>
public sealed class EmpiricalCdfScan
{
    private readonly long _referenceTotal;
    private readonly long _currentTotal;
    private readonly HistogramBins? _bins;
    private readonly HistogramBins? _distinctBins;
    private readonly double[]? _referenceBins;
    private readonly double[]? _currentBins;
    private readonly double[]? _referenceDistinctBins;
    private readonly double[]? _currentDistinctBins;
    private readonly List<string>? _keys;
    private readonly List<double>? _referenceByValue;
    private readonly List<double>? _currentByValue;

    // The value being gathered (rows with equal values are merged) and the cumulative counts before it.
    private bool _pending;
    private double _value;
    private long _referenceAt;
    private long _currentAt;
    private long _referenceBelow;
    private long _currentBelow;
    private bool _hasPrevious;
    private double _previous;
    private int _bin;
    private int _distinctBin;

    private double _ks;
    private double _absoluteIntegral;
    private double _squaredIntegral;
    private double _cramerU;
    private double _andersonReference;
    private double _andersonCurrent;
    private double _referenceMean;
    private double _referenceSquares;
    private double _currentMean;
    private double _currentSquares;
    private bool _completed;

    /// <param name="referenceCount">How many reference values the walk will see (the CDFs are divided by it).</param>
    /// <param name="currentCount">How many current values it will see.</param>
    /// <param name="bins">Bins to count both samples in (Sturges over both, say), or null.</param>
    /// <param name="distinctBins">A second set of bins (Sturges across the distinct values, for Hellinger), or null.</param>
    /// <param name="countValues">Whether to keep the counts per distinct value (<see cref="Categories"/>).</param>
    public EmpiricalCdfScan(long referenceCount, long currentCount, HistogramBins? bins = null, HistogramBins? distinctBins = null, bool countValues = false)
    {
        if (referenceCount <= 0 || currentCount <= 0)
        {
            throw new ArgumentException($"each sample needs at least 1 value (got {referenceCount} and {currentCount}).");
        }

        (_referenceTotal, _currentTotal) = (referenceCount, currentCount);
        (_bins, _distinctBins) = (bins, distinctBins);
        if (bins is not null)
        {
            (_referenceBins, _currentBins) = (new double[bins.Count], new double[bins.Count]);
        }

        if (distinctBins is not null)
        {
            (_referenceDistinctBins, _currentDistinctBins) = (new double[distinctBins.Count], new double[distinctBins.Count]);
        }

        if (countValues)
        {
            (_keys, _referenceByValue, _currentByValue) = ([], [], []);
        }
    }

    public long ReferenceCount => _referenceTotal;

    public long CurrentCount => _currentTotal;

    /// <summary>Distinct values over both samples seen so far.</summary>
    public long Distinct { get; private set; }

    /// <summary>The smallest and largest value seen (NaN before the first).</summary>
    public double Min { get; private set; } = double.NaN;

    public double Max { get; private set; } = double.NaN;

    /// <summary>D = max |F_r(x) − F_c(x)| over the pooled values, F(x) = #{values ≤ x}/n.</summary>
    public double KolmogorovSmirnov => Completed(Math.Min(_ks, 1));

    /// <summary>∫ |F_r − F_c| dx: the Wasserstein distance.</summary>
    public double AbsoluteCdfIntegral => Completed(_absoluteIntegral);

    /// <summary>∫ (F_r − F_c)² dx: half the squared energy distance.</summary>
    public double SquaredCdfIntegral => Completed(_squaredIntegral);

    /// <summary>U = n_r Σ (r_i − i)² + n_c Σ (s_j − j)², r and s the midranks of each sample in the pooled one (Cramér–von Mises).</summary>
    public double CramerVonMisesU => Completed(_cramerU);

    /// <summary>Scholz and Stephens' midrank A²akN before normalization (equation 7).</summary>
    public double AndersonDarlingMidrank
    {
        get
        {
            var n = (double)(_referenceTotal + _currentTotal);
            return Completed(((_andersonReference / _referenceTotal) + (_andersonCurrent / _currentTotal)) * (n - 1.0) / n);
        }
    }

    public SampleSummary ReferenceSummary => Completed(new SampleSummary(_referenceTotal, _referenceMean, _referenceTotal > 1 ? _referenceSquares / (_referenceTotal - 1) : 0));

    public SampleSummary CurrentSummary => Completed(new SampleSummary(_currentTotal, _currentMean, _currentTotal > 1 ? _currentSquares / (_currentTotal - 1) : 0));

    /// <summary>Both samples counted in the bins given, or null.</summary>
    public BinnedCounts? Histogram => _bins is null ? null : Completed(new BinnedCounts(_bins, _referenceBins!, _currentBins!));

    /// <summary>Both samples counted in the second bins given, or null.</summary>
    public BinnedCounts? DistinctHistogram => _distinctBins is null ? null : Completed(new BinnedCounts(_distinctBins, _referenceDistinctBins!, _currentDistinctBins!));

    /// <summary>Counts per distinct value (keys as <c>double.ToString("R")</c>, ascending), when asked for.</summary>
    public CategoryCounts? Categories => _keys is null ? null : Completed(new CategoryCounts(_keys, [.. _referenceByValue!], [.. _currentByValue!]));

    /// <summary>The walk over two sorted arrays (the in-memory path and the tests).</summary>
    public static EmpiricalCdfScan OfSorted(ReadOnlySpan<double> reference, ReadOnlySpan<double> current, HistogramBins? bins = null, HistogramBins? distinctBins = null, bool countValues = false)
    {
        var scan = new EmpiricalCdfScan(reference.Length, current.Length, bins, distinctBins, countValues);
        int i = 0, j = 0;
        while (i < reference.Length || j < current.Length)
        {
            var x = j >= current.Length || (i < reference.Length && reference[i] <= current[j]) ? reference[i] : current[j];
            var (startI, startJ) = (i, j);
            while (i < reference.Length && reference[i] <= x)
            {
                i++;
            }

            while (j < current.Length && current[j] <= x)
            {
                j++;
            }

            scan.Add(x, i - startI, j - startJ);
        }

        return scan.Complete();
    }

    /// <summary>
    /// The next value in ascending order with how many times it occurs in each sample; a value equal to the last one
    /// adds to its counts (a database may group −0.0 and 0.0 apart).
    /// </summary>
    public void Add(double value, long reference, long current)
    {
        if (_completed)
        {
            throw new InvalidOperationException("the scan is complete; start a new one.");
        }

        if (!double.IsFinite(value))
        {
            throw new ArgumentException($"value {value} is not a finite number; leave missing values out.");
        }

        if (reference < 0 || current < 0 || reference + current == 0)
        {
            throw new ArgumentException($"value {value.ToString("R", CultureInfo.InvariantCulture)} has counts {reference} and {current}; give counts of 0 or more, not both 0.");
        }

        if (_pending)
        {
            if (value == _value)
            {
                _referenceAt += reference;
                _currentAt += current;
                return;
            }

            if (value < _value)
            {
                throw new ArgumentException($"values must come in ascending order ({value.ToString("R", CultureInfo.InvariantCulture)} after {_value.ToString("R", CultureInfo.InvariantCulture)}).");
            }

            Flush();
        }

        (_pending, _value, _referenceAt, _currentAt) = (true, value, reference, current);
    }

    /// <summary>Ends the walk; checks that the counts add up to the totals given.</summary>
    public EmpiricalCdfScan Complete()
    {
        if (_completed)
        {
            return this;
        }

        if (_pending)
        {
            Flush();
            _pending = false;
        }

        if (_referenceBelow != _referenceTotal || _currentBelow != _currentTotal)
        {
            throw new ArgumentException($"the scan saw {_referenceBelow} reference and {_currentBelow} current values, not the {_referenceTotal} and {_currentTotal} it was told.");
        }

        _completed = true;
        return this;
    }

    private void Flush()
    {
        var x = _value;
        long r = _referenceAt, c = _currentAt;
        double n1 = _referenceTotal, n2 = _currentTotal;
        if (_referenceBelow + r > _referenceTotal || _currentBelow + c > _currentTotal)
        {
            throw new ArgumentException($"the scan saw more values than the {_referenceTotal} reference and {_currentTotal} current it was told.");
        }

        // ∫ over [previous, x): the CDFs after the previous value hold there (CdfDistance.ComputeSorted).
        if (_hasPrevious)
        {
            var gap = Math.Abs((_referenceBelow / n1) - (_currentBelow / n2));
            var delta = x - _previous;
            if (delta != 0)
            {
                _absoluteIntegral += gap * delta;
                _squaredIntegral += gap * gap * delta;
            }
        }
        else
        {
            Min = x;
        }

        // Anderson–Darling midrank terms (AndersonDarlingTest.Midrank), per sample.
        double n = n1 + n2, ties = r + c, left = _referenceBelow + _currentBelow;
        var b = left + (ties / 2.0);
        var denominator = (b * (n - b)) - (n * ties / 4.0);
        var referenceDeviation = (n * ((_referenceBelow + r) - (r / 2.0))) - (b * n1);
        var currentDeviation = (n * ((_currentBelow + c) - (c / 2.0))) - (b * n2);
        _andersonReference += ties / n * referenceDeviation * referenceDeviation / denominator;
        _andersonCurrent += ties / n * currentDeviation * currentDeviation / denominator;

        // Cramér–von Mises: every tied value has the group's midrank (CramerVonMisesTest.TwoSampleSorted).
        var rank = _referenceBelow + _currentBelow;
        var midrank = rank + ((r + c + 1) / 2.0);
        for (long t = 1; t <= r; t++)
        {
            var deviation = midrank - (_referenceBelow + t);
            _cramerU += n1 * deviation * deviation;
        }

        for (long t = 1; t <= c; t++)
        {
            var deviation = midrank - (_currentBelow + t);
            _cramerU += n2 * deviation * deviation;
        }

        // Welford, value by value, as SampleSummary.FromValues over the sorted sample.
        for (long t = 1; t <= r; t++)
        {
            var delta = x - _referenceMean;
            _referenceMean += delta / (_referenceBelow + t);
            _referenceSquares += delta * (x - _referenceMean);
        }

        for (long t = 1; t <= c; t++)
        {
            var delta = x - _currentMean;
            _currentMean += delta / (_currentBelow + t);
            _currentSquares += delta * (x - _currentMean);
        }

        if (_bins is not null)
        {
            _bin = Place(_bins, x, _bin, _referenceBins!, _currentBins!, r, c);
        }

        if (_distinctBins is not null)
        {
            _distinctBin = Place(_distinctBins, x, _distinctBin, _referenceDistinctBins!, _currentDistinctBins!, r, c);
        }

        if (_keys is not null)
        {
            _keys.Add(x.ToString("R", CultureInfo.InvariantCulture));
            _referenceByValue!.Add(r);
            _currentByValue!.Add(c);
        }

        _referenceBelow += r;
        _currentBelow += c;
        var difference = Math.Abs((_referenceBelow / n1) - (_currentBelow / n2));
        if (difference > _ks)
        {
            _ks = difference;
        }

        Distinct++;
        Max = x;
        (_hasPrevious, _previous) = (true, x);
    }

    /// <summary>Counts x in bin k, edgeₖ ≤ x &lt; edgeₖ₊₁ (the last bin also its right edge), moving the bin forward as x grows.</summary>
    private static int Place(HistogramBins bins, double x, int bin, double[] reference, double[] current, long r, long c)
    {
        var edges = bins.Edges;
        while (bin < bins.Count - 1 && x >= edges[bin + 1])
        {
            bin++;
        }

        if (x >= edges[0] && (bin < bins.Count - 1 || x <= edges[^1]))
        {
            reference[bin] += r;
            current[bin] += c;
        }

        return bin;
    }

    private T Completed<T>(T value) =>
        _completed ? value : throw new InvalidOperationException("the scan is not complete; call Complete() after the last value.");
}
