using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>Rollouts: the spec and the persisted state machine (phase indexed for the controller).</summary>
[Migration(15, "Rollouts")]
public sealed class M0015Rollouts : Migration
{
    public override void Up()
    {
        Create.Table("rollouts")
            .WithColumn("name").AsString(63).PrimaryKey()
            .WithColumn("endpoint").AsString(63).NotNullable()
            .WithColumn("phase").AsString(16).NotNullable()
            .WithColumn("spec").AsString(int.MaxValue).NotNullable()
            .WithColumn("state").AsString(int.MaxValue).NotNullable()
            .WithColumn("updated_at").AsInt64().NotNullable();
        Create.Index("ix_rollouts_phase").OnTable("rollouts").OnColumn("phase");
    }

    public override void Down() => Delete.Table("rollouts");
}
