using System.Data.Common;
using System.Text.Json;
using Ballast.Metadata;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Alerts;

/// <summary>
/// Alert rules, their states and history, silences, and the notification outbox with its delivery log, in the metadata
/// database. A transition, its history row and its notifications are written in one transaction, over the state version
/// it was computed from: of two replicas evaluating the same window, one writes and the other finds it already done.
/// With <see cref="AlertSourceChecks"/> (the server always has them), a metric rule whose monitor does not exist or does
/// not report its metric is refused.
/// </summary>
public sealed class AlertStore(MetadataDatabase database, TimeProvider time, AlertSourceChecks? sources = null)
{
    private const string StateColumns = "rule AS Rule, source AS Source, severity AS Severity, state AS State, consecutive AS Consecutive, value AS Value, " +
        "window_name AS WindowName, window_end AS WindowEnd, starts_at AS StartsAt, ends_at AS EndsAt, version AS Version, updated_at AS UpdatedAt, notified AS Notified";

    private const string NotificationColumns = "id AS Id, rule AS Rule, status AS Status, kind AS Kind, target AS Target, action AS Action, payload AS Payload, " +
        "attempts AS Attempts, next_attempt_at AS NextAttemptAt, created_at AS CreatedAt, finished_at AS FinishedAt, last_error AS LastError, alert_status AS AlertStatus";

    /// <summary>The store's clock now (what silences are judged against).</summary>
    public DateTimeOffset Now => time.GetUtcNow();

    // ---- rules ----

    /// <summary>Creates the rule or replaces its spec (what PUT and `ballast apply` do); a secret given as <c>***</c> keeps the stored one.</summary>
    public async Task<(StoredAlertRule Rule, bool Created, bool Changed)> PutAsync(AlertRuleSpec spec, CancellationToken cancellationToken = default)
    {
        spec = await ValidateAsync(spec, cancellationToken).ConfigureAwait(false);
        var existing = await FindRuleAsync(spec.Name, cancellationToken).ConfigureAwait(false);
        spec = KeepSecrets(spec, existing?.Spec);
        await CheckSourceAsync(spec, cancellationToken).ConfigureAwait(false);
        var json = JsonSerializer.Serialize(spec, AlertJsonContext.Default.AlertRuleSpec);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO alert_rules (name, source, spec, created_at, updated_at) VALUES (@Name, @Source, @json, @now, @now) " +
            "ON CONFLICT (name) DO UPDATE SET source = excluded.source, spec = excluded.spec, updated_at = excluded.updated_at WHERE alert_rules.spec <> excluded.spec",
            new { spec.Name, Source = SourceOf(spec), json, now }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
        return (await GetRuleAsync(spec.Name, cancellationToken).ConfigureAwait(false), existing is null, changed);
    }

    /// <summary>Creates a rule; refuses a name already taken.</summary>
    public async Task<StoredAlertRule> CreateAsync(AlertRuleSpec spec, CancellationToken cancellationToken = default)
    {
        spec = await ValidateAsync(spec, cancellationToken).ConfigureAwait(false);
        if (spec.Actions?.Any(action => action.Secret == AlertAction.Redacted) == true)
        {
            throw TrackingException.Invalid($"Invalid alert rule '{spec.Name}': a secret of '{AlertAction.Redacted}' keeps the stored one, and a new rule has none; give the secret or env:NAME.");
        }

        await CheckSourceAsync(spec, cancellationToken).ConfigureAwait(false);

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("INSERT INTO alert_rules (name, source, spec, created_at, updated_at) VALUES (@Name, @Source, @json, @now, @now)",
                new { spec.Name, Source = SourceOf(spec), json = JsonSerializer.Serialize(spec, AlertJsonContext.Default.AlertRuleSpec), now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
        {
            throw TrackingException.AlreadyExists($"Alert rule '{spec.Name}' already exists; use PUT /api/v1/alert-rules/{spec.Name} to change it.");
        }

        return new StoredAlertRule(spec, now, now);
    }

    public async Task<StoredAlertRule> GetRuleAsync(string name, CancellationToken cancellationToken = default) =>
        await FindRuleAsync(name, cancellationToken).ConfigureAwait(false) ?? throw TrackingException.NotFound($"Alert rule '{name}' does not exist.");

    public async Task<StoredAlertRule?> FindRuleAsync(string name, CancellationToken cancellationToken = default) =>
        (await QueryRulesAsync("WHERE name = @name", new { name }, cancellationToken).ConfigureAwait(false)).SingleOrDefault();

    public Task<IReadOnlyList<StoredAlertRule>> ListRulesAsync(CancellationToken cancellationToken = default) => QueryRulesAsync("", null, cancellationToken);

    public Task<IReadOnlyList<StoredAlertRule>> RulesOfSourceAsync(string source, CancellationToken cancellationToken = default) =>
        QueryRulesAsync("WHERE source = @source", new { source }, cancellationToken);

    /// <summary>Deletes the rule with its state and history; notifications already queued are still delivered.</summary>
    public async Task DeleteRuleAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var deleted = await connection.ExecuteAsync(new CommandDefinition("DELETE FROM alert_rules WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (deleted == 0)
        {
            throw TrackingException.NotFound($"Alert rule '{name}' does not exist.");
        }

        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM alert_states WHERE rule = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM alert_events WHERE rule = @name", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    // ---- states ----

    public async Task<AlertState?> GetStateAsync(string rule, CancellationToken cancellationToken = default) =>
        (await QueryStatesAsync("WHERE rule = @rule", new { rule }, cancellationToken).ConfigureAwait(false)).SingleOrDefault();

    /// <summary>Every rule's alert, optionally only those in <paramref name="state"/> or of <paramref name="source"/>; rules never evaluated are inactive.</summary>
    public async Task<IReadOnlyList<AlertState>> ListStatesAsync(string? state = null, string? source = null, CancellationToken cancellationToken = default)
    {
        var stored = (await QueryStatesAsync("", null, cancellationToken).ConfigureAwait(false)).ToDictionary(s => s.Rule, StringComparer.Ordinal);
        return (await ListRulesAsync(cancellationToken).ConfigureAwait(false))
            .Where(rule => !rule.Spec.IsEventRule)
            .Select(rule => stored.GetValueOrDefault(rule.Spec.Name) is { } alert
                // A rule changed since its last transition is shown with its source and severity now.
                ? alert with { Source = rule.Spec.Source!, Severity = rule.Spec.Severity ?? AlertSeverities.Warning }
                : AlertState.Initial(rule.Spec, DateTimeOffset.FromUnixTimeMilliseconds(rule.CreatedAt)))
            .Where(alert => (state is null || alert.State == state) && (source is null || alert.Source == source))
            .ToList();
    }

    /// <summary>Firing alerts whose receivers have not been told (a silence kept the notification back), by rule.</summary>
    public Task<IReadOnlyList<AlertState>> UnnotifiedFiringAsync(CancellationToken cancellationToken = default) =>
        QueryStatesAsync("WHERE state = @firing AND notified = @no", new { firing = AlertStates.Firing, no = false }, cancellationToken);

    /// <summary>
    /// Writes a step over the version it was computed from, with its history row (when the state changed) and its
    /// notifications, in one transaction. False when another writer got there first (nothing is written).
    /// </summary>
    public async Task<bool> TransitionAsync(AlertState from, AlertStep step, bool silenced, IReadOnlyList<AlertNotification> notifications, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(notifications);
        var next = step.Next;
        var row = new
        {
            next.Rule, next.Source, next.Severity, next.State, next.Consecutive, next.Value, WindowName = next.Window,
            WindowEnd = next.WindowEnd?.ToUnixTimeMilliseconds(), StartsAt = next.StartsAt?.ToUnixTimeMilliseconds(), EndsAt = next.EndsAt?.ToUnixTimeMilliseconds(),
            next.Version, UpdatedAt = next.UpdatedAt.ToUnixTimeMilliseconds(), Expected = from.Version, next.Notified,
        };
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        int written;
        if (from.Version == 0)
        {
            written = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO alert_states (rule, source, severity, state, consecutive, value, window_name, window_end, starts_at, ends_at, version, updated_at, notified) " +
                "VALUES (@Rule, @Source, @Severity, @State, @Consecutive, @Value, @WindowName, @WindowEnd, @StartsAt, @EndsAt, @Version, @UpdatedAt, @Notified) ON CONFLICT (rule) DO NOTHING",
                row, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        else
        {
            written = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE alert_states SET source = @Source, severity = @Severity, state = @State, consecutive = @Consecutive, value = @Value, window_name = @WindowName, " +
                "window_end = @WindowEnd, starts_at = @StartsAt, ends_at = @EndsAt, version = @Version, updated_at = @UpdatedAt, notified = @Notified WHERE rule = @Rule AND version = @Expected",
                row, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        if (written == 0)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return false;
        }

        // A firing notification sent after the transition (its silence ended while the alert still fired) is a history row too.
        if (from.State != next.State || (next.Notified && !from.Notified))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO alert_events (rule, at, from_state, to_state, value, window_name, silenced, notifications) VALUES (@Rule, @At, @From, @To, @Value, @Window, @Silenced, @Count)",
                new { next.Rule, At = row.UpdatedAt, From = from.State, To = next.State, next.Value, Window = next.Window ?? "", Silenced = silenced ? 1 : 0, Count = notifications.Count },
                transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        foreach (var notification in notifications)
        {
            await InsertNotificationAsync(connection, transaction, notification, skipQueued: false, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// A rule's transitions, newest first. <see cref="AlertEvent.Notifications"/> counts the notifications a transition
    /// queued that were or will be sent; <see cref="AlertEvent.SkippedNotifications"/> the ones the dispatcher skipped
    /// since (a resolved one whose receiver never got the firing). A transition's notifications are those of its rule
    /// queued in its transaction: created at its time, telling its new state.
    /// </summary>
    /// <param name="before">Only rows older than this id (the last id of the page before): pages in the order of <c>id</c>, newest first.</param>
    public async Task<IReadOnlyList<AlertEvent>> HistoryAsync(string rule, int limit = 100, long? before = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<EventRow>(new CommandDefinition(
            "SELECT e.id AS Id, e.rule AS Rule, e.at AS At, e.from_state AS FromState, e.to_state AS ToState, e.value AS Value, e.window_name AS WindowName, " +
            "e.silenced AS Silenced, e.notifications AS Notifications, (SELECT COUNT(*) FROM alert_notifications n " +
            "WHERE n.rule = e.rule AND n.status = @skipped AND n.created_at = e.at AND n.alert_status = e.to_state) AS Skipped " +
            $"FROM alert_events e WHERE e.rule = @rule {(before is null ? "" : "AND e.id < @before")} ORDER BY e.id DESC LIMIT @limit",
            new { rule, limit, before, skipped = NotificationStatuses.Skipped }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r =>
        {
            // Never more than the transition queued (two transitions of a rule to one state in one millisecond share their notifications' key).
            var skipped = (int)Math.Min(r.Skipped, r.Notifications);
            return new AlertEvent(r.Id, r.Rule, DateTimeOffset.FromUnixTimeMilliseconds(r.At), r.FromState, r.ToState, r.Value, r.WindowName, r.Silenced != 0,
                (int)r.Notifications - skipped, skipped);
        }).ToList();
    }

    // ---- silences ----

    public async Task<Silence> AddSilenceAsync(Silence silence, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(silence);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO alert_silences (id, rule, matchers, starts_at, ends_at, comment, created_by, created_at) VALUES (@Id, @Rule, @Matchers, @StartsAt, @EndsAt, @Comment, @CreatedBy, @CreatedAt)",
            new
            {
                silence.Id, silence.Rule,
                Matchers = silence.Matchers is null ? null : JsonSerializer.Serialize(silence.Matchers.ToDictionary(), AlertJsonContext.Default.DictionaryStringString),
                StartsAt = silence.StartsAt.ToUnixTimeMilliseconds(), EndsAt = silence.EndsAt.ToUnixTimeMilliseconds(), silence.Comment, silence.CreatedBy,
                CreatedAt = silence.CreatedAt.ToUnixTimeMilliseconds(),
            }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return silence;
    }

    /// <summary>Silences that have not ended (active or yet to start), or all of them with <paramref name="includeExpired"/>.</summary>
    public async Task<IReadOnlyList<Silence>> ListSilencesAsync(bool includeExpired = false, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var rows = await connection.QueryAsync<SilenceRow>(new CommandDefinition(
            "SELECT id AS Id, rule AS Rule, matchers AS Matchers, starts_at AS StartsAt, ends_at AS EndsAt, comment AS Comment, created_by AS CreatedBy, created_at AS CreatedAt " +
            $"FROM alert_silences {(includeExpired ? "" : "WHERE ends_at > @now")} ORDER BY created_at, id", new { now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => new Silence(r.Id, r.Rule, r.Matchers is null ? null : JsonSerializer.Deserialize(r.Matchers, AlertJsonContext.Default.DictionaryStringString),
            DateTimeOffset.FromUnixTimeMilliseconds(r.StartsAt), DateTimeOffset.FromUnixTimeMilliseconds(r.EndsAt), r.Comment, r.CreatedBy, DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt))).ToList();
    }

    /// <summary>Ends a silence now (Alertmanager's expire); not found when it does not exist or has already ended.</summary>
    public async Task ExpireSilenceAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (await connection.ExecuteAsync(new CommandDefinition("UPDATE alert_silences SET ends_at = @now WHERE id = @id AND ends_at > @now", new { id, now }, cancellationToken: cancellationToken)).ConfigureAwait(false) == 0)
        {
            throw TrackingException.NotFound($"Silence '{id}' does not exist or has already expired.");
        }
    }

    // ---- outbox ----

    /// <summary>
    /// Pending notifications whose next attempt is due, oldest first, each only when no older notification of its rule
    /// to the same target is still pending: a receiver gets a rule's notifications in order (never resolved before firing).
    /// </summary>
    public async Task<IReadOnlyList<AlertNotification>> DueAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<NotificationRow>(new CommandDefinition(
            $"SELECT {NotificationColumns} FROM alert_notifications n WHERE status = @status AND next_attempt_at <= @now AND NOT EXISTS " +
            "(SELECT 1 FROM alert_notifications o WHERE o.rule = n.rule AND o.status = @status AND o.target = n.target AND o.created_at < n.created_at) " +
            "ORDER BY next_attempt_at, created_at, id LIMIT @limit",
            new { status = NotificationStatuses.Pending, now = time.GetUtcNow().ToUnixTimeMilliseconds(), limit }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(ToNotification).ToList();
    }

    public async Task<IReadOnlyList<AlertNotification>> NotificationsAsync(string? rule = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<NotificationRow>(new CommandDefinition(
            $"SELECT {NotificationColumns} FROM alert_notifications {(rule is null ? "" : "WHERE rule = @rule")} ORDER BY created_at DESC, id LIMIT @limit",
            new { rule, limit }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(ToNotification).ToList();
    }

    /// <summary>
    /// Takes a due notification for one attempt by moving its next attempt to <paramref name="until"/>, only if nobody
    /// else took it since it was read; a dispatcher that dies mid-attempt leaves it due again at <paramref name="until"/>.
    /// </summary>
    public async Task<bool> ClaimAsync(AlertNotification notification, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notification);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE alert_notifications SET next_attempt_at = @until WHERE id = @Id AND status = @status AND next_attempt_at = @seen AND attempts = @Attempts",
            new { notification.Id, notification.Attempts, status = NotificationStatuses.Pending, seen = notification.NextAttemptAt.ToUnixTimeMilliseconds(), until = until.ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
    }

    /// <summary>
    /// The firing notification a resolved one follows: the latest firing notification of its rule to the same webhook
    /// URL, queued before it; null when there is none (that receiver was never sent the firing).
    /// </summary>
    public async Task<AlertNotification?> FiringBeforeAsync(AlertNotification resolved, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resolved);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        // The target (scheme, host, port) narrows it in SQL; the full URL, which only the action holds, decides.
        await foreach (var row in connection.QueryUnbufferedAsync<NotificationRow>(
            $"SELECT {NotificationColumns} FROM alert_notifications WHERE rule = @Rule AND kind = @Kind AND target = @Target AND alert_status = @firing AND created_at <= @created " +
            "ORDER BY created_at DESC, id",
            new { resolved.Rule, resolved.Kind, resolved.Target, firing = AlertStates.Firing, created = resolved.CreatedAt.ToUnixTimeMilliseconds() })
            .WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var firing = ToNotification(row);
            if (firing.Action.Url == resolved.Action.Url)
            {
                return firing;
            }
        }

        return null;
    }

    /// <summary>
    /// Records an attempt and moves the notification on: delivered, failed for good, skipped (not sent, so not counted
    /// as an attempt), or due again at <paramref name="nextAttemptAt"/>.
    /// </summary>
    public async Task RecordAttemptAsync(AlertNotification notification, string outcome, int? statusCode, string? error, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var attempt = outcome == DeliveryOutcomes.Skipped ? notification.Attempts : notification.Attempts + 1;
        var status = outcome switch
        {
            DeliveryOutcomes.Delivered => NotificationStatuses.Delivered,
            DeliveryOutcomes.Failed => NotificationStatuses.Failed,
            DeliveryOutcomes.Skipped => NotificationStatuses.Skipped,
            _ => NotificationStatuses.Pending,
        };
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO alert_deliveries (notification_id, rule, kind, target, attempt, at, outcome, status_code, error) VALUES (@Id, @Rule, @Kind, @Target, @attempt, @now, @outcome, @statusCode, @error)",
            new { notification.Id, notification.Rule, notification.Kind, notification.Target, attempt, now, outcome, statusCode, error }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE alert_notifications SET status = @status, attempts = @attempt, next_attempt_at = @next, finished_at = @finished, last_error = @error WHERE id = @Id",
            new
            {
                notification.Id, status, attempt, next = (nextAttemptAt ?? time.GetUtcNow()).ToUnixTimeMilliseconds(),
                finished = status == NotificationStatuses.Pending ? (long?)null : now, error,
            }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The delivery log, newest first, optionally of one rule; <paramref name="before"/> pages on by id, as <see cref="HistoryAsync"/>.</summary>
    public async Task<IReadOnlyList<AlertDelivery>> DeliveriesAsync(string? rule = null, int limit = 100, long? before = null, CancellationToken cancellationToken = default)
    {
        var where = string.Join(" AND ", new[] { rule is null ? null : "rule = @rule", before is null ? null : "id < @before" }.OfType<string>());
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<DeliveryRow>(new CommandDefinition(
            "SELECT id AS Id, notification_id AS NotificationId, rule AS Rule, kind AS Kind, target AS Target, attempt AS Attempt, at AS At, outcome AS Outcome, status_code AS StatusCode, error AS Error " +
            $"FROM alert_deliveries {(where.Length == 0 ? "" : "WHERE " + where)} ORDER BY id DESC LIMIT @limit", new { rule, limit, before }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => new AlertDelivery(r.Id, r.NotificationId, r.Rule, r.Kind, r.Target, (int)r.Attempt, DateTimeOffset.FromUnixTimeMilliseconds(r.At), r.Outcome,
            r.StatusCode is { } code ? (int)code : null, r.Error)).ToList();
    }

    /// <summary>
    /// Queues the notifications of a one-off event in one transaction; a notification whose id is already queued (the
    /// same event sent twice) is skipped. Returns how many were queued.
    /// </summary>
    public async Task<int> EnqueueAsync(IReadOnlyList<AlertNotification> notifications, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var queued = 0;
        foreach (var notification in notifications)
        {
            queued += await InsertNotificationAsync(connection, transaction, notification, skipQueued: true, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return queued;
    }

    /// <summary>Puts one notification in the outbox; with <paramref name="skipQueued"/> an id already there is left as it is (returns 0).</summary>
    private static Task<int> InsertNotificationAsync(DbConnection connection, DbTransaction transaction, AlertNotification notification, bool skipQueued, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO alert_notifications (id, rule, status, kind, target, action, payload, attempts, next_attempt_at, created_at, alert_status) " +
            "VALUES (@Id, @Rule, @Status, @Kind, @Target, @Action, @Payload, 0, @Next, @Created, @AlertStatus)" + (skipQueued ? " ON CONFLICT (id) DO NOTHING" : ""),
            new
            {
                notification.Id, notification.Rule, notification.Status, notification.Kind, notification.Target, notification.AlertStatus,
                Action = JsonSerializer.Serialize(notification.Action, AlertJsonContext.Default.AlertAction), notification.Payload,
                Next = notification.NextAttemptAt.ToUnixTimeMilliseconds(), Created = notification.CreatedAt.ToUnixTimeMilliseconds(),
            }, transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// The rule's own checks (<see cref="AlertRuleValidation"/>); when they refuse it, what its source says is listed with
    /// them (a monitor that does not exist, or does not report the metric), so one answer names everything to fix.
    /// </summary>
    private async Task<AlertRuleSpec> ValidateAsync(AlertRuleSpec spec, CancellationToken cancellationToken)
    {
        try
        {
            return AlertRuleValidation.Validate(spec);
        }
        catch (TrackingException invalid) when (invalid.Problems.Count > 0 && sources is not null && !spec.IsEventRule
            && !string.IsNullOrWhiteSpace(spec.Source) && !string.IsNullOrWhiteSpace(spec.Metric))
        {
            if (await sources.ProblemAsync(spec, cancellationToken).ConfigureAwait(false) is not { } problem)
            {
                throw;
            }

            throw TrackingException.Invalid($"Invalid alert rule '{spec.Name}'", [.. invalid.Problems, problem]);
        }
    }

    /// <summary>Refuses a metric rule on a monitor that does not exist or does not report its metric: it would never be evaluated.</summary>
    private async Task CheckSourceAsync(AlertRuleSpec spec, CancellationToken cancellationToken)
    {
        if (sources is not null && await sources.ProblemAsync(spec, cancellationToken).ConfigureAwait(false) is { } problem)
        {
            throw TrackingException.Invalid($"Invalid alert rule '{spec.Name}'", [problem]);
        }
    }

    private static string SourceOf(AlertRuleSpec spec) => spec.IsEventRule ? AlertRuleSpec.EventsSource : spec.Source!;

    private static AlertRuleSpec KeepSecrets(AlertRuleSpec spec, AlertRuleSpec? stored)
    {
        var actions = spec.Actions ?? [];
        if (!actions.Any(action => action.Secret == AlertAction.Redacted))
        {
            return spec;
        }

        var kept = new List<AlertAction>(actions.Count);
        for (var i = 0; i < actions.Count; i++)
        {
            var previous = stored?.Actions is { } old && i < old.Count ? old[i] : null;
            if (actions[i].Secret == AlertAction.Redacted)
            {
                if (previous?.Secret is null || previous.Url != actions[i].Url)
                {
                    throw TrackingException.Invalid($"Invalid alert rule '{spec.Name}': actions[{i}].secret '{AlertAction.Redacted}' keeps the stored secret, but the stored rule has none for that webhook; give the secret or env:NAME.");
                }

                kept.Add(actions[i] with { Secret = previous.Secret });
            }
            else
            {
                kept.Add(actions[i]);
            }
        }

        return spec with { Actions = kept };
    }

    private async Task<IReadOnlyList<StoredAlertRule>> QueryRulesAsync(string where, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<RuleRow>(new CommandDefinition(
            $"SELECT spec AS Spec, created_at AS CreatedAt, updated_at AS UpdatedAt FROM alert_rules {where} ORDER BY name", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => new StoredAlertRule(JsonSerializer.Deserialize(row.Spec, AlertJsonContext.Default.AlertRuleSpec)!, row.CreatedAt, row.UpdatedAt)).ToList();
    }

    private async Task<IReadOnlyList<AlertState>> QueryStatesAsync(string where, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<StateRow>(new CommandDefinition($"SELECT {StateColumns} FROM alert_states {where} ORDER BY rule", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => new AlertState(r.Rule, r.Source, r.Severity, r.State, (int)r.Consecutive, r.Value, r.WindowName, Time(r.WindowEnd), Time(r.StartsAt), Time(r.EndsAt),
            r.Version, DateTimeOffset.FromUnixTimeMilliseconds(r.UpdatedAt), r.Notified)).ToList();
    }

    private static AlertNotification ToNotification(NotificationRow r) =>
        new(r.Id, r.Rule, r.Status, r.Kind, r.Target, JsonSerializer.Deserialize(r.Action, AlertJsonContext.Default.AlertAction)!, r.Payload, (int)r.Attempts,
            DateTimeOffset.FromUnixTimeMilliseconds(r.NextAttemptAt), DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt), Time(r.FinishedAt), r.LastError, r.AlertStatus);

    private static DateTimeOffset? Time(long? ms) => ms is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;

    // Rows are classes with setters: Dapper converts each engine's integer widths into them.
    private sealed class RuleRow
    {
        public string Spec { get; set; } = "";
        public long CreatedAt { get; set; }
        public long UpdatedAt { get; set; }
    }

    private sealed class StateRow
    {
        public string Rule { get; set; } = "";
        public string Source { get; set; } = "";
        public string Severity { get; set; } = "";
        public string State { get; set; } = "";
        public long Consecutive { get; set; }
        public double? Value { get; set; }
        public string? WindowName { get; set; }
        public long? WindowEnd { get; set; }
        public long? StartsAt { get; set; }
        public long? EndsAt { get; set; }
        public long Version { get; set; }
        public long UpdatedAt { get; set; }
        public bool Notified { get; set; }
    }

    private sealed class EventRow
    {
        public long Id { get; set; }
        public string Rule { get; set; } = "";
        public long At { get; set; }
        public string FromState { get; set; } = "";
        public string ToState { get; set; } = "";
        public double? Value { get; set; }
        public string WindowName { get; set; } = "";
        public long Silenced { get; set; }
        public long Notifications { get; set; }
        public long Skipped { get; set; }
    }

    private sealed class SilenceRow
    {
        public string Id { get; set; } = "";
        public string? Rule { get; set; }
        public string? Matchers { get; set; }
        public long StartsAt { get; set; }
        public long EndsAt { get; set; }
        public string Comment { get; set; } = "";
        public string CreatedBy { get; set; } = "";
        public long CreatedAt { get; set; }
    }

    private sealed class NotificationRow
    {
        public string Id { get; set; } = "";
        public string Rule { get; set; } = "";
        public string Status { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Target { get; set; } = "";
        public string Action { get; set; } = "";
        public string Payload { get; set; } = "";
        public long Attempts { get; set; }
        public long NextAttemptAt { get; set; }
        public long CreatedAt { get; set; }
        public long? FinishedAt { get; set; }
        public string? LastError { get; set; }
        public string? AlertStatus { get; set; }
    }

    private sealed class DeliveryRow
    {
        public long Id { get; set; }
        public string NotificationId { get; set; } = "";
        public string Rule { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Target { get; set; } = "";
        public long Attempt { get; set; }
        public long At { get; set; }
        public string Outcome { get; set; } = "";
        public long? StatusCode { get; set; }
        public string? Error { get; set; }
    }
}
