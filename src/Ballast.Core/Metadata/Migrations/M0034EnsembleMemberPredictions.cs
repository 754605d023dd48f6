using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// What each member of an ensemble that adapts its weights predicted for a request (the ensemble answers with the
/// combination): joined with feedback by prediction id, it gives each member's recent accuracy, from which the
/// ensemble's weights are derived. Rows go after <c>AssignmentStore.Retention</c>, as non-bandit assignments do.
/// </summary>
[Migration(34, "Ensemble member predictions")]
public sealed class M0034EnsembleMemberPredictions : Migration
{
    public override void Up()
    {
        Create.Table("ensemble_member_predictions")
            .WithColumn("prediction_id").AsString(64).NotNullable().PrimaryKey("pk_ensemble_member_predictions")
            .WithColumn("member").AsString(63).NotNullable().PrimaryKey("pk_ensemble_member_predictions")
            .WithColumn("endpoint").AsString(63).NotNullable()
            .WithColumn("predicted").AsString(1000).Nullable()
            .WithColumn("assigned_at").AsInt64().NotNullable();
        Create.Index("ix_ensemble_member_predictions_endpoint").OnTable("ensemble_member_predictions").OnColumn("endpoint").Ascending().OnColumn("assigned_at").Ascending();
        Create.Index("ix_ensemble_member_predictions_assigned_at").OnTable("ensemble_member_predictions").OnColumn("assigned_at");
    }

    public override void Down() => Delete.Table("ensemble_member_predictions");
}
