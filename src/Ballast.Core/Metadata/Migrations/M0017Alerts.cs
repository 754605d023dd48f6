using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// Alert rules, each rule's current state (one row, changed only by a conditional update on its version so that one
/// replica wins a transition), the history of transitions, silences, and the notification outbox with its delivery log.
/// </summary>
[Migration(17, "Alerts")]
public sealed class M0017Alerts : Migration
{
    public override void Up()
    {
        Create.Table("alert_rules")
            .WithColumn("name").AsString(63).PrimaryKey()
            .WithColumn("source").AsString(255).NotNullable()
            .WithColumn("spec").AsString(int.MaxValue).NotNullable()
            .WithColumn("created_at").AsInt64().NotNullable()
            .WithColumn("updated_at").AsInt64().NotNullable();
        Create.Index("ix_alert_rules_source").OnTable("alert_rules").OnColumn("source");

        Create.Table("alert_states")
            .WithColumn("rule").AsString(63).PrimaryKey()
            .WithColumn("source").AsString(255).NotNullable()
            .WithColumn("severity").AsString(16).NotNullable()
            .WithColumn("state").AsString(16).NotNullable()
            .WithColumn("consecutive").AsInt32().NotNullable()
            .WithColumn("value").AsDouble().Nullable()
            .WithColumn("window_name").AsString(255).Nullable()
            .WithColumn("window_end").AsInt64().Nullable()
            .WithColumn("starts_at").AsInt64().Nullable()
            .WithColumn("ends_at").AsInt64().Nullable()
            .WithColumn("version").AsInt64().NotNullable()
            .WithColumn("updated_at").AsInt64().NotNullable();
        Create.Index("ix_alert_states_state").OnTable("alert_states").OnColumn("state");
        Create.Index("ix_alert_states_source").OnTable("alert_states").OnColumn("source");

        Create.Table("alert_events")
            .WithColumn("id").AsInt64().PrimaryKey().Identity()
            .WithColumn("rule").AsString(63).NotNullable()
            .WithColumn("at").AsInt64().NotNullable()
            .WithColumn("from_state").AsString(16).NotNullable()
            .WithColumn("to_state").AsString(16).NotNullable()
            .WithColumn("value").AsDouble().Nullable()
            .WithColumn("window_name").AsString(255).NotNullable()
            .WithColumn("silenced").AsInt32().NotNullable()
            .WithColumn("notifications").AsInt32().NotNullable();
        Create.Index("ix_alert_events_rule").OnTable("alert_events").OnColumn("rule").Ascending().OnColumn("id").Ascending();

        Create.Table("alert_silences")
            .WithColumn("id").AsString(32).PrimaryKey()
            .WithColumn("rule").AsString(63).Nullable()
            .WithColumn("matchers").AsString(int.MaxValue).Nullable()
            .WithColumn("starts_at").AsInt64().NotNullable()
            .WithColumn("ends_at").AsInt64().NotNullable()
            .WithColumn("comment").AsString(int.MaxValue).NotNullable()
            .WithColumn("created_by").AsString(255).NotNullable()
            .WithColumn("created_at").AsInt64().NotNullable();
        Create.Index("ix_alert_silences_ends_at").OnTable("alert_silences").OnColumn("ends_at");

        Create.Table("alert_notifications")
            .WithColumn("id").AsString(32).PrimaryKey()
            .WithColumn("rule").AsString(63).NotNullable()
            .WithColumn("status").AsString(16).NotNullable()
            .WithColumn("kind").AsString(16).NotNullable()
            .WithColumn("target").AsString(int.MaxValue).NotNullable()
            .WithColumn("action").AsString(int.MaxValue).NotNullable()
            .WithColumn("payload").AsString(int.MaxValue).NotNullable()
            .WithColumn("attempts").AsInt32().NotNullable()
            .WithColumn("next_attempt_at").AsInt64().NotNullable()
            .WithColumn("created_at").AsInt64().NotNullable()
            .WithColumn("finished_at").AsInt64().Nullable()
            .WithColumn("last_error").AsString(int.MaxValue).Nullable();
        Create.Index("ix_alert_notifications_rule").OnTable("alert_notifications").OnColumn("rule").Ascending().OnColumn("status").Ascending().OnColumn("created_at").Ascending();
        Create.Index("ix_alert_notifications_due").OnTable("alert_notifications").OnColumn("status").Ascending().OnColumn("next_attempt_at").Ascending();

        Create.Table("alert_deliveries")
            .WithColumn("id").AsInt64().PrimaryKey().Identity()
            .WithColumn("notification_id").AsString(32).NotNullable()
            .WithColumn("rule").AsString(63).NotNullable()
            .WithColumn("kind").AsString(16).NotNullable()
            .WithColumn("target").AsString(int.MaxValue).NotNullable()
            .WithColumn("attempt").AsInt32().NotNullable()
            .WithColumn("at").AsInt64().NotNullable()
            .WithColumn("outcome").AsString(16).NotNullable()
            .WithColumn("status_code").AsInt32().Nullable()
            .WithColumn("error").AsString(int.MaxValue).Nullable();
        Create.Index("ix_alert_deliveries_rule").OnTable("alert_deliveries").OnColumn("rule");
    }

    public override void Down()
    {
        Delete.Table("alert_deliveries");
        Delete.Table("alert_notifications");
        Delete.Table("alert_silences");
        Delete.Table("alert_events");
        Delete.Table("alert_states");
        Delete.Table("alert_rules");
    }
}
