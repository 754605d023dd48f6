using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// The dashboard's ASP.NET Core Data Protection key ring (the keys that protect session cookies and anti-forgery
/// tokens), one XML element a row, shared by every replica so that a cookie issued by one is accepted by the others.
/// Rows are only ever added: the framework expires and revokes keys by adding elements, never by changing them.
/// </summary>
[Migration(21, "Data protection keys")]
public sealed class M0021DataProtectionKeys : Migration
{
    public override void Up()
    {
        Create.Table("data_protection_keys")
            .WithColumn("id").AsInt64().PrimaryKey().Identity()
            .WithColumn("name").AsString(255).NotNullable()
            .WithColumn("xml").AsString(int.MaxValue).NotNullable()
            .WithColumn("created_at").AsInt64().NotNullable();
    }

    public override void Down() => Delete.Table("data_protection_keys");
}
