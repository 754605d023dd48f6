using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Metadata;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Pipelines;

/// <summary>Pipelines, their runs and step runs in the metadata database (the same SQL on SQLite and PostgreSQL).</summary>
public sealed class PipelineStore(MetadataDatabase database, TimeProvider time)
{
    private const string RunColumns = "run_id AS RunId, pipeline AS Pipeline, status AS Status, triggered_by AS Trigger, parameters AS Parameters, spec AS Spec, no_cache AS NoCache, created_at AS CreatedAt, started_at AS StartedAt, finished_at AS FinishedAt, error AS Error";
    private const string StepColumns = "run_id AS RunId, step AS Step, position AS Position, status AS Status, attempts AS Attempts, next_attempt_at AS NextAttemptAt, started_at AS StartedAt, finished_at AS FinishedAt, cache_key AS CacheKey, cached_from AS CachedFrom, outputs AS Outputs, error AS Error, log_path AS LogPath, tracking_run_id AS TrackingRunId";

    /// <summary>How long the record of a skipped schedule occurrence is kept (a skipped dataset version's is kept for good).</summary>
    public static TimeSpan SkippedStartRetention { get; } = TimeSpan.FromDays(7);

    /// <summary>How many times in a row a start may lose the slot it chose to another start before giving up (the error is then the database's).</summary>
    private const int MaxSlotConflicts = 8;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Creates or replaces a pipeline; runs under way keep the spec they started with.</summary>
    public async Task<StoredPipeline> PutAsync(PipelineSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var now = Now;
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO pipelines (name, spec, created_at, updated_at) VALUES (@Name, @json, @now, @now)
            ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at
            """, new { spec.Name, json = Serialize(spec), now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return await GetAsync(spec.Name, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredPipeline> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<(string Spec, long CreatedAt, long UpdatedAt)?>(new CommandDefinition(
            "SELECT spec, created_at, updated_at FROM pipelines WHERE name = @name", new { name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is { } found ? new StoredPipeline(DeserializeSpec(found.Spec), found.CreatedAt, found.UpdatedAt)
            : throw TrackingException.NotFound($"Pipeline '{name}' does not exist.");
    }

    public async Task<IReadOnlyList<StoredPipeline>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string Spec, long CreatedAt, long UpdatedAt)>(new CommandDefinition(
            "SELECT spec, created_at, updated_at FROM pipelines ORDER BY name", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => new StoredPipeline(DeserializeSpec(row.Spec), row.CreatedAt, row.UpdatedAt)).ToList();
    }

    /// <summary>Deletes a pipeline and its finished runs; refused while a run is under way.</summary>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        await GetAsync(name, cancellationToken).ConfigureAwait(false);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM pipeline_runs WHERE pipeline = @name AND status IN ('queued', 'running', 'cancelling')",
                new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0)
        {
            throw TrackingException.Invalid($"Pipeline '{name}' has a run under way; cancel it first.");
        }

        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM step_runs WHERE run_id IN (SELECT run_id FROM pipeline_runs WHERE pipeline = @name)", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM pipeline_runs WHERE pipeline = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM pipeline_skipped_starts WHERE pipeline = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM pipelines WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Inserts a queued run with all its steps queued, in one transaction. With a <paramref name="dedupeKey"/> a second
    /// run of the same pipeline and key is refused by the database (null returned): one run per cron occurrence or
    /// dataset version however many replicas try. With <see cref="PipelineSpec.MaxActiveRuns"/> the run takes a free slot
    /// of the pipeline, which the database keeps unique the same way; when every slot is held (another replica may have
    /// just taken the last) it throws <see cref="ActiveRunLimitException"/> naming the runs under way.
    /// </summary>
    public async Task<PipelineRun?> CreateRunAsync(PipelineSpec spec, IReadOnlyDictionary<string, JsonNode?> parameters, string trigger, bool noCache, string? dedupeKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var runId = Guid.NewGuid().ToString("N");
        for (var conflict = 0; ; conflict++)
        {
            int? slot = spec.MaxActiveRuns is { } limit ? await FreeSlotAsync(spec.Name, limit, cancellationToken).ConfigureAwait(false) : null;
            var now = Now;
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO pipeline_runs (run_id, pipeline, status, triggered_by, dedupe_key, parameters, spec, no_cache, created_at, active_slot)
                    VALUES (@runId, @Name, @status, @trigger, @dedupeKey, @parameters, @json, @noCache, @now, @slot)
                    """, new { runId, spec.Name, status = PipelineRunStatuses.Queued, trigger, dedupeKey, parameters = SerializeOutputs(parameters), json = Serialize(spec), noCache, now, slot },
                    transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                var order = PipelineValidation.Order(spec.Steps ?? []);
                for (var position = 0; position < order.Count; position++)
                {
                    await connection.ExecuteAsync(new CommandDefinition(
                        "INSERT INTO step_runs (run_id, step, position, status, attempts, next_attempt_at) VALUES (@runId, @step, @position, @status, 0, 0)",
                        new { runId, step = order[position].Name, position, status = StepRunStatuses.Queued }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception) && (dedupeKey is not null || slot is not null))
            {
                if (dedupeKey is not null && await HasRunAsync(spec.Name, dedupeKey, cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }

                if (slot is null || conflict >= MaxSlotConflicts)
                {
                    throw;
                }

                // Another start took the slot between the look and the insert: look again.
            }
        }

        return await GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The lowest slot of 0 to <paramref name="limit"/> less one that no run under way of the pipeline holds; throws
    /// <see cref="ActiveRunLimitException"/> when <paramref name="limit"/> runs (with a slot or from before there were
    /// slots) are under way. Only a guess: the unique index on the slot decides between two starts.
    /// </summary>
    private async Task<int> FreeSlotAsync(string pipeline, int limit, CancellationToken cancellationToken)
    {
        var active = await ActiveRunsOfAsync(pipeline, cancellationToken).ConfigureAwait(false);
        if (active.Count >= limit)
        {
            throw new ActiveRunLimitException(pipeline, limit, active.Select(run => (run.RunId, run.Status)).ToList());
        }

        var held = active.Where(run => run.Slot is not null).Select(run => (int)run.Slot!.Value).ToHashSet();
        return Enumerable.Range(0, limit).First(slot => !held.Contains(slot));
    }

    private async Task<IReadOnlyList<(string RunId, string Status, long? Slot)>> ActiveRunsOfAsync(string pipeline, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return (await connection.QueryAsync<(string RunId, string Status, long? Slot)>(new CommandDefinition(
            "SELECT run_id, status, CAST(active_slot AS BIGINT) FROM pipeline_runs WHERE pipeline = @pipeline AND status IN ('queued', 'running', 'cancelling') ORDER BY created_at, run_id",
            new { pipeline }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
    }

    /// <summary>
    /// Queues a failed or cancelled run again (its failed, skipped and cancelled steps with it) in one conditional write,
    /// taking a slot when <paramref name="maxActiveRuns"/> is set, as a new run does. False when the run is no longer
    /// in <paramref name="expected"/> status; <see cref="ActiveRunLimitException"/> when the pipeline has no free slot.
    /// </summary>
    public async Task<bool> RequeueRunAsync(PipelineRun run, string expected, int? maxActiveRuns, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        for (var conflict = 0; ; conflict++)
        {
            int? slot = maxActiveRuns is { } limit ? await FreeSlotAsync(run.Pipeline, limit, cancellationToken).ConfigureAwait(false) : null;
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var changed = await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE pipeline_runs SET status = @queued, error = NULL, finished_at = NULL, active_slot = @slot WHERE run_id = @RunId AND status = @expected",
                    new { run.RunId, queued = PipelineRunStatuses.Queued, slot, expected }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (changed == 0)
                {
                    return false;
                }

                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE step_runs SET status = @queued, attempts = 0, next_attempt_at = 0, error = NULL, finished_at = NULL WHERE run_id = @RunId AND status IN (@failed, @skipped, @cancelled)",
                    new { run.RunId, queued = StepRunStatuses.Queued, failed = StepRunStatuses.Failed, skipped = StepRunStatuses.Skipped, cancelled = StepRunStatuses.Cancelled },
                    transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (DbException exception) when (slot is not null && conflict < MaxSlotConflicts && MetadataErrors.IsUniqueViolation(exception))
            {
                // Another start took the slot between the look and the write: look again.
            }
        }
    }

    /// <summary>
    /// Records that the start of a schedule occurrence or dataset version (<paramref name="dedupeKey"/>) was skipped and
    /// why, so later ticks do not try it again; true for the first record of that key (the one to log).
    /// </summary>
    public async Task<bool> RecordSkippedStartAsync(string pipeline, string dedupeKey, string trigger, string reason, CancellationToken cancellationToken = default)
    {
        var now = Now;
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        // A schedule occurrence missed for more than a few minutes is never started (nor looked up) again, so its record is
        // only history: kept for SkippedStartRetention, else a frequent schedule behind a long run would add a row every
        // occurrence for ever. A dataset version's record stays: it is what keeps that version from starting later.
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM pipeline_skipped_starts WHERE pipeline = @pipeline AND dedupe_key LIKE 'schedule:%' AND at < @cutoff",
            new { pipeline, cutoff = now - (long)SkippedStartRetention.TotalMilliseconds }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO pipeline_skipped_starts (pipeline, dedupe_key, triggered_by, reason, at) VALUES (@pipeline, @dedupeKey, @trigger, @reason, @now)
            ON CONFLICT (pipeline, dedupe_key) DO NOTHING
            """, new { pipeline, dedupeKey, trigger, reason, now }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
    }

    /// <summary>
    /// The pipeline's skipped starts (<see cref="RecordSkippedStartAsync"/>), newest first; with <paramref name="before"/>
    /// (the dedupe key of the last of the page before), only those after it in that order. An unknown pipeline is not
    /// found; a key the pipeline has no skipped start for is refused.
    /// </summary>
    public async Task<IReadOnlyList<SkippedStart>> ListSkippedStartsAsync(string pipeline, int limit = 50, string? before = null, CancellationToken cancellationToken = default)
    {
        await GetAsync(pipeline, cancellationToken).ConfigureAwait(false);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        long? at = null;
        if (before is not null)
        {
            at = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT at FROM pipeline_skipped_starts WHERE pipeline = @pipeline AND dedupe_key = @before", new { pipeline, before }, cancellationToken: cancellationToken)).ConfigureAwait(false)
                ?? throw TrackingException.Invalid($"before '{before}' is not a skipped start of pipeline '{pipeline}' (or its record was pruned).");
        }

        var rows = await connection.QueryAsync<(string DedupeKey, string Trigger, string Reason, long At)>(new CommandDefinition($"""
            SELECT dedupe_key, triggered_by, reason, at FROM pipeline_skipped_starts WHERE pipeline = @pipeline
            {(before is null ? "" : "AND (at < @at OR (at = @at AND dedupe_key < @before))")}
            ORDER BY at DESC, dedupe_key DESC LIMIT @limit
            """, new { pipeline, limit, before, at }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => new SkippedStart(row.DedupeKey, row.Trigger, row.Reason, row.At)).ToList();
    }

    /// <summary>Whether a run of the pipeline with this dedupe key exists, or its start was skipped (a cheap check before the insert that decides).</summary>
    public async Task<bool> HasRunAsync(string pipeline, string dedupeKey, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            SELECT (SELECT count(*) FROM pipeline_runs WHERE pipeline = @pipeline AND dedupe_key = @dedupeKey)
                 + (SELECT count(*) FROM pipeline_skipped_starts WHERE pipeline = @pipeline AND dedupe_key = @dedupeKey)
            """, new { pipeline, dedupeKey }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
    }

    public async Task<PipelineRun> GetRunAsync(string runId, CancellationToken cancellationToken = default) =>
        (await QueryRunsAsync("WHERE run_id = @runId", new { runId }, 1, cancellationToken).ConfigureAwait(false)).SingleOrDefault()
        ?? throw TrackingException.NotFound($"Pipeline run '{runId}' does not exist.");

    /// <summary>
    /// The newest runs of a pipeline first; with <paramref name="before"/> (a run of the pipeline, the last of the page
    /// before), only the runs after it in that order. A run that is not the pipeline's is refused.
    /// </summary>
    public async Task<IReadOnlyList<PipelineRun>> ListRunsAsync(string pipeline, int limit = 50, string? before = null, CancellationToken cancellationToken = default)
    {
        await GetAsync(pipeline, cancellationToken).ConfigureAwait(false);
        if (before is null)
        {
            return await QueryRunsAsync("WHERE pipeline = @pipeline", new { pipeline }, limit, cancellationToken).ConfigureAwait(false);
        }

        long? created;
        await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            created = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT created_at FROM pipeline_runs WHERE run_id = @before AND pipeline = @pipeline", new { before, pipeline }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        if (created is null)
        {
            throw TrackingException.Invalid($"before '{before}' is not a run of pipeline '{pipeline}'.");
        }

        return await QueryRunsAsync("WHERE pipeline = @pipeline AND (created_at < @created OR (created_at = @created AND run_id < @before))",
            new { pipeline, created, before }, limit, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs the runner has to move: queued, running or cancelling, oldest first.</summary>
    public async Task<IReadOnlyList<PipelineRun>> ActiveRunsAsync(CancellationToken cancellationToken = default)
    {
        var runs = await QueryRunsAsync("WHERE status IN ('queued', 'running', 'cancelling')", null, 1000, cancellationToken).ConfigureAwait(false);
        return runs.Reverse().ToList();
    }

    /// <summary>
    /// Sets a run's status; with <paramref name="expected"/> only when it is still in that status (false otherwise). A
    /// run that ends gives up its slot (<see cref="PipelineSpec.MaxActiveRuns"/>).
    /// </summary>
    public async Task<bool> SetRunStatusAsync(string runId, string status, string? error = null, string? expected = null, CancellationToken cancellationToken = default)
    {
        var now = Now;
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var changed = await connection.ExecuteAsync(new CommandDefinition($"""
            UPDATE pipeline_runs SET status = @status, error = @error,
                started_at = CASE WHEN @status = 'running' AND started_at IS NULL THEN @now ELSE started_at END,
                finished_at = CASE WHEN @status IN ('succeeded', 'failed', 'cancelled') THEN @now ELSE NULL END,
                active_slot = CASE WHEN @status IN ('succeeded', 'failed', 'cancelled') THEN NULL ELSE active_slot END
            WHERE run_id = @runId {(expected is null ? "" : "AND status = @expected")}
            """, new { runId, status, error, now, expected }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return changed > 0;
    }

    public async Task UpdateStepAsync(string runId, StepRun step, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(step);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE step_runs SET status = @Status, attempts = @Attempts, next_attempt_at = @NextAttemptAt, started_at = @StartedAt, finished_at = @FinishedAt,
                cache_key = @CacheKey, cached_from = @CachedFrom, outputs = @outputs, error = @Error, log_path = @LogPath, tracking_run_id = @TrackingRunId
            WHERE run_id = @runId AND step = @Step
            """, new
        {
            runId, step.Status, step.Attempts, step.NextAttemptAt, step.StartedAt, step.FinishedAt, step.CacheKey, step.CachedFrom,
            outputs = step.Outputs is null ? null : SerializeOutputs(step.Outputs), step.Error, step.LogPath, step.TrackingRunId, step.Step,
        }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The newest step run that produced outputs under <paramref name="cacheKey"/> (executed, not itself cached), or null.</summary>
    public async Task<(string RunId, StepRun Step)?> FindCachedAsync(string cacheKey, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QueryFirstOrDefaultAsync<StepRow>(new CommandDefinition(
            $"SELECT {StepColumns} FROM step_runs WHERE cache_key = @cacheKey AND status = 'succeeded' ORDER BY finished_at DESC", new { cacheKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is null ? null : (row.RunId, row.ToStep());
    }

    private async Task<IReadOnlyList<PipelineRun>> QueryRunsAsync(string where, object? parameters, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var runs = (await connection.QueryAsync<RunRow>(new CommandDefinition(
            $"SELECT {RunColumns} FROM pipeline_runs {where} ORDER BY created_at DESC, run_id DESC LIMIT {limit}", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        if (runs.Count == 0)
        {
            return [];
        }

        var ids = runs.Select(run => run.RunId).ToArray();
        var steps = (await connection.QueryAsync<StepRow>(new CommandDefinition(
            $"SELECT {StepColumns} FROM step_runs WHERE run_id IN ({string.Join(", ", ids.Select((_, i) => $"@id{i}"))}) ORDER BY position",
            Ids(ids), cancellationToken: cancellationToken)).ConfigureAwait(false)).ToLookup(step => step.RunId);
        return runs.Select(run => new PipelineRun(run.RunId, run.Pipeline, run.Status, run.Trigger, DeserializeOutputs(run.Parameters), DeserializeSpec(run.Spec),
            run.NoCache, run.CreatedAt, run.StartedAt, run.FinishedAt, run.Error, steps[run.RunId].Select(step => step.ToStep()).ToList())).ToList();
    }

    private static DynamicParameters Ids(string[] ids)
    {
        var parameters = new DynamicParameters();
        for (var i = 0; i < ids.Length; i++)
        {
            parameters.Add($"id{i}", ids[i]);
        }

        return parameters;
    }

    internal static string Serialize(PipelineSpec spec) => JsonSerializer.Serialize(spec, PipelineJsonContext.Default.PipelineSpec);

    internal static PipelineSpec DeserializeSpec(string json) => JsonSerializer.Deserialize(json, PipelineJsonContext.Default.PipelineSpec)!;

    internal static string SerializeOutputs(IReadOnlyDictionary<string, JsonNode?> outputs) =>
        JsonSerializer.Serialize(outputs.ToDictionary(pair => pair.Key, pair => pair.Value?.DeepClone()), PipelineJsonContext.Default.DictionaryStringJsonNode);

    internal static Dictionary<string, JsonNode?> DeserializeOutputs(string json) =>
        JsonSerializer.Deserialize(json, PipelineJsonContext.Default.DictionaryStringJsonNode) ?? [];

    private sealed class RunRow
    {
        public string RunId { get; set; } = "";
        public string Pipeline { get; set; } = "";
        public string Status { get; set; } = "";
        public string Trigger { get; set; } = "";
        public string Parameters { get; set; } = "{}";
        public string Spec { get; set; } = "";
        public bool NoCache { get; set; }
        public long CreatedAt { get; set; }
        public long? StartedAt { get; set; }
        public long? FinishedAt { get; set; }
        public string? Error { get; set; }
    }

    private sealed class StepRow
    {
        public string RunId { get; set; } = "";
        public string Step { get; set; } = "";
        public int Position { get; set; }
        public string Status { get; set; } = "";
        public int Attempts { get; set; }
        public long NextAttemptAt { get; set; }
        public long? StartedAt { get; set; }
        public long? FinishedAt { get; set; }
        public string? CacheKey { get; set; }
        public string? CachedFrom { get; set; }
        public string? Outputs { get; set; }
        public string? Error { get; set; }
        public string? LogPath { get; set; }
        public string? TrackingRunId { get; set; }

        public StepRun ToStep() => new(Step, Position, Status, Attempts, NextAttemptAt, StartedAt, FinishedAt, CacheKey, CachedFrom,
            Outputs is null ? null : DeserializeOutputs(Outputs), Error, LogPath, TrackingRunId);
    }
}
