using Ballast.Metadata;
using Ballast.Serving;
using Ballast.Tests.Metadata;

namespace Ballast.Tests.Serving;

/// <summary>
/// Feedback on SQLite and PostgreSQL with a fake clock: the latest values per prediction (a field left out keeps its
/// value, re-sends are counted), and the feedback as it stood at a past moment, which later sends do not change.
/// </summary>
public abstract class FeedbackStoreContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    private FeedbackStore Store => new(Database, Time);

    private long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    [Fact]
    public async Task The_latest_values_win_a_field_left_out_keeps_its_value_and_the_past_stays_readable()
    {
        var start = Now;
        await Store.AddAsync([new Feedback("p1", "0", null), new Feedback("p2", null, 0.25)], Cancel);
        var first = Now;

        Time.Advance(TimeSpan.FromSeconds(1));
        await Store.AddAsync([new Feedback("p1", null, 1.5), new Feedback("p3", "\"churned\"", null)], Cancel);
        var second = Now;

        Time.Advance(TimeSpan.FromSeconds(1));
        await Store.AddAsync([new Feedback("p1", "1", null), new Feedback("p2", "1", 0.75), new Feedback("p2", null, 0.5)], Cancel);

        (await Store.GetAsync("p1", Cancel)).ShouldBe(new StoredFeedback("p1", "1", 1.5, Now, 3));
        (await Store.GetAsync("p2", Cancel)).ShouldBe(new StoredFeedback("p2", "1", 0.5, Now, 3));
        (await Store.GetAsync("nope", Cancel)).ShouldBeNull();

        (await AsOfAsync(start, first)).ShouldBe([new StoredFeedback("p1", "0", null, first, 1), new StoredFeedback("p2", null, 0.25, first, 1)]);
        (await AsOfAsync(start, second)).ShouldBe([new StoredFeedback("p1", "0", 1.5, second, 2), new StoredFeedback("p2", null, 0.25, first, 1),
            new StoredFeedback("p3", "\"churned\"", null, second, 1)]);
        (await AsOfAsync(start, Now)).ShouldBe([new StoredFeedback("p1", "1", 1.5, Now, 3), new StoredFeedback("p2", "1", 0.5, Now, 3),
            new StoredFeedback("p3", "\"churned\"", null, second, 1)]);
        (await AsOfAsync(second, Now)).Select(row => row.PredictionId).ShouldBe(["p1", "p2", "p3"], "only what arrived in the window");
        (await AsOfAsync(start, start - 1)).ShouldBeEmpty();
    }

    private async Task<List<StoredFeedback>> AsOfAsync(long since, long until)
    {
        var rows = new List<StoredFeedback>();
        await foreach (var row in Store.AsOfAsync(since, until, Cancel))
        {
            rows.Add(row);
        }

        return rows;
    }
}

public sealed class SqliteFeedbackStoreTests() : FeedbackStoreContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresFeedbackStoreTests() : FeedbackStoreContractTests(DatabaseEngine.Postgres);
