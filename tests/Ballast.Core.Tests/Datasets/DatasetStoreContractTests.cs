using System.Text;
using Ballast.Datasets;
using Ballast.Metadata;
using Ballast.Storage;
using Ballast.Tests.Metadata;
using Ballast.Tests.Storage;
using Ballast.Tracking;

namespace Ballast.Tests.Datasets;

/// <summary>Dataset versions with DVC's semantics on SQLite and PostgreSQL, files in a local artifact store.</summary>
public abstract class DatasetStoreContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    private readonly DirectoryInfo _artifacts = Directory.CreateTempSubdirectory("ballast-datasets-");

    private IArtifactStore Artifacts => ArtifactStoreFactory.Create(_artifacts.FullName, null, null);

    private DatasetStore Datasets => new(Database, Artifacts, Time, new DatasetProfiler(256));

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _artifacts.Delete(recursive: true);
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Files_become_a_version_with_a_manifest_and_a_profile()
    {
        var files = new[] { await UploadAsync("train.csv", "x,label\n1,a\n2,b\n3,a\n"), await UploadAsync("README.md", "# churn") };

        var added = await Datasets.AddVersionAsync("churn", files, "first cut", "ana", Cancel);

        added.Created.ShouldBeTrue();
        var version = added.Version;
        version.Reference.ShouldBe("churn@1");
        version.Digest.ShouldBe(DatasetStore.Digest(files));
        version.Files!.Select(file => file.Path).ShouldBe(["README.md", "train.csv"], "manifest in path order");
        version.FileCount.ShouldBe(2);
        version.SizeBytes.ShouldBe(files.Sum(file => file.Size));
        version.RowCount.ShouldBe(3);
        version.CreatedBy.ShouldBe("ana");
        version.CreatedAt.ShouldBe(Time.GetUtcNow().ToUnixTimeMilliseconds());
        var table = version.Profile!.Tables.ShouldHaveSingleItem();
        table.Path.ShouldBe("train.csv");
        table.Columns.Single(column => column.Name == "label").TopValues.ShouldBe([new ValueCount("a", 2), new ValueCount("b", 1)]);

        var read = await Datasets.GetVersionAsync(DatasetReference.Parse("churn@1"), Cancel);
        read.Digest.ShouldBe(version.Digest);
        read.Files.ShouldBe(version.Files);
        System.Text.Json.JsonSerializer.Serialize(read.Profile!, DatasetJsonContext.Default.DatasetProfile)
            .ShouldBe(System.Text.Json.JsonSerializer.Serialize(version.Profile, DatasetJsonContext.Default.DatasetProfile), "the profile survives its round trip through the database");
    }

    [Fact]
    public async Task The_same_bytes_give_back_the_same_version_and_changed_bytes_a_new_one()
    {
        var a = await UploadAsync("a.csv", "v\n1\n");
        var b = await UploadAsync("b.csv", "v\n2\n");
        var first = await Datasets.AddVersionAsync("d", [a, b], cancellationToken: Cancel);

        var again = await Datasets.AddVersionAsync("d", [b, a], "listed the other way round", cancellationToken: Cancel);
        again.Created.ShouldBeFalse();
        again.Version.Version.ShouldBe(1);
        again.Version.Message.ShouldBeNull("the existing version is returned as it was");

        var changed = await Datasets.AddVersionAsync("d", [a, await UploadAsync("b.csv", "v\n3\n")], cancellationToken: Cancel);
        changed.Created.ShouldBeTrue();
        changed.Version.Version.ShouldBe(2);
        changed.Version.Digest.ShouldNotBe(first.Version.Digest);

        var renamed = await Datasets.AddVersionAsync("d", [a, b with { Path = "c.csv" }], cancellationToken: Cancel);
        renamed.Version.Version.ShouldBe(3, "a renamed file is a different dataset version");

        (await Datasets.GetVersionAsync(DatasetReference.Parse("d"), Cancel)).Version.ShouldBe(3);
        (await Datasets.GetVersionAsync(DatasetReference.Parse("d@latest"), Cancel)).Version.ShouldBe(3);
        (await Datasets.ListVersionsAsync("d", Cancel)).Select(version => (version.Version, version.Files)).ShouldBe([(3L, null), (2L, null), (1L, null)]);
        var listed = (await Datasets.ListAsync(Cancel)).ShouldHaveSingleItem();
        (listed.Name, listed.LatestVersion, listed.VersionCount).ShouldBe(("d", 3L, 3L));
        (await Datasets.FindByDigestAsync("d", first.Version.Digest[..12], Cancel))!.Version.ShouldBe(1);
        (await Datasets.FindByDigestAsync("d", first.Version.Digest[..4], Cancel)).ShouldBeNull("too short a prefix to mean anything");
    }

    [Fact]
    public async Task Uploads_and_manifests_that_do_not_add_up_are_refused_with_the_reason()
    {
        var file = await UploadAsync("a.csv", "v\n1\n");
        var otherHash = ContentAddressing.Sha256Hex("something else"u8);

        (await Should.ThrowAsync<TrackingException>(() => Datasets.PutBlobAsync(otherHash, new MemoryStream("v\n1\n"u8.ToArray()), Cancel)))
            .Message.ShouldStartWith($"The uploaded content hashes to {file.Sha256}, not {otherHash}");
        (await Datasets.HasBlobAsync(otherHash, Cancel)).ShouldBeFalse();

        var missing = await Should.ThrowAsync<TrackingException>(() => Datasets.AddVersionAsync("d", [file, new DatasetFile("b.csv", 3, otherHash)], cancellationToken: Cancel));
        missing.Message.ShouldStartWith($"1 file(s) of the manifest have not been uploaded: 'b.csv' ({otherHash})");
        (await Should.ThrowAsync<TrackingException>(() => Datasets.AddVersionAsync("d", [file with { Size = 99 }], cancellationToken: Cancel)))
            .Message.ShouldBe($"File 'a.csv' is 99 bytes in the manifest but the stored content with SHA-256 {file.Sha256} is {file.Size} bytes.");
        (await Should.ThrowAsync<TrackingException>(() => Datasets.AddVersionAsync("d", [file, file], cancellationToken: Cancel))).Message.ShouldBe("File path 'a.csv' appears twice in the manifest.");
        (await Should.ThrowAsync<TrackingException>(() => Datasets.AddVersionAsync("d", [file with { Path = "../a.csv" }], cancellationToken: Cancel))).Message.ShouldStartWith("File path '../a.csv':");
        (await Should.ThrowAsync<TrackingException>(() => Datasets.AddVersionAsync("d", [file with { Sha256 = "ABC" }], cancellationToken: Cancel))).Message.ShouldBe("File 'a.csv': 'ABC' is not a SHA-256 in 64 lowercase hex digits.");
        (await Should.ThrowAsync<TrackingException>(() => Datasets.AddVersionAsync("d", [], cancellationToken: Cancel))).Message.ShouldBe("A dataset version needs at least one file.");
        (await Should.ThrowAsync<TrackingException>(() => Datasets.AddVersionAsync("churn@2", [file], cancellationToken: Cancel))).Message.ShouldStartWith("Invalid dataset name 'churn@2'");

        (await Should.ThrowAsync<TrackingException>(() => Datasets.GetVersionAsync(DatasetReference.Parse("nope@1"), Cancel))).Code.ShouldBe(TrackingException.ResourceDoesNotExist);
        await Datasets.AddVersionAsync("d", [file], cancellationToken: Cancel);
        (await Should.ThrowAsync<TrackingException>(() => Datasets.GetVersionAsync(DatasetReference.Parse("d@7"), Cancel)))
            .Message.ShouldBe("Dataset 'd' has no version 7; `ballast data show d` lists its versions.");
        Should.Throw<TrackingException>(() => DatasetReference.Parse("d@x")).Message.ShouldBe("'x' in 'd@x' is not a version: use a positive number or 'latest'.");
    }

    [Fact]
    public async Task Concurrent_adds_get_distinct_numbers_and_identical_concurrent_adds_one_version()
    {
        var distinct = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => UploadAsync("part.csv", $"v\n{i}\n")));
        var shared = await UploadAsync("same.csv", "v\n42\n");

        var versions = await Task.WhenAll(distinct.Select(async file =>
        {
            await using var replica = new MetadataDatabase(Location);
            return (await new DatasetStore(replica, Artifacts, Time, new DatasetProfiler(256)).AddVersionAsync("busy", [file], cancellationToken: Cancel)).Version.Version;
        }));
        versions.Order().ToList().ShouldBe([1L, 2, 3, 4, 5, 6, 7, 8], "8 writers, no duplicate and no gap");

        var same = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            await using var replica = new MetadataDatabase(Location);
            return (await new DatasetStore(replica, Artifacts, Time, new DatasetProfiler(256)).AddVersionAsync("once", [shared], cancellationToken: Cancel)).Version.Version;
        }));
        same.ShouldAllBe(version => version == 1);
        (await Datasets.ListVersionsAsync("once", Cancel)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_diff_names_file_schema_and_statistic_changes()
    {
        var v1 = (await Datasets.AddVersionAsync("d", [await UploadAsync("train.csv", "age,city,old\n30,A,1\n40,B,1\n50,A,1\n"), await UploadAsync("notes.txt", "a")], cancellationToken: Cancel)).Version;
        var v2 = (await Datasets.AddVersionAsync("d", [await UploadAsync("train.csv", "age,city,extra\n30,A,x\n40,B,y\n,A,z\n90,C,w\n"), await UploadAsync("labels.txt", "b")], cancellationToken: Cancel)).Version;

        var diff = DatasetDiff.Compare(v1, v2);

        diff.From.ShouldBe("d@1");
        diff.To.ShouldBe("d@2");
        diff.Identical.ShouldBeFalse();
        diff.FilesAdded.ShouldBe(["labels.txt"]);
        diff.FilesRemoved.ShouldBe(["notes.txt"]);
        diff.FilesChanged.ShouldBe(["train.csv"]);
        var table = diff.Tables.ShouldHaveSingleItem();
        (table.RowsBefore, table.RowsAfter).ShouldBe((3L, 4L));
        table.ColumnsAdded.ShouldBe([new ColumnSchema("extra", "VARCHAR")]);
        table.ColumnsRemoved.ShouldBe([new ColumnSchema("old", "BIGINT")]);
        var age = table.ColumnChanges.Single(change => change.Name == "age").Stats.ToDictionary(stat => stat.Stat);
        age["null_fraction"].ShouldBe(new StatChange("null_fraction", 0, 0.25));
        age["max"].ShouldBe(new StatChange("max", 50, 90));
        age["mean"].ShouldBe(new StatChange("mean", 40, (30 + 40 + 90) / 3.0));
        age.ContainsKey("min").ShouldBeFalse("unchanged statistics are left out");
        table.ColumnChanges.Single(change => change.Name == "city").Stats.Select(stat => stat.Stat).ShouldBe(["distinct"]);

        DatasetDiff.Compare(v1, v1).Identical.ShouldBeTrue();
        DatasetDiff.Compare(v1, v1).Tables.ShouldBeEmpty();
    }

    private async Task<DatasetFile> UploadAsync(string path, string content)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        var sha = ContentAddressing.Sha256Hex(bytes);
        await Datasets.PutBlobAsync(sha, new MemoryStream(bytes), Cancel);
        return new DatasetFile(path, bytes.Length, sha);
    }
}

public sealed class SqliteDatasetStoreTests() : DatasetStoreContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresDatasetStoreTests() : DatasetStoreContractTests(DatabaseEngine.Postgres);

/// <summary>The same store over S3 (moto_server): tabular files are profiled from a temporary copy.</summary>
public sealed class S3DatasetStoreTests(S3TestBucket bucket) : DatabaseTest(DatabaseEngine.Sqlite), IClassFixture<S3TestBucket>
{
    [Fact]
    public async Task Files_in_s3_are_stored_profiled_and_read_back()
    {
        _ = TestServices.S3Endpoint;
        var store = S3ArtifactStore.Create(bucket.Options("datasets-" + Guid.NewGuid().ToString("N")[..8]), S3TestBucket.Credentials);
        var datasets = new DatasetStore(Database, store, Time, new DatasetProfiler(256));
        var bytes = await File.ReadAllBytesAsync(TestServices.Fixture("davis.csv"), Cancel);
        var sha = ContentAddressing.Sha256Hex(bytes);
        await datasets.PutBlobAsync(sha, new MemoryStream(bytes), Cancel);

        var version = (await datasets.AddVersionAsync("davis", [new DatasetFile("davis.csv", bytes.Length, sha)], cancellationToken: Cancel)).Version;

        version.RowCount.ShouldBe(200);
        version.Profile!.Tables.Single().Columns.Single(column => column.Name == "repwt").Nulls.ShouldBe(17);
        await using var read = await datasets.OpenBlobAsync(sha, Cancel);
        (await ContentAddressing.Sha256HexAsync(read, Cancel)).ShouldBe(sha);
    }
}
