using Ballast.Experiments;
using Ballast.Metadata;
using Ballast.Tests.Metadata;

namespace Ballast.Tests.Experiments;

public abstract class KpiStoreContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    [Fact]
    public async Task Every_value_is_kept_and_read_back_by_name_since_a_time()
    {
        var kpis = new KpiStore(Database, Time);
        await kpis.AddAsync([new Kpi("revenue", 12.5, PredictionId: "p1"), new Kpi("revenue", 3, PredictionId: "p1"), new Kpi("signups", 1, RoutingKey: "user-7")], Cancel);
        Time.Advance(TimeSpan.FromMinutes(1));
        var later = Time.GetUtcNow().ToUnixTimeMilliseconds();
        await kpis.AddAsync([new Kpi("revenue", 7, RoutingKey: "user-7")], Cancel);

        (await kpis.SinceAsync("revenue", 0, Cancel)).Select(kpi => (kpi.Value, kpi.PredictionId, kpi.RoutingKey)).ShouldBe([(12.5, "p1", null), (3.0, "p1", null), (7.0, null, "user-7")]);
        (await kpis.SinceAsync("revenue", later, Cancel)).ShouldHaveSingleItem().RecordedAt.ShouldBe(later);
        (await Should.ThrowAsync<Ballast.Tracking.TrackingException>(() => kpis.AddAsync([new Kpi("revenue", double.NaN, PredictionId: "p")], Cancel)))
            .Message.ShouldBe("Invalid KPIs: item 0: value must be a finite number.");
    }
}

public sealed class SqliteKpiStoreTests() : KpiStoreContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresKpiStoreTests() : KpiStoreContractTests(DatabaseEngine.Postgres);
