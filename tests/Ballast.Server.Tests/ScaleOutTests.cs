using System.Net.Http.Json;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Ballast.Metadata;
using Ballast.Tests.Metadata;

namespace Ballast.Tests;

/// <summary>The server against PostgreSQL and S3, as a scale-out deployment runs it.</summary>
public sealed class ScaleOutTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_server_runs_against_postgres_and_s3()
    {
        var (location, drop) = await TestDatabases.CreateAsync(DatabaseEngine.Postgres);
        var bucket = "ballast-scaleout-" + Guid.NewGuid().ToString("N")[..12];
        using var s3 = new AmazonS3Client(new BasicAWSCredentials("test", "test"), new AmazonS3Config { ServiceURL = TestServices.S3Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket }, Cancel);
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(location.ConnectionString);
            await using var server = await RunningServer.StartAsync(options => options with
            {
                Database = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}",
                Artifacts = $"s3://{bucket}/ballast",
                S3Endpoint = TestServices.S3Endpoint,
                S3Region = "us-east-1",
            });
            using var client = server.Client();

            var version = await client.GetFromJsonAsync<JsonElement>("/version", Cancel);
            version.GetProperty("database").GetString().ShouldBe("postgres");
            version.GetProperty("artifacts").GetString().ShouldBe("s3");
            (await client.GetFromJsonAsync<JsonElement>("/ready", Cancel)).GetProperty("status").GetString().ShouldBe("ready");

            using var created = await client.PostAsJsonAsync("/api/v1/keys", new { name = "scale", role = "admin" }, Cancel);
            created.EnsureSuccessStatusCode();
            await using var check = await MetadataMigrator.OpenMigratedAsync(location, Cancel);
            (await new Ballast.Security.ApiKeyStore(check, TimeProvider.System).ListAsync(cancellationToken: Cancel)).ShouldHaveSingleItem().Name.ShouldBe("scale");
        }
        finally
        {
            var objects = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket }, Cancel);
            foreach (var item in objects.S3Objects ?? [])
            {
                await s3.DeleteObjectAsync(bucket, item.Key, Cancel);
            }

            await s3.DeleteBucketAsync(bucket, Cancel);
            await drop();
        }
    }

    [Fact]
    public async Task A_missing_bucket_stops_start_up_with_one_clear_line()
    {
        var dataDir = Directory.CreateTempSubdirectory("ballast-server-").FullName;
        var error = await Should.ThrowAsync<Ballast.Configuration.BallastStartupException>(() => Ballast.Server.BallastServer.PrepareAsync(
            new Ballast.Configuration.BallastOptions { DataDir = dataDir, Artifacts = "s3://no-such-bucket-here/x", S3Endpoint = TestServices.S3Endpoint, S3Region = "us-east-1" },
            cancellationToken: Cancel));

        error.IsConfigurationError.ShouldBeFalse();
        error.Message.ShouldBe($"S3 bucket 'no-such-bucket-here' does not exist at {TestServices.S3Endpoint}");
    }
}
