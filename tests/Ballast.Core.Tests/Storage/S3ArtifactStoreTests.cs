using System.Net;
using System.Net.Sockets;
using Amazon.S3.Model;
using Ballast.Storage;

namespace Ballast.Tests.Storage;

[Collection(ArtifactStoreSuite.Name)]
public sealed class S3ArtifactStoreTests(S3TestBucket bucket) : ArtifactStoreContractTests, IClassFixture<S3TestBucket>
{
    // Each test gets a folder of its own in the class's bucket; the store's root is "store" inside it.
    private readonly string _sandbox = "t-" + Guid.NewGuid().ToString("N")[..12] + "/";

    private string Prefix => _sandbox + "store";

    protected override Task<IArtifactStore> CreateStoreAsync()
    {
        _ = TestServices.S3Endpoint;
        return Task.FromResult<IArtifactStore>(S3ArtifactStore.Create(bucket.Options(Prefix), S3TestBucket.Credentials));
    }

    protected override async Task<IReadOnlyList<string>> ListOutsideRootAsync() =>
        (await bucket.ListKeysAsync()).Where(key => !key.StartsWith(Prefix + "/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    protected override async Task<int> CountUnfinishedWritesAsync()
    {
        var uploads = await bucket.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket.Name, Prefix = _sandbox }, Cancel);
        return uploads.MultipartUploads?.Count ?? 0;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (bucket.Endpoint.Length > 0)
        {
            await bucket.EmptyAsync(_sandbox);
        }
    }

    [Fact]
    public async Task Artifacts_are_keys_under_the_prefix()
    {
        await PutAsync("models/v1/model.onnx", "onnx");

        var head = await bucket.Client.GetObjectMetadataAsync(bucket.Name, Prefix + "/models/v1/model.onnx", Cancel);
        head.ContentLength.ShouldBe(4);
        Store.Location.ShouldBe($"s3://{bucket.Name}/{Prefix}");
    }

    [Fact]
    public async Task Content_larger_than_one_part_goes_up_in_parts_and_content_that_fits_in_one_put()
    {
        await Store.PutAsync("big.bin", new SeededStream(8 * 1024 * 1024 + 1, seed: 5), Cancel);
        await Store.PutAsync("exact.bin", new SeededStream(8 * 1024 * 1024, seed: 6), Cancel);

        // S3 gives multipart objects an ETag of the form "<md5 of part md5s>-<part count>".
        (await bucket.Client.GetObjectMetadataAsync(bucket.Name, Prefix + "/big.bin", Cancel)).ETag.Trim('"').ShouldEndWith("-2");
        (await bucket.Client.GetObjectMetadataAsync(bucket.Name, Prefix + "/exact.bin", Cancel)).ETag.ShouldNotContain("-");
    }

    [Fact]
    public async Task Folder_markers_made_by_other_tools_are_not_listed_as_files()
    {
        await bucket.Client.PutObjectAsync(new PutObjectRequest { BucketName = bucket.Name, Key = Prefix + "/run/", ContentBody = "" }, Cancel);
        await PutAsync("run/a.txt", "a");

        (await ListAsync("run")).Select(e => e.Path).ShouldBe(["run/a.txt"]);
        (await ListAsync("", recursive: true)).Select(e => e.Path).ShouldBe(["run/a.txt"]);
    }

    [Fact]
    public async Task Check_on_a_missing_bucket_names_the_bucket_and_the_endpoint()
    {
        var missing = bucket.Name + "-missing";
        using var store = S3ArtifactStore.Create(new S3ArtifactStoreOptions(missing, "x", bucket.Endpoint, S3TestBucket.Region), S3TestBucket.Credentials);

        var exception = await Should.ThrowAsync<ArtifactStoreUnavailableException>(() => store.CheckAsync(Cancel));

        exception.Message.ShouldBe($"S3 bucket '{missing}' does not exist at {bucket.Endpoint}");
    }

    [Fact]
    public async Task Check_against_a_closed_port_says_the_endpoint_cannot_be_reached()
    {
        var endpoint = $"http://127.0.0.1:{ClosedLoopbackPort()}";
        using var store = S3ArtifactStore.Create(new S3ArtifactStoreOptions(bucket.Name, "", endpoint, S3TestBucket.Region), S3TestBucket.Credentials);

        var exception = await Should.ThrowAsync<ArtifactStoreUnavailableException>(() => store.CheckAsync(Cancel));

        exception.Message.ShouldStartWith($"Cannot reach S3 endpoint {endpoint}: ");
        exception.Message.ShouldNotContain("\n");
    }

    [Fact]
    public async Task The_factory_builds_a_path_style_store_from_an_s3_location()
    {
        var hasCredentials = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is { Length: > 0 }
                             && Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") is { Length: > 0 };
        Assert.SkipWhen(!hasCredentials && !TestServices.InCi, "The factory reads credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, which are not set.");

        var store = ArtifactStoreFactory.Create($"s3://{bucket.Name}/{Prefix}/", bucket.Endpoint, S3TestBucket.Region);
        try
        {
            store.Location.ShouldBe($"s3://{bucket.Name}/{Prefix}");
            await store.CheckAsync(Cancel);
            await store.PutAsync("via-factory.txt", new MemoryStream([42]), Cancel);
            (await Store.ExistsAsync("via-factory.txt", Cancel)).ShouldBeTrue();
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    private static int ClosedLoopbackPort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
