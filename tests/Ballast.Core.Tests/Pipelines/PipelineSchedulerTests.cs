using Ballast.Datasets;
using Ballast.Metadata;
using Ballast.Pipelines;
using Ballast.Tests.Metadata;
using Ballast.Tracking;

namespace Ballast.Tests.Pipelines;

/// <summary>Schedules and dataset triggers, with two schedulers on one database standing for two replicas.</summary>
public abstract class PipelineSchedulerTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    [Fact]
    public async Task A_cron_occurrence_starts_one_run_however_many_replicas_tick_and_follows_the_time_zone()
    {
        // 2026-11-25 12:00 UTC is 13:00 in Paris; the pipeline runs at 13:30 Paris time.
        await using var one = new PipelineHarness(Database, Time);
        await using var two = new PipelineHarness(Database, Time);
        await one.PutAsync(new PipelineSpec("nightly", null, [new PipelineStepSpec("a", "echo")], new PipelineSchedule("30 13 * * *", "Europe/Paris")));
        var first = new PipelineScheduler(one.Store, one.Launcher, one.Datasets, Time);
        var second = new PipelineScheduler(two.Store, two.Launcher, two.Datasets, Time);

        (await first.TickAsync(Cancel)).ShouldBeEmpty();
        Time.Advance(TimeSpan.FromMinutes(30));
        var started = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => (i % 2 == 0 ? first : second).TickAsync(Cancel)));
        Time.Advance(TimeSpan.FromSeconds(1));
        var later = await Task.WhenAll(first.TickAsync(Cancel), second.TickAsync(Cancel));

        started.Sum(runs => runs.Count).ShouldBe(1);
        later.Sum(runs => runs.Count).ShouldBe(0);
        var run = (await one.Store.ListRunsAsync("nightly", cancellationToken: Cancel)).ShouldHaveSingleItem();
        run.Trigger.ShouldBe("schedule");

        Time.Advance(TimeSpan.FromDays(1));
        (await second.TickAsync(Cancel)).ShouldHaveSingleItem();
        var both = await one.Store.ListRunsAsync("nightly", cancellationToken: Cancel);
        both.Count.ShouldBe(2);
        // Paged by run, newest first: the runs after the last one of the page before; a run of no such pipeline is refused.
        var newest = (await one.Store.ListRunsAsync("nightly", 1, cancellationToken: Cancel)).ShouldHaveSingleItem();
        newest.RunId.ShouldBe(both[0].RunId);
        (await one.Store.ListRunsAsync("nightly", 1, newest.RunId, Cancel)).ShouldHaveSingleItem().RunId.ShouldBe(both[1].RunId);
        (await one.Store.ListRunsAsync("nightly", 5, both[1].RunId, Cancel)).ShouldBeEmpty();
        (await Should.ThrowAsync<TrackingException>(() => one.Store.ListRunsAsync("nightly", 5, "nosuchrun", Cancel))).Message.ShouldBe("before 'nosuchrun' is not a run of pipeline 'nightly'.");
    }

    [Fact]
    public async Task A_new_dataset_version_starts_one_run_with_that_version_as_its_parameter()
    {
        await using var harness = new PipelineHarness(Database, Time);
        await harness.PutAsync(new PipelineSpec("retrain", [new PipelineParameter("data", "dataset")], [new PipelineStepSpec("a", "echo")], Triggers: [new PipelineTrigger("churn")]));
        var scheduler = new PipelineScheduler(harness.Store, harness.Launcher, harness.Datasets, Time);
        (await scheduler.TickAsync(Cancel)).ShouldBeEmpty();

        Time.Advance(TimeSpan.FromSeconds(1));
        await AddVersionAsync(harness, "a,b\n1,2\n");
        var started = (await scheduler.TickAsync(Cancel)).ShouldHaveSingleItem();
        (await scheduler.TickAsync(Cancel)).ShouldBeEmpty();

        started.Trigger.ShouldBe("dataset:churn");
        started.Parameters["data"]!.GetValue<string>().ShouldBe("churn@1");
    }

    private static async Task AddVersionAsync(PipelineHarness harness, string csv)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(csv);
        var sha = Ballast.Storage.ContentAddressing.Sha256Hex(bytes);
        await harness.Datasets.PutBlobAsync(sha, new MemoryStream(bytes), Cancel);
        await harness.Datasets.AddVersionAsync("churn", [new DatasetFile("data.csv", bytes.Length, sha)], cancellationToken: Cancel);
    }
}

public sealed class SqlitePipelineSchedulerTests() : PipelineSchedulerTests(DatabaseEngine.Sqlite);

public sealed class PostgresPipelineSchedulerTests() : PipelineSchedulerTests(DatabaseEngine.Postgres);
