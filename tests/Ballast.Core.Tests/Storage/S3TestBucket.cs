using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Ballast.Storage;

namespace Ballast.Tests.Storage;

/// <summary>
/// A bucket of its own on the test S3 endpoint (moto_server) for one test class, emptied and removed afterwards.
/// Does nothing when no endpoint is configured; the tests themselves then skip (or fail in CI) through <see cref="TestServices"/>.
/// </summary>
public sealed class S3TestBucket : IAsyncLifetime
{
    public const string Region = "us-east-1";

    private AmazonS3Client? _client;

    public string Name { get; } = "ballast-test-" + Guid.NewGuid().ToString("N")[..16];

    public string Endpoint { get; private set; } = "";

    /// <summary>The credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or moto's accept-anything pair when they are unset.</summary>
    public static AWSCredentials Credentials =>
        Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is { Length: > 0 } id
        && Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") is { Length: > 0 } secret
            ? new BasicAWSCredentials(id, secret)
            : new BasicAWSCredentials("test", "test");

    public IAmazonS3 Client => _client ?? throw new InvalidOperationException("No S3 endpoint is configured.");

    public S3ArtifactStoreOptions Options(string prefix) => new(Name, prefix, Endpoint, Region);

    public async ValueTask InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("BALLAST_TEST_S3_ENDPOINT") is not { Length: > 0 } endpoint)
        {
            return;
        }

        Endpoint = endpoint;
        _client = S3ArtifactStore.CreateClient(new S3ArtifactStoreOptions(Name, "", endpoint, Region), Credentials);
        await _client.PutBucketAsync(Name);
    }

    /// <summary>Deletes every object and open multipart upload under <paramref name="prefix"/> ("" for the whole bucket).</summary>
    public async Task EmptyAsync(string prefix)
    {
        var uploads = await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Name, Prefix = prefix });
        foreach (var upload in uploads.MultipartUploads ?? [])
        {
            await Client.AbortMultipartUploadAsync(Name, upload.Key, upload.UploadId);
        }

        var request = new ListObjectsV2Request { BucketName = Name, Prefix = prefix };
        do
        {
            var page = await Client.ListObjectsV2Async(request);
            foreach (var item in page.S3Objects ?? [])
            {
                await Client.DeleteObjectAsync(Name, item.Key);
            }

            request.ContinuationToken = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);
    }

    public async Task<List<string>> ListKeysAsync()
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = Name };
        do
        {
            var page = await Client.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(item => item.Key));
            request.ContinuationToken = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);

        return keys;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is null)
        {
            return;
        }

        await EmptyAsync("");
        await _client.DeleteBucketAsync(Name);
        _client.Dispose();
    }
}
