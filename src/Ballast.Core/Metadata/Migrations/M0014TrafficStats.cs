using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>Per-variant request, error and latency totals per 10-second bucket and replica, for guardrails and rollout analysis.</summary>
[Migration(14, "Traffic stats")]
public sealed class M0014TrafficStats : Migration
{
    public override void Up()
    {
        Create.Table("traffic_stats")
            .WithColumn("endpoint").AsString(63).PrimaryKey()
            .WithColumn("variant").AsString(63).PrimaryKey()
            .WithColumn("bucket").AsInt64().PrimaryKey()
            .WithColumn("instance").AsString(32).PrimaryKey()
            .WithColumn("requests").AsInt64().NotNullable()
            .WithColumn("errors").AsInt64().NotNullable()
            .WithColumn("rejected").AsInt64().NotNullable()
            .WithColumn("disagreed").AsInt64().NotNullable()
            .WithColumn("latency_sum_ms").AsCustom("DOUBLE PRECISION").NotNullable()
            .WithColumn("latency_buckets").AsString(int.MaxValue).NotNullable();
        Create.Index("ix_traffic_stats_endpoint_bucket").OnTable("traffic_stats").OnColumn("endpoint").Ascending().OnColumn("bucket").Ascending();
    }

    public override void Down() => Delete.Table("traffic_stats");
}
