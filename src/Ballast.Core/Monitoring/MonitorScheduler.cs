using System.Globalization;
using Ballast.Alerts;
using Ballast.Serving;
using Ballast.Tracking;

namespace Ballast.Monitoring;

/// <summary>
/// Closes monitors' windows when they are due and computes them: a time window [start, end) aligned to its duration
/// is due <c>grace</c> after its end; a row window when the endpoint logged that many predictions since the last one.
/// The state is the stored windows (the next starts where the last ended), so a restart resumes and catches up; each
/// closed window is stored once (unique per monitor and start), then handed to <paramref name="closed"/> (metrics) and
/// to every alert observer, in window order.
/// </summary>
public sealed class MonitorScheduler(
    MonitorStore monitors,
    MonitorEvaluator evaluator,
    TrafficStats traffic,
    IEnumerable<IAlertObserver> observers,
    TimeProvider time,
    Action<MonitorSpec, StoredMonitorWindow>? closed = null)
{
    /// <summary>A monitor catches up at most this many overdue windows per tick (after a long outage, the rest on the next ticks).</summary>
    public const int MaxWindowsPerTick = 10;

    /// <summary>Where a window's report is served; the observation links to it.</summary>
    public static string ReportPath(string monitor, long window) => string.Create(CultureInfo.InvariantCulture, $"/api/v1/monitors/{monitor}/windows/{window}/report");

    /// <summary>Closes and computes every window that is due; the lease holder calls it every few seconds.</summary>
    public async Task TickAsync(CancellationToken cancellationToken = default)
    {
        foreach (var listed in await monitors.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            for (var i = 0; i < MaxWindowsPerTick; i++)
            {
                // Read again before each overdue window: a change made while the backlog is computed (a new reference,
                // say) applies from the next window on, not after the whole backlog; a deleted monitor stops.
                if ((i == 0 ? listed : await monitors.FindAsync(listed.Spec.Name, cancellationToken).ConfigureAwait(false)) is not { } monitor
                    || await NextDueAsync(monitor, cancellationToken).ConfigureAwait(false) is not { } due
                    || await CloseAsync(monitor, due.Start, due.End, cancellationToken).ConfigureAwait(false) is null)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Closes the current window now (up to this moment, whatever its row count) and computes it.</summary>
    public async Task<StoredMonitorWindow> EvaluateNowAsync(string name, CancellationToken cancellationToken = default)
    {
        var monitor = await monitors.GetAsync(name, cancellationToken).ConfigureAwait(false);
        var start = await StartAsync(monitor, cancellationToken).ConfigureAwait(false);
        var watermark = await evaluator.WatermarkAsync(cancellationToken).ConfigureAwait(false);
        // Up to and including this millisecond: a request answered just before is in the window, however fast.
        var end = Math.Min(Now + 1, watermark ?? long.MaxValue);
        if (end <= start)
        {
            throw TrackingException.Invalid(watermark < Now
                ? $"Monitor '{name}': the current window starts at {start} (Unix ms), and another replica's predictions are only in the log up to {watermark}; evaluate again in a minute."
                : $"Monitor '{name}': the current window starts at {start} (Unix ms), not before now; there is nothing to evaluate yet.");
        }

        return await CloseAsync(monitor, start, end, cancellationToken).ConfigureAwait(false)
            ?? throw TrackingException.Invalid($"Monitor '{name}': the window starting at {start} was closed meanwhile; evaluate again.");
    }

    /// <summary>The first window's start (aligned to the duration for time windows), or the last window's end.</summary>
    public async Task<long> StartAsync(StoredMonitor monitor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        if (await monitors.LastEndAsync(monitor.Spec.Name, cancellationToken).ConfigureAwait(false) is { } last)
        {
            return last;
        }

        return Duration(monitor.Spec) is { } duration ? monitor.CreatedAt - (monitor.CreatedAt % duration) : monitor.CreatedAt;
    }

    /// <summary>The end of the time window that starts at <paramref name="start"/>: the next multiple of the duration.</summary>
    public static long WindowEnd(long start, long duration) => start - (start % duration) + duration;

    private async Task<(long Start, long End)?> NextDueAsync(StoredMonitor monitor, CancellationToken cancellationToken)
    {
        var spec = monitor.Spec;
        var start = await StartAsync(monitor, cancellationToken).ConfigureAwait(false);
        var now = Now;
        if (Duration(spec) is { } duration)
        {
            var end = WindowEnd(start, duration);
            var grace = (long)Durations.Parse(spec.Window!.Grace ?? MonitorValidation.DefaultGrace)!.Value.TotalMilliseconds;
            // And once every replica's records up to the end are in segments (they roll about every minute).
            return now >= end + grace && (await evaluator.WatermarkAsync(cancellationToken).ConfigureAwait(false) ?? long.MaxValue) >= end ? (start, end) : null;
        }

        // Row windows: the shared request counters first (cheap), the log (rolled: a new segment) only when they say enough.
        var rows = spec.Window!.Rows!.Value;
        var requests = (await traffic.WindowAsync(spec.Endpoint!, start, now, cancellationToken).ConfigureAwait(false)).Sum(variant => variant.Requests);
        if (requests < rows)
        {
            return null;
        }

        // Only rows every replica has in segments: a row window never closes over records another replica has yet to roll.
        var until = await evaluator.WatermarkAsync(cancellationToken).ConfigureAwait(false);
        var (count, nth) = await evaluator.CountAfterAsync(spec.Endpoint!, start - 1, rows, until, cancellationToken).ConfigureAwait(false);
        return count >= rows && nth is { } last ? (start, last + 1) : null;
    }

    private async Task<StoredMonitorWindow?> CloseAsync(StoredMonitor monitor, long start, long end, CancellationToken cancellationToken)
    {
        var spec = monitor.Spec;
        var outcome = await evaluator.EvaluateAsync(spec, start, end, cancellationToken).ConfigureAwait(false);
        var window = await monitors.AddWindowAsync(spec.Name, start, end, outcome.Rows, outcome.Status, outcome.Results, cancellationToken).ConfigureAwait(false);
        if (window is null)
        {
            return null;
        }

        closed?.Invoke(spec, window);
        var observation = Observation(spec, window);
        List<Exception>? failures = null;
        foreach (var observer in observers)
        {
            try
            {
                await observer.ObserveAsync(observation, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // One failing observer does not keep the window from the others; the tick reports it (logged by the service).
                (failures ??= []).Add(exception);
            }
        }

        return failures is null ? window : throw new AggregateException($"An alert observer failed on window {window.Id} of monitor '{spec.Name}'.", failures);
    }

    /// <summary>A window as alert rules see it: every metric, the endpoint, the monitor and the window bounds (Unix ms), and the report's path.</summary>
    public static MetricObservation Observation(MonitorSpec spec, StoredMonitorWindow window)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(window);
        return new MetricObservation(
            spec.Name,
            window.Id.ToString(CultureInfo.InvariantCulture),
            DateTimeOffset.FromUnixTimeMilliseconds(window.Start),
            DateTimeOffset.FromUnixTimeMilliseconds(window.End),
            window.Results.Metrics,
            new Dictionary<string, string> { ["report"] = ReportPath(spec.Name, window.Id) },
            new Dictionary<string, string>
            {
                ["endpoint"] = spec.Endpoint!,
                ["monitor"] = spec.Name,
                ["window_start"] = window.Start.ToString(CultureInfo.InvariantCulture),
                ["window_end"] = window.End.ToString(CultureInfo.InvariantCulture),
                ["status"] = window.Status,
            });
    }

    private static long? Duration(MonitorSpec spec) =>
        spec.Window?.Duration is { } text ? (long)Durations.Parse(text)!.Value.TotalMilliseconds : null;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();
}
