using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// Every feedback item as it arrived (<c>feedback</c> keeps only the latest values per prediction): what a prediction's
/// feedback was at a past moment, so that a stopped experiment's results do not move when feedback is re-sent or
/// changed after its stop. Rows already in <c>feedback</c> are copied in as of their last arrival.
/// </summary>
[Migration(25, "Feedback history")]
public sealed class M0025FeedbackHistory : Migration
{
    public override void Up()
    {
        Create.Table("feedback_history")
            .WithColumn("id").AsInt64().PrimaryKey().Identity()
            .WithColumn("prediction_id").AsString(64).NotNullable()
            .WithColumn("outcome").AsString(1000).Nullable()
            .WithColumn("reward").AsCustom("DOUBLE PRECISION").Nullable()
            .WithColumn("received_at").AsInt64().NotNullable();
        Create.Index("ix_feedback_history_received_at").OnTable("feedback_history").OnColumn("received_at");
        Execute.Sql("INSERT INTO feedback_history (prediction_id, outcome, reward, received_at) SELECT prediction_id, outcome, reward, received_at FROM feedback");
    }

    public override void Down() => Delete.Table("feedback_history");
}
