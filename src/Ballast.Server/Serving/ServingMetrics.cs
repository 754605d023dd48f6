using System.Collections.Concurrent;
using System.Globalization;
using Ballast.Runtime;
using Ballast.Serving;
using Prometheus;

namespace Ballast.Server.Serving;

/// <summary>
/// Serving metrics beyond requests and latency: what the models predict (class counts for label outputs, a value
/// histogram for scores), how long models took to load, and remote variants' circuit breaker transitions.
/// </summary>
public sealed class ServingMetrics : IModelCacheObserver
{
    /// <summary>Distinct classes counted per endpoint, variant and output; beyond, values count as <c>other</c> (bounded series).</summary>
    public const int MaxClasses = 50;

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

    private static readonly Counter CircuitTransitions = Metrics.CreateCounter("ballast_remote_circuit_transitions_total", "Circuit breaker transitions of remote variants (opened, half_opened, closed), by URL.",
        new CounterConfiguration { LabelNames = ["url", "transition"] });

    private static readonly ConcurrentDictionary<(string Endpoint, string Variant, string Output), ConcurrentDictionary<string, Counter.Child>> ClassSeries = new();

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

    /// <summary>Counts classes of 1-D label outputs and observes the scores of float outputs.</summary>
    public static void ObservePredictions(string endpoint, string variant, IReadOnlyList<Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        foreach (var output in outputs)
        {
            switch (output.Data)
            {
                case float[] values:
                    ObserveScores(endpoint, variant, output, values.Length, i => values[i]);
                    break;
                case double[] values:
                    ObserveScores(endpoint, variant, output, values.Length, i => values[i]);
                    break;
                case string[] or bool[] or long[] or int[] or short[] or sbyte[] or byte[] or ushort[] or uint[] or ulong[] when output.Shape.Length == 1 || (output.Shape.Length == 2 && output.Shape[1] == 1):
                    var series = ClassSeries.GetOrAdd((endpoint, variant, output.Name), _ => new ConcurrentDictionary<string, Counter.Child>(StringComparer.Ordinal));
                    foreach (var value in output.Data)
                    {
                        var label = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
                        if (!series.TryGetValue(label, out var child))
                        {
                            child = series.Count >= MaxClasses ? series.GetOrAdd("other", _ => Classes.WithLabels(endpoint, variant, output.Name, "other"))
                                : series.GetOrAdd(label, _ => Classes.WithLabels(endpoint, variant, output.Name, label));
                        }

                        child.Inc();
                    }

                    break;
            }
        }
    }

    private static void ObserveScores(string endpoint, string variant, Tensor output, int count, Func<int, double> value)
    {
        var width = output.Shape.Length == 2 && output.Shape[1] > 0 ? (int)output.Shape[1] : 1;
        if (output.Shape.Length > 2 || count == 0)
        {
            return;
        }

        var histogram = Values.WithLabels(endpoint, variant, output.Name);
        for (var row = 0; row + width <= count; row += width)
        {
            var top = value(row);
            for (var column = 1; column < width; column++)
            {
                top = Math.Max(top, value(row + column));
            }

            if (double.IsFinite(top))
            {
                histogram.Observe(top);
            }
        }
    }
}
