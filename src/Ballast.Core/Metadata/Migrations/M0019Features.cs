using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// The feature store: feature sets (entities, views, services as one validated spec), the service names they
/// declare (unique across sets), each view's materialization watermark, and the embedded online store (latest
/// values per view and entity key).
/// </summary>
[Migration(19, "Features")]
public sealed class M0019Features : Migration
{
    public override void Up()
    {
        Create.Table("feature_sets")
            .WithColumn("name").AsString(63).PrimaryKey()
            .WithColumn("spec").AsString(int.MaxValue).NotNullable()
            .WithColumn("revision").AsInt64().NotNullable()
            .WithColumn("created_at").AsInt64().NotNullable()
            .WithColumn("updated_at").AsInt64().NotNullable();

        Create.Table("feature_names")
            .WithColumn("kind").AsString(16).PrimaryKey()
            .WithColumn("name").AsString(63).PrimaryKey()
            .WithColumn("feature_set").AsString(63).NotNullable();
        Create.Index("ix_feature_names_set").OnTable("feature_names").OnColumn("feature_set");

        Create.Table("feature_materializations")
            .WithColumn("view_name").AsString(63).PrimaryKey()
            .WithColumn("source_digest").AsString(64).NotNullable()
            .WithColumn("watermark").AsInt64().NotNullable()
            .WithColumn("rows_written").AsInt64().NotNullable()
            .WithColumn("updated_at").AsInt64().NotNullable();

        Create.Table("feature_online")
            .WithColumn("view_name").AsString(63).PrimaryKey()
            .WithColumn("entity_key").AsString(255).PrimaryKey()
            .WithColumn("event_at").AsInt64().NotNullable()
            .WithColumn("feature_values").AsString(int.MaxValue).NotNullable()
            .WithColumn("written_at").AsInt64().NotNullable();
    }

    public override void Down()
    {
        Delete.Table("feature_online");
        Delete.Table("feature_materializations");
        Delete.Table("feature_names");
        Delete.Table("feature_sets");
    }
}
