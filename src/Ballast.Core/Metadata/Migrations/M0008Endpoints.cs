using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>Serving endpoints: the spec as JSON, with a revision that every change increments (replicas reload on change).</summary>
[Migration(8, "Endpoints")]
public sealed class M0008Endpoints : Migration
{
    public override void Up()
    {
        Create.Table("endpoints")
            .WithColumn("name").AsString(63).PrimaryKey()
            .WithColumn("spec").AsCustom("TEXT").NotNullable()
            .WithColumn("revision").AsInt64().NotNullable()
            .WithColumn("created_at").AsInt64().NotNullable()
            .WithColumn("updated_at").AsInt64().NotNullable();
    }

    public override void Down() => Delete.Table("endpoints");
}
