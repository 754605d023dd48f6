using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// Which variant made each prediction and what it predicted, for every endpoint that compares variants (a bandit's
/// arms, a rollout's canary or preview beside stable, an A/B split): joined with feedback by prediction id, it gives
/// each variant's accuracy and mean reward in SQL. Generalizes (and replaces) <c>bandit_assignments</c>, whose rows
/// move here as bandit arm pulls.
/// </summary>
[Migration(20, "Prediction assignments")]
public sealed class M0020PredictionAssignments : Migration
{
    public override void Up()
    {
        Create.Table("prediction_assignments")
            .WithColumn("prediction_id").AsString(64).PrimaryKey()
            .WithColumn("endpoint").AsString(63).NotNullable()
            .WithColumn("variant").AsString(63).NotNullable()
            .WithColumn("predicted").AsString(1000).Nullable()
            .WithColumn("bandit_arm").AsInt32().NotNullable()
            .WithColumn("assigned_at").AsInt64().NotNullable();
        Create.Index("ix_prediction_assignments_endpoint").OnTable("prediction_assignments").OnColumn("endpoint").Ascending().OnColumn("variant").Ascending();
        Create.Index("ix_prediction_assignments_assigned_at").OnTable("prediction_assignments").OnColumn("assigned_at");
        Execute.Sql("INSERT INTO prediction_assignments (prediction_id, endpoint, variant, predicted, bandit_arm, assigned_at) " +
            "SELECT prediction_id, endpoint, variant, NULL, 1, assigned_at FROM bandit_assignments");
        Delete.Table("bandit_assignments");
    }

    public override void Down()
    {
        Create.Table("bandit_assignments")
            .WithColumn("prediction_id").AsString(64).PrimaryKey()
            .WithColumn("endpoint").AsString(63).NotNullable()
            .WithColumn("variant").AsString(63).NotNullable()
            .WithColumn("assigned_at").AsInt64().NotNullable();
        Create.Index("ix_bandit_assignments_endpoint").OnTable("bandit_assignments").OnColumn("endpoint").Ascending().OnColumn("variant").Ascending();
        Execute.Sql("INSERT INTO bandit_assignments (prediction_id, endpoint, variant, assigned_at) SELECT prediction_id, endpoint, variant, assigned_at FROM prediction_assignments WHERE bandit_arm = 1");
        Delete.Table("prediction_assignments");
    }
}
