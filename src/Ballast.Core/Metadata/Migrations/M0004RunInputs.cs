using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>MLflow datasets (one per experiment, name and digest) and the runs that used them, with input tags (e.g. mlflow.data.context = training).</summary>
[Migration(4, "Datasets as run inputs")]
public sealed class M0004RunInputs : Migration
{
    public override void Up()
    {
        Create.Table("datasets")
            .WithColumn("dataset_uuid").AsString(32).PrimaryKey()
            .WithColumn("experiment_id").AsInt64().NotNullable().ForeignKey("fk_datasets_experiment", "experiments", "experiment_id")
            .WithColumn("name").AsString(500).NotNullable()
            .WithColumn("digest").AsString(36).NotNullable()
            .WithColumn("source_type").AsString(36).NotNullable()
            .WithColumn("source").AsString(int.MaxValue).NotNullable()
            .WithColumn("schema").AsString(int.MaxValue).Nullable()
            .WithColumn("profile").AsString(int.MaxValue).Nullable();
        Create.Index("ux_datasets_experiment_name_digest").OnTable("datasets").OnColumn("experiment_id").Ascending().OnColumn("name").Ascending().OnColumn("digest").Ascending().WithOptions().Unique();

        Create.Table("run_inputs")
            .WithColumn("run_uuid").AsString(32).NotNullable().PrimaryKey("pk_run_inputs").ForeignKey("fk_run_inputs_run", "runs", "run_uuid")
            .WithColumn("dataset_uuid").AsString(32).NotNullable().PrimaryKey("pk_run_inputs").ForeignKey("fk_run_inputs_dataset", "datasets", "dataset_uuid");

        Create.Table("run_input_tags")
            .WithColumn("run_uuid").AsString(32).NotNullable().PrimaryKey("pk_run_input_tags")
            .WithColumn("dataset_uuid").AsString(32).NotNullable().PrimaryKey("pk_run_input_tags")
            .WithColumn("key").AsString(255).NotNullable().PrimaryKey("pk_run_input_tags")
            .WithColumn("value").AsString(500).NotNullable();
    }

    public override void Down()
    {
        Delete.Table("run_input_tags");
        Delete.Table("run_inputs");
        Delete.Table("datasets");
    }
}
