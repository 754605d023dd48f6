using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ballast.Alerts;
using Ballast.Metadata;
using Ballast.Serving;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Rollouts;

public static class RolloutPhases
{
    public const string Progressing = "Progressing";
    public const string Paused = "Paused";
    public const string Succeeded = "Succeeded";
    public const string Aborted = "Aborted";
}

/// <summary>
/// One measurement of an analysis over the interval [<see cref="From"/>, <see cref="At"/>): <c>Successful</c>,
/// <c>Failed</c>, <c>Inconclusive</c> or <c>Error</c> (it could not be taken), with the values it saw and each
/// metric's own result.
/// </summary>
public sealed record Measurement(long At, string Outcome, IReadOnlyDictionary<string, double> Values, string Reason, long? From = null, IReadOnlyList<MetricMeasurement>? Metrics = null);

/// <summary>
/// One analysis metric in one measurement: its condition, the value measured (null when none could be), stable's value
/// when the condition compares with it, and the result: <c>Successful</c>, <c>Failed</c> (the condition held),
/// <c>Inconclusive</c> (too few requests or feedback) or <c>Error</c>.
/// </summary>
public sealed record MetricMeasurement(string Name, string Condition, double? Value, string Result, double? Stable = null);

/// <summary>
/// The analysis of the current step: when it started, when it measures next, its measurements so far, and once it
/// has ended without passing (the rollout then pauses or aborts with it), its <see cref="Outcome"/>.
/// </summary>
public sealed record AnalysisRun(long StartedAt, long NextAt, IReadOnlyList<Measurement> Measurements, string? Outcome = null)
{
    public int Count(string outcome) => Measurements.Count(measurement => measurement.Outcome == outcome);
}

/// <summary>
/// An analysis run that has ended, as kept for the rollout's timeline: the step and variant it judged, its outcome
/// (<c>Successful</c>, <c>Failed</c>, <c>Inconclusive</c>, <c>Error</c>, or <c>Terminated</c> when a human moved the
/// rollout on first), the transition's reason, and every measurement.
/// </summary>
public sealed record AnalysisRecord(int Step, string Variant, string Outcome, string Message, long StartedAt, long EndedAt, IReadOnlyList<Measurement> Measurements);

/// <summary>A kept analysis run: its number within the rollout (1, 2, … in the order they ended) and the run.</summary>
public sealed record StoredAnalysis(long Id, AnalysisRecord Analysis);

/// <summary>A transition: when, into which phase and step, at which canary weight, and why (with the values that caused it).</summary>
public sealed record RolloutEvent(long At, string Phase, int Step, int Weight, string Message, IReadOnlyDictionary<string, double>? Values = null);

/// <summary>A rollout's persisted state: it survives restarts, and whichever replica holds the lease carries it on.</summary>
public sealed record RolloutState(
    string Phase,
    int Step,
    int Weight,
    string Message,
    string StableVariant,
    string StableModel,
    long StepStartedAt,
    long? SucceededAt,
    AnalysisRun? Analysis,
    IReadOnlyList<RolloutEvent> History,
    string? Layout = null,
    bool? AbortNotified = null);

/// <summary>A rollout as read from the store; <see cref="Token"/> (the stored state's text) makes a write fail if another writer changed it since.</summary>
public sealed record StoredRollout(RolloutSpec Spec, RolloutState State, string? Token = null);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RolloutSpec))]
[JsonSerializable(typeof(RolloutState))]
[JsonSerializable(typeof(IReadOnlyList<Measurement>))]
internal sealed partial class RolloutJsonContext : JsonSerializerContext;

/// <summary>
/// Canary rollouts: the state machine (<see cref="TickAsync"/>, run every second by the lease holder) and the commands
/// (start, promote, pause, resume, abort). The canary is the endpoint's variant <c>canary</c> beside the stable one; an
/// abort puts all traffic back on stable in one endpoint change; success makes the new model the stable variant.
/// Analysis reads the canary's own traffic from <see cref="TrafficStats"/> (every replica's counts): too little traffic
/// is inconclusive and pauses for a human, never a pass. Feedback conditions (accuracy, mean reward) join feedback with
/// what each variant predicted (<paramref name="assignments"/>). An abort is sent as the event <c>rollout.aborted</c> to
/// <paramref name="alerts"/> (the alert rules that ask for it) once its state is stored, retried each tick until sent.
/// </summary>
public sealed class RolloutController(
    MetadataDatabase database,
    EndpointStore endpoints,
    TrafficStats traffic,
    TimeProvider time,
    Func<CancellationToken, Task>? endpointsChanged = null,
    AssignmentStore? assignments = null,
    IAlertNotifier? alerts = null,
    RolloutDrift? drift = null)
{
    public const string AbortedEvent = "rollout.aborted";

    /// <summary>The shadow that mirrors production requests to a blue/green preview (<see cref="BlueGreenSpec.PreviewMirrorPercent"/>).</summary>
    public const string PreviewMirrorShadow = "preview-mirror";

    public const string CanaryVariant = "canary";
    public const string PreviewVariant = "preview";
    public const string PreviousVariant = "previous";
    private const string PreviewLayout = "preview";
    private const string SwitchedLayout = "switched";
    private const string ShadowLayout = "shadow";
    public const string ShadowVariant = "shadow";

    public async Task<StoredRollout> StartAsync(RolloutSpec spec, CancellationToken cancellationToken = default)
    {
        spec = RolloutValidation.Validate(spec);
        var endpoint = (await endpoints.GetAsync(spec.Endpoint!, cancellationToken).ConfigureAwait(false)).Spec;
        if ((spec.Analysis!.Metrics ?? []).Any(metric => Condition.Parse(metric.FailureCondition, "metric").OnDrift))
        {
            // The drift reference is fixed now: the named monitor, the endpoint's only one, or stable's traffic.
            spec = await (drift ?? throw new InvalidOperationException("drift conditions need the rollout drift engine, which this controller was not given")).ResolveAsync(spec, cancellationToken).ConfigureAwait(false);
        }

        if (endpoint.Policy is not (null or EndpointValidation.SplitPolicy) || endpoint.Variants is not { Count: 1 } || endpoint.Variants[0].Name is CanaryVariant or PreviewVariant or PreviousVariant or ShadowVariant)
        {
            throw TrackingException.Invalid($"Endpoint '{spec.Endpoint}' cannot take a rollout: it needs a split endpoint serving one stable variant (not named {CanaryVariant}, {PreviewVariant}, {PreviousVariant} or {ShadowVariant}).");
        }

        if ((endpoint.Shadows ?? []).FirstOrDefault(shadow => shadow.Name is ShadowVariant or PreviewMirrorShadow) is { } taken)
        {
            throw TrackingException.Invalid($"Endpoint '{spec.Endpoint}' cannot take a rollout: its shadow '{taken.Name}' has a name the rollout uses for its own mirror; rename it first.");
        }

        var stable = endpoint.Variants[0];
        if (stable.Model is null)
        {
            throw TrackingException.Invalid($"Endpoint '{spec.Endpoint}': the stable variant '{stable.Name}' is remote; a rollout replaces a registered model.");
        }

        var now = Now;
        var state = new RolloutState(RolloutPhases.Progressing, 0, 0, "started", stable.Name, stable.Model, now, null, null,
            [new RolloutEvent(now, RolloutPhases.Progressing, 0, 0, $"started: {spec.Model} against stable variant '{stable.Name}' ({stable.Model})")]);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM rollouts WHERE endpoint = @Endpoint AND phase IN ('Progressing', 'Paused')", new { spec.Endpoint }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0)
        {
            throw TrackingException.Invalid($"Endpoint '{spec.Endpoint}' already has a rollout in progress; abort it or let it finish first.");
        }

        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO rollouts (name, endpoint, phase, spec, state, updated_at) VALUES (@Name, @Endpoint, @phase, @spec, @state, @now)",
                new { spec.Name, spec.Endpoint, phase = state.Phase, spec = Serialize(spec), state = Serialize(state), now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
        {
            throw TrackingException.AlreadyExists($"Rollout '{spec.Name}' already exists.");
        }

        return new StoredRollout(spec, state, Serialize(state));
    }

    public async Task<StoredRollout> GetAsync(string name, CancellationToken cancellationToken = default) =>
        (await QueryAsync("WHERE name = @name", new { name }, cancellationToken).ConfigureAwait(false)).SingleOrDefault()
        ?? throw TrackingException.NotFound($"Rollout '{name}' does not exist.");

    public Task<IReadOnlyList<StoredRollout>> ListAsync(CancellationToken cancellationToken = default) => QueryAsync("", null, cancellationToken);

    /// <summary>Skips a pause (or an inconclusive analysis a human has looked at): the rollout goes on with the next step.</summary>
    public Task<StoredRollout> PromoteAsync(string name, CancellationToken cancellationToken = default) =>
        CommandAsync(name, (rollout, now) => rollout.State.Phase is RolloutPhases.Paused or RolloutPhases.Progressing
            ? Advance(rollout.State with { Phase = RolloutPhases.Progressing, Analysis = null }, now, "promoted by hand")
            : throw Ended(rollout), cancellationToken);

    public Task<StoredRollout> PauseAsync(string name, CancellationToken cancellationToken = default) =>
        CommandAsync(name, (rollout, now) => rollout.State.Phase == RolloutPhases.Progressing
            ? Transition(rollout.State with { Phase = RolloutPhases.Paused }, now, "paused by hand")
            : rollout.State.Phase == RolloutPhases.Paused ? rollout.State : throw Ended(rollout), cancellationToken);

    public Task<StoredRollout> ResumeAsync(string name, CancellationToken cancellationToken = default) =>
        CommandAsync(name, (rollout, now) => rollout.State.Phase == RolloutPhases.Paused
            ? Transition(rollout.State with { Phase = RolloutPhases.Progressing, StepStartedAt = now, Analysis = null }, now, "resumed by hand")
            : rollout.State.Phase == RolloutPhases.Progressing ? rollout.State : throw Ended(rollout), cancellationToken);

    public async Task<StoredRollout> AbortAsync(string name, string reason = "aborted by hand", CancellationToken cancellationToken = default)
    {
        var rollout = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (rollout.State.Phase is RolloutPhases.Succeeded or RolloutPhases.Aborted)
        {
            throw Ended(rollout);
        }

        var aborted = await AbortAsync(rollout, reason, cancellationToken).ConfigureAwait(false);
        await SaveAsync(rollout, aborted, cancellationToken).ConfigureAwait(false);
        return rollout with { State = aborted };
    }

    /// <summary>Saves a state a tick decided; a command that changed the rollout meanwhile wins, and the next tick looks again.</summary>
    private async Task TrySaveAsync(StoredRollout rollout, RolloutState state, CancellationToken cancellationToken)
    {
        try
        {
            await SaveAsync(rollout, state, cancellationToken).ConfigureAwait(false);
        }
        catch (TrackingException)
        {
            // Changed meanwhile.
        }
    }

    /// <summary>Moves every rollout in progress as far as the clock and the traffic allow; the lease holder calls it every second.</summary>
    public async Task TickAsync(CancellationToken cancellationToken = default)
    {
        // Succeeded ones for their SLA watch (a week at most).
        foreach (var stored in await QueryAsync("WHERE phase = 'Progressing' OR (phase = 'Succeeded' AND updated_at >= @recent)", new { recent = Now - (7 * 86_400_000L) }, cancellationToken).ConfigureAwait(false))
        {
            var rollout = stored;
            if (await endpoints.FindAsync(rollout.Spec.Endpoint!, cancellationToken).ConfigureAwait(false) is null)
            {
                // Its endpoint was deleted: nothing left to move or watch. Ended here, so that it never writes to an
                // endpoint of the same name created later, and never holds up the other rollouts.
                if (rollout.State.Phase == RolloutPhases.Progressing)
                {
                    await TrySaveAsync(rollout, await AbortAsync(rollout, $"endpoint '{rollout.Spec.Endpoint}' was deleted", cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            if (await SlaBreachAsync(rollout, cancellationToken).ConfigureAwait(false) is { } breach)
            {
                await TrySaveAsync(rollout, await RollBackAsync(rollout, breach.Reason, breach.Values, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                continue;
            }

            // Several steps may be due at once (a weight change, then a pause that already elapsed…); a few per tick.
            for (var moves = 0; moves < 10 && rollout.State.Phase == RolloutPhases.Progressing; moves++)
            {
                var (next, finished) = await StepAsync(rollout, cancellationToken).ConfigureAwait(false);
                if (ReferenceEquals(next, rollout.State))
                {
                    break;
                }

                try
                {
                    rollout = await SaveAsync(rollout, next, cancellationToken, finished).ConfigureAwait(false);
                }
                catch (TrackingException)
                {
                    // A command (promote, pause, abort…) changed it meanwhile; the next tick starts from what it wrote.
                    break;
                }
            }
        }

        await NotifyAbortsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <c>rollout.aborted</c> for every abort of the last day not sent yet (by hand, analysis failure, SLA breach),
    /// then marks it sent; a failure to send leaves it for the next tick, and the event id makes a resend queue nothing.
    /// </summary>
    private async Task NotifyAbortsAsync(CancellationToken cancellationToken)
    {
        if (alerts is null)
        {
            return;
        }

        foreach (var rollout in await QueryAsync("WHERE phase = 'Aborted' AND updated_at >= @recent", new { recent = Now - 86_400_000L }, cancellationToken).ConfigureAwait(false))
        {
            if (rollout.State.AbortNotified is true)
            {
                continue;
            }

            await alerts.NotifyAsync(AbortNotice(rollout), cancellationToken).ConfigureAwait(false);
            try
            {
                await SaveAsync(rollout, rollout.State with { AbortNotified = true }, cancellationToken).ConfigureAwait(false);
            }
            catch (TrackingException)
            {
                // Changed meanwhile: the next tick looks again (and the same event id queues nothing twice).
            }
        }
    }

    /// <summary>The event for an aborted rollout: why, with the metric values that caused it as <c>value_METRIC</c> labels.</summary>
    public static AlertNotice AbortNotice(StoredRollout rollout)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        var (spec, state) = (rollout.Spec, rollout.State);
        var abort = state.History.LastOrDefault(e => e.Phase == RolloutPhases.Aborted) ?? state.History[^1];
        var before = state.History.LastOrDefault(e => e.Phase != RolloutPhases.Aborted);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["rollout"] = spec.Name,
            ["endpoint"] = spec.Endpoint!,
            ["model"] = spec.Model!,
            ["stable_model"] = state.StableModel,
            ["strategy"] = spec.Strategy ?? RolloutValidation.CanaryStrategy,
            ["step"] = abort.Step.ToString(CultureInfo.InvariantCulture),
            ["weight"] = (before?.Weight ?? 0).ToString(CultureInfo.InvariantCulture),
            ["reason"] = abort.Message,
        };
        foreach (var (metric, value) in abort.Values ?? new Dictionary<string, double>())
        {
            labels[$"value_{metric}"] = value.ToString("G6", CultureInfo.InvariantCulture);
        }

        return new AlertNotice($"rollout/{spec.Name}/aborted", AbortedEvent, AlertSeverities.Critical,
            $"Rollout '{spec.Name}' of {spec.Model} on endpoint '{spec.Endpoint}' aborted, all traffic back on {state.StableModel}: {abort.Message}", labels,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["rollout"] = $"/api/v1/rollouts/{spec.Name}", ["history"] = $"/api/v1/rollouts/{spec.Name}/history" });
    }

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private async Task<(RolloutState State, AnalysisRecord? Finished)> StepAsync(StoredRollout rollout, CancellationToken cancellationToken)
    {
        var (spec, state) = (rollout.Spec, rollout.State);
        var now = Now;
        if (state.Step >= spec.Steps!.Count)
        {
            await SetEndpointAsync(spec, state, promoted: true, cancellationToken).ConfigureAwait(false);
            return (Transition(state with { Phase = RolloutPhases.Succeeded, Weight = 100, SucceededAt = now }, now, $"promoted: {spec.Model} is the stable variant '{state.StableVariant}'"), null);
        }

        var step = spec.Steps[state.Step];
        if (step.SetPreview is true)
        {
            var preview = state with { Layout = PreviewLayout };
            await SetEndpointAsync(spec, preview, promoted: false, cancellationToken).ConfigureAwait(false);
            return (Advance(preview, now, $"preview: {spec.Model} loaded as variant '{PreviewVariant}' (pinned route only, no production traffic)"), null);
        }

        if (step.Switch is true)
        {
            var switched = state with { Layout = SwitchedLayout, Weight = 100 };
            await SetEndpointAsync(spec, switched, promoted: false, cancellationToken).ConfigureAwait(false);
            return (Advance(switched, now, $"switched: {spec.Model} serves all traffic; the old model stays loaded as '{PreviousVariant}'"), null);
        }

        if (step.Shadow is { } shadow)
        {
            return (await ShadowAsync(spec, state, shadow, now, cancellationToken).ConfigureAwait(false), null);
        }

        if (step.SetWeight is { } weight)
        {
            var weighted = state with { Weight = weight };
            await SetEndpointAsync(spec, weighted, promoted: false, cancellationToken).ConfigureAwait(false);
            return (Advance(weighted, now, $"canary weight {weight}%"), null);
        }

        if (step.Pause is not null)
        {
            return (step.PauseDuration() is { } duration
                ? now - state.StepStartedAt >= duration.TotalMilliseconds ? Advance(state, now, $"pause of {duration} done") : state
                : Transition(state with { Phase = RolloutPhases.Paused }, now, "paused until promoted"), null);
        }

        return await AnalyzeAsync(spec, state, AnalysisTarget(spec, state), now, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts mirroring, or after the duration judges the mirrored requests and stops mirroring.</summary>
    private async Task<RolloutState> ShadowAsync(RolloutSpec spec, RolloutState state, ShadowStep shadow, long now, CancellationToken cancellationToken)
    {
        var percent = shadow.Percent ?? 100;
        var duration = Durations.Parse(shadow.Duration!)!.Value;
        if (state.Layout != ShadowLayout)
        {
            var mirroring = state with { Layout = ShadowLayout, StepStartedAt = now };
            await SetEndpointAsync(spec, mirroring, promoted: false, cancellationToken).ConfigureAwait(false);
            return Transition(mirroring, now, $"shadow: mirroring {percent}% of requests to {spec.Model} for {duration}");
        }

        if (now - state.StepStartedAt < duration.TotalMilliseconds)
        {
            return state;
        }

        var seen = (await traffic.WindowAsync(spec.Endpoint!, state.StepStartedAt, now, cancellationToken).ConfigureAwait(false)).FirstOrDefault(v => v.Variant == ShadowVariant)
                   ?? new VariantTraffic(ShadowVariant, 0, 0, 0, 0, 0);
        var done = state with { Layout = null };
        await SetEndpointAsync(spec, done, promoted: false, cancellationToken).ConfigureAwait(false);
        if (seen.Requests < (shadow.MinRequests ?? 20))
        {
            return Transition(done with { Phase = RolloutPhases.Paused }, now, $"shadow inconclusive: {seen.Requests} mirrored requests < minRequests {shadow.MinRequests ?? 20}; promote or abort");
        }

        var errorRate = seen.ErrorRate + seen.RejectionRate;
        var problems = new List<string>();
        if (errorRate > (shadow.MaxErrorRate ?? 0.01))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"error rate {errorRate:0.####} > {shadow.MaxErrorRate ?? 0.01}"));
        }

        if (shadow.MaxDisagreementRate is { } maxDisagreement && seen.DisagreementRate > maxDisagreement)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"disagreement rate {seen.DisagreementRate:0.####} > {maxDisagreement}"));
        }

        var seenValues = new Dictionary<string, double>(StringComparer.Ordinal) { ["requests"] = seen.Requests, ["error_rate"] = errorRate, ["disagreement_rate"] = seen.DisagreementRate };
        return problems.Count > 0
            ? await AbortAsync(new StoredRollout(spec, done), $"shadow failed: {string.Join("; ", problems)}", cancellationToken, seenValues).ConfigureAwait(false)
            : Advance(done, now, string.Create(CultureInfo.InvariantCulture, $"shadow passed: {seen.Requests} mirrored, error rate {errorRate:0.####}, disagreement rate {seen.DisagreementRate:0.####}"));
    }

    private async Task<(RolloutState State, AnalysisRecord? Finished)> AnalyzeAsync(RolloutSpec spec, RolloutState state, string target, long now, CancellationToken cancellationToken)
    {
        var analysis = spec.Analysis!;
        var interval = (long)Durations.Parse(analysis.Interval!)!.Value.TotalMilliseconds;
        if (state.Analysis is not { Outcome: null } run)
        {
            return (state with { Analysis = new AnalysisRun(now, now + interval, []) }, null);
        }

        if (now < run.NextAt)
        {
            return (state, null);
        }

        var from = run.NextAt - interval;
        Measurement measurement;
        try
        {
            measurement = await MeasureAsync(spec, state, target, from, now, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (!(exception is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // Argo's Error: the metric could not be read (the database or a query failed); neither a pass nor a failure.
            measurement = new Measurement(now, ErrorOutcome, new Dictionary<string, double>(StringComparer.Ordinal), $"the measurement could not be taken: {exception.Message}",
                from, [.. Conditions(spec).Select(condition => new MetricMeasurement(condition.Name, condition.Condition.ToString(), null, ErrorOutcome))]);
        }

        run = run with { NextAt = run.NextAt + interval, Measurements = [.. run.Measurements, measurement] };
        state = state with { Analysis = run };
        AnalysisRecord Finished(string outcome, string message) => new(state.Step, target, outcome, message, run.StartedAt, now, run.Measurements);
        var errors = run.Measurements.Reverse().TakeWhile(m => m.Outcome == ErrorOutcome).Count();
        if (errors > analysis.ConsecutiveErrorLimit)
        {
            var reason = $"analysis errored: {errors} measurements in a row could not be taken (consecutiveErrorLimit {analysis.ConsecutiveErrorLimit}); last: {measurement.Reason}";
            return (await AbortAsync(new StoredRollout(spec, state with { Analysis = run with { Outcome = ErrorOutcome } }), reason, cancellationToken).ConfigureAwait(false),
                Finished(ErrorOutcome, reason));
        }

        if (run.Count("Failed") > analysis.FailureLimit)
        {
            var reason = $"analysis failed: {measurement.Reason}";
            return (await AbortAsync(new StoredRollout(spec, state with { Analysis = run with { Outcome = "Failed" } }), reason, cancellationToken, measurement.Values).ConfigureAwait(false),
                Finished("Failed", reason));
        }

        if (run.Count("Inconclusive") > analysis.InconclusiveLimit)
        {
            var reason = $"analysis inconclusive: {measurement.Reason}; promote or abort";
            return (Transition(state with { Phase = RolloutPhases.Paused, Analysis = run with { Outcome = "Inconclusive" } }, now, reason, measurement.Values), Finished("Inconclusive", reason));
        }

        // Errors never count towards the measurements an analysis needs to pass.
        var taken = run.Measurements.Count(m => m.Outcome != ErrorOutcome);
        if (taken < analysis.Count)
        {
            return (state, null);
        }

        var passed = $"analysis passed ({run.Count("Successful")} of {taken} measurements successful)";
        return (Advance(state with { Analysis = null }, now, passed), Finished("Successful", passed));
    }

    private static List<(string Name, Condition Condition)> Conditions(RolloutSpec spec) =>
        spec.Analysis!.Metrics!.Select(metric => (Name: metric.Name ?? "metric", Condition: Condition.Parse(metric.FailureCondition, metric.Name ?? "metric"))).ToList();

    private const string ErrorOutcome = "Error";
    private const string TerminatedOutcome = "Terminated";

    /// <summary>The variant the current step's analysis judges: the canary (default), the preview, or the stable variant.</summary>
    private static string AnalysisTarget(RolloutSpec spec, RolloutState state) =>
        (state.Step < spec.Steps!.Count ? spec.Steps[state.Step].Analysis?.Variant : null) switch
        {
            AnalysisStep.Preview => PreviewVariant,
            AnalysisStep.Stable => state.StableVariant,
            _ => CanaryVariant,
        };

    /// <summary>
    /// One measurement of <paramref name="target"/> over [from, now): its traffic from every replica's counters (a
    /// preview's with its mirrored copies), and, when a condition needs it, the feedback received for its predictions.
    /// </summary>
    private async Task<Measurement> MeasureAsync(RolloutSpec spec, RolloutState state, string target, long from, long now, CancellationToken cancellationToken)
    {
        var analysis = spec.Analysis!;
        var conditions = analysis.Metrics!.Select(metric => (Name: metric.Name ?? "metric", Condition: Condition.Parse(metric.FailureCondition, metric.Name ?? "metric"))).ToList();
        IReadOnlyDictionary<string, string>? merge = target == PreviewVariant && spec.BlueGreen?.PreviewMirrorPercent is not null
            ? new Dictionary<string, string>(StringComparer.Ordinal) { [PreviewMirrorShadow] = PreviewVariant }
            : null;
        var window = await traffic.WindowAsync(spec.Endpoint!, from, now, merge, cancellationToken).ConfigureAwait(false);
        var seen = window.FirstOrDefault(variant => variant.Variant == target) ?? new VariantTraffic(target, 0, 0, 0, 0, 0);
        var values = Values(seen);
        // Conditions against stable compare with the stable variant's traffic over the same window.
        var stable = window.FirstOrDefault(variant => variant.Variant == state.StableVariant && variant.Variant != target && variant.Requests > 0) is { } reference ? Values(reference) : null;
        var lacking = new List<string>();
        // Each condition's own result beside the measurement's: its value, stable's when compared with it, and whether it held.
        List<MetricMeasurement> PerMetric(Func<(string Name, Condition Condition), string> result) => conditions.Select(condition => new MetricMeasurement(
            condition.Name, condition.Condition.ToString(), values.TryGetValue(condition.Condition.Metric, out var value) ? value : null, result(condition),
            condition.Condition.StableArithmetic is not null && stable is not null && stable.TryGetValue(condition.Condition.Metric, out var reference) ? reference : null)).ToList();
        if (conditions.Any(condition => condition.Condition.OnFeedback))
        {
            if (assignments is null)
            {
                throw new InvalidOperationException("feedback conditions need the prediction assignments store, which this controller was not given");
            }

            // Feedback received in the window for predictions made since the rollout started.
            var feedback = await assignments.FeedbackAsync(spec.Endpoint!, state.History[0].At, from, now, cancellationToken).ConfigureAwait(false);
            var mine = feedback.FirstOrDefault(variant => variant.Variant == target) ?? new VariantFeedback(target, 0, 0, 0, 0, 0);
            var theirs = target == state.StableVariant ? null : feedback.FirstOrDefault(variant => variant.Variant == state.StableVariant) ?? new VariantFeedback(state.StableVariant, 0, 0, 0, 0, 0);
            AddFeedback(values, mine, "");
            if (theirs is not null)
            {
                stable ??= new Dictionary<string, double>(StringComparer.Ordinal);
                AddFeedback(stable, theirs, "");
                AddFeedback(values, theirs, "stable_");
            }

            foreach (var (name, condition) in conditions.Where(condition => condition.Condition.OnFeedback && condition.Condition.Metric != Condition.FeedbackCount))
            {
                var what = condition.Metric == Condition.Accuracy ? "outcomes" : "rewards";
                if (Samples(mine, condition.Metric) < analysis.MinFeedback)
                {
                    lacking.Add($"{name}: {Samples(mine, condition.Metric)} {what} < minFeedback {analysis.MinFeedback}");
                }

                if (condition.StableArithmetic is not null && theirs is not null && Samples(theirs, condition.Metric) < analysis.MinFeedback)
                {
                    lacking.Add($"{name}: stable has {Samples(theirs, condition.Metric)} {what} < minFeedback {analysis.MinFeedback}");
                }
            }
        }

        if (seen.Requests < analysis.MinRequests)
        {
            return new Measurement(now, "Inconclusive", values, $"{seen.Requests} requests < minRequests {analysis.MinRequests}", from, PerMetric(_ => "Inconclusive"));
        }

        if (conditions.Any(condition => condition.Condition.OnDrift))
        {
            // Only with enough requests: the drift engine reads the prediction log, one query for both variants.
            var drifted = await (drift ?? throw new InvalidOperationException("drift conditions need the rollout drift engine, which this controller was not given"))
                .MeasureAsync(spec, conditions, target, state.StableVariant, from, now, cancellationToken).ConfigureAwait(false);
            foreach (var (name, value) in drifted.Values)
            {
                values[name] = value;
            }

            if (drifted.Stable.Count > 0)
            {
                stable ??= new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var (name, value) in drifted.Stable)
                {
                    stable[name] = value;
                }
            }

            lacking.AddRange(drifted.Lacking);
        }

        // A condition that can be judged and holds fails the measurement, even when another lacks feedback.
        var failed = conditions.Where(condition => !lacking.Any(reason => reason.StartsWith(condition.Name + ":", StringComparison.Ordinal))
            && condition.Condition.Holds(values[condition.Condition.Metric], stable is not null && stable.TryGetValue(condition.Condition.Metric, out var stableValue) ? stableValue : null)).ToList();
        var metrics = PerMetric(condition => failed.Contains(condition) ? "Failed"
            : lacking.Any(reason => reason.StartsWith(condition.Name + ":", StringComparison.Ordinal)) ? "Inconclusive" : "Successful");
        return failed.Count > 0
            ? new Measurement(now, "Failed", values, string.Join("; ", failed.Select(metric => $"{metric.Name}: {metric.Condition} (value {values[metric.Condition.Metric].ToString("0.####", CultureInfo.InvariantCulture)})")), from, metrics)
            : lacking.Count > 0
                ? new Measurement(now, "Inconclusive", values, string.Join("; ", lacking), from, metrics)
                : new Measurement(now, "Successful", values, "every condition passed", from, metrics);
    }

    private static long Samples(VariantFeedback feedback, string metric) => metric == Condition.Accuracy ? feedback.Labelled : feedback.Rewarded;

    /// <summary>
    /// A variant's feedback values: <c>accuracy</c> only with an outcome to compare and <c>mean_reward</c> only with a
    /// reward (left out, null per metric, rather than a 0 nobody measured; a condition on them is inconclusive then).
    /// </summary>
    private static void AddFeedback(Dictionary<string, double> values, VariantFeedback feedback, string prefix)
    {
        if (feedback.Labelled > 0)
        {
            values[prefix + Condition.Accuracy] = feedback.Accuracy;
        }

        if (feedback.Rewarded > 0)
        {
            values[prefix + Condition.MeanReward] = feedback.MeanReward;
        }

        values[prefix + Condition.FeedbackCount] = feedback.Feedback;
    }

    /// <summary>
    /// Why the new model breaks its service levels now, or null: any SLA condition holding over the last
    /// <c>sustainedFor</c> of its traffic (the canary while progressing, the promoted stable variant during the watch).
    /// </summary>
    private async Task<(string Reason, IReadOnlyDictionary<string, double> Values)?> SlaBreachAsync(StoredRollout rollout, CancellationToken cancellationToken)
    {
        var (spec, state) = (rollout.Spec, rollout.State);
        if (spec.Sla is not { } sla)
        {
            return null;
        }

        var now = Now;
        var sustained = (long)(Durations.Parse(sla.SustainedFor ?? "5m")!.Value.TotalMilliseconds);
        string variant;
        if (state.Phase == RolloutPhases.Progressing)
        {
            // Only once the canary has had traffic for the whole window.
            var firstWeight = state.History.FirstOrDefault(e => e.Weight > 0);
            if (firstWeight is null || now - firstWeight.At < sustained)
            {
                return null;
            }

            variant = CanaryVariant;
        }
        else
        {
            var watch = (long)(Durations.Parse(sla.WatchAfterPromotion ?? "0s")!.Value.TotalMilliseconds);
            if (state.SucceededAt is not { } promoted || now > promoted + watch || now - promoted < sustained)
            {
                return null;
            }

            variant = state.StableVariant;
        }

        var seen = (await traffic.WindowAsync(spec.Endpoint!, now - sustained, now, cancellationToken).ConfigureAwait(false)).FirstOrDefault(v => v.Variant == variant);
        if (seen is null || seen.Requests < (sla.MinRequests ?? 50))
        {
            return null;
        }

        var values = Values(seen);
        var broken = (sla.FailureConditions ?? []).Select(text => Condition.Parse(text, "sla")).Where(condition => condition.Holds(values[condition.Metric])).ToList();
        return broken.Count == 0 ? null : ($"SLA breach over the last {TimeSpan.FromMilliseconds(sustained)}: " +
            string.Join("; ", broken.Select(condition => $"{condition} (value {values[condition.Metric].ToString("0.####", CultureInfo.InvariantCulture)})")), values);
    }

    /// <summary>The metrics conditions may name, from a variant's traffic.</summary>
    private static Dictionary<string, double> Values(VariantTraffic traffic) => new(StringComparer.Ordinal)
    {
        ["requests"] = traffic.Requests,
        ["error_rate"] = traffic.ErrorRate,
        ["rejection_rate"] = traffic.RejectionRate,
        ["latency_mean_ms"] = traffic.LatencyMeanMs,
        ["latency_p50_ms"] = traffic.LatencyP50Ms,
        ["latency_p99_ms"] = traffic.LatencyP99Ms,
        ["disagreement_rate"] = traffic.DisagreementRate,
    };

    /// <summary>Back to the model that was stable before the rollout: abort while progressing, revert after a promotion.</summary>
    private async Task<RolloutState> RollBackAsync(StoredRollout rollout, string reason, IReadOnlyDictionary<string, double> values, CancellationToken cancellationToken) =>
        rollout.State.Phase == RolloutPhases.Progressing
            ? await AbortAsync(rollout, reason, cancellationToken, values).ConfigureAwait(false)
            : await AbortAsync(rollout with { State = rollout.State with { Weight = 0 } }, $"rolled back after promotion: {reason}", cancellationToken, values).ConfigureAwait(false);

    private async Task<RolloutState> AbortAsync(StoredRollout rollout, string reason, CancellationToken cancellationToken, IReadOnlyDictionary<string, double>? values = null)
    {
        // Traffic goes back to stable first: if the state write then loses a race, the safe half is done.
        var aborted = Transition(rollout.State with { Phase = RolloutPhases.Aborted, Weight = 0, Layout = null }, Now, reason, values);
        if (await endpoints.FindAsync(rollout.Spec.Endpoint!, cancellationToken).ConfigureAwait(false) is not null)
        {
            await SetEndpointAsync(rollout.Spec, aborted, promoted: false, cancellationToken).ConfigureAwait(false);
        }

        return aborted;
    }

    /// <summary>The endpoint as the state wants it: stable and canary at the state's weight, or the new model alone as stable.</summary>
    private async Task SetEndpointAsync(RolloutSpec spec, RolloutState state, bool promoted, CancellationToken cancellationToken)
    {
        var endpoint = (await endpoints.GetAsync(spec.Endpoint!, cancellationToken).ConfigureAwait(false)).Spec;
        List<VariantSpec> variants = promoted ? [new VariantSpec(state.StableVariant, spec.Model, 100)]
            : state.Layout == PreviewLayout ? [new VariantSpec(state.StableVariant, state.StableModel, 100), new VariantSpec(PreviewVariant, spec.Model, 0)]
            : state.Layout == SwitchedLayout ? [new VariantSpec(state.StableVariant, spec.Model, 100), new VariantSpec(PreviousVariant, state.StableModel, 0)]
            : state.Weight == 0 ? [new VariantSpec(state.StableVariant, state.StableModel, 100)]
            : [new VariantSpec(state.StableVariant, state.StableModel, 100 - state.Weight), new VariantSpec(CanaryVariant, spec.Model, state.Weight)];
        // The rollout's mirror is the shadow named 'shadow' while a shadow step runs; the endpoint's own shadows stay.
        var percent = state.Layout == ShadowLayout && state.Step < spec.Steps!.Count ? spec.Steps[state.Step].Shadow?.Percent ?? 100 : 0;
        // A blue/green preview's optional mirror of production requests, while it waits as the preview.
        var mirror = state.Layout == PreviewLayout ? spec.BlueGreen?.PreviewMirrorPercent ?? 0 : 0;
        List<ShadowSpec> shadows = [.. (endpoint.Shadows ?? []).Where(shadow => shadow.Name is not (ShadowVariant or PreviewMirrorShadow)),
            .. percent > 0 ? [new ShadowSpec(ShadowVariant, spec.Model, percent)] : Array.Empty<ShadowSpec>(),
            .. mirror > 0 ? [new ShadowSpec(PreviewMirrorShadow, spec.Model, mirror)] : Array.Empty<ShadowSpec>()];
        await endpoints.PutAsync(endpoint with { Variants = variants, Shadows = shadows, Fallback = endpoint.Fallback == state.StableVariant ? endpoint.Fallback : null }, cancellationToken).ConfigureAwait(false);
        if (endpointsChanged is not null)
        {
            await endpointsChanged(cancellationToken).ConfigureAwait(false);
        }
    }

    private static RolloutState Advance(RolloutState state, long now, string message) =>
        Transition(state with { Step = state.Step + 1, StepStartedAt = now, Analysis = null }, now, message);

    private static RolloutState Transition(RolloutState state, long now, string message, IReadOnlyDictionary<string, double>? values = null) =>
        state with { Message = message, History = [.. state.History, new RolloutEvent(now, state.Phase, state.Step, state.Weight, message, values)] };

    private static TrackingException Ended(StoredRollout rollout) =>
        TrackingException.Invalid($"Rollout '{rollout.Spec.Name}' has ended ({rollout.State.Phase}): {rollout.State.Message}.");

    private async Task<StoredRollout> CommandAsync(string name, Func<StoredRollout, long, RolloutState> command, CancellationToken cancellationToken)
    {
        var rollout = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        var state = command(rollout, Now);
        return ReferenceEquals(state, rollout.State) ? rollout : await SaveAsync(rollout, state, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the next state if the stored one is still the one read; else the write is refused (another writer won).
    /// An analysis run that ended with this transition is kept in the same transaction, so it is kept once or not at all.
    /// </summary>
    private async Task<StoredRollout> SaveAsync(StoredRollout rollout, RolloutState state, CancellationToken cancellationToken, AnalysisRecord? finished = null)
    {
        if (finished is null && rollout.State is { Phase: RolloutPhases.Progressing or RolloutPhases.Paused, Analysis: { Outcome: null, Measurements.Count: > 0 } open }
            && (state.Analysis is null || state.Phase == RolloutPhases.Aborted))
        {
            // A human (promote, resume, abort) or an SLA breach moved on before the analysis ended: kept as terminated, with its reason.
            finished = new AnalysisRecord(rollout.State.Step, AnalysisTarget(rollout.Spec, rollout.State), TerminatedOutcome, state.Message, open.StartedAt, Now, open.Measurements);
            state = state.Analysis is null ? state : state with { Analysis = state.Analysis with { Outcome = TerminatedOutcome } };
        }

        var json = Serialize(state);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var written = await connection.ExecuteAsync(new CommandDefinition("UPDATE rollouts SET phase = @Phase, state = @json, updated_at = @now WHERE name = @name AND state = @token",
            new { state.Phase, json, now = Now, name = rollout.Spec.Name, token = rollout.Token }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (written != 1)
        {
            throw TrackingException.Invalid($"Rollout '{rollout.Spec.Name}' changed while this was being decided; look at its status and try again.");
        }

        if (finished is not null)
        {
            // Numbered in the order they end; the state update above holds the rollout's row, so no other writer numbers meanwhile.
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO rollout_analyses (rollout, id, step, variant, outcome, message, started_at, ended_at, measurements) " +
                "SELECT @rollout, coalesce(max(id), 0) + 1, @Step, @Variant, @Outcome, @Message, @StartedAt, @EndedAt, @measurements FROM rollout_analyses WHERE rollout = @rollout",
                new
                {
                    rollout = rollout.Spec.Name, finished.Step, finished.Variant, finished.Outcome, finished.Message, finished.StartedAt, finished.EndedAt,
                    measurements = JsonSerializer.Serialize(finished.Measurements, RolloutJsonContext.Default.IReadOnlyListMeasurement),
                }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return rollout with { State = state, Token = json };
    }

    /// <summary>The rollout's ended analysis runs, newest first: at most <paramref name="limit"/>, before run <paramref name="before"/> when paging on.</summary>
    public async Task<IReadOnlyList<StoredAnalysis>> AnalysesAsync(string name, int limit = 50, long? before = null, CancellationToken cancellationToken = default)
    {
        if (limit is < 1 or > MaxAnalysesPage)
        {
            throw TrackingException.Invalid($"limit {limit} must be between 1 and {MaxAnalysesPage}.");
        }

        await GetAsync(name, cancellationToken).ConfigureAwait(false);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<AnalysisRow>(new CommandDefinition(
            "SELECT id AS Id, step AS Step, variant AS Variant, outcome AS Outcome, message AS Message, started_at AS StartedAt, ended_at AS EndedAt, measurements AS Measurements " +
            $"FROM rollout_analyses WHERE rollout = @name {(before is null ? "" : "AND id < @before")} ORDER BY id DESC LIMIT @limit",
            new { name, before, limit }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => new StoredAnalysis(row.Id, new AnalysisRecord(row.Step, row.Variant, row.Outcome, row.Message, row.StartedAt, row.EndedAt,
            JsonSerializer.Deserialize(row.Measurements, RolloutJsonContext.Default.IReadOnlyListMeasurement)!))).ToList();
    }

    public const int MaxAnalysesPage = 500;

    private sealed class AnalysisRow
    {
        public long Id { get; set; }

        public int Step { get; set; }

        public string Variant { get; set; } = "";

        public string Outcome { get; set; } = "";

        public string Message { get; set; } = "";

        public long StartedAt { get; set; }

        public long EndedAt { get; set; }

        public string Measurements { get; set; } = "";
    }

    private async Task<IReadOnlyList<StoredRollout>> QueryAsync(string where, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string Spec, string State)>(new CommandDefinition(
            $"SELECT spec, state FROM rollouts {where} ORDER BY name", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => new StoredRollout(
            JsonSerializer.Deserialize(row.Spec, RolloutJsonContext.Default.RolloutSpec)!,
            JsonSerializer.Deserialize(row.State, RolloutJsonContext.Default.RolloutState)!, row.State)).ToList();
    }

    private static string Serialize(RolloutSpec spec) => JsonSerializer.Serialize(spec, RolloutJsonContext.Default.RolloutSpec);

    private static string Serialize(RolloutState state) => JsonSerializer.Serialize(state, RolloutJsonContext.Default.RolloutState);
}
