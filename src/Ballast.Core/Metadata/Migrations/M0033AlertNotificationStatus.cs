using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// What an outbox notification tells of its alert (<c>alert_notifications.alert_status</c>: firing or resolved; null
/// for events), so that a resolved notification goes only to a webhook whose firing notification was delivered.
/// Webhook notifications from before are recognised by their body (JSON or Slack, as written then).
/// </summary>
[Migration(33, "Alert notification status")]
public sealed class M0033AlertNotificationStatus : Migration
{
    public override void Up()
    {
        Alter.Table("alert_notifications").AddColumn("alert_status").AsString(16).Nullable();
        foreach (var status in new[] { "firing", "resolved" })
        {
            Execute.Sql(
                $"UPDATE alert_notifications SET alert_status = '{status}' WHERE kind = 'webhook' AND " +
                $"(payload LIKE '{{\"status\":\"{status}\",%' OR payload LIKE '{{\"text\":\":%: [{status.ToUpperInvariant()}] %')");
        }
    }

    public override void Down() => Delete.Column("alert_status").FromTable("alert_notifications");
}
