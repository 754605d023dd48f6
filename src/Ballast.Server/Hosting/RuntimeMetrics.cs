using Prometheus;

namespace Ballast.Server.Hosting;

/// <summary>
/// The five counts of the runtime's <c>System.Runtime</c> meter whose names end in <c>.count</c> (threads, completed
/// work items, timers, assemblies, processors), under names Prometheus' conventions accept. prometheus-net's meter
/// adapter would publish them as gauges named <c>…_count</c>, a suffix Prometheus reserves for histograms and summaries
/// (<c>promtool check metrics</c> flags each), so <see cref="IsRenamed"/> keeps them from the adapter and this
/// publishes them, read on each scrape, beside the adapter's other <c>system_runtime_dotnet_…</c> metrics.
/// </summary>
public static class RuntimeMetrics
{
    private const string RuntimeMeter = "System.Runtime";

    private static readonly HashSet<string> Renamed = new(StringComparer.Ordinal)
    {
        "dotnet.thread_pool.thread.count", "dotnet.thread_pool.work_item.count", "dotnet.timer.count", "dotnet.assembly.count", "dotnet.process.cpu.count",
    };

    private static readonly Gauge Threads = Metrics.CreateGauge("system_runtime_dotnet_thread_pool_threads", "Thread pool threads that currently exist (ThreadPool.ThreadCount).");

    private static readonly Counter WorkItems = Metrics.CreateCounter("system_runtime_dotnet_thread_pool_work_items_total",
        "Work items the thread pool has completed since the process started (ThreadPool.CompletedWorkItemCount).");

    private static readonly Gauge Timers = Metrics.CreateGauge("system_runtime_dotnet_timers", "Timer instances currently active (Timer.ActiveCount).");

    private static readonly Gauge Assemblies = Metrics.CreateGauge("system_runtime_dotnet_assemblies", "Assemblies loaded into the process.");

    private static readonly Gauge Processors = Metrics.CreateGauge("system_runtime_dotnet_process_cpus", "Processors available to the process (Environment.ProcessorCount).");

    private static int _published;

    /// <summary>Whether an instrument is one this publishes itself (the meter adapter's filter leaves it out).</summary>
    public static bool IsRenamed(System.Diagnostics.Metrics.Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        return instrument.Meter.Name == RuntimeMeter && Renamed.Contains(instrument.Name);
    }

    /// <summary>Reads the counts on every scrape of the default registry; once per process, however many servers it starts.</summary>
    public static void Publish()
    {
        if (Interlocked.Exchange(ref _published, 1) == 1)
        {
            return;
        }

        Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            Threads.Set(ThreadPool.ThreadCount);
            WorkItems.IncTo(ThreadPool.CompletedWorkItemCount);
            Timers.Set(Timer.ActiveCount);
            Assemblies.Set(AppDomain.CurrentDomain.GetAssemblies().Length);
            Processors.Set(Environment.ProcessorCount);
        });
    }
}
