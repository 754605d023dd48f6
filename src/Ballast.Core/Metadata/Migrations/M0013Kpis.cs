using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>Business KPIs (conversion, revenue…) posted for a prediction or a routing key, beside the model's metrics.</summary>
[Migration(13, "KPIs")]
public sealed class M0013Kpis : Migration
{
    public override void Up()
    {
        Create.Table("kpis")
            .WithColumn("id").AsInt64().PrimaryKey().Identity()
            .WithColumn("name").AsString(63).NotNullable()
            .WithColumn("value").AsCustom("DOUBLE PRECISION").NotNullable()
            .WithColumn("prediction_id").AsString(64).Nullable()
            .WithColumn("routing_key").AsString(256).Nullable()
            .WithColumn("recorded_at").AsInt64().NotNullable();
        Create.Index("ix_kpis_name_recorded_at").OnTable("kpis").OnColumn("name").Ascending().OnColumn("recorded_at").Ascending();
    }

    public override void Down() => Delete.Table("kpis");
}
