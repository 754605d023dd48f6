using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// How far each replica's prediction log is in segments: every record a replica stamped before <c>rolled_until</c> is
/// in the artifact store. Monitors close a window only once every live replica's mark has passed its end, so records
/// still in another replica's write-ahead file are not left out of the window they belong to.
/// </summary>
[Migration(23, "Prediction log watermarks")]
public sealed class M0023PredictionLogWatermarks : Migration
{
    public override void Up() =>
        Create.Table("prediction_log_watermarks")
            .WithColumn("instance").AsString(64).PrimaryKey()
            .WithColumn("rolled_until").AsInt64().NotNullable()
            .WithColumn("updated_at").AsInt64().NotNullable();

    public override void Down() => Delete.Table("prediction_log_watermarks");
}
