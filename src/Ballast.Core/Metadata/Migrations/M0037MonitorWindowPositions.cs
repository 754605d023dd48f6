using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// Row windows end on a log position, not a millisecond (<see cref="Serving.LogPosition"/>): a window's records are
/// those after <c>after_*</c> (the previous window's last record) through <c>last_*</c> (its own last), so a window of N
/// rows holds N however many records share a millisecond. Several windows can then start in one millisecond: a window is
/// unique per monitor, start and the position it starts after, not per monitor and start. Windows stored before (and
/// time windows) have no positions (null): the next starts at their end, as it did.
/// </summary>
[Migration(37, "Monitor window positions")]
public sealed class M0037MonitorWindowPositions : Migration
{
    public override void Up()
    {
        Alter.Table("monitor_windows")
            .AddColumn("after_at").AsInt64().Nullable()
            .AddColumn("after_instance").AsString(int.MaxValue).Nullable()
            .AddColumn("after_sequence").AsInt64().Nullable()
            .AddColumn("after_prediction_id").AsString(int.MaxValue).Nullable()
            .AddColumn("last_at").AsInt64().Nullable()
            .AddColumn("last_instance").AsString(int.MaxValue).Nullable()
            .AddColumn("last_sequence").AsInt64().Nullable()
            .AddColumn("last_prediction_id").AsString(int.MaxValue).Nullable();
        Delete.Index("ux_monitor_windows_monitor_start").OnTable("monitor_windows");
        // An index on expressions (SQLite and PostgreSQL both have them): a null position is one key, as a start alone was.
        Execute.Sql("CREATE UNIQUE INDEX ux_monitor_windows_monitor_start_after ON monitor_windows " +
            "(monitor, start_at, (COALESCE(after_instance, '')), (COALESCE(after_sequence, -1)), (COALESCE(after_prediction_id, '')))");
    }

    public override void Down()
    {
        Execute.Sql("DROP INDEX ux_monitor_windows_monitor_start_after");
        foreach (var column in new[] { "after_at", "after_instance", "after_sequence", "after_prediction_id", "last_at", "last_instance", "last_sequence", "last_prediction_id" })
        {
            Delete.Column(column).FromTable("monitor_windows");
        }

        Create.Index("ux_monitor_windows_monitor_start").OnTable("monitor_windows").OnColumn("monitor").Ascending().OnColumn("start_at").Ascending().WithOptions().Unique();
    }
}
