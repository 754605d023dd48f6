namespace Ballast.Statistics.Performance;

/// <summary>
/// A fitted non-decreasing step-and-ramp function, as <c>sklearn.isotonic.IsotonicRegression(increasing=True,
/// out_of_bounds="clip")</c> fits it: the points are sorted by x, points with the same x are merged into their
/// weighted mean (ties="secondary": equal inputs get equal outputs), the pool-adjacent-violators algorithm (PAVA)
/// makes the means non-decreasing with the least weighted squared error, the result is clipped to
/// [<c>yMin</c>, <c>yMax</c>], and predictions interpolate linearly between the fitted points and clip outside them.
/// NannyML's CBPE uses exactly this to calibrate a model's scores on the reference (<c>nannyml/calibration.py</c>,
/// <c>IsotonicCalibrator</c>).
/// </summary>
public sealed class IsotonicRegression
{
    private readonly double[] _x;
    private readonly double[] _y;

    private IsotonicRegression(double[] x, double[] y)
    {
        _x = x;
        _y = y;
    }

    /// <summary>The distinct inputs of the fit, ascending.</summary>
    public IReadOnlyList<double> Thresholds => _x;

    /// <summary>The fitted value at each threshold, non-decreasing.</summary>
    public IReadOnlyList<double> Values => _y;

    /// <summary>
    /// Fits on (x, y) pairs with optional weights (default 1 each). A weight of 0 gives its point no influence,
    /// as in scikit-learn; negative or non-finite weights, and non-finite x or y, are rejected.
    /// </summary>
    public static IsotonicRegression Fit(
        ReadOnlySpan<double> x,
        ReadOnlySpan<double> y,
        ReadOnlySpan<double> weights = default,
        double yMin = double.NegativeInfinity,
        double yMax = double.PositiveInfinity)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"isotonic regression needs one y per x: there are {x.Length} x and {y.Length} y.");
        }

        if (!weights.IsEmpty && weights.Length != x.Length)
        {
            throw new ArgumentException($"there are {x.Length} points but {weights.Length} weights; give one weight per point or none.");
        }

        if (yMin > yMax)
        {
            throw new ArgumentException($"yMin ({yMin}) is above yMax ({yMax}).");
        }

        var order = new List<int>(x.Length);
        for (var i = 0; i < x.Length; i++)
        {
            if (!double.IsFinite(x[i]) || !double.IsFinite(y[i]))
            {
                throw new ArgumentException($"point {i} is ({x[i]}, {y[i]}); x and y must be finite numbers.");
            }

            var w = weights.IsEmpty ? 1 : weights[i];
            if (!(w >= 0) || !double.IsFinite(w))
            {
                throw new ArgumentException($"weight {i} is {w}; weights must be finite and 0 or more.");
            }

            if (w > 0)
            {
                order.Add(i);
            }
        }

        if (order.Count == 0)
        {
            throw new ArgumentException("isotonic regression needs at least one point with a positive weight.");
        }

        var xs = x.ToArray();
        order.Sort((a, b) => xs[a].CompareTo(xs[b]));

        // Merge equal x into their weighted mean.
        var uniqueX = new List<double>(order.Count);
        var sumWy = new List<double>(order.Count);
        var sumW = new List<double>(order.Count);
        foreach (var i in order)
        {
            var w = weights.IsEmpty ? 1 : weights[i];
            if (uniqueX.Count > 0 && uniqueX[^1] == x[i])
            {
                sumWy[^1] += w * y[i];
                sumW[^1] += w;
            }
            else
            {
                uniqueX.Add(x[i]);
                sumWy.Add(w * y[i]);
                sumW.Add(w);
            }
        }

        var fitted = Pava(sumWy, sumW);
        for (var i = 0; i < fitted.Length; i++)
        {
            fitted[i] = Math.Clamp(fitted[i], yMin, yMax);
        }

        return new IsotonicRegression([.. uniqueX], fitted);
    }

    /// <summary>
    /// <c>sklearn.isotonic.isotonic_regression(y, sample_weight)</c>: the non-decreasing sequence closest to
    /// <paramref name="y"/> in weighted least squares, the inputs taken in the order given.
    /// </summary>
    public static double[] OfSequence(ReadOnlySpan<double> y, ReadOnlySpan<double> weights = default)
    {
        if (!weights.IsEmpty && weights.Length != y.Length)
        {
            throw new ArgumentException($"there are {y.Length} values but {weights.Length} weights; give one weight per value or none.");
        }

        var sumWy = new List<double>(y.Length);
        var sumW = new List<double>(y.Length);
        for (var i = 0; i < y.Length; i++)
        {
            var w = weights.IsEmpty ? 1 : weights[i];
            if (!double.IsFinite(y[i]) || !(w > 0) || !double.IsFinite(w))
            {
                throw new ArgumentException($"value {i} is {y[i]} with weight {w}; values must be finite and weights positive.");
            }

            sumWy.Add(w * y[i]);
            sumW.Add(w);
        }

        return Pava(sumWy, sumW);
    }

    /// <summary>The fitted function at <paramref name="x"/>: linear between thresholds, clipped outside them.</summary>
    public double Predict(double x)
    {
        if (double.IsNaN(x))
        {
            throw new ArgumentException("cannot predict at NaN.");
        }

        if (x <= _x[0])
        {
            return _y[0];
        }

        if (x >= _x[^1])
        {
            return _y[^1];
        }

        var upper = Array.BinarySearch(_x, x);
        if (upper >= 0)
        {
            return _y[upper];
        }

        upper = ~upper;
        var lower = upper - 1;
        var t = (x - _x[lower]) / (_x[upper] - _x[lower]);
        return _y[lower] + t * (_y[upper] - _y[lower]);
    }

    public double[] Predict(ReadOnlySpan<double> x)
    {
        var result = new double[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            result[i] = Predict(x[i]);
        }

        return result;
    }

    /// <summary>Pool adjacent violators over blocks given as (Σ w·y, Σ w); returns one fitted value per block.</summary>
    private static double[] Pava(List<double> sumWy, List<double> sumW)
    {
        var n = sumW.Count;
        var blockWy = new double[n];
        var blockW = new double[n];
        var blockEnd = new int[n]; // exclusive end index of each block
        var blocks = 0;
        for (var i = 0; i < n; i++)
        {
            blockWy[blocks] = sumWy[i];
            blockW[blocks] = sumW[i];
            blockEnd[blocks] = i + 1;
            blocks++;
            while (blocks > 1 && blockWy[blocks - 2] / blockW[blocks - 2] > blockWy[blocks - 1] / blockW[blocks - 1])
            {
                blockWy[blocks - 2] += blockWy[blocks - 1];
                blockW[blocks - 2] += blockW[blocks - 1];
                blockEnd[blocks - 2] = blockEnd[blocks - 1];
                blocks--;
            }
        }

        var fitted = new double[n];
        var start = 0;
        for (var b = 0; b < blocks; b++)
        {
            var mean = blockWy[b] / blockW[b];
            for (var i = start; i < blockEnd[b]; i++)
            {
                fitted[i] = mean;
            }

            start = blockEnd[b];
        }

        return fitted;
    }
}
