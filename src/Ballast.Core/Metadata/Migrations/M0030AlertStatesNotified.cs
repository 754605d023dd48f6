using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// Whether receivers were told that an alert fires (<c>alert_states.notified</c>), as Alertmanager's notification log
/// records it: a silenced firing is notified when its silence ends, and a resolved notification goes only to receivers
/// that were told of the firing. A firing alert from before is taken as notified unless the history row that made it
/// fire says a silence covered it then.
/// </summary>
[Migration(30, "Alert states notified")]
public sealed class M0030AlertStatesNotified : Migration
{
    public override void Up()
    {
        Alter.Table("alert_states").AddColumn("notified").AsBoolean().NotNullable().WithDefaultValue(false);
        Execute.Sql(
            "UPDATE alert_states SET notified = (1 = 1) WHERE state = 'firing' AND NOT EXISTS (SELECT 1 FROM alert_events e WHERE e.rule = alert_states.rule " +
            "AND e.silenced <> 0 AND e.id = (SELECT max(f.id) FROM alert_events f WHERE f.rule = alert_states.rule AND f.to_state = 'firing'))");
    }

    public override void Down() => Delete.Column("notified").FromTable("alert_states");
}
