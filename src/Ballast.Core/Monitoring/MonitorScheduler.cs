using System.Globalization;
using Ballast.Alerts;
using Ballast.Serving;
using Ballast.Tracking;

namespace Ballast.Monitoring;

/// <summary>
/// Closes monitors' windows when they are due and computes them: a time window [start, end) aligned to its duration
/// is due <c>grace</c> after its end; a row window when the endpoint logged that many predictions since the last one,
/// and it holds exactly those: it ends on its last record's log position (<see cref="LogPosition"/>), not on a
/// millisecond, and the next starts right after that record. The state is the stored windows (the next starts where
/// the last ended), so a restart resumes and catches up; each closed window is stored once (unique per monitor and
/// start), then handed to <paramref name="closed"/> (metrics) and to every alert observer, in window order.
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
                    || await CloseAsync(monitor, due.Start, due.End, due.Last, cancellationToken).ConfigureAwait(false) is null)
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
        if (end <= start.At)
        {
            throw TrackingException.Invalid(watermark < Now
                ? $"Monitor '{name}': the current window starts at {start.At} (Unix ms), and another replica's predictions are only in the log up to {watermark}; evaluate again in a minute."
                : $"Monitor '{name}': the current window starts at {start.At} (Unix ms), not before now; there is nothing to evaluate yet.");
        }

        // A row window keeps its last record (the next takes those logged after it, in this millisecond too); with none, the next starts at the end.
        return await CloseAsync(monitor, start, end, null, cancellationToken).ConfigureAwait(false)
            ?? throw TrackingException.Invalid($"Monitor '{name}': the window starting at {start.At} was closed meanwhile; evaluate again.");
    }

    /// <summary>
    /// Where the next window starts: the first window at the monitor's creation (aligned to the duration for time windows);
    /// then a row window right after the last window's last record, any other at the last window's end.
    /// </summary>
    public async Task<MonitorWindowStart> StartAsync(StoredMonitor monitor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        var duration = Duration(monitor.Spec);
        if (await monitors.LastEndAsync(monitor.Spec.Name, cancellationToken).ConfigureAwait(false) is { } last)
        {
            return duration is null && last.Last is { } position ? new MonitorWindowStart(position.Timestamp, position) : new MonitorWindowStart(last.End, null);
        }

        return new MonitorWindowStart(duration is { } d ? monitor.CreatedAt - (monitor.CreatedAt % d) : monitor.CreatedAt, null);
    }

    /// <summary>The end of the time window that starts at <paramref name="start"/>: the next multiple of the duration.</summary>
    public static long WindowEnd(long start, long duration) => start - (start % duration) + duration;

    private async Task<(MonitorWindowStart Start, long End, LogPosition? Last)?> NextDueAsync(StoredMonitor monitor, CancellationToken cancellationToken)
    {
        var spec = monitor.Spec;
        var start = await StartAsync(monitor, cancellationToken).ConfigureAwait(false);
        var now = Now;
        if (Duration(spec) is { } duration)
        {
            var end = WindowEnd(start.At, duration);
            var grace = (long)Durations.Parse(spec.Window!.Grace ?? MonitorValidation.DefaultGrace)!.Value.TotalMilliseconds;
            // And once every replica's records up to the end are in segments (they roll about every minute).
            return now >= end + grace && (await evaluator.WatermarkAsync(cancellationToken).ConfigureAwait(false) ?? long.MaxValue) >= end ? (start, end, null) : null;
        }

        // Row windows: the shared request counters first (cheap), the log (rolled: a new segment) only when they say enough.
        // From the start's millisecond, so they count the previous window's records of it too: never fewer than there are.
        var rows = spec.Window!.Rows!.Value;
        var requests = (await traffic.WindowAsync(spec.Endpoint!, start.At, now, cancellationToken).ConfigureAwait(false)).Sum(variant => variant.Requests);
        if (requests < rows)
        {
            return null;
        }

        // Only rows every replica has in segments: a row window never closes over records another replica has yet to roll.
        // Up to the watermark every replica's records are in, so the N-th record's predecessors in the log's order (all
        // stamped no later than it) are all there: the window is the same whoever computes it, and whenever.
        var until = await evaluator.WatermarkAsync(cancellationToken).ConfigureAwait(false);
        var (count, nth) = await evaluator.CountAfterAsync(spec.Endpoint!, start.At, start.After, rows, until, cancellationToken).ConfigureAwait(false);
        return count >= rows && nth is { } last ? (start, last.Timestamp + 1, last) : null;
    }

    /// <summary>
    /// Computes and stores the window from <paramref name="start"/> to <paramref name="end"/> (Unix ms, exclusive), through
    /// the record <paramref name="through"/> when given (a due row window's N-th). A row window keeps its last record's
    /// position, so the next starts right after it; a time window keeps none.
    /// </summary>
    private async Task<StoredMonitorWindow?> CloseAsync(StoredMonitor monitor, MonitorWindowStart start, long end, LogPosition? through, CancellationToken cancellationToken)
    {
        var spec = monitor.Spec;
        var outcome = await evaluator.EvaluateAsync(spec, start.At, end, start.After, through, cancellationToken).ConfigureAwait(false);
        var rowWindow = Duration(spec) is null;
        var window = await monitors.AddWindowAsync(spec.Name, start.At, end, outcome.Rows, outcome.Status, outcome.Results,
            rowWindow ? start.After : null, rowWindow ? through ?? outcome.Last : null, cancellationToken).ConfigureAwait(false);
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
