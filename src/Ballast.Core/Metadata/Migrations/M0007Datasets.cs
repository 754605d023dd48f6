using System.Data;
using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// Versioned datasets (DVC semantics; MLflow's own <c>datasets</c> table from M0004 holds logged dataset inputs): each version is a manifest of content-addressed files (JSON) with its digest,
/// unique per dataset so the same bytes always map to the same version, and the profile computed when it was added.
/// </summary>
[Migration(7, "Datasets")]
public sealed class M0007Datasets : Migration
{
    public override void Up()
    {
        Create.Table("versioned_datasets")
            .WithColumn("name").AsString(256).PrimaryKey()
            .WithColumn("created_at").AsInt64().NotNullable()
            .WithColumn("updated_at").AsInt64().NotNullable();

        Create.Table("dataset_versions")
            .WithColumn("name").AsString(256).NotNullable().PrimaryKey("pk_dataset_versions")
                .ForeignKey("fk_dataset_versions_dataset", "versioned_datasets", "name").OnDelete(Rule.Cascade)
            .WithColumn("version").AsInt64().NotNullable().PrimaryKey("pk_dataset_versions")
            .WithColumn("digest").AsString(64).NotNullable()
            .WithColumn("message").AsString(5000).Nullable()
            .WithColumn("created_at").AsInt64().NotNullable()
            .WithColumn("created_by").AsString(200).Nullable()
            .WithColumn("file_count").AsInt64().NotNullable()
            .WithColumn("size_bytes").AsInt64().NotNullable()
            .WithColumn("row_count").AsInt64().Nullable()
            .WithColumn("manifest").AsCustom("TEXT").NotNullable()
            .WithColumn("profile").AsCustom("TEXT").NotNullable();
        Create.Index("ux_dataset_versions_digest").OnTable("dataset_versions")
            .OnColumn("name").Ascending().OnColumn("digest").Ascending().WithOptions().Unique();
        Create.Index("ix_dataset_versions_digest").OnTable("dataset_versions").OnColumn("digest");
    }

    public override void Down()
    {
        Delete.Table("dataset_versions");
        Delete.Table("versioned_datasets");
    }
}
