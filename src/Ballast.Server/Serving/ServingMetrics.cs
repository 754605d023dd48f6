using System.Collections.Concurrent;
using System.Globalization;
using Ballast.Runtime;
using Ballast.Serving;
using Prometheus;

namespace Ballast.Server.Serving;

/// <summary>
/// Serving metrics: requests and latency by variant, what the models predict (class counts for label outputs, a
/// value histogram for scores), how long models took to load, and remote variants' circuit breaker transitions.
/// </summary>
public sealed class ServingMetrics : IModelCacheObserver
{
    /// <summary>Distinct classes counted per endpoint, variant and output; beyond, values count as <c>other</c> (bounded series).</summary>
    public const int MaxClasses = 50;

    internal static readonly Counter Requests = Metrics.CreateCounter("ballast_inference_requests_total", "Scoring requests by endpoint, variant, model version and status code.",
        new CounterConfiguration { LabelNames = ["endpoint", "variant", "model_version", "status"] });

    private static readonly Histogram Duration = Metrics.CreateHistogram("ballast_inference_duration_seconds", "Time to route and run the model, by endpoint and variant.",
        new HistogramConfiguration { LabelNames = ["endpoint", "variant"], Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16) });

    private static readonly Counter Classes = Metrics.CreateCounter("ballast_prediction_class_total", "Predicted values of label outputs (integer, string or boolean), by class.",
        new CounterConfiguration { LabelNames = ["endpoint", "variant", "output", "class"] });

    private static readonly Histogram Values = Metrics.CreateHistogram("ballast_prediction_value", "Predicted values of score outputs (one value per row; the row's top score for [N, C] outputs).",
        new HistogramConfiguration
        {
            LabelNames = ["endpoint", "variant", "output"],
            Buckets = [-1000, -100, -10, -1, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 10, 100, 1000, 10_000],
        });

    private static readonly Histogram LoadTime = Metrics.CreateHistogram("ballast_model_load_seconds", "Time to load and warm a model version (or connect to a remote model), by flavor.",
        new HistogramConfiguration { LabelNames = ["flavor"], Buckets = Histogram.ExponentialBuckets(0.001, 4, 10) });

    private static readonly Gauge LastLoadTime = Metrics.CreateGauge("ballast_model_last_load_seconds", "Time the last load of each model took.",
        new GaugeConfiguration { LabelNames = ["model"] });

    private static readonly Histogram BatchRows = Metrics.CreateHistogram("ballast_inference_batch_size", "Rows per model call on endpoints that batch, by endpoint and variant.",
        new HistogramConfiguration { LabelNames = ["endpoint", "variant"], Buckets = Histogram.ExponentialBuckets(1, 2, 13) });

    /// <summary>What hears an endpoint variant's batches (<see cref="Ballast.Serving.EndpointRouter"/>'s batch observer).</summary>
    public static Action<int> BatchObserver(string endpoint, string variant)
    {
        var child = BatchRows.WithLabels(endpoint, variant);
        return rows => child.Observe(rows);
    }

    private static readonly Counter CircuitTransitions = Metrics.CreateCounter("ballast_remote_circuit_transitions_total", "Circuit breaker transitions of remote variants (opened, half_opened, closed), by URL.",
        new CounterConfiguration { LabelNames = ["url", "transition"] });

    // A variant's series, looked up once per variant and output rather than per request (a new routing snapshot's
    // variants start a new cache; the old one is collected with them).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<RoutedVariant, VariantSeries> Series = [];


    public void Loaded(LoadedModel model, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(model);
        LoadTime.WithLabels(model.Flavor).Observe(elapsed.TotalSeconds);
        LastLoadTime.WithLabels(model.Reference).Set(elapsed.TotalSeconds);
    }

    public void CircuitChanged(Uri url, string transition)
    {
        ArgumentNullException.ThrowIfNull(url);
        CircuitTransitions.WithLabels(url.ToString(), transition).Inc();
    }

    /// <summary>
    /// Counts an answered request (status 200) with its duration, the classes of its 1-D label outputs and the scores
    /// of its float outputs.
    /// </summary>
    public static void ObserveAnswer(string endpoint, RoutedVariant variant, TimeSpan elapsed, IReadOnlyList<Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(variant);
        ArgumentNullException.ThrowIfNull(outputs);
        var series = Series.GetValue(variant, key => new VariantSeries(endpoint, key.Name, key.Model.Reference));
        series.Duration.Observe(elapsed.TotalSeconds);
        series.Succeeded.Inc();
        foreach (var output in outputs)
        {
            switch (output.Data)
            {
                case float[] values:
                    ObserveScores(series.Values(output.Name), output, values);
                    break;
                case double[] values:
                    ObserveScores(series.Values(output.Name), output, values);
                    break;
                case long[] values when output.Data.GetType() == typeof(long[]) && IsColumn(output): // a ulong[] matches long[] too: it is counted below
                    var classes = series.Classes(output.Name);
                    foreach (var value in values)
                    {
                        classes.Count(value, static value => value.ToString(CultureInfo.InvariantCulture));
                    }

                    break;
                case string[] or bool[] or int[] or short[] or sbyte[] or byte[] or ushort[] or uint[] or ulong[] when IsColumn(output):
                    var labels = series.Labels(output.Name);
                    foreach (var value in output.Data)
                    {
                        labels.Count(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "", static label => label);
                    }

                    break;
            }
        }
    }

    private static bool IsColumn(Tensor output) => output.Shape.Length == 1 || (output.Shape.Length == 2 && output.Shape[1] == 1);

    // Generic over the element type rather than a Func per call: no closure allocated per request and output.
    private static void ObserveScores<T>(Histogram.Child histogram, Tensor output, T[] values)
        where T : struct, System.Numerics.INumberBase<T>
    {
        var width = output.Shape.Length == 2 && output.Shape[1] > 0 ? (int)output.Shape[1] : 1;
        var count = values.Length;
        if (output.Shape.Length > 2 || count == 0)
        {
            return;
        }

        for (var row = 0; row + width <= count; row += width)
        {
            var top = double.CreateTruncating(values[row]);
            for (var column = 1; column < width; column++)
            {
                top = Math.Max(top, double.CreateTruncating(values[row + column]));
            }

            if (double.IsFinite(top))
            {
                histogram.Observe(top);
            }
        }
    }

    private sealed class VariantSeries(string endpoint, string variant, string model)
    {
        public Histogram.Child Duration { get; } = ServingMetrics.Duration.WithLabels(endpoint, variant);

        public Counter.Child Succeeded { get; } = Requests.WithLabels(endpoint, variant, model, "200");

        private readonly ConcurrentDictionary<string, Histogram.Child> _values = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, ClassCounter<long>> _classes = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, ClassCounter<string>> _labels = new(StringComparer.Ordinal);

        public Histogram.Child Values(string output) => _values.GetOrAdd(output, name => ServingMetrics.Values.WithLabels(endpoint, variant, name));

        public ClassCounter<long> Classes(string output) => _classes.GetOrAdd(output, name => new ClassCounter<long>(endpoint, variant, name));

        public ClassCounter<string> Labels(string output) => _labels.GetOrAdd(output, name => new ClassCounter<string>(endpoint, variant, name));
    }

    /// <summary>One output's class counters, at most <see cref="MaxClasses"/> of them, then <c>other</c>.</summary>
    private sealed class ClassCounter<T>(string endpoint, string variant, string output)
        where T : notnull
    {
        private readonly ConcurrentDictionary<T, Counter.Child> _children = new();
        private Counter.Child? _other;

        public void Count(T value, Func<T, string> label)
        {
            if (!_children.TryGetValue(value, out var child))
            {
                child = _children.Count >= MaxClasses
                    ? _other ??= ServingMetrics.Classes.WithLabels(endpoint, variant, output, "other")
                    : _children.GetOrAdd(value, key => ServingMetrics.Classes.WithLabels(endpoint, variant, output, label(key)));
            }

            child.Inc();
        }
    }
}
