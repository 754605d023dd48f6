using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Ballast.Storage;

namespace Ballast.Tests.Storage;

/// <summary>Start-up reports an unusable bucket in one line that says what to fix.</summary>
public sealed class S3CheckMessageTests
{
    private static readonly S3ArtifactStoreOptions Options = new("models", "prod", "http://127.0.0.1:9000", "us-east-1");

    [Fact]
    public async Task Wrong_credentials_are_reported_as_such_by_a_real_s3_endpoint()
    {
        var options = new S3ArtifactStoreOptions("models", "prod", TestServices.S3AuthEndpoint, "us-east-1");
        using var store = S3ArtifactStore.Create(options, new BasicAWSCredentials("AKIAWRONGWRONGWRONG0", "not-the-secret"));

        var exception = await Should.ThrowAsync<ArtifactStoreUnavailableException>(() => store.CheckAsync(TestContext.Current.CancellationToken));

        exception.Message.ShouldBe("S3 rejected the credentials for bucket 'models' (InvalidAccessKeyId): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
        exception.Message.ShouldNotContain("not-the-secret");
    }

    // Answers that moto does not give; the exception values are what the AWS SDK raises for them.
    [Theory]
    [InlineData("SignatureDoesNotMatch", HttpStatusCode.Forbidden, "S3 rejected the credentials for bucket 'models' (SignatureDoesNotMatch): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")]
    [InlineData("AccessDenied", HttpStatusCode.Forbidden, "S3 denied access to bucket 'models' (AccessDenied): the credentials need to list, read, write and delete objects in it")]
    [InlineData("NoSuchBucket", HttpStatusCode.NotFound, "S3 bucket 'models' does not exist at http://127.0.0.1:9000")]
    [InlineData("SlowDown", HttpStatusCode.ServiceUnavailable, "S3 endpoint http://127.0.0.1:9000 answered 503 SlowDown for bucket 'models': Please reduce your request rate.")]
    public void S3_error_answers_become_one_readable_line(string code, HttpStatusCode status, string expected)
    {
        var answer = new AmazonS3Exception("Please reduce your request rate.\nRequestId: 1", ErrorType.Sender, code, "request-1", status);
        using var store = S3ArtifactStore.Create(Options, new BasicAWSCredentials("test", "test"));

        store.Describe(answer).ShouldBe(expected);
    }

    [Fact]
    public void Missing_credentials_say_which_variables_to_set()
    {
        var failure = new AmazonClientException("Failed to resolve AWS credentials. The credential providers used to search for credentials returned the following errors:\n\nException 1 of 4: …");
        using var store = S3ArtifactStore.Create(Options, new BasicAWSCredentials("test", "test"));

        store.Describe(failure).ShouldBe("No AWS credentials found for S3 bucket 'models': set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or use an AWS profile or role)");
    }

    [Fact]
    public void Aws_without_a_region_says_to_set_one()
    {
        var region = Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION");
        Assert.SkipWhen(region is not null, "AWS_REGION is set, so the SDK finds a region.");

        Should.Throw<ArtifactStoreUnavailableException>(() => ArtifactStoreFactory.Create("s3://models/prod", null, null))
            .Message.ShouldBe("S3 bucket 'models' needs a region: set AWS_REGION (or give an S3-compatible endpoint)");
    }
}
