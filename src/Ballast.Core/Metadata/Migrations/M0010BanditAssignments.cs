using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>Which bandit arm made each prediction; joined with feedback rewards, it is the arms' persisted state.</summary>
[Migration(10, "Bandit assignments")]
public sealed class M0010BanditAssignments : Migration
{
    public override void Up()
    {
        Create.Table("bandit_assignments")
            .WithColumn("prediction_id").AsString(64).PrimaryKey()
            .WithColumn("endpoint").AsString(63).NotNullable()
            .WithColumn("variant").AsString(63).NotNullable()
            .WithColumn("assigned_at").AsInt64().NotNullable();
        Create.Index("ix_bandit_assignments_endpoint").OnTable("bandit_assignments").OnColumn("endpoint").Ascending().OnColumn("variant").Ascending();
    }

    public override void Down() => Delete.Table("bandit_assignments");
}
