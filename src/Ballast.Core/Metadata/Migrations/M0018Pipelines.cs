using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// Pipelines: the stored specs, their runs (a persisted state machine; <c>dedupe_key</c> is unique per pipeline so a
/// cron occurrence or a dataset version starts one run however many replicas see it) and one row per step of a run
/// (attempts, status, outputs, the cache key that later runs look up).
/// </summary>
[Migration(18, "Pipelines")]
public sealed class M0018Pipelines : Migration
{
    public override void Up()
    {
        Create.Table("pipelines")
            .WithColumn("name").AsString(63).PrimaryKey()
            .WithColumn("spec").AsString(int.MaxValue).NotNullable()
            .WithColumn("created_at").AsInt64().NotNullable()
            .WithColumn("updated_at").AsInt64().NotNullable();

        Create.Table("pipeline_runs")
            .WithColumn("run_id").AsString(32).PrimaryKey()
            .WithColumn("pipeline").AsString(63).NotNullable().ForeignKey("fk_pipeline_runs_pipeline", "pipelines", "name")
            .WithColumn("status").AsString(16).NotNullable()
            .WithColumn("triggered_by").AsString(300).NotNullable()
            .WithColumn("dedupe_key").AsString(300).Nullable()
            .WithColumn("parameters").AsString(int.MaxValue).NotNullable()
            .WithColumn("spec").AsString(int.MaxValue).NotNullable()
            .WithColumn("no_cache").AsBoolean().NotNullable()
            .WithColumn("created_at").AsInt64().NotNullable()
            .WithColumn("started_at").AsInt64().Nullable()
            .WithColumn("finished_at").AsInt64().Nullable()
            .WithColumn("error").AsString(int.MaxValue).Nullable();
        Create.Index("ix_pipeline_runs_pipeline_created").OnTable("pipeline_runs").OnColumn("pipeline").Ascending().OnColumn("created_at").Descending();
        Create.Index("ix_pipeline_runs_status").OnTable("pipeline_runs").OnColumn("status");
        Create.Index("ux_pipeline_runs_dedupe").OnTable("pipeline_runs").OnColumn("pipeline").Ascending().OnColumn("dedupe_key").Ascending().WithOptions().Unique();

        Create.Table("step_runs")
            .WithColumn("run_id").AsString(32).NotNullable().PrimaryKey("pk_step_runs").ForeignKey("fk_step_runs_run", "pipeline_runs", "run_id")
            .WithColumn("step").AsString(63).NotNullable().PrimaryKey("pk_step_runs")
            .WithColumn("position").AsInt32().NotNullable()
            .WithColumn("status").AsString(16).NotNullable()
            .WithColumn("attempts").AsInt32().NotNullable()
            .WithColumn("next_attempt_at").AsInt64().NotNullable()
            .WithColumn("started_at").AsInt64().Nullable()
            .WithColumn("finished_at").AsInt64().Nullable()
            .WithColumn("cache_key").AsString(64).Nullable()
            .WithColumn("cached_from").AsString(32).Nullable()
            .WithColumn("outputs").AsString(int.MaxValue).Nullable()
            .WithColumn("error").AsString(int.MaxValue).Nullable()
            .WithColumn("log_path").AsString(1024).Nullable()
            .WithColumn("tracking_run_id").AsString(32).Nullable();
        Create.Index("ix_step_runs_cache_key").OnTable("step_runs").OnColumn("cache_key").Ascending().OnColumn("status").Ascending();
    }

    public override void Down()
    {
        Delete.Table("step_runs");
        Delete.Table("pipeline_runs");
        Delete.Table("pipelines");
    }
}
