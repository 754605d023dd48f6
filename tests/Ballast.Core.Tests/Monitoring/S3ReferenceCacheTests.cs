using Ballast.Datasets;
using Ballast.Metadata;
using Ballast.Monitoring;
using Ballast.Storage;
using Ballast.Tests.Metadata;
using Ballast.Tests.Storage;

namespace Ballast.Tests.Monitoring;

/// <summary>
/// The monitors' reference cache over an S3 artifact store (moto_server): a dataset file is downloaded once (the S3
/// response stream hashed while it is copied), read in place by later windows, and a store object that is not its
/// content address fails with nothing cached.
/// </summary>
public sealed class S3ReferenceCacheTests(S3TestBucket bucket) : FolderDatabaseTest(DatabaseEngine.Sqlite, "ballast-s3-reference-cache-"), IClassFixture<S3TestBucket>
{
    [Fact]
    public async Task A_dataset_file_in_s3_is_downloaded_once_verified_and_read_in_place()
    {
        _ = TestServices.S3Endpoint;
        var prefix = "references-" + Guid.NewGuid().ToString("N")[..8];
        var store = new CountingArtifactStore(S3ArtifactStore.Create(bucket.Options(prefix), S3TestBucket.Credentials));
        var datasets = new DatasetStore(Database, store, Time, new DatasetProfiler(256));
        var bytes = await File.ReadAllBytesAsync(TestServices.Fixture("davis.csv"), Cancel);
        var file = new DatasetFile("davis.csv", bytes.Length, ContentAddressing.Sha256Hex(bytes));
        await datasets.PutBlobAsync(file.Sha256, new MemoryStream(bytes), Cancel);
        var recorder = new ReferenceCacheRecorder();
        var cache = new ReferenceCache(PathIn("cache"), 1 << 20, Time, recorder);
        Task<Stream> Open(CancellationToken token) => datasets.OpenBlobAsync(file.Sha256, token);

        for (var window = 0; window < 3; window++)
        {
            using var lease = (await cache.BlobAsync(file, Open, Cancel)).ShouldNotBeNull();
            lease.Path.ShouldBe(Path.Combine(PathIn("cache"), $"blob-{file.Sha256}.csv"));
            (await File.ReadAllBytesAsync(lease.Path, Cancel)).ShouldBe(bytes);
            using var table = ReferenceTable.FromFile("davis", lease.Path, file, lease);
            table.Rows.ShouldBe(200);
        }

        store.Opens(DatasetStore.BlobPath(file.Sha256)).ShouldBe(1);
        recorder.Events.ShouldBe(["blob:miss", "blob:hit", "blob:hit"]);

        // Another server with its own cache, and the S3 object replaced by other bytes of the same size.
        var other = (byte[])bytes.Clone();
        other[100] ^= 0xff;
        await store.PutAsync(DatasetStore.BlobPath(file.Sha256), new MemoryStream(other), Cancel);
        var elsewhere = new ReferenceCache(PathIn("other-cache"), 1 << 20, Time);
        var failure = await Should.ThrowAsync<DriftInputException>(() => elsewhere.BlobAsync(file, Open, Cancel));
        failure.Message.ShouldContain("the stored copy is damaged");
        Directory.GetFiles(PathIn("other-cache")).ShouldBeEmpty();
        await bucket.EmptyAsync(prefix);
    }
}
