using Ballast.Tracking;

namespace Ballast.Alerts;

/// <summary>
/// The alert rules engine: on each closed window of a source it moves every rule of that source through
/// <see cref="AlertStateMachine"/> and writes the transition with its notifications (none while silenced) in one
/// conditional write. When another replica wrote first it re-reads the state, so a window is applied once.
/// A firing alert whose notification a silence kept back is notified when the silence ends
/// (<see cref="NotifyUnsilencedAsync"/>), with the observation of its window from <paramref name="sources"/> when given.
/// </summary>
public sealed class AlertEvaluator(AlertStore store, TimeProvider time, AlertSourceChecks? sources = null) : IAlertObserver, IAlertNotifier
{
    /// <summary>Conflicts in a row before giving up on a rule for this window (another writer keeps winning).</summary>
    private const int MaxConflicts = 5;

    public async Task ObserveAsync(MetricObservation observation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var rules = (await store.RulesOfSourceAsync(observation.Source, cancellationToken).ConfigureAwait(false)).Where(rule => !rule.Spec.IsEventRule).ToList();
        if (rules.Count == 0)
        {
            return;
        }

        IReadOnlyList<Silence>? silences = null;
        foreach (var rule in rules)
        {
            for (var conflict = 0; conflict < MaxConflicts; conflict++)
            {
                var now = time.GetUtcNow();
                var current = await store.GetStateAsync(rule.Spec.Name, cancellationToken).ConfigureAwait(false) ?? AlertState.Initial(rule.Spec, now);
                if (AlertStateMachine.Next(current, rule.Spec, observation, now) is not { } step)
                {
                    break;
                }

                var silenced = false;
                IReadOnlyList<AlertNotification> notifications = [];
                if (step.Notify is not null || step.Next.State != current.State)
                {
                    // The history row of every transition says whether a silence covered the alert then.
                    silences ??= await store.ListSilencesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                    silenced = silences.Any(silence => silence.IsActive(now) && silence.Covers(rule.Spec));
                }

                if (step.Notify is { } status)
                {
                    if (silenced)
                    {
                        // Receivers were not told it fires: they are told when the silence ends, and never that it resolved.
                        step = step with { Next = step.Next with { Notified = false } };
                    }
                    else
                    {
                        notifications = Notifications(rule.Spec, status, step.Next, observation, now);
                    }
                }

                if (await store.TransitionAsync(current, step, silenced, notifications, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Sends the firing notification of every firing alert whose receivers were not told because a silence covered it,
    /// now that no silence does (Alertmanager's semantics: the silence ending is when they hear of it). Each is written
    /// over the state version it was read at, with a history row (firing → firing), so it is sent once across replicas;
    /// the body carries the alert's last window. Returns how many alerts were notified.
    /// </summary>
    public async Task<int> NotifyUnsilencedAsync(CancellationToken cancellationToken = default)
    {
        var owed = await store.UnnotifiedFiringAsync(cancellationToken).ConfigureAwait(false);
        if (owed.Count == 0)
        {
            return 0;
        }

        var now = time.GetUtcNow();
        var silences = (await store.ListSilencesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Where(silence => silence.IsActive(now)).ToList();
        var notified = 0;
        foreach (var state in owed)
        {
            if (await store.FindRuleAsync(state.Rule, cancellationToken).ConfigureAwait(false) is not { Spec: { IsEventRule: false } rule } || silences.Any(silence => silence.Covers(rule)))
            {
                continue;
            }

            var observation = (sources is null ? null : await sources.ObservationAsync(state.Source, state.Window, cancellationToken).ConfigureAwait(false))
                ?? new MetricObservation(state.Source, state.Window ?? "", state.StartsAt ?? now, state.WindowEnd ?? now, new Dictionary<string, double>(),
                    new Dictionary<string, string>(), new Dictionary<string, string>());
            var next = state with { Notified = true, Version = state.Version + 1, UpdatedAt = now };
            if (await store.TransitionAsync(state, new AlertStep(next, AlertStates.Firing), false, Notifications(rule, AlertStates.Firing, next, observation, now), cancellationToken).ConfigureAwait(false))
            {
                notified++;
            }
        }

        return notified;
    }

    /// <summary>
    /// Queues one notification per action of every event rule that matches (webhooks in their format; pipelines with the
    /// event's labels plus <c>event</c> and <c>rule</c> as parameters), under ids derived from the event's id so that the
    /// same event sent twice (by two replicas, or again after a restart) is queued once.
    /// </summary>
    public async Task<int> NotifyAsync(AlertNotice notice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notice);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(notice.Id))
        {
            problems.Add("id: identify the event (such as rollout/iris-v2/aborted)");
        }

        if (string.IsNullOrWhiteSpace(notice.Event))
        {
            problems.Add("event: name the kind of event (such as rollout.aborted)");
        }

        if (!AlertSeverities.All.Contains(notice.Severity))
        {
            problems.Add($"severity '{notice.Severity}' is not one of {string.Join(", ", AlertSeverities.All)}");
        }

        if (problems.Count > 0)
        {
            throw TrackingException.Invalid("Invalid event", problems);
        }

        var now = time.GetUtcNow();
        var rules = (await store.RulesOfSourceAsync(AlertRuleSpec.EventsSource, cancellationToken).ConfigureAwait(false)).Where(rule => rule.Spec.Matches(notice.Event)).ToList();
        if (rules.Count == 0)
        {
            return 0;
        }

        var silences = (await store.ListSilencesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Where(silence => silence.IsActive(now)).ToList();
        var notifications = new List<AlertNotification>();
        foreach (var rule in rules.Select(rule => rule.Spec).Where(rule => !silences.Any(silence => silence.Covers(rule))))
        {
            var actions = rule.Actions ?? [];
            for (var i = 0; i < actions.Count; i++)
            {
                var action = actions[i];
                var id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{notice.Id}\n{rule.Name}\n{i}")))[..32];
                if (action.Type == AlertAction.Webhook)
                {
                    notifications.Add(New(rule, AlertAction.Webhook, Target(action.Url!), action, AlertPayload.Event(notice, rule, action.Format ?? AlertAction.Json, now), now) with { Id = id });
                }
                else if (action.Type == AlertAction.PipelineType)
                {
                    var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var (key, value) in notice.Labels.Concat(action.Parameters ?? new Dictionary<string, string>()))
                    {
                        parameters[key] = value;
                    }

                    parameters["event"] = notice.Event;
                    parameters["rule"] = rule.Name;
                    notifications.Add(New(rule, AlertAction.PipelineType, action.Pipeline!, action,
                        System.Text.Json.JsonSerializer.Serialize(parameters, AlertJsonContext.Default.DictionaryStringString), now) with { Id = id });
                }
            }
        }

        return await store.EnqueueAsync(notifications, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The context parameter holding a window's start (Unix ms); a pipeline action gets the start of the firing streak's first window in it.</summary>
    public const string WindowStartParameter = "window_start";

    /// <summary>
    /// One notification per action: webhooks on firing and resolved (body in the action's format), pipelines on firing
    /// only, with the observation's context plus <c>window</c>, <c>rule</c>, <c>metric</c> and <c>value</c> as parameters.
    /// The context's <c>window_start</c> becomes the alert's <see cref="AlertState.StartsAt"/>, the start of the first
    /// window of the run that fired (with <c>for: 3</c>, two windows before the one that fired), so a retraining
    /// pipeline reads every drifted window, not only the last; <c>window_end</c> stays the end of the last.
    /// Each carries <paramref name="status"/>: the dispatcher sends a resolved one only to a webhook that got the firing one.
    /// </summary>
    public static IReadOnlyList<AlertNotification> Notifications(AlertRuleSpec rule, string status, AlertState state, MetricObservation observation, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(observation);
        var notifications = new List<AlertNotification>();
        foreach (var action in rule.Actions ?? [])
        {
            if (action.Type == AlertAction.Webhook)
            {
                var body = action.Format == AlertAction.Slack ? AlertPayload.Slack(status, rule, state, observation) : AlertPayload.Json(status, rule, state, observation);
                notifications.Add(New(rule, AlertAction.Webhook, Target(action.Url!), action, body, now) with { AlertStatus = status });
            }
            else if (action.Type == AlertAction.PipelineType && status == AlertStates.Firing)
            {
                var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (key, value) in observation.Context)
                {
                    parameters[key] = value;
                }

                // With `for: N` the alert fires on the N-th window in a row: its data starts with the first of them.
                if (parameters.ContainsKey(WindowStartParameter) && state.StartsAt is { } streak)
                {
                    parameters[WindowStartParameter] = streak.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                foreach (var (key, value) in action.Parameters ?? new Dictionary<string, string>())
                {
                    parameters[key] = value;
                }

                parameters["window"] = observation.Window;
                parameters["rule"] = rule.Name;
                parameters["metric"] = rule.Metric!;
                parameters["value"] = state.Value?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "";
                notifications.Add(New(rule, AlertAction.PipelineType, action.Pipeline!, action,
                    System.Text.Json.JsonSerializer.Serialize(parameters, AlertJsonContext.Default.DictionaryStringString), now) with { AlertStatus = status });
            }
        }

        return notifications;
    }

    /// <summary>What logs and the delivery log show of a webhook URL: scheme, host and port only (paths and queries may hold tokens, as Slack's do).</summary>
    public static string Target(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : "(invalid url)";

    /// <summary>The longest silence (a longer one overflowed the calendar: a 500).</summary>
    public static readonly TimeSpan MaxSilence = TimeSpan.FromDays(3650);

    /// <summary>A silence from a request: a rule (which must exist) or matchers, a comment, and an end after its start and after now.</summary>
    public async Task<Silence> SilenceAsync(SilenceRequest request, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNow();
        var problems = new List<string>();
        if (request.Rule is null && (request.Matchers is null || request.Matchers.Count == 0))
        {
            problems.Add("give rule or matchers (labels such as {\"severity\": \"critical\"}) to say which alerts to silence");
        }

        if (string.IsNullOrWhiteSpace(request.Comment))
        {
            problems.Add("comment: say why the alerts are silenced");
        }

        var starts = request.StartsAt ?? now;
        DateTimeOffset? ends = request.EndsAt;
        if (request.Duration is { } text)
        {
            if (request.EndsAt is not null)
            {
                problems.Add("give ends_at or duration, not both");
            }
            else if (Durations.Parse(text) is { } duration && duration > TimeSpan.Zero)
            {
                if (duration > MaxSilence)
                {
                    problems.Add($"duration '{text}' is longer than {Durations.Format(MaxSilence)} (10 years); delete the rule instead");
                }
                else
                {
                    ends = starts + duration;
                }
            }
            else
            {
                problems.Add($"duration '{text}' is not a duration such as 30m or 2h");
            }
        }
        else if (ends is null)
        {
            problems.Add("give ends_at or duration (such as 2h)");
        }

        if (ends is { } end && end <= starts)
        {
            problems.Add($"ends_at {end:O} must be after starts_at {starts:O}");
        }
        else if (ends is { } past && past <= now)
        {
            problems.Add($"ends_at {past:O} is in the past");
        }

        if (request.Rule is { } rule && await store.FindRuleAsync(rule, cancellationToken).ConfigureAwait(false) is null)
        {
            // A 404 when it is the only thing wrong; with other problems, one of them, so one answer names everything to fix.
            if (problems.Count == 0)
            {
                throw TrackingException.NotFound($"Alert rule '{rule}' does not exist; silence an existing rule, or use matchers.");
            }

            problems.Add($"rule '{rule}' does not exist; silence an existing rule, or use matchers");
        }

        if (problems.Count > 0)
        {
            throw TrackingException.Invalid("Invalid silence", problems);
        }

        var createdBy = string.IsNullOrWhiteSpace(request.CreatedBy) ? actor : request.CreatedBy;
        return await store.AddSilenceAsync(new Silence(Guid.NewGuid().ToString("N"), request.Rule, request.Matchers, starts, ends!.Value, request.Comment!, createdBy, now), cancellationToken).ConfigureAwait(false);
    }

    private static AlertNotification New(AlertRuleSpec rule, string kind, string target, AlertAction action, string payload, DateTimeOffset now) =>
        new(Guid.NewGuid().ToString("N"), rule.Name, NotificationStatuses.Pending, kind, target, action, payload, 0, now, now, null, null);
}
