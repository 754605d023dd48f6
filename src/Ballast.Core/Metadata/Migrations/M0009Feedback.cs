using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>Outcomes and rewards posted for predictions, one row per prediction id (later feedback updates it).</summary>
[Migration(9, "Feedback")]
public sealed class M0009Feedback : Migration
{
    public override void Up()
    {
        Create.Table("feedback")
            .WithColumn("prediction_id").AsString(64).PrimaryKey()
            .WithColumn("outcome").AsString(1000).Nullable()
            .WithColumn("reward").AsCustom("DOUBLE PRECISION").Nullable()
            .WithColumn("received_at").AsInt64().NotNullable()
            .WithColumn("updates").AsInt64().NotNullable();
        Create.Index("ix_feedback_received_at").OnTable("feedback").OnColumn("received_at");
    }

    public override void Down() => Delete.Table("feedback");
}
