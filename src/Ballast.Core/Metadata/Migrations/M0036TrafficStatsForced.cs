using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// The part of a variant's requests and server errors whose variant the <c>Ballast-Variant</c> header forced, beside the
/// totals (which go on counting every request), so that an experiment's <c>error_rate</c> guardrail leaves forced requests
/// out as its units do. Rows written before this migration kept no such count: their forced counts are 0, and their
/// forced requests count as routed ones.
/// </summary>
[Migration(36, "Traffic stats forced")]
public sealed class M0036TrafficStatsForced : Migration
{
    public override void Up()
    {
        Alter.Table("traffic_stats").AddColumn("forced_requests").AsInt64().NotNullable().WithDefaultValue(0);
        Alter.Table("traffic_stats").AddColumn("forced_errors").AsInt64().NotNullable().WithDefaultValue(0);
    }

    public override void Down()
    {
        Delete.Column("forced_errors").FromTable("traffic_stats");
        Delete.Column("forced_requests").FromTable("traffic_stats");
    }
}
