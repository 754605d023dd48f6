using FluentMigrator;

namespace Ballast.Metadata.Migrations;

/// <summary>
/// The versions registered from a logged model (its <c>registrations</c>), found by the version's <c>model_id</c>: an
/// index, so that reading a page of logged models does not scan every version.
/// </summary>
[Migration(32, "Model versions by logged model")]
public sealed class M0032ModelVersionsByLoggedModel : Migration
{
    public override void Up() => Create.Index("ix_model_versions_model_id").OnTable("model_versions").OnColumn("model_id").Ascending();

    public override void Down() => Delete.Index("ix_model_versions_model_id").OnTable("model_versions");
}
