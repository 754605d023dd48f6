using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>MLflow experiments and their tags; experiment 0, "Default", exists from the start as in MLflow.</summary>
[Migration(2, "Experiments")]
public sealed class M0002Experiments : Migration
{
    public override void Up()
    {
        Create.Table("experiments")
            .WithColumn("experiment_id").AsInt64().PrimaryKey().Identity()
            .WithColumn("name").AsString(500).NotNullable().Unique("ux_experiments_name")
            .WithColumn("artifact_location").AsString(2000).NotNullable()
            .WithColumn("lifecycle_stage").AsString(32).NotNullable()
            .WithColumn("creation_time").AsInt64().NotNullable()
            .WithColumn("last_update_time").AsInt64().NotNullable();

        Create.Index("ix_experiments_creation_time").OnTable("experiments").OnColumn("creation_time");

        Create.Table("experiment_tags")
            .WithColumn("experiment_id").AsInt64().NotNullable().PrimaryKey("pk_experiment_tags").ForeignKey("fk_experiment_tags_experiment", "experiments", "experiment_id")
            .WithColumn("key").AsString(250).NotNullable().PrimaryKey("pk_experiment_tags")
            .WithColumn("value").AsString(5000).Nullable();

        // The id column is an identity; PostgreSQL makes it GENERATED ALWAYS, so the reserved id 0 needs an override there.
        const string values = "VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', 0, 0)";
        const string columns = "experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)";
        IfDatabase(type => type.Contains("postgres", StringComparison.OrdinalIgnoreCase)).Execute.Sql($"INSERT INTO {columns} OVERRIDING SYSTEM VALUE {values}");
        IfDatabase(type => type.Contains("sqlite", StringComparison.OrdinalIgnoreCase)).Execute.Sql($"INSERT INTO {columns} {values}");
    }

    public override void Down()
    {
        Delete.Table("experiment_tags");
        Delete.Table("experiments");
    }
}
