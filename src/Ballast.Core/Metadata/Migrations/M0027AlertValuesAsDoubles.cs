using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// The observed value of alert states and events as <c>DOUBLE PRECISION</c> on SQLite too. M0017 declared it with
/// <c>AsDouble()</c>, which FluentMigrator writes as <c>NUMERIC</c> on SQLite: a whole number (a drift share of 0) was kept
/// as an integer, and a read of integer and fractional rows together failed. Each column is replaced by a copy of
/// itself (SQLite cannot change a column's type in place); PostgreSQL already had <c>DOUBLE PRECISION</c>.
/// </summary>
[Migration(27, "Alert values as doubles")]
public sealed class M0027AlertValuesAsDoubles : Migration
{
    private static readonly string[] Tables = ["alert_states", "alert_events"];

    public override void Up()
    {
        foreach (var table in Tables)
        {
            IfDatabase(type => type.Contains("sqlite", StringComparison.OrdinalIgnoreCase)).Execute.Sql(
                $"ALTER TABLE {table} ADD COLUMN value_double DOUBLE PRECISION; " +
                $"UPDATE {table} SET value_double = CAST(value AS DOUBLE PRECISION); " +
                $"ALTER TABLE {table} DROP COLUMN value; " +
                $"ALTER TABLE {table} RENAME COLUMN value_double TO value;");
        }
    }

    public override void Down()
    {
        // Nothing to undo: DOUBLE PRECISION holds every value NUMERIC did.
    }
}
