using Ballast.Tracking;

namespace Ballast.Tests.Tracking;

/// <summary>
/// <c>runs:/</c> URIs read as MLflow reads them: the cases of mlflow/tests/store/artifact/test_runs_artifact_repo.py
/// (<c>test_parse_runs_uri_valid_input</c> and <c>_invalid_input</c>), except the Databricks profile authority, which
/// names another tracking server's run.
/// </summary>
public sealed class RunArtifactUriTests
{
    [Theory]
    [InlineData("runs:/1234abcdf1394asdfwer33/path/to/model", "1234abcdf1394asdfwer33", "path/to/model")]
    [InlineData("runs:/1234abcdf1394asdfwer33/path/to/model/", "1234abcdf1394asdfwer33", "path/to/model/")]
    [InlineData("runs:/1234abcdf1394asdfwer33", "1234abcdf1394asdfwer33", null)]
    [InlineData("runs:/1234abcdf1394asdfwer33/", "1234abcdf1394asdfwer33", null)]
    [InlineData("runs:///1234abcdf1394asdfwer33/", "1234abcdf1394asdfwer33", null)]
    [InlineData("runs:///1234abcdf1394asdfwer33/model", "1234abcdf1394asdfwer33", "model")]
    [InlineData("runs:/abc//model", "abc", "/model")]
    [InlineData("runs:/abc//", "abc", "/")]
    [InlineData("runs:/abc/model?x=1", "abc", "model")]
    [InlineData("runs:/abc/model#part", "abc", "model")]
    [InlineData("runs:/abc?x=1", "abc", null)]
    public void A_runs_uri_gives_its_run_and_artifact_path_as_mlflow_reads_them(string uri, string runId, string? artifactPath)
    {
        RunArtifactUri.TryParse(uri, out var parsed).ShouldBeTrue();

        parsed.ShouldBe(new RunArtifactUri(runId, artifactPath));
    }

    [Theory]
    [InlineData("notruns:/1234abcdf1394asdfwer33/")]
    [InlineData("runs:/")]
    [InlineData("runs:")]
    [InlineData("runs://")]
    [InlineData("runs:1234abcdf1394asdfwer33/")]
    [InlineData("runs://1234abcdf1394asdfwer33/")]
    [InlineData("runs://profile@databricks/1234abcdf1394asdfwer33/path")]
    [InlineData("runs:/?x=1")]
    [InlineData("RUNS:/1234abcdf1394asdfwer33/model")]
    [InlineData("mlflow-artifacts:/0/abc/artifacts/model")]
    [InlineData("")]
    [InlineData(null)]
    public void Anything_without_a_run_id_of_this_server_is_not_a_runs_uri(string? uri)
    {
        RunArtifactUri.TryParse(uri, out var parsed).ShouldBeFalse();

        parsed.ShouldBeNull();
    }

    [Fact]
    public void A_malformed_runs_uri_still_has_the_runs_scheme()
    {
        RunArtifactUri.HasScheme("runs:/").ShouldBeTrue();
        RunArtifactUri.HasScheme("runs:abc").ShouldBeTrue();
        RunArtifactUri.HasScheme("models:/m/1").ShouldBeFalse();
    }

    [Theory]
    [InlineData("runs:/abc/model", "mlflow-artifacts:/0/abc/artifacts", "mlflow-artifacts:/0/abc/artifacts/model")]
    [InlineData("runs:/abc/model/", "mlflow-artifacts:/0/abc/artifacts/", "mlflow-artifacts:/0/abc/artifacts/model")]
    [InlineData("runs:/abc/model/model.zip", "s3://bucket/abc/artifacts", "s3://bucket/abc/artifacts/model/model.zip")]
    [InlineData("runs:/abc", "mlflow-artifacts:/0/abc/artifacts/", "mlflow-artifacts:/0/abc/artifacts")]
    [InlineData("runs:/abc/", "mlflow-artifacts:/0/abc/artifacts", "mlflow-artifacts:/0/abc/artifacts")]
    public void An_artifact_is_found_under_its_runs_artifact_root_a_trailing_slash_naming_the_same_folder(string uri, string root, string expected)
    {
        RunArtifactUri.TryParse(uri, out var parsed).ShouldBeTrue();

        parsed.Under(root).ShouldBe(expected);
    }

    [Fact]
    public void A_runs_uri_prints_in_its_plain_form()
    {
        new RunArtifactUri("abc", "model").ToString().ShouldBe("runs:/abc/model");
        new RunArtifactUri("abc", null).ToString().ShouldBe("runs:/abc");
    }
}
