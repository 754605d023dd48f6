using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>The audit trail: who (API key name) changed what, when; written in the transaction of the change itself.</summary>
[Migration(6, "Audit events")]
public sealed class M0006Audit : Migration
{
    public override void Up()
    {
        Create.Table("audit_events")
            .WithColumn("id").AsInt64().PrimaryKey().Identity()
            .WithColumn("occurred_at").AsInt64().NotNullable()
            .WithColumn("actor").AsString(200).NotNullable()
            .WithColumn("action").AsString(64).NotNullable()
            .WithColumn("resource_type").AsString(64).NotNullable()
            .WithColumn("resource").AsString(600).NotNullable()
            .WithColumn("details").AsString(4000).Nullable();
        Create.Index("ix_audit_events_resource").OnTable("audit_events").OnColumn("resource_type").Ascending().OnColumn("resource").Ascending();
    }

    public override void Down() => Delete.Table("audit_events");
}
