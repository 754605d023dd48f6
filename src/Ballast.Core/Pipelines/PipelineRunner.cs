using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Ballast.Registry;
using Ballast.Storage;
using Ballast.Tracking;

namespace Ballast.Pipelines;

/// <summary>
/// Moves pipeline runs forward; the holder of the <c>pipelines</c> lease calls <see cref="TickAsync"/> every second.
/// A tick starts every queued step whose dependencies succeeded (within the concurrency limits), reuses cached outputs,
/// skips the dependents of failed steps, requeues steps whose runner died (a restart or another replica), cancels
/// what was asked to stop, and closes finished runs. Steps run in-process as tasks; their end is written by the task.
/// Each step run is an MLflow run in the experiment named after the pipeline.
/// </summary>
public sealed class PipelineRunner : IAsyncDisposable
{
    public const string PipelineTag = "ballast.pipeline";
    public const string PipelineRunTag = "ballast.pipeline.run";
    public const string StepTag = "ballast.pipeline.step";
    public const string KindTag = "ballast.pipeline.kind";
    public const string CachedFromTag = "ballast.pipeline.cached_from";
    public const string UpstreamTag = "ballast.pipeline.upstream_runs";

    private readonly PipelineStore _store;
    private readonly IReadOnlyDictionary<string, IPipelineStep> _steps;
    private readonly StepTracking _tracking;
    private readonly RunStore _runs;
    private readonly IArtifactStore _artifacts;
    private readonly TimeProvider _time;
    private readonly PipelineRunnerOptions _options;
    private readonly ConcurrentDictionary<(string Run, string Step), InFlight> _inFlight = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private CancellationTokenSource _generation = new();
    private int _disposed;

    private readonly IStepExecutor _executor;

    public PipelineRunner(PipelineStore store, IEnumerable<IPipelineStep> steps, ExperimentStore experiments, RunStore runs, IArtifactStore artifacts, TimeProvider time,
        PipelineRunnerOptions? options = null, IStepExecutor? executor = null)
    {
        _executor = executor ?? InProcessStepExecutor.Instance;
        ArgumentNullException.ThrowIfNull(steps);
        _store = store;
        _steps = steps.ToDictionary(step => step.Kind, StringComparer.Ordinal);
        _tracking = new StepTracking(experiments, runs, time);
        _runs = runs;
        _artifacts = artifacts;
        _time = time;
        _options = options ?? new PipelineRunnerOptions();
    }

    /// <summary>The step kinds this runner knows, by name (what validation checks <c>kind:</c> against).</summary>
    public IReadOnlyDictionary<string, IPipelineStep> Steps => _steps;

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task TickAsync(CancellationToken cancellationToken = default)
    {
        foreach (var run in await _store.ActiveRunsAsync(cancellationToken).ConfigureAwait(false))
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Read again under the gate: a step that ended between the listing and now has written its row.
                await AdvanceAsync(await _store.GetRunAsync(run.RunId, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>
    /// Gives up the steps running here without recording them (this replica lost the <c>pipelines</c> lease): they are
    /// cancelled, and the replica that holds the lease now requeues them as interrupted attempts.
    /// </summary>
    public async Task AbandonAsync()
    {
        using var old = Interlocked.Exchange(ref _generation, new CancellationTokenSource());
        await old.CancelAsync().ConfigureAwait(false);
        await IdleAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until no step of this process is running (tests drive the runner tick by tick).</summary>
    public Task IdleAsync() => Task.WhenAll(_inFlight.Values.Select(flight => flight.Task));

    /// <summary>Asks a run to stop: queued steps are cancelled, running ones are cancelled by the runner's next tick.</summary>
    public async Task<PipelineRun> CancelAsync(string runId, CancellationToken cancellationToken = default)
    {
        var run = await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
        if (PipelineRunStatuses.IsFinished(run.Status))
        {
            throw TrackingException.Invalid($"Pipeline run '{runId}' has already ended ({run.Status}).");
        }

        await _store.SetRunStatusAsync(runId, PipelineRunStatuses.Cancelling, "cancelled by request", run.Status, cancellationToken).ConfigureAwait(false);
        return await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Resumes a failed or cancelled run from where it stopped: succeeded and cached steps keep their outputs; the others
    /// run again. A run counts against its pipeline's <c>max_active_runs</c> again, so a resume over it is refused
    /// (<see cref="ActiveRunLimitException"/>).
    /// </summary>
    public async Task<PipelineRun> ResumeAsync(string runId, CancellationToken cancellationToken = default)
    {
        var run = await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
        if (run.Status is not (PipelineRunStatuses.Failed or PipelineRunStatuses.Cancelled))
        {
            throw TrackingException.Invalid($"Pipeline run '{runId}' is {run.Status}; only a failed or cancelled run can be resumed.");
        }

        var limit = (await _store.GetAsync(run.Pipeline, cancellationToken).ConfigureAwait(false)).Spec.MaxActiveRuns;
        if (!await _store.RequeueRunAsync(run, run.Status, limit, cancellationToken).ConfigureAwait(false))
        {
            throw TrackingException.Conflict($"Pipeline run '{runId}' changed while it was being resumed; try again.");
        }

        return await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
    }

    private async Task AdvanceAsync(PipelineRun run, CancellationToken cancellationToken)
    {
        if (run.Status == PipelineRunStatuses.Queued)
        {
            await _store.SetRunStatusAsync(run.RunId, PipelineRunStatuses.Running, null, PipelineRunStatuses.Queued, cancellationToken).ConfigureAwait(false);
        }

        var now = Now;
        var steps = run.Steps.ToDictionary(step => step.Step, StringComparer.Ordinal);
        var specs = (run.Spec.Steps ?? []).ToDictionary(step => step.Name, StringComparer.Ordinal);

        // Running here but not by this process: its runner stopped (restart, or another replica lost the lease).
        foreach (var step in run.Steps.Where(step => step.Status == StepRunStatuses.Running && !_inFlight.ContainsKey((run.RunId, step.Step))))
        {
            steps[step.Step] = await FailAttemptAsync(run, specs[step.Step], step, "interrupted: the runner executing it stopped", cancellationToken).ConfigureAwait(false);
        }

        if (run.Status == PipelineRunStatuses.Cancelling)
        {
            foreach (var ((runId, _), flight) in _inFlight)
            {
                if (runId == run.RunId)
                {
                    await flight.Cancel.CancelAsync().ConfigureAwait(false);
                }
            }

            foreach (var step in steps.Values.Where(step => step.Status == StepRunStatuses.Queued).ToList())
            {
                steps[step.Step] = await SaveAsync(run, step with { Status = StepRunStatuses.Cancelled, FinishedAt = now, Error = "cancelled before it started" }, cancellationToken).ConfigureAwait(false);
            }

            if (!_inFlight.Keys.Any(key => key.Run == run.RunId) && steps.Values.All(step => step.Status != StepRunStatuses.Running))
            {
                await _store.SetRunStatusAsync(run.RunId, PipelineRunStatuses.Cancelled, run.Error ?? "cancelled by request", cancellationToken: cancellationToken).ConfigureAwait(false);
                _options.Observer?.RunEnded(run.Pipeline, PipelineRunStatuses.Cancelled);
            }

            return;
        }

        foreach (var step in run.Steps.Select(step => step.Step).ToList())
        {
            var current = steps[step];
            if (current.Status != StepRunStatuses.Queued)
            {
                continue;
            }

            var spec = specs[step];
            var dependencies = PipelineValidation.Dependencies(spec);
            if (dependencies.FirstOrDefault(dependency => steps[dependency].Status is StepRunStatuses.Failed or StepRunStatuses.Skipped or StepRunStatuses.Cancelled) is { } broken)
            {
                steps[step] = await SaveAsync(run, current with { Status = StepRunStatuses.Skipped, FinishedAt = now, Error = $"skipped: it needs '{broken}', which {steps[broken].Status}" }, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (!dependencies.All(dependency => StepRunStatuses.IsDone(steps[dependency].Status)) || current.NextAttemptAt > now
                || _inFlight.Count >= _options.MaxConcurrentSteps || _inFlight.Keys.Count(key => key.Run == run.RunId) >= (run.Spec.MaxParallel ?? int.MaxValue))
            {
                continue;
            }

            steps[step] = await StartAsync(run, spec, current, steps, cancellationToken).ConfigureAwait(false);
        }

        if (steps.Values.All(step => StepRunStatuses.IsFinished(step.Status)) && !_inFlight.Keys.Any(key => key.Run == run.RunId))
        {
            var failed = run.Steps.Select(step => steps[step.Step]).FirstOrDefault(step => step.Status == StepRunStatuses.Failed);
            var status = failed is null ? PipelineRunStatuses.Succeeded : PipelineRunStatuses.Failed;
            await _store.SetRunStatusAsync(run.RunId, status, failed is null ? null : $"step '{failed.Step}' failed: {failed.Error}", cancellationToken: cancellationToken).ConfigureAwait(false);
            _options.Observer?.RunEnded(run.Pipeline, status);
        }
    }

    private async Task<StepRun> StartAsync(PipelineRun run, PipelineStepSpec spec, StepRun step, Dictionary<string, StepRun> steps, CancellationToken cancellationToken)
    {
        var now = Now;
        var kind = _steps.GetValueOrDefault(spec.Kind);
        if (kind is null)
        {
            return await SaveAsync(run, step with { Status = StepRunStatuses.Failed, FinishedAt = now, Error = $"kind '{spec.Kind}' is not known to this server" }, cancellationToken).ConfigureAwait(false);
        }

        string cacheKey;
        try
        {
            cacheKey = await CacheKeyAsync(run, spec, kind, steps, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is StepFailedException or IOException or UnauthorizedAccessException)
        {
            return await FailAttemptAsync(run, spec, step with { Attempts = step.Attempts + 1 }, exception.Message, cancellationToken).ConfigureAwait(false);
        }

        var upstream = PipelineValidation.Dependencies(spec).Select(name => steps[name].TrackingRunId).OfType<string>().ToList();
        if ((spec.Cache ?? kind.Cacheable) && !run.NoCache && await _store.FindCachedAsync(cacheKey, cancellationToken).ConfigureAwait(false) is { } hit)
        {
            var tracking = await _tracking.CreateRunAsync(run, spec, upstream, hit.RunId, cancellationToken).ConfigureAwait(false);
            await _tracking.LogOutputsAsync(tracking.Info.RunId, hit.Step.Outputs ?? new Dictionary<string, JsonNode?>(), cancellationToken).ConfigureAwait(false);
            await _runs.UpdateAsync(tracking.Info.RunId, RunStatuses.Finished, Now, null, cancellationToken).ConfigureAwait(false);
            return await SaveAsync(run, step with
            {
                Status = StepRunStatuses.Cached, StartedAt = now, FinishedAt = now, CacheKey = cacheKey, CachedFrom = hit.RunId, Outputs = hit.Step.Outputs,
                Error = null, LogPath = hit.Step.LogPath, TrackingRunId = tracking.Info.RunId,
            }, cancellationToken).ConfigureAwait(false);
        }

        var trackingRunId = step.TrackingRunId ?? (await _tracking.CreateRunAsync(run, spec, upstream, null, cancellationToken).ConfigureAwait(false)).Info.RunId;
        var started = await SaveAsync(run, step with
        {
            Status = StepRunStatuses.Running, Attempts = step.Attempts + 1, StartedAt = now, FinishedAt = null, CacheKey = cacheKey, TrackingRunId = trackingRunId,
        }, cancellationToken).ConfigureAwait(false);
        var generation = Volatile.Read(ref _generation).Token;
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, generation);
        // The timeout's clock starts now, not when the task gets a thread.
        var timer = spec.Timeout is null ? new CancellationTokenSource() : new CancellationTokenSource(PipelineValidation.Duration(spec.Timeout)!.Value, _time);
        var outputs = PipelineValidation.Dependencies(spec).ToDictionary(name => name, name => steps[name].Outputs ?? new Dictionary<string, JsonNode?>(), StringComparer.Ordinal);
        var key = (run.RunId, spec.Name);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = Task.Run(async () =>
        {
            await go.Task.ConfigureAwait(false);
            await ExecuteAsync(run, spec, kind, started, outputs, cancel, timer, generation).ConfigureAwait(false);
        }, CancellationToken.None);
        _inFlight[key] = new InFlight(task, cancel);
        go.SetResult();
        return started;
    }

    private async Task ExecuteAsync(PipelineRun run, PipelineStepSpec spec, IPipelineStep kind, StepRun step, Dictionary<string, IReadOnlyDictionary<string, JsonNode?>> upstream, CancellationTokenSource cancel, CancellationTokenSource timer, CancellationToken generation)
    {
        var key = (run.RunId, spec.Name);
        using var timeout = timer;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token, timer.Token);
        var folder = Path.Combine(_options.WorkRoot, run.RunId, $"{spec.Name}-{step.Attempts}");
        var workDirectory = Path.Combine(folder, "work");
        Directory.CreateDirectory(workDirectory);
        var logFile = Path.Combine(folder, "step.log");
        StepRun? finished = null;
        try
        {
            var tracking = await _runs.GetAsync(step.TrackingRunId!, CancellationToken.None).ConfigureAwait(false);
            var artifactRoot = ModelRegistration.StorePathOf(tracking.Info.ArtifactUri) ?? throw new StepFailedException($"the tracking run's artifact URI {tracking.Info.ArtifactUri} is not in the artifact store");
            string? error = null;
            IReadOnlyDictionary<string, JsonNode?>? outputs = null;
            await using (var log = TextWriter.Synchronized(new StreamWriter(logFile, append: false, new UTF8Encoding(false))))
            {
                await log.WriteLineAsync($"[{_time.GetUtcNow():O}] step {spec.Name} ({spec.Kind}), attempt {step.Attempts}").ConfigureAwait(false);
                try
                {
                    var context = new StepContext(run.Pipeline, run.RunId, spec.Name, step.Attempts, spec.With ?? [], run.Parameters,
                        reference => Lookup(run, upstream, reference), _artifacts, artifactRoot, tracking.Info.ArtifactUri, tracking.Info.RunId,
                        workDirectory, log, _time, spec.Timeout is null ? null : PipelineValidation.Duration(spec.Timeout), linked.Token);
                    outputs = await _executor.ExecuteAsync(kind, context).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested || generation.IsCancellationRequested)
                {
                    // Shutting down or the lease was lost: the step stays 'running'; whoever runs the runner next requeues it.
                    return;
                }
                catch (OperationCanceledException) when (timer.IsCancellationRequested)
                {
                    error = $"timed out after {spec.Timeout}";
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    error = "cancelled by request";
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    error = exception is StepFailedException or TrackingException ? exception.Message : $"{exception.GetType().Name}: {exception.Message}";
                }

                await log.WriteLineAsync(error is null ? $"[{_time.GetUtcNow():O}] succeeded" : $"[{_time.GetUtcNow():O}] failed: {error}").ConfigureAwait(false);
            }

            var logPath = ArtifactPath.Combine(artifactRoot, $"logs/attempt-{step.Attempts}.log");
            await using (var stream = File.OpenRead(logFile))
            {
                await _artifacts.PutAsync(logPath, stream, CancellationToken.None).ConfigureAwait(false);
            }

            step = step with { LogPath = logPath };
            if (error is null)
            {
                await _tracking.LogOutputsAsync(tracking.Info.RunId, outputs!, CancellationToken.None).ConfigureAwait(false);
                await _runs.UpdateAsync(tracking.Info.RunId, RunStatuses.Finished, Now, null, CancellationToken.None).ConfigureAwait(false);
                finished = step with { Status = StepRunStatuses.Succeeded, FinishedAt = Now, Outputs = outputs, Error = null };
            }
            else if (cancel.IsCancellationRequested && !timer.IsCancellationRequested)
            {
                await _runs.UpdateAsync(tracking.Info.RunId, RunStatuses.Killed, Now, null, CancellationToken.None).ConfigureAwait(false);
                finished = step with { Status = StepRunStatuses.Cancelled, FinishedAt = Now, Error = error };
            }
            else
            {
                finished = Retry(spec, step, error);
                if (finished.Status == StepRunStatuses.Failed)
                {
                    await _runs.UpdateAsync(tracking.Info.RunId, RunStatuses.Failed, Now, null, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException && !_stopping.IsCancellationRequested && !generation.IsCancellationRequested)
        {
            finished = Retry(spec, step, $"the runner could not record the step: {exception.Message}");
        }
        finally
        {
            TryDelete(folder);
            if (finished is null)
            {
                // Abandoned: nothing is written; the next lease holder requeues the step.
                _inFlight.TryRemove(key, out _);
                cancel.Dispose();
            }
        }

        if (finished is null)
        {
            return;
        }

        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await _store.UpdateStepAsync(run.RunId, finished, CancellationToken.None).ConfigureAwait(false);
            Observe(run, finished);
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
            cancel.Dispose();
            _gate.Release();
        }
    }

    /// <summary>
    /// Runs one attempt of a step in this process and stores its outputs at <see cref="Kubernetes.KubernetesStepExecutor.OutputsPath"/>:
    /// what <c>ballast pipelines step</c> does inside a Kubernetes Job's pod. The runner that created the Job records the result.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, JsonNode?>> RunStepHereAsync(string runId, string stepName, int attempt, TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        var run = await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
        var spec = (run.Spec.Steps ?? []).FirstOrDefault(step => step.Name == stepName)
                   ?? throw TrackingException.NotFound($"Pipeline run '{runId}' has no step '{stepName}'.");
        var kind = _steps.GetValueOrDefault(spec.Kind) ?? throw TrackingException.Invalid($"Step kind '{spec.Kind}' is not known here.");
        var step = run.Steps.Single(s => s.Step == stepName);
        var steps = run.Steps.ToDictionary(s => s.Step, StringComparer.Ordinal);
        var upstream = PipelineValidation.Dependencies(spec).ToDictionary(name => name, name => steps[name].Outputs ?? new Dictionary<string, JsonNode?>(), StringComparer.Ordinal);
        var tracking = await _runs.GetAsync(step.TrackingRunId ?? throw TrackingException.Invalid($"Step '{stepName}' of run '{runId}' has not been started by a runner."), cancellationToken).ConfigureAwait(false);
        var artifactRoot = ModelRegistration.StorePathOf(tracking.Info.ArtifactUri)!;
        var folder = Path.Combine(_options.WorkRoot, runId, $"{stepName}-{attempt}-job");
        Directory.CreateDirectory(folder);
        try
        {
            var context = new StepContext(run.Pipeline, run.RunId, stepName, attempt, spec.With ?? [], run.Parameters, reference => Lookup(run, upstream, reference),
                _artifacts, artifactRoot, tracking.Info.ArtifactUri, tracking.Info.RunId, folder, log, _time, null, cancellationToken);
            var outputs = await kind.RunAsync(context).ConfigureAwait(false);
            using var json = new MemoryStream(Encoding.UTF8.GetBytes(PipelineStore.SerializeOutputs(outputs)));
            await _artifacts.PutAsync(Kubernetes.KubernetesStepExecutor.OutputsPath(artifactRoot, attempt), json, cancellationToken).ConfigureAwait(false);
            return outputs;
        }
        finally
        {
            TryDelete(folder);
        }
    }

    /// <summary>After a failed attempt: queued again after the backoff while retries remain, else failed.</summary>
    private StepRun Retry(PipelineStepSpec spec, StepRun step, string error)
    {
        var now = Now;
        if (step.Attempts > (spec.Retries ?? 0))
        {
            return step with { Status = StepRunStatuses.Failed, FinishedAt = now, Error = step.Attempts > 1 ? $"{error} (after {step.Attempts} attempts)" : error };
        }

        var first = spec.RetryBackoff is null ? _options.DefaultRetryBackoff : PipelineValidation.Duration(spec.RetryBackoff)!.Value;
        var delay = TimeSpan.FromMilliseconds(Math.Min(first.TotalMilliseconds * Math.Pow(2, step.Attempts - 1), _options.MaxRetryBackoff.TotalMilliseconds));
        var next = now + (long)delay.TotalMilliseconds;
        return step with
        {
            Status = StepRunStatuses.Queued, NextAttemptAt = next, FinishedAt = null,
            Error = $"attempt {step.Attempts} failed: {error}; retrying at {DateTimeOffset.FromUnixTimeMilliseconds(next):O}",
        };
    }

    private async Task<StepRun> FailAttemptAsync(PipelineRun run, PipelineStepSpec spec, StepRun step, string error, CancellationToken cancellationToken)
    {
        if (step.TrackingRunId is { } tracking && Retry(spec, step, error).Status == StepRunStatuses.Failed)
        {
            await _runs.UpdateAsync(tracking, RunStatuses.Failed, Now, null, cancellationToken).ConfigureAwait(false);
        }

        return await SaveAsync(run, Retry(spec, step, error), cancellationToken).ConfigureAwait(false);
    }

    private async Task<StepRun> SaveAsync(PipelineRun run, StepRun step, CancellationToken cancellationToken)
    {
        await _store.UpdateStepAsync(run.RunId, step, cancellationToken).ConfigureAwait(false);
        Observe(run, step);
        return step;
    }

    private void Observe(PipelineRun run, StepRun step)
    {
        if (_options.Observer is not { } observer || step.Status is StepRunStatuses.Running || (step.Status == StepRunStatuses.Queued && step.Attempts == 0))
        {
            return;
        }

        var kind = run.Spec.Steps?.FirstOrDefault(spec => spec.Name == step.Step)?.Kind ?? "";
        var executed = step.Status is not (StepRunStatuses.Cached or StepRunStatuses.Skipped) && step.StartedAt is { } started;
        observer.StepEnded(run.Pipeline, kind, step.Status == StepRunStatuses.Queued ? "retrying" : step.Status,
            executed ? TimeSpan.FromMilliseconds(Now - step.StartedAt!.Value) : null);
    }

    private static JsonNode? Lookup(PipelineRun run, Dictionary<string, IReadOnlyDictionary<string, JsonNode?>> upstream, PipelineReference reference)
    {
        if (reference.Step is null)
        {
            return run.Parameters.TryGetValue(reference.Name, out var value) ? value : throw new StepFailedException($"the run has no parameter '{reference.Name}'");
        }

        return upstream.TryGetValue(reference.Step, out var outputs) && outputs.TryGetValue(reference.Name, out var output)
            ? output
            : throw new StepFailedException($"step '{reference.Step}' has no output '{reference.Name}'; it has: {string.Join(", ", upstream.GetValueOrDefault(reference.Step)?.Keys ?? [])}");
    }

    /// <summary>
    /// SHA-256 of the step's kind, its spec as written, the parameters it references, the outputs it references (file outputs
    /// carry their content's SHA-256) and, for kinds that read other content, that content's digest.
    /// </summary>
    /// <summary>An output as the cache key sees it: a file by its content's SHA-256 (not where this run stored it), so identical bytes from a re-executed step still hit.</summary>
    private static JsonNode? ContentOf(JsonNode? output) => output switch
    {
        JsonObject file when StepOutputs.IsFile(file) => JsonValue.Create("sha256:" + file["sha256"]?.GetValue<string>()),
        JsonObject obj => new JsonObject(obj.Select(pair => KeyValuePair.Create(pair.Key, ContentOf(pair.Value)))),
        JsonArray array => new JsonArray(array.Select(ContentOf).ToArray()),
        _ => output?.DeepClone(),
    };

    private static async Task<string> CacheKeyAsync(PipelineRun run, PipelineStepSpec spec, IPipelineStep kind, Dictionary<string, StepRun> steps, CancellationToken cancellationToken)
    {
        var upstream = PipelineValidation.Dependencies(spec).ToDictionary(name => name, name => steps[name].Outputs ?? new Dictionary<string, JsonNode?>(), StringComparer.Ordinal);
        var referenced = PipelineExpressions.References(spec.With, [], "").Where(reference => reference.Step is null).Select(reference => reference.Name).ToHashSet(StringComparer.Ordinal);
        var material = new JsonObject
        {
            ["kind"] = spec.Kind,
            ["with"] = spec.With?.DeepClone(),
            // Only the parameters the step reads: changing another parameter does not invalidate it.
            ["parameters"] = new JsonObject(run.Parameters.Where(pair => referenced.Contains(pair.Key)).OrderBy(pair => pair.Key, StringComparer.Ordinal)
                .Select(pair => KeyValuePair.Create(pair.Key, pair.Value?.DeepClone()))),
            ["inputs"] = new JsonObject(upstream.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => KeyValuePair.Create<string, JsonNode?>(pair.Key,
                new JsonObject(pair.Value.OrderBy(output => output.Key, StringComparer.Ordinal).Select(output => KeyValuePair.Create(output.Key, ContentOf(output.Value))))))),
        };
        if (kind is IStepInputHashes hashes)
        {
            var with = (JsonObject)PipelineExpressions.Resolve(spec.With ?? [], reference => Lookup(run, upstream, reference), file => file["sha256"]!.GetValue<string>())!;
            material["content"] = await hashes.HashInputsAsync(with, cancellationToken).ConfigureAwait(false);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(material.ToJsonString())));
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // A process the step started may still hold a file; the temp folder is cleaned later.
        }
    }

    /// <summary>Stops: running steps are cancelled and left 'running' for the next runner to requeue.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await IdleAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException)
        {
            // Stopping.
        }

        _stopping.Dispose();
        _gate.Dispose();
    }

    private sealed record InFlight(Task Task, CancellationTokenSource Cancel);
}
