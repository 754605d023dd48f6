using Ballast.Serving;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Serving;

/// <summary>
/// Writes what the hot path only counts in memory to the store every second, and a last time once the host has
/// stopped (after in-flight requests drained), and about hourly prunes assignments past their retention: which variant made each prediction (so that rewards and outcomes posted to any replica
/// find the variant that earned them) and the per-variant traffic counters (so that guardrails see every replica).
/// </summary>
public sealed partial class ServingFlushService(AssignmentStore assignments, TrafficStats traffic, TimeProvider time, ILogger<ServingFlushService> logger) : IHostedLifecycleService, IDisposable
{
    public static TimeSpan Interval { get; } = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);

    private readonly CancellationTokenSource _stopping = new();
    private DateTimeOffset _pruned = DateTimeOffset.MinValue;
    private Task _loop = Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = LoopAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    public async Task StoppedAsync(CancellationToken cancellationToken) => await FlushAsync(cancellationToken).ConfigureAwait(false);

    public void Dispose() => _stopping.Dispose();

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await FlushAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            // On a thread of its own: SQLite's "async" calls run synchronously, and a busy second's assignments (tens of
            // thousands of rows) would otherwise hold one of the few pool threads requests are served on and stall them.
            await Task.Factory.StartNew(async () =>
            {
                await assignments.FlushAsync(cancellationToken).ConfigureAwait(false);
                await traffic.FlushAsync(cancellationToken).ConfigureAwait(false);
            }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap().ConfigureAwait(false);
            var now = time.GetUtcNow();
            if (now - _pruned >= PruneInterval)
            {
                // Every replica prunes and folds about hourly; a delete or fold another replica already did finds nothing.
                _pruned = now;
                await assignments.PruneAsync((now - AssignmentStore.Retention).ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);
                await assignments.FoldAsync((now - AssignmentStore.BanditRewardWindow).ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The assignments stay queued and the counters keep counting; the next flush writes them.
            LogFailed(logger, assignments.Pending, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing serving counters ({Count} prediction assignments queued) failed; retrying in a second")]
    private static partial void LogFailed(ILogger logger, int count, Exception exception);
}
