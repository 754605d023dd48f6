using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// Monitors (their spec) and their closed windows with the results; (monitor, start_at) is unique, so a window is
/// stored once even if two replicas computed it.
/// </summary>
[Migration(16, "Monitors")]
public sealed class M0016Monitors : Migration
{
    public override void Up()
    {
        Create.Table("monitors")
            .WithColumn("name").AsString(63).PrimaryKey()
            .WithColumn("endpoint").AsString(63).NotNullable()
            .WithColumn("spec").AsString(int.MaxValue).NotNullable()
            .WithColumn("created_at").AsInt64().NotNullable()
            .WithColumn("updated_at").AsInt64().NotNullable();
        Create.Table("monitor_windows")
            .WithColumn("id").AsInt64().PrimaryKey().Identity()
            .WithColumn("monitor").AsString(63).NotNullable()
            .WithColumn("start_at").AsInt64().NotNullable()
            .WithColumn("end_at").AsInt64().NotNullable()
            .WithColumn("rows").AsInt64().NotNullable()
            .WithColumn("status").AsString(32).NotNullable()
            .WithColumn("results").AsString(int.MaxValue).NotNullable()
            .WithColumn("computed_at").AsInt64().NotNullable();
        Create.Index("ux_monitor_windows_monitor_start").OnTable("monitor_windows").OnColumn("monitor").Ascending().OnColumn("start_at").Ascending().WithOptions().Unique();
    }

    public override void Down()
    {
        Delete.Table("monitor_windows");
        Delete.Table("monitors");
    }
}
