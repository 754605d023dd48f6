using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>A/B experiments on endpoints (not MLflow's tracking experiments): the spec as JSON and when it started.</summary>
[Migration(12, "A/B experiments")]
public sealed class M0012AbExperiments : Migration
{
    public override void Up() =>
        Create.Table("ab_experiments")
            .WithColumn("name").AsString(63).PrimaryKey()
            .WithColumn("spec").AsString(int.MaxValue).NotNullable()
            .WithColumn("started_at").AsInt64().NotNullable();

    public override void Down() => Delete.Table("ab_experiments");
}
