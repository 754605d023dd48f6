using Ballast.Storage;

namespace Ballast.Tests.Storage;

public sealed class ArtifactLocationTests
{
    [Theory]
    [InlineData("s3://models", "models", "")]
    [InlineData("s3://models/", "models", "")]
    [InlineData("s3://my.models-2/ballast/prod/", "my.models-2", "ballast/prod")]
    [InlineData("S3://models/p", "models", "p")]
    public void S3_locations_give_bucket_and_prefix(string value, string bucket, string prefix)
    {
        ArtifactLocation.TryParse(value, out var location, out var error).ShouldBeTrue(error);

        location!.IsS3.ShouldBeTrue();
        location.Bucket.ShouldBe(bucket);
        location.Prefix.ShouldBe(prefix);
        location.Folder.ShouldBeNull();
    }

    [Theory]
    [InlineData("s3://", "names no bucket")]
    [InlineData("s3:///prefix", "names no bucket")]
    [InlineData("s3://ab/x", "invalid bucket name 'ab'")]
    [InlineData("s3://My_Bucket/x", "invalid bucket name 'My_Bucket'")]
    [InlineData("s3://-models/x", "invalid bucket name")]
    [InlineData("s3://models../x", "invalid bucket name")]
    [InlineData("s3://192.168.1.10/x", "invalid bucket name")]
    [InlineData("s3://models/a/../b", "invalid key prefix: '..' segments are not allowed")]
    [InlineData("s3://models/a//b", "invalid key prefix")]
    [InlineData("gs://models/x", "unsupported scheme 'gs'")]
    [InlineData("https://example.com/x", "unsupported scheme 'https'")]
    [InlineData("file://server/share", "not a local file URI")]
    [InlineData("", "is empty")]
    [InlineData("   ", "is empty")]
    public void Bad_locations_are_reported_without_creating_anything(string value, string expected)
    {
        ArtifactLocation.TryParse(value, out var error).ShouldBeFalse();

        error.ShouldNotBeNull().ShouldContain(expected);
        Should.Throw<ArgumentException>(() => ArtifactStoreFactory.Create(value, null, null)).Message.ShouldContain(expected);
    }

    [Fact]
    public void Folders_are_made_absolute_and_file_uris_accepted()
    {
        ArtifactLocation.Parse("ballast-data/artifacts/").Folder.ShouldBe(Path.GetFullPath("ballast-data/artifacts"));
        ArtifactLocation.Parse("file:///var/lib/ballast/artifacts").Folder.ShouldBe(Path.GetFullPath("/var/lib/ballast/artifacts"));
        ArtifactLocation.Parse("file:///srv/with%20space").Folder.ShouldBe(Path.GetFullPath("/srv/with space"));
        ArtifactLocation.Parse("/abs").IsS3.ShouldBeFalse();
    }

    [Fact]
    public void The_factory_picks_the_store_by_location()
    {
        var folder = Path.Combine(Path.GetTempPath(), "ballast-factory-" + Guid.NewGuid().ToString("N"));
        ArtifactStoreFactory.Create("file://" + folder, null, null).ShouldBeOfType<FileArtifactStore>().Location.ShouldBe(folder);
        Directory.Exists(folder).ShouldBeFalse("creating a store touches nothing");

        using var s3 = ArtifactStoreFactory.Create("s3://models/prod", "http://127.0.0.1:9", "us-east-1").ShouldBeOfType<S3ArtifactStore>();
        s3.Location.ShouldBe("s3://models/prod");
    }
}
