using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// An A/B experiment's end: when data collection stopped (with the split it ran under, so that its results stay what
/// they were), and the decision that concluded it (who, when, the winner or none, why, whether traffic was moved to
/// the winner, and the results at that moment). Every rollout analysis run, kept when it ends: its step, the variant
/// it judged, its outcome and each measurement per metric, newest first per rollout.
/// </summary>
[Migration(24, "Experiment decisions and rollout analyses")]
public sealed class M0024ExperimentDecisionsAndAnalyses : Migration
{
    public override void Up()
    {
        Alter.Table("ab_experiments")
            .AddColumn("stopped_at").AsInt64().Nullable()
            .AddColumn("stopped_by").AsString(255).Nullable()
            .AddColumn("stopped_split").AsString(int.MaxValue).Nullable();
        Create.Table("ab_experiment_conclusions")
            .WithColumn("experiment").AsString(63).PrimaryKey()
            .WithColumn("winner").AsString(63).Nullable()
            .WithColumn("reason").AsString(int.MaxValue).NotNullable()
            .WithColumn("apply_winner").AsBoolean().NotNullable()
            .WithColumn("applied_at").AsInt64().Nullable()
            .WithColumn("concluded_by").AsString(255).NotNullable()
            .WithColumn("concluded_at").AsInt64().NotNullable()
            .WithColumn("results").AsString(int.MaxValue).NotNullable();
        Create.Table("rollout_analyses")
            .WithColumn("rollout").AsString(63).PrimaryKey()
            .WithColumn("id").AsInt64().PrimaryKey()
            .WithColumn("step").AsInt32().NotNullable()
            .WithColumn("variant").AsString(63).NotNullable()
            .WithColumn("outcome").AsString(16).NotNullable()
            .WithColumn("message").AsString(int.MaxValue).NotNullable()
            .WithColumn("started_at").AsInt64().NotNullable()
            .WithColumn("ended_at").AsInt64().NotNullable()
            .WithColumn("measurements").AsString(int.MaxValue).NotNullable();
    }

    public override void Down()
    {
        Delete.Table("rollout_analyses");
        Delete.Table("ab_experiment_conclusions");
        Delete.Column("stopped_at").Column("stopped_by").Column("stopped_split").FromTable("ab_experiments");
    }
}
