using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>API keys and leases. Times are Unix epoch milliseconds (bigint), as MLflow stores them.</summary>
[Migration(1, "API keys and controller leases")]
public sealed class M0001Foundation : Migration
{
    public override void Up()
    {
        Create.Table("api_keys")
            .WithColumn("id").AsString(32).PrimaryKey()
            .WithColumn("name").AsString(64).NotNullable()
            .WithColumn("role").AsString(16).NotNullable()
            .WithColumn("salt").AsString(64).NotNullable()
            .WithColumn("hash").AsString(128).NotNullable()
            .WithColumn("created_at").AsInt64().NotNullable()
            .WithColumn("revoked_at").AsInt64().Nullable();

        // A name is unique among live keys; a revoked key's name can be given to a new key.
        Execute.Sql("CREATE UNIQUE INDEX ux_api_keys_live_name ON api_keys (name) WHERE revoked_at IS NULL");

        Create.Table("leases")
            .WithColumn("name").AsString(200).PrimaryKey()
            .WithColumn("holder").AsString(200).NotNullable()
            .WithColumn("epoch").AsInt64().NotNullable()
            .WithColumn("acquired_at").AsInt64().NotNullable()
            .WithColumn("expires_at").AsInt64().NotNullable();
    }

    public override void Down()
    {
        Delete.Table("leases");
        Delete.Table("api_keys");
    }
}
