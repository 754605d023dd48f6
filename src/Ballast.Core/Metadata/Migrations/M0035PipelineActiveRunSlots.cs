using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// <c>max_active_runs</c>: a run of a pipeline with a limit holds one of that many slots
/// (<c>pipeline_runs.active_slot</c>, 0 to the limit less one) while it is queued, running or cancelling, and gives it up
/// (null) when it ends. The slot is unique per pipeline, as <c>dedupe_key</c> is, so however many replicas start runs at
/// once the database lets no more than the limit be under way. A schedule occurrence or dataset version whose start the
/// limit refused is kept in <c>pipeline_skipped_starts</c> under its dedupe key, so it is skipped once, not tried again
/// every tick. Runs under way before this migration hold no slot (they still count against a limit).
/// </summary>
[Migration(35, "Pipeline active run slots")]
public sealed class M0035PipelineActiveRunSlots : Migration
{
    public override void Up()
    {
        Alter.Table("pipeline_runs").AddColumn("active_slot").AsInt32().Nullable();
        Create.Index("ux_pipeline_runs_active_slot").OnTable("pipeline_runs").OnColumn("pipeline").Ascending().OnColumn("active_slot").Ascending().WithOptions().Unique();

        Create.Table("pipeline_skipped_starts")
            .WithColumn("pipeline").AsString(63).NotNullable().PrimaryKey("pk_pipeline_skipped_starts")
            .WithColumn("dedupe_key").AsString(300).NotNullable().PrimaryKey("pk_pipeline_skipped_starts")
            .WithColumn("triggered_by").AsString(300).NotNullable()
            .WithColumn("reason").AsString(int.MaxValue).NotNullable()
            .WithColumn("at").AsInt64().NotNullable();
    }

    public override void Down()
    {
        Delete.Table("pipeline_skipped_starts");
        Delete.Index("ux_pipeline_runs_active_slot").OnTable("pipeline_runs");
        Delete.Column("active_slot").FromTable("pipeline_runs");
    }
}
