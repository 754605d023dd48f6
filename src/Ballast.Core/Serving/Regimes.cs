using System.Globalization;
using Ballast.Runtime;

namespace Ballast.Serving;

/// <summary>
/// A regime endpoint's settings. <see cref="Rules"/> route a request by its own features (first match wins). Otherwise
/// a numeric signal picks the regime: <see cref="Thresholds"/> (ascending) cut it into regimes, regime i served by
/// <see cref="Variants"/>[i]. The signal is computed by the <see cref="Detector"/> over the recent input stream, or
/// posted to <c>/api/v1/endpoints/{name}/signals</c> under the name <see cref="Signal"/>. A switch needs the signal
/// to cross a threshold by <see cref="Hysteresis"/> and the current regime to have lasted <see cref="MinDwellSeconds"/>.
/// </summary>
public sealed record RegimeSpec(
    string? Signal = null,
    RegimeDetectorSpec? Detector = null,
    IReadOnlyList<double>? Thresholds = null,
    IReadOnlyList<string>? Variants = null,
    double? Hysteresis = null,
    double? MinDwellSeconds = null,
    IReadOnlyList<RegimeRule>? Rules = null);

/// <summary>A rolling statistic (<c>std</c>, the volatility, or <c>mean</c>) of one input column over the last <see cref="Window"/> rows.</summary>
public sealed record RegimeDetectorSpec(string? Input, int? Index = null, string? Statistic = null, int? Window = null)
{
    public const string Std = "std";
    public const string Mean = "mean";
    public const int DefaultWindow = 100;
}

/// <summary>Sends a request whose first row's <see cref="Input"/>[<see cref="Index"/>] compares true to <see cref="Variant"/>.</summary>
public sealed record RegimeRule(string? Input, string? Op, double? Value = null, string? Text = null, int? Index = null, string? Variant = null)
{
    public static IReadOnlyList<string> Operators { get; } = ["<", "<=", ">", ">=", "==", "!="];

    /// <summary>Whether the request's inputs match; a missing input or a value of another kind does not match.</summary>
    public bool Matches(IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var tensor = inputs.FirstOrDefault(input => input.Name == Input);
        var index = Index ?? 0;
        if (tensor is null || index < 0 || index >= tensor.Data.Length)
        {
            return false;
        }

        var value = tensor.Data.GetValue(index);
        if (Text is not null)
        {
            var equal = string.Equals(Convert.ToString(value, CultureInfo.InvariantCulture), Text, StringComparison.Ordinal);
            return Op == "!=" ? !equal : equal;
        }

        if (Value is not { } threshold || Tensor.Number(tensor.Data, index) is not { } number)
        {
            return false;
        }

        return Op switch
        {
            "<" => number < threshold,
            "<=" => number <= threshold,
            ">" => number > threshold,
            ">=" => number >= threshold,
            "==" => number == threshold,
            "!=" => number != threshold,
            _ => false,
        };
    }
}

/// <summary>
/// One endpoint's regime on this replica: the rolling window of its detector and the regime the signal selected,
/// moved only past a threshold plus the hysteresis and after the minimum dwell time. Thread-safe.
/// </summary>
public sealed class RegimeState(RegimeSpec spec, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly double[] _window = new double[Math.Max(2, spec.Detector?.Window ?? RegimeDetectorSpec.DefaultWindow)];
    private int _count;
    private int _next;
    private double _sum;
    private double _sumOfSquares;
    private int _regime;
    private long _switchedAt = time.GetUtcNow().ToUnixTimeMilliseconds();
    private long _signalAt = long.MinValue;

    /// <summary>The current regime: an index into the spec's thresholds' intervals (0 below the first).</summary>
    public int Regime => Volatile.Read(ref _regime);

    /// <summary>The last signal value seen (detected or posted), NaN before any.</summary>
    public double Signal { get; private set; } = double.NaN;

    /// <summary>Feeds the detector with a request's rows; when the window is full, its statistic is the signal.</summary>
    public void Observe(IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (spec.Detector is not { } detector || inputs.FirstOrDefault(input => input.Name == detector.Input) is not { Data: not string[] } tensor)
        {
            return;
        }

        var width = tensor.Shape.Length >= 2 ? (int)Math.Max(1, tensor.Shape[^1]) : 1;
        var index = detector.Index ?? 0;
        lock (_gate)
        {
            for (var row = index; row < tensor.Data.Length; row += width)
            {
                Add(Tensor.Number(tensor.Data, row)!.Value);
            }

            if (_count == _window.Length)
            {
                var mean = _sum / _count;
                Move(detector.Statistic == RegimeDetectorSpec.Mean ? mean : Math.Sqrt(Math.Max(0, (_sumOfSquares - (_count * mean * mean)) / (_count - 1))));
            }
        }
    }

    /// <summary>
    /// Takes a posted signal value; <paramref name="at"/> (Unix ms) orders values from several replicas, older ones are
    /// ignored (values posted in the same millisecond apply in the order they arrive).
    /// </summary>
    public void Post(double value, long at)
    {
        lock (_gate)
        {
            if (at >= _signalAt)
            {
                _signalAt = at;
                Move(value);
            }
        }
    }

    private void Add(double value)
    {
        if (_count == _window.Length)
        {
            var old = _window[_next];
            _sum -= old;
            _sumOfSquares -= old * old;
        }
        else
        {
            _count++;
        }

        _window[_next] = value;
        _next = (_next + 1) % _window.Length;
        _sum += value;
        _sumOfSquares += value * value;
    }

    private void Move(double signal)
    {
        Signal = signal;
        var thresholds = spec.Thresholds ?? [];
        var hysteresis = spec.Hysteresis ?? 0;
        var current = _regime;
        var target = current;
        // Up past threshold[i] + h, down below threshold[i - 1] - h: a signal dithering around a threshold stays put.
        while (target < thresholds.Count && signal >= thresholds[target] + hysteresis)
        {
            target++;
        }

        while (target > 0 && signal < thresholds[target - 1] - hysteresis)
        {
            target--;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (target != current && now - _switchedAt >= (spec.MinDwellSeconds ?? 0) * 1000)
        {
            Volatile.Write(ref _regime, target);
            _switchedAt = now;
        }
    }
}
