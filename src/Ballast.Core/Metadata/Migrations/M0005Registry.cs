using System.Data;
using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>The model registry: registered models, their versions, tags and aliases. Renames and deletes cascade to versions, model tags and aliases through foreign keys.</summary>
[Migration(5, "Model registry")]
public sealed class M0005Registry : Migration
{
    public override void Up()
    {
        Create.Table("registered_models")
            .WithColumn("name").AsString(256).PrimaryKey()
            .WithColumn("creation_time").AsInt64().NotNullable()
            .WithColumn("last_updated_time").AsInt64().NotNullable()
            .WithColumn("description").AsString(5000).Nullable();

        Create.Table("registered_model_tags")
            .WithColumn("name").AsString(256).NotNullable().PrimaryKey("pk_registered_model_tags")
                .ForeignKey("fk_registered_model_tags_model", "registered_models", "name").OnUpdate(Rule.Cascade).OnDelete(Rule.Cascade)
            .WithColumn("key").AsString(250).NotNullable().PrimaryKey("pk_registered_model_tags")
            .WithColumn("value").AsString(5000).Nullable();

        Create.Table("model_versions")
            .WithColumn("name").AsString(256).NotNullable().PrimaryKey("pk_model_versions")
                .ForeignKey("fk_model_versions_model", "registered_models", "name").OnUpdate(Rule.Cascade).OnDelete(Rule.Cascade)
            .WithColumn("version").AsInt64().NotNullable().PrimaryKey("pk_model_versions")
            .WithColumn("creation_time").AsInt64().NotNullable()
            .WithColumn("last_updated_time").AsInt64().NotNullable()
            .WithColumn("description").AsString(5000).Nullable()
            .WithColumn("user_id").AsString(256).Nullable()
            .WithColumn("current_stage").AsString(20).NotNullable()
            .WithColumn("source").AsString(5000).NotNullable()
            .WithColumn("run_id").AsString(32).Nullable()
            .WithColumn("run_link").AsString(500).Nullable()
            .WithColumn("status").AsString(20).NotNullable()
            .WithColumn("status_message").AsString(500).Nullable();
        Create.Index("ix_model_versions_run").OnTable("model_versions").OnColumn("run_id");

        Create.Table("model_version_tags")
            .WithColumn("name").AsString(256).NotNullable().PrimaryKey("pk_model_version_tags")
            .WithColumn("version").AsInt64().NotNullable().PrimaryKey("pk_model_version_tags")
            .WithColumn("key").AsString(250).NotNullable().PrimaryKey("pk_model_version_tags")
            .WithColumn("value").AsString(5000).Nullable();
        // No composite foreign key here: SQLite cannot add one after CREATE TABLE and FluentMigrator cannot declare one
        // inside it; RegistryStore renames and deletes these rows in the same transaction as their version.

        Create.Table("registered_model_aliases")
            .WithColumn("name").AsString(256).NotNullable().PrimaryKey("pk_registered_model_aliases")
                .ForeignKey("fk_registered_model_aliases_model", "registered_models", "name").OnUpdate(Rule.Cascade).OnDelete(Rule.Cascade)
            .WithColumn("alias").AsString(256).NotNullable().PrimaryKey("pk_registered_model_aliases")
            .WithColumn("version").AsInt64().NotNullable();
    }

    public override void Down()
    {
        Delete.Table("registered_model_aliases");
        Delete.Table("model_version_tags");
        Delete.Table("model_versions");
        Delete.Table("registered_model_tags");
        Delete.Table("registered_models");
    }
}
