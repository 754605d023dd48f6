using System.Globalization;
using Ballast.Datasets;

namespace Ballast.Pipelines;

/// <summary>
/// Starts the runs that schedules and dataset triggers call for. A cron occurrence and a dataset version are each a
/// dedupe key of the run (<c>schedule:2026-12-01T06:00:00Z</c>, <c>dataset:churn@8</c>) that the database keeps unique per
/// pipeline, so every replica may tick and still one run starts. Only the latest due occurrence fires (missed ones
/// during downtime are not replayed), and only dataset versions made after the pipeline was stored. A start that the
/// pipeline's <c>max_active_runs</c> refuses is skipped: recorded under its key (so no later tick tries it again) and
/// reported once to <paramref name="skipped"/> (pipeline, key, reason).
/// </summary>
public sealed class PipelineScheduler(PipelineStore store, PipelineLauncher launcher, DatasetStore datasets, TimeProvider time, Action<string, string>? problem = null,
    Action<string, string, string>? skipped = null)
{
    /// <summary>How far back an occurrence still fires (a replica that was down longer skips what it missed).</summary>
    public static readonly TimeSpan CatchUp = TimeSpan.FromMinutes(5);

    /// <summary>Starts what is due; returns the runs started.</summary>
    public async Task<IReadOnlyList<PipelineRun>> TickAsync(CancellationToken cancellationToken = default)
    {
        var started = new List<PipelineRun>();
        var now = time.GetUtcNow();
        IReadOnlyList<DatasetSummary>? summaries = null;
        foreach (var pipeline in await store.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                summaries = await TickAsync(pipeline, now, summaries, started, cancellationToken).ConfigureAwait(false);
            }
            catch (Ballast.Tracking.TrackingException exception)
            {
                // One pipeline that cannot start (a time zone this host does not know, a dataset parameter gone) does not stop the others.
                problem?.Invoke(pipeline.Spec.Name, exception.Message);
            }
        }

        return started;
    }

    private async Task<IReadOnlyList<DatasetSummary>?> TickAsync(StoredPipeline pipeline, DateTimeOffset now, IReadOnlyList<DatasetSummary>? summaries, List<PipelineRun> started, CancellationToken cancellationToken)
    {
        {
            var spec = pipeline.Spec;
            if (spec.Schedule is { } schedule)
            {
                var (cron, zone) = PipelineValidation.Cron(schedule);
                var since = DateTimeOffset.FromUnixTimeMilliseconds(Math.Max(pipeline.UpdatedAt, (now - CatchUp).ToUnixTimeMilliseconds()));
                var due = cron.GetOccurrences(since.UtcDateTime, now.UtcDateTime, zone, fromInclusive: false, toInclusive: true).LastOrDefault();
                if (due != default)
                {
                    var key = "schedule:" + due.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                    if (await StartAsync(spec.Name, new Dictionary<string, string>(), "schedule", key, cancellationToken).ConfigureAwait(false) is { } run)
                    {
                        started.Add(run);
                    }
                }
            }

            foreach (var trigger in spec.Triggers ?? [])
            {
                summaries ??= await datasets.ListAsync(cancellationToken).ConfigureAwait(false);
                if (summaries.FirstOrDefault(summary => summary.Name == trigger.Dataset) is not { } dataset || dataset.UpdatedAt <= pipeline.UpdatedAt)
                {
                    continue;
                }

                var reference = $"{dataset.Name}@{dataset.LatestVersion}";
                var parameter = trigger.Parameter ?? spec.Parameters?.FirstOrDefault(p => p.Type == PipelineValidation.DatasetType)?.Name;
                var parameters = parameter is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [parameter] = reference };
                if (await StartAsync(spec.Name, parameters, $"dataset:{dataset.Name}", $"dataset:{reference}", cancellationToken).ConfigureAwait(false) is { } run)
                {
                    started.Add(run);
                }
            }
        }

        return summaries;
    }

    private async Task<PipelineRun?> StartAsync(string pipeline, Dictionary<string, string> parameters, string trigger, string key, CancellationToken cancellationToken)
    {
        if (await store.HasRunAsync(pipeline, key, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        try
        {
            return await launcher.LaunchAsync(pipeline, parameters, trigger, noCache: false, key, cancellationToken).ConfigureAwait(false);
        }
        catch (ActiveRunLimitException exception)
        {
            if (await store.RecordSkippedStartAsync(pipeline, key, trigger, exception.Message, cancellationToken).ConfigureAwait(false))
            {
                skipped?.Invoke(pipeline, key, exception.Message);
            }

            return null;
        }
    }
}
