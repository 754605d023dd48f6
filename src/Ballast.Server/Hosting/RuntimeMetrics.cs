using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Prometheus;

namespace Ballast.Server.Hosting;

/// <summary>
/// The instruments of the runtime's and libraries' meters whose names end in <c>.count</c> (the runtime's threads,
/// completed work items, timers, assemblies and processors; Npgsql's pooled connections), under names Prometheus'
/// conventions accept. prometheus-net's meter adapter would publish them as <c>…_count</c>, a suffix Prometheus
/// reserves for histograms and summaries (<c>promtool check metrics</c> flags each), so <see cref="IsRenamed"/> keeps
/// every <c>.count</c> instrument from the adapter, and this listens to the ones it names and publishes them: a
/// counter as <c>…_total</c>, anything else as a gauge, with the instrument's tags as labels (dots as underscores).
/// A <c>.count</c> instrument it does not name is left out.
/// </summary>
public static class RuntimeMetrics
{
    private static readonly Dictionary<(string Meter, string Instrument), (string Name, string Help)> Names = new()
    {
        [("System.Runtime", "dotnet.thread_pool.thread.count")] = ("system_runtime_dotnet_thread_pool_threads", "Thread pool threads that currently exist."),
        [("System.Runtime", "dotnet.thread_pool.work_item.count")] = ("system_runtime_dotnet_thread_pool_work_items_total", "Work items the thread pool has completed since the process started."),
        [("System.Runtime", "dotnet.timer.count")] = ("system_runtime_dotnet_timers", "Timer instances currently active."),
        [("System.Runtime", "dotnet.assembly.count")] = ("system_runtime_dotnet_assemblies", "Assemblies loaded into the process."),
        [("System.Runtime", "dotnet.process.cpu.count")] = ("system_runtime_dotnet_process_cpus", "Processors available to the process."),
        [("Npgsql", "db.client.connection.count")] = ("npgsql_db_client_connections", "PostgreSQL connections in Npgsql's pools, by state (idle or used)."),
    };

    private static readonly ConcurrentDictionary<string, Collector> Published = new(StringComparer.Ordinal);

    private static MeterListener? _listener;

    /// <summary>Whether the meter adapter leaves an instrument to this (every <c>.count</c> instrument: published here when named, else left out).</summary>
    public static bool IsRenamed(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        return instrument.Name.EndsWith(".count", StringComparison.Ordinal);
    }

    /// <summary>Listens to the named instruments, reading the observable ones on every scrape of the default registry; once per process, however many servers it starts.</summary>
    public static void Publish()
    {
        var listener = new MeterListener();
        if (Interlocked.CompareExchange(ref _listener, listener, null) is not null)
        {
            listener.Dispose();
            return;
        }

        listener.InstrumentPublished = (instrument, meterListener) =>
        {
            if (Names.ContainsKey((instrument.Meter.Name, instrument.Name)))
            {
                meterListener.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.Start();
        Metrics.DefaultRegistry.AddBeforeCollectCallback(listener.RecordObservableInstruments);
    }

    private static void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!Names.TryGetValue((instrument.Meter.Name, instrument.Name), out var name))
        {
            return;
        }

        var sorted = tags.ToArray();
        Array.Sort(sorted, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var labels = Array.ConvertAll(sorted, tag => tag.Key.Replace('.', '_'));
        var values = Array.ConvertAll(sorted, tag => Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
        var collector = Published.GetOrAdd(name.Name, _ => name.Name.EndsWith("_total", StringComparison.Ordinal)
            ? Metrics.CreateCounter(name.Name, name.Help, labels)
            : Metrics.CreateGauge(name.Name, name.Help, labels));
        if (!collector.LabelNames.AsSpan().SequenceEqual(labels))
        {
            // Tags other than the first measurement's: left out rather than thrown into the instrument's owner.
            return;
        }

        switch (collector, instrument)
        {
            // An observable instrument reports its current value (a counter's running total); the others a change.
            case (Counter counter, ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double>):
                counter.WithLabels(values).IncTo(value);
                break;
            case (Counter counter, _):
                counter.WithLabels(values).Inc(value);
                break;
            case (Gauge gauge, { IsObservable: true }):
                gauge.WithLabels(values).Set(value);
                break;
            case (Gauge gauge, _):
                gauge.WithLabels(values).Inc(value);
                break;
        }
    }
}
