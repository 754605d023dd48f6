using System.Globalization;
using Ballast.Alerts;
using Ballast.Metadata;
using Ballast.Pipelines;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Pipelines;

/// <summary>
/// <c>max_active_runs</c> kept by the database: starts from two stores on one database stand for two replicas; manual
/// starts are refused, schedule occurrences and alert actions over the limit are skipped once and recorded.
/// </summary>
public abstract class ActiveRunLimitTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    private static PipelineSpec Limited(string name, int? limit, PipelineSchedule? schedule = null) =>
        new(name, [new PipelineParameter("endpoint", Default: "loans"), new PipelineParameter("window_start", "int", 0)],
            [new PipelineStepSpec("a", "echo", new System.Text.Json.Nodes.JsonObject { ["from"] = "${{ params.window_start }}" })], schedule, MaxActiveRuns: limit);

    /// <summary>A pipeline whose run stays under way: its one step fails and waits an hour (the clock does not move) to retry.</summary>
    private static PipelineSpec Waiting(string name, int limit) =>
        new(name, Steps: [new PipelineStepSpec("wait", "fail", Retries: 1, RetryBackoff: "1h")], MaxActiveRuns: limit);

    [Fact]
    public async Task Runs_started_at_once_from_two_replicas_never_exceed_max_active_runs_and_an_ended_run_frees_its_slot()
    {
        await using var one = new PipelineHarness(Database, Time);
        await using var two = new PipelineHarness(Database, Time);
        await one.PutAsync(Waiting("retrain", 2));

        // Eight starts at once, half through each replica: the database lets two through.
        var starts = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                return (Run: await (i % 2 == 0 ? one : two).StartAsync("retrain"), Refused: (ActiveRunLimitException?)null);
            }
            catch (ActiveRunLimitException refused)
            {
                return (Run: (PipelineRun?)null, Refused: refused);
            }
        }));

        var started = starts.Where(start => start.Run is not null).Select(start => start.Run!).ToList();
        started.Count.ShouldBe(2);
        var refusal = starts.First(start => start.Refused is not null).Refused!;
        refusal.ActiveRuns.ShouldBe(started.Select(run => run.RunId).ToList(), ignoreOrder: true);
        refusal.Message.ShouldStartWith("Pipeline 'retrain' has 2 run(s) under way, its max_active_runs is 2: ");
        refusal.Message.ShouldContain($"{started[0].RunId} (queued)");
        (await one.Store.ListRunsAsync("retrain", cancellationToken: Cancel)).Count.ShouldBe(2);

        // One ends: its slot is free for the next start, and only one.
        (await one.SettleAsync(started[1].RunId)).Status.ShouldBe(PipelineRunStatuses.Running);
        await one.Runner.CancelAsync(started[0].RunId, Cancel);
        (await one.SettleAsync(started[0].RunId)).Status.ShouldBe(PipelineRunStatuses.Cancelled);
        var third = await two.StartAsync("retrain");
        (await Should.ThrowAsync<ActiveRunLimitException>(() => one.StartAsync("retrain"))).ActiveRuns.ShouldBe([started[1].RunId, third.RunId], ignoreOrder: true);

        // Resuming counts too: the cancelled run comes back only when a slot is free.
        (await Should.ThrowAsync<ActiveRunLimitException>(() => one.Runner.ResumeAsync(started[0].RunId, Cancel))).ActiveRuns.ShouldBe([started[1].RunId, third.RunId], ignoreOrder: true);
        (await one.Store.GetRunAsync(started[0].RunId, Cancel)).Status.ShouldBe(PipelineRunStatuses.Cancelled);
        await one.Runner.CancelAsync(third.RunId, Cancel);
        (await one.SettleAsync(third.RunId)).Status.ShouldBe(PipelineRunStatuses.Cancelled);
        (await one.Runner.ResumeAsync(started[0].RunId, Cancel)).Status.ShouldBe(PipelineRunStatuses.Queued);
        (await Should.ThrowAsync<ActiveRunLimitException>(() => two.StartAsync("retrain"))).ActiveRuns.ShouldBe([started[0].RunId, started[1].RunId], ignoreOrder: true);
    }

    [Fact]
    public async Task Without_max_active_runs_there_is_no_limit_and_a_limit_below_one_is_refused()
    {
        await using var harness = new PipelineHarness(Database, Time);
        await harness.PutAsync(Limited("free", null));
        for (var i = 0; i < 3; i++)
        {
            await harness.StartAsync("free");
        }

        (await harness.Store.ActiveRunsAsync(Cancel)).Count.ShouldBe(3);
        Should.Throw<TrackingException>(() => PipelineValidation.Validate(Limited("none", 0), harness.Runner.Steps)).Message
            .ShouldBe("Invalid pipeline 'none': max_active_runs 0 must be at least 1 (leave it out for no limit).");
    }

    [Fact]
    public async Task A_schedule_occurrence_over_the_limit_is_skipped_once_and_recorded_not_tried_every_tick()
    {
        await using var harness = new PipelineHarness(Database, Time);
        await harness.PutAsync(Limited("nightly", 1, new PipelineSchedule("0 * * * *")));
        var active = await harness.StartAsync("nightly");
        var skipped = new List<(string Pipeline, string Key, string Reason)>();
        var scheduler = new PipelineScheduler(harness.Store, harness.Launcher, harness.Datasets, Time, skipped: (pipeline, key, reason) => skipped.Add((pipeline, key, reason)));

        Time.Advance(TimeSpan.FromHours(1));
        var skippedAt = Time.GetUtcNow().ToUnixTimeMilliseconds();
        (await scheduler.TickAsync(Cancel)).ShouldBeEmpty();
        Time.Advance(TimeSpan.FromSeconds(1));
        (await scheduler.TickAsync(Cancel)).ShouldBeEmpty();
        (await harness.SettleAsync(active.RunId)).Status.ShouldBe(PipelineRunStatuses.Succeeded);
        Time.Advance(TimeSpan.FromSeconds(1));
        (await scheduler.TickAsync(Cancel)).ShouldBeEmpty("the skipped occurrence is not started late when the slot frees");

        var (pipeline, key, reason) = skipped.ShouldHaveSingleItem();
        (pipeline, key).ShouldBe(("nightly", "schedule:2026-11-25T13:00:00Z"));
        reason.ShouldBe($"Pipeline 'nightly' has 1 run(s) under way, its max_active_runs is 1: {active.RunId} (queued).");
        (await harness.Store.ListSkippedStartsAsync("nightly", cancellationToken: Cancel)).ShouldBe([new SkippedStart(key, "schedule", reason, skippedAt)]);
        (await Should.ThrowAsync<TrackingException>(() => harness.Store.ListSkippedStartsAsync("nosuch", cancellationToken: Cancel))).Message.ShouldBe("Pipeline 'nosuch' does not exist.");

        Time.Advance(TimeSpan.FromHours(1));
        (await scheduler.TickAsync(Cancel)).ShouldHaveSingleItem().Trigger.ShouldBe("schedule");

        // A skipped occurrence's record is history after a week (a dataset version's stays: it keeps that version from starting).
        await harness.Store.RecordSkippedStartAsync("nightly", "dataset:loans@3", "dataset:loans", "busy", Cancel);
        Time.Advance(PipelineStore.SkippedStartRetention + TimeSpan.FromHours(1));
        await harness.Store.RecordSkippedStartAsync("nightly", "schedule:2026-12-09T00:00:00Z", "schedule", "busy", Cancel);
        (await harness.Store.ListSkippedStartsAsync("nightly", cancellationToken: Cancel)).Select(start => start.DedupeKey)
            .ShouldBe(["schedule:2026-12-09T00:00:00Z", "dataset:loans@3"]);
    }

    [Fact]
    public async Task Skipped_starts_page_on_the_last_key_of_the_page_before_through_ties_of_one_millisecond()
    {
        await using var harness = new PipelineHarness(Database, Time);
        await harness.PutAsync(Limited("nightly", 1));
        foreach (var version in Enumerable.Range(1, 5))
        {
            await harness.Store.RecordSkippedStartAsync("nightly", $"dataset:loans@{version}", "dataset:loans", "busy", Cancel);
            if (version % 2 == 0)
            {
                Time.Advance(TimeSpan.FromMilliseconds(1));
            }
        }

        var pages = new List<IReadOnlyList<string>>();
        string? before = null;
        do
        {
            var page = await harness.Store.ListSkippedStartsAsync("nightly", 2, before, Cancel);
            pages.Add(page.Select(start => start.DedupeKey).ToList());
            before = page.Count == 2 ? page[^1].DedupeKey : null;
        }
        while (before is not null);

        pages.ShouldBe([["dataset:loans@5", "dataset:loans@4"], ["dataset:loans@3", "dataset:loans@2"], ["dataset:loans@1"]]);
        (await Should.ThrowAsync<TrackingException>(() => harness.Store.ListSkippedStartsAsync("nightly", 2, "dataset:loans@9", Cancel))).Message
            .ShouldBe("before 'dataset:loans@9' is not a skipped start of pipeline 'nightly' (or its record was pruned).");
    }

    [Fact]
    public async Task An_alert_firing_again_while_its_retrain_runs_starts_one_run_and_logs_the_second_as_skipped_without_retries()
    {
        await using var harness = new PipelineHarness(Database, Time);
        await harness.PutAsync(Limited("retrain", 1));
        var alerts = new AlertStore(Database, Time);
        await alerts.CreateAsync(new AlertRuleSpec("drift", "loans-drift", "drift.share", ">=", 0.5, For: 1,
            Actions: [new AlertAction("pipeline", Pipeline: "retrain")]), Cancel);
        var evaluator = new AlertEvaluator(alerts, Time);
        using var http = new HttpClient();
        var observer = new SkipObserver();
        var dispatcher = new AlertDispatcher(alerts, http, Time, new AlertDispatchOptions { BaseDelay = TimeSpan.FromSeconds(10), MaxAttempts = 4 }, () => harness.Launcher, observer);

        // Fires, resolves, fires again: two firing notifications while the first run is still queued.
        var window = 0;
        foreach (var share in new[] { 0.6, 0.1, 0.7 })
        {
            Time.Advance(TimeSpan.FromHours(1));
            await evaluator.ObserveAsync(Window(window++, share), Cancel);
            await dispatcher.DeliverDueAsync(Cancel);
        }

        var run = (await harness.Store.ListRunsAsync("retrain", cancellationToken: Cancel)).ShouldHaveSingleItem();
        run.Trigger.ShouldBe("alert:drift");
        var deliveries = await alerts.DeliveriesAsync("drift", cancellationToken: Cancel);
        deliveries.Select(delivery => delivery.Outcome).ShouldBe(["skipped", "delivered"]);
        deliveries[0].Error.ShouldBe($"not started: Pipeline 'retrain' has 1 run(s) under way, its max_active_runs is 1: {run.RunId} (queued).");
        deliveries[0].Kind.ShouldBe("pipeline");
        observer.Skipped.ShouldHaveSingleItem().ShouldBe(("drift", "retrain"), "told once, for the server's ballast_pipeline_skipped_starts_total");
        var history = await alerts.HistoryAsync("drift", cancellationToken: Cancel);
        (history[0].To, history[0].Notifications, history[0].SkippedNotifications).ShouldBe(("firing", 0, 1));

        // Not retried: later passes attempt nothing, even once the run has ended.
        (await harness.SettleAsync(run.RunId)).Status.ShouldBe(PipelineRunStatuses.Succeeded);
        Time.Advance(TimeSpan.FromHours(2));
        (await dispatcher.DeliverDueAsync(Cancel)).ShouldBe(0);
        (await alerts.DeliveriesAsync("drift", cancellationToken: Cancel)).Count.ShouldBe(2);
        (await harness.Store.ListRunsAsync("retrain", cancellationToken: Cancel)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_pipeline_action_passes_the_start_of_the_first_window_of_the_firing_streak_as_window_start()
    {
        await using var harness = new PipelineHarness(Database, Time);
        await harness.PutAsync(Limited("retrain", null));
        var alerts = new AlertStore(Database, Time);
        await alerts.CreateAsync(new AlertRuleSpec("drift", "loans-drift", "drift.share", ">=", 0.5, For: 3,
            Actions: [new AlertAction("pipeline", Pipeline: "retrain")]), Cancel);
        var evaluator = new AlertEvaluator(alerts, Time);
        using var http = new HttpClient();
        var dispatcher = new AlertDispatcher(alerts, http, Time, new AlertDispatchOptions(), () => harness.Launcher);

        // A quiet window, then three drifted ones in a row: the third fires. The data to retrain on starts with the first.
        var windows = new[] { 0.1, 0.6, 0.7, 0.8 }.Select((share, i) => Window(i, share)).ToList();
        foreach (var window in windows)
        {
            Time.Advance(TimeSpan.FromHours(1));
            await evaluator.ObserveAsync(window, Cancel);
            await dispatcher.DeliverDueAsync(Cancel);
        }

        var run = (await harness.Store.ListRunsAsync("retrain", cancellationToken: Cancel)).ShouldHaveSingleItem();
        run.Parameters["window_start"]!.GetValue<long>().ShouldBe(windows[1].WindowStart.ToUnixTimeMilliseconds());
        (await alerts.GetStateAsync("drift", Cancel))!.StartsAt.ShouldBe(windows[1].WindowStart);
        (await harness.SettleAsync(run.RunId)).Steps.ShouldHaveSingleItem().Outputs!["from"]!.GetValue<long>().ShouldBe(windows[1].WindowStart.ToUnixTimeMilliseconds());
    }

    /// <summary>The pipeline starts an alert dispatcher reports skipped (the server counts them in <c>ballast_pipeline_skipped_starts_total</c>).</summary>
    private sealed class SkipObserver : IAlertDeliveryObserver
    {
        public System.Collections.Concurrent.ConcurrentQueue<(string Rule, string Pipeline)> Skipped { get; } = new();

        public void Attempted(string rule, string kind, string outcome, string? reason)
        {
        }

        public void PipelineStartSkipped(string rule, string pipeline) => Skipped.Enqueue((rule, pipeline));
    }

    /// <summary>Window <paramref name="i"/> of a monitor of hourly windows from 2026-11-25 12:00 UTC, with its bounds in the context as the monitor scheduler passes them.</summary>
    private static MetricObservation Window(int i, double share)
    {
        var start = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero).AddHours(i);
        var end = start.AddHours(1);
        return new MetricObservation("loans-drift", (i + 1).ToString(CultureInfo.InvariantCulture), start, end, new Dictionary<string, double> { ["drift.share"] = share },
            new Dictionary<string, string>(), new Dictionary<string, string>
            {
                ["endpoint"] = "loans",
                ["monitor"] = "loans-drift",
                ["window_start"] = start.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
                ["window_end"] = end.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
                ["status"] = "ok",
            });
    }
}

public sealed class SqliteActiveRunLimitTests() : ActiveRunLimitTests(DatabaseEngine.Sqlite);

public sealed class PostgresActiveRunLimitTests() : ActiveRunLimitTests(DatabaseEngine.Postgres);
