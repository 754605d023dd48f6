using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// MLflow 3's logged models (what <c>log_model()</c> creates): the model with its status, tags, params and the metric
/// values runs linked to it; the runs' model outputs (<c>runs/outputs</c>) and model inputs (<c>runs/log-inputs</c> with <c>models</c>); and, on a model
/// version registered from a logged model, its <c>model_id</c> and the storage location its <c>models:/</c> source
/// resolved to (what <c>get-download-uri</c> answers and serving reads).
/// </summary>
[Migration(29, "Logged models")]
public sealed class M0029LoggedModels : Migration
{
    public override void Up()
    {
        Create.Table("logged_models")
            .WithColumn("model_id").AsString(40).PrimaryKey()
            .WithColumn("experiment_id").AsInt64().NotNullable().ForeignKey("fk_logged_models_experiment", "experiments", "experiment_id")
            .WithColumn("name").AsString(500).NotNullable()
            .WithColumn("artifact_location").AsString(2000).NotNullable()
            .WithColumn("creation_timestamp").AsInt64().NotNullable()
            .WithColumn("last_updated_timestamp").AsInt64().NotNullable()
            .WithColumn("status").AsString(40).NotNullable()
            .WithColumn("status_message").AsString(500).Nullable()
            .WithColumn("model_type").AsString(500).Nullable()
            .WithColumn("source_run_id").AsString(32).Nullable()
            .WithColumn("lifecycle_stage").AsString(20).NotNullable();
        Create.Index("ix_logged_models_experiment_created").OnTable("logged_models").OnColumn("experiment_id").Ascending().OnColumn("creation_timestamp").Descending();
        Create.Index("ix_logged_models_source_run").OnTable("logged_models").OnColumn("source_run_id").Ascending();

        Create.Table("logged_model_tags")
            .WithColumn("model_id").AsString(40).NotNullable().PrimaryKey("pk_logged_model_tags").ForeignKey("fk_logged_model_tags_model", "logged_models", "model_id")
            .WithColumn("key").AsString(250).NotNullable().PrimaryKey("pk_logged_model_tags")
            .WithColumn("value").AsString(8000).NotNullable();

        Create.Table("logged_model_params")
            .WithColumn("model_id").AsString(40).NotNullable().PrimaryKey("pk_logged_model_params").ForeignKey("fk_logged_model_params_model", "logged_models", "model_id")
            .WithColumn("key").AsString(250).NotNullable().PrimaryKey("pk_logged_model_params")
            .WithColumn("value").AsString(6000).NotNullable();

        // The metric values runs linked to a model (log-batch / log-metric with model_id), as MLflow's logged_model_metrics;
        // a value without a dataset keeps '' there, so the whole row is the key and logging it again changes nothing.
        Create.Table("logged_model_metrics")
            .WithColumn("model_id").AsString(40).NotNullable().PrimaryKey("pk_logged_model_metrics").ForeignKey("fk_logged_model_metrics_model", "logged_models", "model_id")
            .WithColumn("key").AsString(250).NotNullable().PrimaryKey("pk_logged_model_metrics")
            .WithColumn("step").AsInt64().NotNullable().PrimaryKey("pk_logged_model_metrics")
            .WithColumn("timestamp").AsInt64().NotNullable().PrimaryKey("pk_logged_model_metrics")
            .WithColumn("value").AsCustom("DOUBLE PRECISION").NotNullable().PrimaryKey("pk_logged_model_metrics")
            .WithColumn("is_nan").AsBoolean().NotNullable().PrimaryKey("pk_logged_model_metrics")
            .WithColumn("run_uuid").AsString(32).NotNullable().PrimaryKey("pk_logged_model_metrics")
            .WithColumn("dataset_name").AsString(500).NotNullable().PrimaryKey("pk_logged_model_metrics")
            .WithColumn("dataset_digest").AsString(36).NotNullable().PrimaryKey("pk_logged_model_metrics");

        Create.Table("run_model_outputs")
            .WithColumn("run_uuid").AsString(32).NotNullable().PrimaryKey("pk_run_model_outputs").ForeignKey("fk_run_model_outputs_run", "runs", "run_uuid")
            .WithColumn("model_id").AsString(40).NotNullable().PrimaryKey("pk_run_model_outputs").ForeignKey("fk_run_model_outputs_model", "logged_models", "model_id")
            .WithColumn("step").AsInt64().NotNullable();

        Create.Table("run_model_inputs")
            .WithColumn("run_uuid").AsString(32).NotNullable().PrimaryKey("pk_run_model_inputs").ForeignKey("fk_run_model_inputs_run", "runs", "run_uuid")
            .WithColumn("model_id").AsString(40).NotNullable().PrimaryKey("pk_run_model_inputs").ForeignKey("fk_run_model_inputs_model", "logged_models", "model_id");

        Alter.Table("model_versions")
            .AddColumn("model_id").AsString(40).Nullable()
            .AddColumn("storage_location").AsString(5000).Nullable();
    }

    public override void Down()
    {
        Delete.Column("storage_location").FromTable("model_versions");
        Delete.Column("model_id").FromTable("model_versions");
        Delete.Table("run_model_inputs");
        Delete.Table("run_model_outputs");
        Delete.Table("logged_model_metrics");
        Delete.Table("logged_model_params");
        Delete.Table("logged_model_tags");
        Delete.Table("logged_models");
    }
}
