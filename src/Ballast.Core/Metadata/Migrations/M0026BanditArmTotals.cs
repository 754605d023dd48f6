using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// A bandit arm's pulls older than the reward window, folded into totals (pulls, rewarded pulls, reward sum) so that
/// <c>prediction_assignments</c> keeps only the window's pulls instead of every pull forever.
/// </summary>
[Migration(26, "Bandit arm totals")]
public sealed class M0026BanditArmTotals : Migration
{
    public override void Up() =>
        Create.Table("bandit_arm_totals")
            .WithColumn("endpoint").AsString(63).PrimaryKey()
            .WithColumn("variant").AsString(63).PrimaryKey()
            .WithColumn("pulls").AsInt64().NotNullable()
            .WithColumn("rewarded").AsInt64().NotNullable()
            .WithColumn("reward_sum").AsCustom("DOUBLE PRECISION").NotNullable();

    public override void Down() => Delete.Table("bandit_arm_totals");
}
