using System.Text.Json;
using Ballast.Alerts;
using Ballast.Metadata;
using Ballast.Pipelines;
using Ballast.Tests.Metadata;

namespace Ballast.Tests.Alerts;

/// <summary>Rules, transitions, silences and the outbox on a real database, with webhooks delivered to a real loopback receiver.</summary>
public abstract class AlertContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    private static readonly AlertDispatchOptions Fast = new() { BaseDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromMinutes(5), MaxAttempts = 4 };

    private AlertStore Store => new(Database, Time);

    private MetricObservation Window(int i, double share) => new("iris-drift", $"2026-11-25T{12 + i:00}", Time.GetUtcNow().AddHours(-1), Time.GetUtcNow(),
        new Dictionary<string, double> { ["drift.share"] = share }, new Dictionary<string, string> { ["report"] = "/api/v1/monitors/iris-drift/windows/1" },
        new Dictionary<string, string> { ["endpoint"] = "iris" });

    private static AlertRuleSpec Rule(string url, string? secret = null, int windows = 1) => new("drift-high", "iris-drift", "drift.share", ">", 0.3, windows, "critical",
        new Dictionary<string, string> { ["team"] = "ml" }, new Dictionary<string, string> { ["runbook"] = "https://wiki/drift" }, "Too many features drifted",
        [new AlertAction("webhook", url, secret)]);

    private AlertDispatcher Dispatcher(HttpClient http, IPipelineLauncher? launcher = null) => new(new AlertStore(Database, Time), http, Time, Fast, () => launcher);

    private async Task ObserveAsync(AlertEvaluator evaluator, int i, double share)
    {
        Time.Advance(TimeSpan.FromHours(1));
        await evaluator.ObserveAsync(Window(i, share), Cancel);
    }

    [Fact]
    public async Task Firing_then_resolved_each_send_one_signed_webhook_that_a_real_receiver_verifies()
    {
        await using var receiver = new WebhookReceiver();
        await Store.CreateAsync(Rule(receiver.Url, "s3cr3t", windows: 2), Cancel);
        var evaluator = new AlertEvaluator(Store, Time);
        using var http = new HttpClient();
        var dispatcher = Dispatcher(http);

        foreach (var share in new[] { 0.5, 0.6, 0.7, 0.1 })
        {
            await ObserveAsync(evaluator, 0, share);
            await dispatcher.DeliverDueAsync(Cancel);
        }

        receiver.Requests.Count.ShouldBe(2);
        var bodies = receiver.Requests.ToList();
        foreach (var request in bodies)
        {
            var timestamp = long.Parse(request.Headers["Ballast-Timestamp"], System.Globalization.CultureInfo.InvariantCulture);
            WebhookSignature.Verify("s3cr3t", timestamp, request.Body, request.Headers["Ballast-Signature"]).ShouldBeTrue();
            WebhookSignature.Verify("wrong", timestamp, request.Body, request.Headers["Ballast-Signature"]).ShouldBeFalse();
            request.Headers["Ballast-Signature"].ShouldStartWith("sha256=");
        }

        using var firing = JsonDocument.Parse(bodies[0].Body);
        var root = firing.RootElement;
        (root.GetProperty("status").GetString(), root.GetProperty("rule").GetString(), root.GetProperty("severity").GetString(), root.GetProperty("windows").GetInt32(),
            root.GetProperty("value").GetDouble(), root.GetProperty("threshold").GetDouble(), root.GetProperty("operator").GetString()).ShouldBe(("firing", "drift-high", "critical", 2, 0.6, 0.3, ">"));
        root.GetProperty("ends_at").ValueKind.ShouldBe(JsonValueKind.Null);
        root.GetProperty("annotations").GetProperty("description").GetString().ShouldBe("Too many features drifted");
        root.GetProperty("links").GetProperty("report").GetString().ShouldBe("/api/v1/monitors/iris-drift/windows/1");
        using var resolved = JsonDocument.Parse(bodies[1].Body);
        resolved.RootElement.GetProperty("status").GetString().ShouldBe("resolved");
        resolved.RootElement.GetProperty("ends_at").ValueKind.ShouldBe(JsonValueKind.String);

        var history = await Store.HistoryAsync("drift-high", cancellationToken: Cancel);
        history.Select(e => $"{e.From}->{e.To}").ShouldBe(["firing->resolved", "pending->firing", "inactive->pending"]);
        (await Store.DeliveriesAsync(cancellationToken: Cancel)).ShouldAllBe(d => d.Outcome == "delivered" && d.StatusCode == 200 && d.Target == $"http://127.0.0.1:{receiver.Port}");
    }

    [Fact]
    public async Task Two_replicas_observing_the_same_windows_at_once_notify_once()
    {
        await Store.CreateAsync(Rule("http://127.0.0.1:9/hook"), Cancel);
        var replicas = new[] { new AlertEvaluator(new AlertStore(Database, Time), Time), new AlertEvaluator(new AlertStore(Database, Time), Time) };
        for (var i = 0; i < 3; i++)
        {
            Time.Advance(TimeSpan.FromHours(1));
            var window = Window(i, 0.9);
            await Task.WhenAll(replicas.Select(replica => Task.Run(() => replica.ObserveAsync(window, Cancel), Cancel)));
        }

        (await Store.NotificationsAsync(cancellationToken: Cancel)).Count.ShouldBe(1);
        (await Store.HistoryAsync("drift-high", cancellationToken: Cancel)).Count.ShouldBe(1);
        (await Store.GetStateAsync("drift-high", Cancel))!.State.ShouldBe("firing");

        // A restarted replica replaying the last window changes nothing either.
        await new AlertEvaluator(new AlertStore(Database, Time), Time).ObserveAsync(Window(2, 0.9), Cancel);
        (await Store.NotificationsAsync(cancellationToken: Cancel)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_silenced_firing_that_resolves_under_its_silence_notifies_nobody_not_even_of_the_resolution()
    {
        await Store.CreateAsync(Rule("http://127.0.0.1:9/hook"), Cancel);
        var evaluator = new AlertEvaluator(Store, Time);
        var silence = await evaluator.SilenceAsync(new SilenceRequest(Matchers: new Dictionary<string, string> { ["team"] = "ml" }, Duration: "3h", Comment: "maintenance"), "alice", Cancel);

        await ObserveAsync(evaluator, 0, 0.9);
        var firing = (await Store.GetStateAsync("drift-high", Cancel))!;
        (firing.State, firing.Notified).ShouldBe(("firing", false));
        (await Store.NotificationsAsync(cancellationToken: Cancel)).ShouldBeEmpty();
        (await Store.HistoryAsync("drift-high", cancellationToken: Cancel))[0].Silenced.ShouldBeTrue();

        // Resolved while still silenced: receivers never heard it fire, so they hear nothing now or when the silence ends.
        await ObserveAsync(evaluator, 1, 0.1);
        await Store.ExpireSilenceAsync(silence.Id, Cancel);
        (await evaluator.NotifyUnsilencedAsync(Cancel)).ShouldBe(0);
        await ObserveAsync(evaluator, 2, 0.1);
        (await Store.NotificationsAsync(cancellationToken: Cancel)).ShouldBeEmpty();
        (await Store.HistoryAsync("drift-high", cancellationToken: Cancel)).Select(e => (e.To, e.Notifications)).ShouldBe([("inactive", 0), ("resolved", 0), ("firing", 0)]);
    }

    [Fact]
    public async Task A_silence_that_ends_while_the_alert_still_fires_sends_the_firing_notification_then_and_the_resolved_one_later()
    {
        await using var receiver = new WebhookReceiver();
        await Store.CreateAsync(Rule(receiver.Url, "s3cr3t"), Cancel);
        var evaluator = new AlertEvaluator(Store, Time);
        using var http = new HttpClient();
        var dispatcher = Dispatcher(http);
        await evaluator.SilenceAsync(new SilenceRequest(Rule: "drift-high", Duration: "90m", Comment: "retraining"), "alice", Cancel);

        await ObserveAsync(evaluator, 0, 0.9);
        (await evaluator.NotifyUnsilencedAsync(Cancel)).ShouldBe(0, "the silence still holds");
        await dispatcher.DeliverDueAsync(Cancel);
        receiver.Requests.ShouldBeEmpty();

        // The silence runs out between two windows (no window closes then): the next pass tells the receiver it fires.
        Time.Advance(TimeSpan.FromMinutes(31));
        (await Store.ListSilencesAsync(cancellationToken: Cancel)).ShouldBeEmpty();
        var owed = await Task.WhenAll(Task.Run(() => evaluator.NotifyUnsilencedAsync(Cancel), Cancel), Task.Run(() => new AlertEvaluator(new AlertStore(Database, Time), Time).NotifyUnsilencedAsync(Cancel), Cancel));
        owed.Sum().ShouldBe(1, "two replicas at once notify once");
        (await evaluator.NotifyUnsilencedAsync(Cancel)).ShouldBe(0);
        await dispatcher.DeliverDueAsync(Cancel);
        var firing = JsonDocument.Parse(receiver.Requests.ShouldHaveSingleItem().Body).RootElement;
        (firing.GetProperty("status").GetString(), firing.GetProperty("value").GetDouble(), firing.GetProperty("window").GetString()).ShouldBe(("firing", 0.9, "2026-11-25T12"));
        var state = (await Store.GetStateAsync("drift-high", Cancel))!;
        (state.State, state.Notified).ShouldBe(("firing", true));
        var history = await Store.HistoryAsync("drift-high", cancellationToken: Cancel);
        history.Select(e => (e.From, e.To, e.Silenced, e.Notifications)).ShouldBe([("firing", "firing", false, 1), ("inactive", "firing", true, 0)]);

        // Still firing: nothing new. Resolved: the receiver that heard it fire hears it resolve.
        await ObserveAsync(evaluator, 1, 0.8);
        await ObserveAsync(evaluator, 2, 0.1);
        await dispatcher.DeliverDueAsync(Cancel);
        receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("status").GetString()).ShouldBe(["firing", "resolved"]);
    }

    [Fact]
    public async Task A_window_after_the_silence_ended_sends_the_firing_notification_it_kept_back()
    {
        await Store.CreateAsync(Rule("http://127.0.0.1:9/hook"), Cancel);
        var evaluator = new AlertEvaluator(Store, Time);
        var silence = await evaluator.SilenceAsync(new SilenceRequest(Rule: "drift-high", Duration: "3h", Comment: "known"), "alice", Cancel);
        await ObserveAsync(evaluator, 0, 0.9);
        await ObserveAsync(evaluator, 1, 0.9);
        (await Store.NotificationsAsync(cancellationToken: Cancel)).ShouldBeEmpty();

        await Store.ExpireSilenceAsync(silence.Id, Cancel);
        await ObserveAsync(evaluator, 2, 0.95);
        var notifications = await Store.NotificationsAsync(cancellationToken: Cancel);
        notifications.ShouldHaveSingleItem().Payload.ShouldContain("\"status\":\"firing\"");
        notifications[0].Payload.ShouldContain("\"value\":0.95");
        (await Store.GetStateAsync("drift-high", Cancel))!.Notified.ShouldBeTrue();
        await ObserveAsync(evaluator, 3, 0.9);
        (await Store.NotificationsAsync(cancellationToken: Cancel)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_firing_that_receivers_heard_resolves_to_them_even_after_a_silence_that_ended()
    {
        await Store.CreateAsync(Rule("http://127.0.0.1:9/hook"), Cancel);
        var evaluator = new AlertEvaluator(Store, Time);
        await ObserveAsync(evaluator, 0, 0.9);
        var silence = await evaluator.SilenceAsync(new SilenceRequest(Rule: "drift-high", Duration: "3h", Comment: "known"), "alice", Cancel);
        await ObserveAsync(evaluator, 1, 0.9);
        await Store.ExpireSilenceAsync(silence.Id, Cancel);
        (await evaluator.NotifyUnsilencedAsync(Cancel)).ShouldBe(0, "receivers already heard it fire");
        await ObserveAsync(evaluator, 2, 0.1);
        (await Store.NotificationsAsync(cancellationToken: Cancel)).Select(n => n.Payload.Contains("\"status\":\"resolved\"", StringComparison.Ordinal)).ShouldBe([true, false]);
    }

    [Fact]
    public async Task A_failing_receiver_is_retried_with_exponential_backoff_until_it_accepts()
    {
        await using var receiver = new WebhookReceiver(503, 500);
        await Store.CreateAsync(Rule(receiver.Url), Cancel);
        await ObserveAsync(new AlertEvaluator(Store, Time), 0, 0.9);
        using var http = new HttpClient();
        var dispatcher = Dispatcher(http);

        (await dispatcher.DeliverDueAsync(Cancel)).ShouldBe(1);
        Time.Advance(TimeSpan.FromSeconds(9));
        (await dispatcher.DeliverDueAsync(Cancel)).ShouldBe(0, "the first retry waits 10 s");
        Time.Advance(TimeSpan.FromSeconds(1));
        (await dispatcher.DeliverDueAsync(Cancel)).ShouldBe(1);
        Time.Advance(TimeSpan.FromSeconds(19));
        (await dispatcher.DeliverDueAsync(Cancel)).ShouldBe(0, "the second retry waits 20 s");
        Time.Advance(TimeSpan.FromSeconds(1));
        (await dispatcher.DeliverDueAsync(Cancel)).ShouldBe(1);

        var log = (await Store.DeliveriesAsync(cancellationToken: Cancel)).Reverse().ToList();
        log.Select(d => (d.Attempt, d.Outcome, d.StatusCode)).ShouldBe([(1, "retry", (int?)503), (2, "retry", 500), (3, "delivered", 200)]);
        log[0].Error.ShouldBe("the receiver answered 503 Service Unavailable");
        receiver.Requests.Count.ShouldBe(3);
        receiver.Requests.Select(r => r.Headers["Ballast-Notification-Id"]).Distinct().Count().ShouldBe(1);
        (await Store.NotificationsAsync(cancellationToken: Cancel))[0].Status.ShouldBe("delivered");
    }

    [Fact]
    public async Task A_resolved_notification_waits_for_its_firing_one_so_the_receiver_gets_them_in_order()
    {
        await using var receiver = new WebhookReceiver(503);
        await Store.CreateAsync(Rule(receiver.Url), Cancel);
        var evaluator = new AlertEvaluator(Store, Time);
        using var http = new HttpClient();
        var dispatcher = Dispatcher(http);
        await evaluator.ObserveAsync(Window(0, 0.9), Cancel);
        (await dispatcher.DeliverDueAsync(Cancel)).ShouldBe(1);
        Time.Advance(TimeSpan.FromSeconds(1));
        await evaluator.ObserveAsync(Window(1, 0.1), Cancel);
        (await dispatcher.DeliverDueAsync(Cancel)).ShouldBe(0, "the resolved one waits behind the firing one, which waits for its retry");

        Time.Advance(TimeSpan.FromSeconds(10));
        while (await dispatcher.DeliverDueAsync(Cancel) > 0)
        {
        }

        receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("status").GetString()).ShouldBe(["firing", "firing", "resolved"]);
    }

    [Fact]
    public async Task Two_dispatchers_at_once_send_each_attempt_once()
    {
        await using var receiver = new WebhookReceiver();
        for (var i = 0; i < 5; i++)
        {
            await Store.CreateAsync(Rule(receiver.Url) with { Name = $"rule-{i}" }, Cancel);
        }

        await ObserveAsync(new AlertEvaluator(Store, Time), 0, 0.9);
        using var http = new HttpClient();
        var attempted = await Task.WhenAll(Task.Run(() => Dispatcher(http).DeliverDueAsync(Cancel), Cancel), Task.Run(() => Dispatcher(http).DeliverDueAsync(Cancel), Cancel));
        attempted.Sum().ShouldBe(5);
        receiver.Requests.Count.ShouldBe(5);
        (await Store.DeliveriesAsync(cancellationToken: Cancel)).Count.ShouldBe(5);
    }

    [Fact]
    public async Task A_receiver_that_refuses_with_a_4xx_or_never_answers_within_the_attempts_fails_for_good()
    {
        await using var refusing = new WebhookReceiver(404);
        await Store.CreateAsync(Rule(refusing.Url), Cancel);
        await Store.CreateAsync(Rule("http://127.0.0.1:9/down") with { Name = "errors-high" }, Cancel);
        await ObserveAsync(new AlertEvaluator(Store, Time), 0, 0.9);
        using var http = new HttpClient();
        var dispatcher = Dispatcher(http);
        for (var i = 0; i < 6; i++)
        {
            await dispatcher.DeliverDueAsync(Cancel);
            Time.Advance(TimeSpan.FromMinutes(5));
        }

        var byRule = (await Store.NotificationsAsync(cancellationToken: Cancel)).ToDictionary(n => n.Rule);
        (byRule["drift-high"].Status, byRule["drift-high"].Attempts).ShouldBe(("failed", 1));
        (byRule["errors-high"].Status, byRule["errors-high"].Attempts).ShouldBe(("failed", Fast.MaxAttempts));
    }

    [Fact]
    public async Task A_firing_that_failed_for_good_is_not_followed_by_a_resolved_even_after_a_restart_and_the_failure_stays_in_the_log()
    {
        var port = WebhookReceiver.FreePort();
        await Store.CreateAsync(Rule($"http://127.0.0.1:{port}/hook"), Cancel);
        await ObserveAsync(new AlertEvaluator(Store, Time), 0, 0.9);
        var observer = new RecordingObserver();
        using (var http = new HttpClient())
        {
            var dispatcher = new AlertDispatcher(Store, http, Time, Fast, () => null, observer);
            for (var i = 0; i < Fast.MaxAttempts; i++)
            {
                (await dispatcher.DeliverDueAsync(Cancel)).ShouldBe(1);
                Time.Advance(TimeSpan.FromMinutes(5));
            }
        }

        (await Store.NotificationsAsync(cancellationToken: Cancel)).ShouldHaveSingleItem().Status.ShouldBe("failed");

        // "Restart", and the receiver has come up: the alert resolves, but the receiver never heard it fire.
        await Database.DisposeAsync();
        await using var reopened = await MetadataMigrator.OpenMigratedAsync(Location, Cancel);
        await using var receiver = WebhookReceiver.OnPort(port);
        var store = new AlertStore(reopened, Time);
        await ObserveAsync(new AlertEvaluator(store, Time), 1, 0.1);
        using var again = new HttpClient();
        (await new AlertDispatcher(store, again, Time, Fast, () => null, observer).DeliverDueAsync(Cancel)).ShouldBe(1);
        (await new AlertDispatcher(store, again, Time, Fast, () => null, observer).DeliverDueAsync(Cancel)).ShouldBe(0);

        receiver.Requests.ShouldBeEmpty();
        (await store.GetStateAsync("drift-high", Cancel))!.State.ShouldBe("resolved");
        var notifications = await store.NotificationsAsync(cancellationToken: Cancel);
        notifications.Select(n => (n.AlertStatus, n.Status)).ShouldBe([("resolved", "skipped"), ("firing", "failed")]);
        var log = await store.DeliveriesAsync(cancellationToken: Cancel);
        log.Select(d => (d.Outcome, d.Attempt)).ShouldBe([("skipped", 0), ("failed", 4), ("retry", 3), ("retry", 2), ("retry", 1)]);
        log[0].Error.ShouldBe($"not sent: the receiver was never told the alert fired (firing notification {notifications[1].Id} failed after 4 attempt(s): {log[1].Error})");
        observer.Outcomes.ShouldBe(["retry", "retry", "retry", "failed", "skipped"]);
        // The history counts the skipped resolved apart: it was queued, but nobody was (or will be) told.
        (await store.HistoryAsync("drift-high", cancellationToken: Cancel)).Select(e => (e.To, e.Notifications, e.SkippedNotifications))
            .ShouldBe([("resolved", 0, 1), ("firing", 1, 0)]);
        // Both lists page on by id, newest first: the rows before the last one seen.
        var history = await store.HistoryAsync("drift-high", cancellationToken: Cancel);
        (await store.HistoryAsync("drift-high", 1, history[0].Id, Cancel)).ShouldHaveSingleItem().Id.ShouldBe(history[1].Id);
        (await store.HistoryAsync("drift-high", 5, history[1].Id, Cancel)).ShouldBeEmpty();
        (await store.DeliveriesAsync("drift-high", 2, log[1].Id, Cancel)).Select(d => d.Id).ShouldBe([log[2].Id, log[3].Id]);
        (await store.DeliveriesAsync(null, 5, log[3].Id, Cancel)).Select(d => d.Id).ShouldBe([log[4].Id]);
    }

    [Fact]
    public async Task A_resolved_goes_only_to_the_webhooks_that_got_the_firing_even_when_it_was_queued_while_the_firing_was_still_retried()
    {
        await using var up = new WebhookReceiver();
        await using var down = new WebhookReceiver(503, 503, 503, 503);
        await Store.CreateAsync(Rule(up.Url) with { Actions = [new AlertAction("webhook", up.Url), new AlertAction("webhook", down.Url, Format: "slack")] }, Cancel);
        var evaluator = new AlertEvaluator(Store, Time);
        using var http = new HttpClient();
        var dispatcher = Dispatcher(http);
        await ObserveAsync(evaluator, 0, 0.9);
        (await dispatcher.DeliverDueAsync(Cancel)).ShouldBe(2);
        await ObserveAsync(evaluator, 1, 0.1);
        for (var i = 0; i < Fast.MaxAttempts; i++)
        {
            await dispatcher.DeliverDueAsync(Cancel);
            Time.Advance(TimeSpan.FromMinutes(5));
        }

        up.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("status").GetString()).ShouldBe(["firing", "resolved"]);
        down.Requests.Count.ShouldBe(Fast.MaxAttempts);
        down.Requests.ShouldAllBe(r => r.Text.Contains("[FIRING]", StringComparison.Ordinal));
        var outcomes = (await Store.DeliveriesAsync(cancellationToken: Cancel)).GroupBy(d => d.Target).ToDictionary(g => g.Key, g => g.Select(d => d.Outcome).Reverse().ToList());
        outcomes[$"http://127.0.0.1:{up.Port}"].ShouldBe(["delivered", "delivered"]);
        outcomes[$"http://127.0.0.1:{down.Port}"].ShouldBe(["retry", "retry", "retry", "failed", "skipped"]);
        // Of the resolved's two notifications, the one to the receiver that heard the firing was sent; the other skipped.
        (await Store.HistoryAsync("drift-high", cancellationToken: Cancel)).Select(e => (e.To, e.Notifications, e.SkippedNotifications))
            .ShouldBe([("resolved", 1, 1), ("firing", 2, 0)]);
    }

    [Fact]
    public async Task An_undelivered_notification_survives_a_restart_and_reaches_the_receiver_once_it_is_up()
    {
        var port = WebhookReceiver.FreePort();
        await Store.CreateAsync(Rule($"http://127.0.0.1:{port}/hook"), Cancel);
        await ObserveAsync(new AlertEvaluator(Store, Time), 0, 0.9);
        using (var http = new HttpClient())
        {
            await Dispatcher(http).DeliverDueAsync(Cancel);
        }

        // "Restart": a new database object and dispatcher on the same metadata; the receiver has come up.
        await Database.DisposeAsync();
        await using var reopened = await MetadataMigrator.OpenMigratedAsync(Location, Cancel);
        await using var receiver = WebhookReceiver.OnPort(port);
        Time.Advance(TimeSpan.FromSeconds(10));
        using var again = new HttpClient();
        var store = new AlertStore(reopened, Time);
        (await new AlertDispatcher(store, again, Time, Fast, () => null).DeliverDueAsync(Cancel)).ShouldBe(1);
        receiver.Requests.Count.ShouldBe(1);
        (await store.DeliveriesAsync(cancellationToken: Cancel)).Select(d => d.Outcome).ShouldBe(["delivered", "retry"]);
    }

    [Fact]
    public async Task A_pipeline_action_starts_the_pipeline_with_the_windows_context_once_on_firing()
    {
        var launcher = new RecordingLauncher();
        await Store.CreateAsync(new AlertRuleSpec("retrain-on-drift", "iris-drift", "drift.share", ">=", 0.5,
            Actions: [new AlertAction("pipeline", Pipeline: "retrain-iris", Parameters: new Dictionary<string, string> { ["epochs"] = "5" })]), Cancel);
        var evaluator = new AlertEvaluator(Store, Time);
        using var http = new HttpClient();
        var dispatcher = Dispatcher(http, launcher);
        foreach (var share in new[] { 0.5, 0.7, 0.1 })
        {
            await ObserveAsync(evaluator, 0, share);
            await dispatcher.DeliverDueAsync(Cancel);
        }

        var (pipeline, parameters, trigger) = launcher.Started.ShouldHaveSingleItem();
        (pipeline, trigger).ShouldBe(("retrain-iris", "alert:retrain-on-drift"));
        parameters.ShouldBe(new Dictionary<string, string> { ["endpoint"] = "iris", ["epochs"] = "5", ["window"] = "2026-11-25T12", ["rule"] = "retrain-on-drift", ["metric"] = "drift.share", ["value"] = "0.5" }, ignoreOrder: true);
        (await Store.DeliveriesAsync(cancellationToken: Cancel)).ShouldHaveSingleItem().Outcome.ShouldBe("delivered");
    }

    [Fact]
    public async Task Get_never_shows_a_secret_and_putting_the_mask_back_keeps_it()
    {
        await Store.CreateAsync(Rule("http://127.0.0.1:9/hook", "env:HOOK_SECRET"), Cancel);
        var stored = await Store.GetRuleAsync("drift-high", Cancel);
        stored.Redacted.Actions![0].Secret.ShouldBe("***");

        var (rule, created, changed) = await Store.PutAsync(stored.Redacted with { Threshold = 0.4 }, Cancel);
        (created, changed, rule.Spec.Actions![0].Secret, rule.Spec.Threshold).ShouldBe((false, true, "env:HOOK_SECRET", 0.4));
        (await Store.PutAsync(rule.Redacted, Cancel)).Changed.ShouldBeFalse();
    }

    [Fact]
    public async Task Rules_list_with_their_alerts_and_deleting_a_rule_removes_its_state()
    {
        await Store.CreateAsync(Rule("http://127.0.0.1:9/hook"), Cancel);
        await Store.CreateAsync(new AlertRuleSpec("errors-high", "iris-traffic", "errors.rate", ">", 0.05), Cancel);
        await ObserveAsync(new AlertEvaluator(Store, Time), 0, 0.9);

        (await Store.ListStatesAsync(cancellationToken: Cancel)).Select(a => (a.Rule, a.State)).ShouldBe([("drift-high", "firing"), ("errors-high", "inactive")]);
        (await Store.ListStatesAsync(state: "firing", cancellationToken: Cancel)).ShouldHaveSingleItem().Rule.ShouldBe("drift-high");
        (await Store.ListStatesAsync(source: "iris-traffic", cancellationToken: Cancel)).ShouldHaveSingleItem().Rule.ShouldBe("errors-high");
        Should.Throw<Ballast.Tracking.TrackingException>(() => Store.CreateAsync(new AlertRuleSpec("errors-high", "x", "y", ">", 1), Cancel)).Message
            .ShouldBe("Alert rule 'errors-high' already exists; use PUT /api/v1/alert-rules/errors-high to change it.");

        await Store.DeleteRuleAsync("drift-high", Cancel);
        (await Store.GetStateAsync("drift-high", Cancel)).ShouldBeNull();
        (await Store.HistoryAsync("drift-high", cancellationToken: Cancel)).ShouldBeEmpty();
    }

    // On SQLite a whole value (a share of 0) was once kept as an integer, and reading it beside a fraction failed.
    [Fact]
    public async Task Whole_and_fractional_values_read_back_alike()
    {
        await Store.CreateAsync(Rule("http://127.0.0.1:9/hook"), Cancel);
        await Store.CreateAsync(new AlertRuleSpec("errors-high", "iris-drift", "drift.share", ">", 2), Cancel);
        var evaluator = new AlertEvaluator(Store, Time);
        foreach (var share in new[] { 1, 0.5, 0 })
        {
            await ObserveAsync(evaluator, 0, share);
        }

        (await Store.HistoryAsync("drift-high", cancellationToken: Cancel)).Select(e => (e.To, e.Value)).ShouldBe([("resolved", (double?)0), ("firing", 1)]);
        await ObserveAsync(evaluator, 0, 0.5);
        (await Store.ListStatesAsync(cancellationToken: Cancel)).Select(a => (a.Rule, a.Value)).ShouldBe([("drift-high", (double?)0.5), ("errors-high", 0.5)]);
    }

    [Fact]
    public async Task A_secret_reference_is_read_at_delivery_and_an_unset_one_is_retried_without_revealing_anything()
    {
        await using var receiver = new WebhookReceiver();
        var file = Path.Combine(Path.GetTempPath(), $"ballast-secret-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, "from-a-file\n", Cancel);
        try
        {
            await Store.CreateAsync(Rule(receiver.Url, $"file:{file}"), Cancel);
            await Store.CreateAsync(Rule(receiver.Url, "env:BALLAST_TEST_UNSET_SECRET") with { Name = "errors-high" }, Cancel);
            await ObserveAsync(new AlertEvaluator(Store, Time), 0, 0.9);
            using var http = new HttpClient();
            await Dispatcher(http).DeliverDueAsync(Cancel);

            var request = receiver.Requests.ShouldHaveSingleItem();
            WebhookSignature.Verify("from-a-file", long.Parse(request.Headers["Ballast-Timestamp"], System.Globalization.CultureInfo.InvariantCulture), request.Body, request.Headers["Ballast-Signature"]).ShouldBeTrue();
            var unset = (await Store.DeliveriesAsync("errors-high", cancellationToken: Cancel)).ShouldHaveSingleItem();
            (unset.Outcome, unset.Error).ShouldBe(("retry", "the webhook's secret env:BALLAST_TEST_UNSET_SECRET is not set"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task An_event_reaches_the_event_rules_that_match_it_once_even_when_sent_twice()
    {
        await using var receiver = new WebhookReceiver();
        await Store.CreateAsync(new AlertRuleSpec("rollout-events", null, null, null, null, Severity: "critical", Labels: new Dictionary<string, string> { ["team"] = "ml" },
            Actions: [new AlertAction("webhook", receiver.Url, "s3cr3t")], Events: ["rollout.*"]), Cancel);
        await Store.CreateAsync(new AlertRuleSpec("pipeline-events", null, null, null, null, Actions: [new AlertAction("webhook", receiver.Url)], Events: ["pipeline.failed"]), Cancel);
        await Store.CreateAsync(Rule(receiver.Url), Cancel);
        var notifier = new AlertEvaluator(Store, Time);
        var notice = new AlertNotice("rollout/iris-v2/aborted", "rollout.aborted", "critical", "Rollout iris-v2 aborted: error_rate > 0.05 (value 0.2)",
            new Dictionary<string, string> { ["endpoint"] = "iris", ["rollout"] = "iris-v2" }, new Dictionary<string, string> { ["rollout"] = "/api/v1/rollouts/iris-v2" });

        (await notifier.NotifyAsync(notice, Cancel)).ShouldBe(1);
        (await notifier.NotifyAsync(notice, Cancel)).ShouldBe(0, "the same event again is not queued twice");
        (await notifier.NotifyAsync(notice with { Id = "x", Event = "dataset.added" }, Cancel)).ShouldBe(0);
        (await Store.ListStatesAsync(cancellationToken: Cancel)).ShouldHaveSingleItem().Rule.ShouldBe("drift-high");

        using var http = new HttpClient();
        await Dispatcher(http).DeliverDueAsync(Cancel);
        var request = receiver.Requests.ShouldHaveSingleItem();
        WebhookSignature.Verify("s3cr3t", long.Parse(request.Headers["Ballast-Timestamp"], System.Globalization.CultureInfo.InvariantCulture), request.Body, request.Headers["Ballast-Signature"]).ShouldBeTrue();
        var body = JsonDocument.Parse(request.Body).RootElement;
        (body.GetProperty("status").GetString(), body.GetProperty("event").GetString(), body.GetProperty("rule").GetString(), body.GetProperty("summary").GetString())
            .ShouldBe(("event", "rollout.aborted", "rollout-events", "Rollout iris-v2 aborted: error_rate > 0.05 (value 0.2)"));
        (body.GetProperty("labels").GetProperty("team").GetString(), body.GetProperty("labels").GetProperty("endpoint").GetString()).ShouldBe(("ml", "iris"));

        await notifier.SilenceAsync(new SilenceRequest("rollout-events", Duration: "1h", Comment: "planned"), "bob", Cancel);
        (await notifier.NotifyAsync(notice with { Id = "rollout/iris-v3/aborted" }, Cancel)).ShouldBe(0);
    }

    [Fact]
    public void An_event_rule_takes_no_metric_fields()
    {
        Should.Throw<Ballast.Tracking.TrackingException>(() => AlertRuleValidation.Validate(new AlertRuleSpec("e", "m", "x", ">", 1, Events: ["Rollout Aborted"]))).Message
            .ShouldBe("Invalid alert rule 'e': event 'Rollout Aborted' must be lowercase letters, digits, '.', '_' or '-', optionally ending in '*'; " +
                "an event rule has no source, metric, operator, threshold (those are for rules on a monitor's metric).");
        AlertRuleValidation.Validate(new AlertRuleSpec("e", null, null, null, null, Events: ["*"])).For.ShouldBeNull();
    }

    private sealed class RecordingLauncher : IPipelineLauncher
    {
        public List<(string Pipeline, IReadOnlyDictionary<string, string> Parameters, string Trigger)> Started { get; } = [];

        public Task<string> StartAsync(string pipeline, IReadOnlyDictionary<string, string> parameters, string trigger, CancellationToken cancellationToken = default)
        {
            Started.Add((pipeline, parameters, trigger));
            return Task.FromResult("run-1");
        }
    }

    /// <summary>What the server's metrics and log are told of each delivery (AlertMetrics counts and logs these).</summary>
    private sealed class RecordingObserver : IAlertDeliveryObserver
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Outcomes { get; } = new();

        public void Attempted(string rule, string kind, string outcome, string? reason) => Outcomes.Enqueue(outcome);

        public void PipelineStartSkipped(string rule, string pipeline) => Outcomes.Enqueue("pipeline-start-skipped");
    }
}

public sealed class SqliteAlertContractTests() : AlertContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresAlertContractTests() : AlertContractTests(DatabaseEngine.Postgres);
