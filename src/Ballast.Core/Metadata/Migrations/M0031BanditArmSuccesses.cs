using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// A bandit arm's folded successes: the sum of its rewards each clamped to [0, 1], what Thompson sampling counts.
/// Before, Thompson clamped the reward sum as a whole, so a reward of 5 made up for four failures and one of -1 took a
/// success away. Totals folded before this migration only kept the sum; their successes are that sum clamped, exact when
/// every reward was in range.
/// </summary>
[Migration(31, "Bandit arm successes")]
public sealed class M0031BanditArmSuccesses : Migration
{
    public override void Up()
    {
        Alter.Table("bandit_arm_totals").AddColumn("successes").AsCustom("DOUBLE PRECISION").NotNullable().WithDefaultValue(0.0);
        Execute.Sql("UPDATE bandit_arm_totals SET successes = CASE WHEN reward_sum < 0 THEN 0.0 WHEN reward_sum > rewarded THEN CAST(rewarded AS DOUBLE PRECISION) ELSE reward_sum END");
    }

    public override void Down() => Delete.Column("successes").FromTable("bandit_arm_totals");
}
