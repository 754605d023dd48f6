using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// KPI values may name the entity they describe (a customer, a store): feature views read a KPI stream per entity, in
/// order of arrival, so the index leads with the name and the entity.
/// </summary>
[Migration(22, "KPI entities")]
public sealed class M0022KpiEntities : Migration
{
    public override void Up()
    {
        Alter.Table("kpis").AddColumn("entity").AsString(255).Nullable();
        Create.Index("ix_kpis_name_entity").OnTable("kpis").OnColumn("name").Ascending().OnColumn("entity").Ascending();
    }

    public override void Down()
    {
        Delete.Index("ix_kpis_name_entity").OnTable("kpis");
        Delete.Column("entity").FromTable("kpis");
    }
}
