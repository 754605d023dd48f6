using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// Marks the runs that deleting their experiment deleted, so that restoring the experiment brings back those runs and
/// only those: a run deleted on its own before the experiment stays deleted.
/// </summary>
[Migration(28, "Runs deleted with their experiment")]
public sealed class M0028RunsDeletedWithExperiment : Migration
{
    public override void Up() =>
        Alter.Table("runs").AddColumn("deleted_with_experiment").AsBoolean().NotNullable().WithDefaultValue(false);

    public override void Down() => Delete.Column("deleted_with_experiment").FromTable("runs");
}
