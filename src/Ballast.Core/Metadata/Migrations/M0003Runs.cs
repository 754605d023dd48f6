using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// Runs with params, tags, the full metric history and the latest value of each metric (what search filters
/// and sorts on, so a search never scans the history).
/// </summary>
[Migration(3, "Runs, params, tags, metrics")]
public sealed class M0003Runs : Migration
{
    public override void Up()
    {
        Create.Table("runs")
            .WithColumn("run_uuid").AsString(32).PrimaryKey()
            .WithColumn("experiment_id").AsInt64().NotNullable().ForeignKey("fk_runs_experiment", "experiments", "experiment_id")
            .WithColumn("run_name").AsString(250).Nullable()
            .WithColumn("user_id").AsString(256).Nullable()
            .WithColumn("status").AsString(20).NotNullable()
            .WithColumn("start_time").AsInt64().NotNullable()
            .WithColumn("end_time").AsInt64().Nullable()
            .WithColumn("artifact_uri").AsString(2000).NotNullable()
            .WithColumn("lifecycle_stage").AsString(20).NotNullable()
            .WithColumn("deleted_time").AsInt64().Nullable();
        Create.Index("ix_runs_experiment_start").OnTable("runs").OnColumn("experiment_id").Ascending().OnColumn("start_time").Descending();

        Create.Table("run_params")
            .WithColumn("run_uuid").AsString(32).NotNullable().PrimaryKey("pk_run_params").ForeignKey("fk_run_params_run", "runs", "run_uuid")
            .WithColumn("key").AsString(250).NotNullable().PrimaryKey("pk_run_params")
            .WithColumn("value").AsString(6000).NotNullable();

        Create.Table("run_tags")
            .WithColumn("run_uuid").AsString(32).NotNullable().PrimaryKey("pk_run_tags").ForeignKey("fk_run_tags_run", "runs", "run_uuid")
            .WithColumn("key").AsString(250).NotNullable().PrimaryKey("pk_run_tags")
            .WithColumn("value").AsString(8000).Nullable();

        Create.Table("metrics")
            .WithColumn("run_uuid").AsString(32).NotNullable().PrimaryKey("pk_metrics").ForeignKey("fk_metrics_run", "runs", "run_uuid")
            .WithColumn("key").AsString(250).NotNullable().PrimaryKey("pk_metrics")
            .WithColumn("step").AsInt64().NotNullable().PrimaryKey("pk_metrics")
            .WithColumn("timestamp").AsInt64().NotNullable().PrimaryKey("pk_metrics")
            .WithColumn("value").AsCustom("DOUBLE PRECISION").NotNullable().PrimaryKey("pk_metrics")
            .WithColumn("is_nan").AsBoolean().NotNullable().PrimaryKey("pk_metrics");

        Create.Table("latest_metrics")
            .WithColumn("run_uuid").AsString(32).NotNullable().PrimaryKey("pk_latest_metrics").ForeignKey("fk_latest_metrics_run", "runs", "run_uuid")
            .WithColumn("key").AsString(250).NotNullable().PrimaryKey("pk_latest_metrics")
            .WithColumn("value").AsCustom("DOUBLE PRECISION").NotNullable()
            .WithColumn("timestamp").AsInt64().NotNullable()
            .WithColumn("step").AsInt64().NotNullable()
            .WithColumn("is_nan").AsBoolean().NotNullable();
        Create.Index("ix_latest_metrics_key_value").OnTable("latest_metrics").OnColumn("key").Ascending().OnColumn("value").Ascending();
    }

    public override void Down()
    {
        Delete.Table("latest_metrics");
        Delete.Table("metrics");
        Delete.Table("run_tags");
        Delete.Table("run_params");
        Delete.Table("runs");
    }
}
