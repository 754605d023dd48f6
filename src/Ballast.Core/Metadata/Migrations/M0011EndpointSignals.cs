using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>The latest value of each regime signal posted for an endpoint, shared by every replica.</summary>
[Migration(11, "Endpoint signals")]
public sealed class M0011EndpointSignals : Migration
{
    public override void Up() =>
        Create.Table("endpoint_signals")
            .WithColumn("endpoint").AsString(63).PrimaryKey()
            .WithColumn("name").AsString(63).PrimaryKey()
            .WithColumn("value").AsCustom("DOUBLE PRECISION").NotNullable()
            .WithColumn("posted_at").AsInt64().NotNullable();

    public override void Down() => Delete.Table("endpoint_signals");
}
