using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Ballast.Storage;

/// <summary>
/// Artifacts in an S3 bucket (AWS or any S3-compatible endpoint), under a key prefix. Uploads hold one part in memory:
/// content that fits in a part is sent with a single PUT, anything larger as a multipart upload that is completed only
/// when every part arrived (and aborted otherwise), so readers never see a partial object.
/// </summary>
internal sealed class S3ArtifactStore : IArtifactStore, IDisposable
{
    // S3 refuses multipart uploads with more parts, and parts (but the last) below 5 MiB.
    private const int MaxParts = 10_000;
    private const int MinPartSize = 5 * 1024 * 1024;

    // A healthy endpoint answers a one-key listing in milliseconds; a black-holed one would otherwise hang start-up.
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(15);

    private readonly IAmazonS3 _client;
    private readonly S3ArtifactStoreOptions _options;
    private readonly string _bucket;
    private readonly string _keyPrefix;

    /// <summary>Takes ownership of <paramref name="client"/>: disposing the store disposes it.</summary>
    public S3ArtifactStore(IAmazonS3 client, S3ArtifactStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        if (options.PartSize < MinPartSize)
        {
            throw new ArgumentException($"The part size must be at least {MinPartSize} bytes (an S3 limit), not {options.PartSize}.", nameof(options));
        }

        _client = client;
        _options = options;
        _bucket = options.Bucket;
        var prefix = ArtifactPath.ValidatePrefix(options.Prefix.Trim('/'));
        _keyPrefix = prefix.Length == 0 ? "" : prefix + "/";
        Location = prefix.Length == 0 ? $"s3://{_bucket}" : $"s3://{_bucket}/{prefix}";
    }

    public string Location { get; }

    /// <summary>A store with its own client; <paramref name="credentials"/> null means the AWS SDK's default chain.</summary>
    public static S3ArtifactStore Create(S3ArtifactStoreOptions options, AWSCredentials? credentials = null) =>
        new(CreateClient(options, credentials), options);

    public static AmazonS3Client CreateClient(S3ArtifactStoreOptions options, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new AmazonS3Config
        {
            // Checksums only where S3 demands them: S3-compatible servers (moto, older MinIO, Ceph) reject or mangle
            // the CRC trailers that SDK v4 adds by default, and our own SHA-256 already covers the content.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl is { } serviceUrl)
        {
            config.ServiceURL = serviceUrl;
            // Custom endpoints rarely have wildcard DNS for virtual-hosted buckets.
            config.ForcePathStyle = true;
            config.AuthenticationRegion = options.Region ?? "us-east-1";
        }
        else if (options.Region is { } region)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        try
        {
            return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
        }
        catch (AmazonClientException exception) when (options.ServiceUrl is null && exception.Message.Contains("RegionEndpoint", StringComparison.Ordinal))
        {
            throw new ArtifactStoreUnavailableException($"S3 bucket '{options.Bucket}' needs a region: set AWS_REGION (or give an S3-compatible endpoint)", exception);
        }
        catch (AmazonClientException exception)
        {
            throw new ArtifactStoreUnavailableException($"Cannot use S3 bucket '{options.Bucket}': {FirstLine(exception.Message)}", exception);
        }
    }

    public async Task<ArtifactEntry> PutAsync(string path, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var key = KeyFor(ArtifactPath.Validate(path));
        var partSize = _options.PartSize;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        var buffer = ArrayPool<byte>.Shared.Rent(partSize);
        try
        {
            var part = await ReadPartAsync(content, buffer, 0, partSize, hash, cancellationToken).ConfigureAwait(false);
            if (!part.More)
            {
                using var body = new MemoryStream(buffer, 0, part.Length, writable: false);
                await _client.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = _bucket,
                    Key = key,
                    InputStream = body,
                    AutoCloseStream = false,
                    UseChunkEncoding = false,
                }, cancellationToken).ConfigureAwait(false);
                return new ArtifactEntry(path, IsDirectory: false, part.Length, Convert.ToHexStringLower(hash.GetHashAndReset()));
            }

            var size = await PutMultipartAsync(key, content, buffer, part, hash, cancellationToken).ConfigureAwait(false);
            return new ArtifactEntry(path, IsDirectory: false, size, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        var key = KeyFor(ArtifactPath.Validate(path));
        try
        {
            var response = await _client.GetObjectAsync(_bucket, key, cancellationToken).ConfigureAwait(false);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception exception) when (IsMissingKey(exception))
        {
            throw new ArtifactNotFoundException(path);
        }
    }

    public async IAsyncEnumerable<ArtifactEntry> ListAsync(string prefix, bool recursive = false, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var folder = ArtifactPath.ValidatePrefix(prefix);
        var request = new ListObjectsV2Request
        {
            BucketName = _bucket,
            Prefix = folder.Length == 0 ? _keyPrefix : _keyPrefix + folder + "/",
            Delimiter = recursive ? null : "/",
        };

        // S3 orders a delimited listing by raw key, where "sub/" sorts after "sub.txt"; entries are ordered by path
        // ("sub" before "sub.txt"), so one folder's listing is collected and sorted. Recursive listings stream.
        var collected = recursive ? null : new List<ArtifactEntry>();
        do
        {
            var response = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            foreach (var item in response.S3Objects ?? [])
            {
                // Zero-byte "folder" markers that other tools create are not artifacts.
                if (item.Key.EndsWith('/'))
                {
                    continue;
                }

                var entry = new ArtifactEntry(item.Key[_keyPrefix.Length..], IsDirectory: false, item.Size ?? 0, LastModified: ToOffset(item.LastModified));
                if (collected is null)
                {
                    yield return entry;
                }
                else
                {
                    collected.Add(entry);
                }
            }

            foreach (var commonPrefix in response.CommonPrefixes ?? [])
            {
                var relative = commonPrefix[_keyPrefix.Length..].TrimEnd('/');
                if (relative.Length > 0 && !relative.EndsWith('/'))
                {
                    collected?.Add(new ArtifactEntry(relative, IsDirectory: true, Size: null));
                }
            }

            request.ContinuationToken = response.IsTruncated == true ? response.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);

        if (collected is not null)
        {
            collected.Sort(static (a, b) => string.CompareOrdinal(a.Path, b.Path));
            foreach (var entry in collected)
            {
                yield return entry;
            }
        }
    }

    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default)
    {
        var key = KeyFor(ArtifactPath.Validate(path));
        try
        {
            await _client.GetObjectMetadataAsync(_bucket, key, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception exception) when (IsMissingKey(exception))
        {
            return false;
        }
    }

    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        // S3 answers a delete of a missing key with success, so ask first to report whether there was anything.
        if (!await ExistsAsync(path, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        await _client.DeleteObjectAsync(_bucket, KeyFor(path), cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task CheckAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CheckTimeout);
        try
        {
            await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = _keyPrefix, MaxKeys = 1 }, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ArtifactStoreUnavailableException($"Cannot reach S3 endpoint {_options.Endpoint}: no answer within {CheckTimeout.TotalSeconds:0} s", exception);
        }
        catch (Exception exception) when (exception is AmazonServiceException or AmazonClientException or HttpRequestException or SocketException or IOException)
        {
            throw new ArtifactStoreUnavailableException(Describe(exception), exception);
        }
    }

    public void Dispose() => _client.Dispose();

    /// <summary>A part in the buffer: its length, and whether (and with which byte) the content goes on.</summary>
    private readonly record struct Part(int Length, bool More, byte NextByte);

    public override string ToString() => Location;

    private async Task<long> PutMultipartAsync(string key, Stream content, byte[] buffer, Part part, IncrementalHash hash, CancellationToken cancellationToken)
    {
        var partSize = _options.PartSize;
        var upload = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = key }, cancellationToken).ConfigureAwait(false);
        try
        {
            var parts = new List<PartETag>();
            long size = 0;
            for (var partNumber = 1; ; partNumber++)
            {
                if (partNumber > MaxParts)
                {
                    throw new IOException($"'{key}' is larger than S3 allows with {partSize}-byte parts ({MaxParts} parts).");
                }

                using (var body = new MemoryStream(buffer, 0, part.Length, writable: false))
                {
                    var response = await _client.UploadPartAsync(new UploadPartRequest
                    {
                        BucketName = _bucket,
                        Key = key,
                        UploadId = upload.UploadId,
                        PartNumber = partNumber,
                        InputStream = body,
                        IsLastPart = !part.More,
                        UseChunkEncoding = false,
                    }, cancellationToken).ConfigureAwait(false);
                    parts.Add(new PartETag(partNumber, response.ETag));
                }

                size += part.Length;
                if (!part.More)
                {
                    break;
                }

                // The byte read ahead starts the next part.
                buffer[0] = part.NextByte;
                part = await ReadPartAsync(content, buffer, 1, partSize, hash, cancellationToken).ConfigureAwait(false);
            }

            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _bucket,
                Key = key,
                UploadId = upload.UploadId,
                PartETags = parts,
            }, cancellationToken).ConfigureAwait(false);
            return size;
        }
        catch
        {
            await AbortAsync(key, upload.UploadId).ConfigureAwait(false);
            throw;
        }
    }

    private async Task AbortAsync(string key, string uploadId)
    {
        try
        {
            // Not cancellable: the caller's token may be what got us here, and abandoned parts cost storage until aborted.
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
        {
            // The upload already failed and that failure is what the caller must see; the parts of an upload that was
            // never completed are invisible to readers, and a bucket lifecycle rule removes them.
        }
    }

    /// <summary>
    /// Fills <paramref name="buffer"/> from <paramref name="offset"/> up to <paramref name="partSize"/> bytes, hashing what it
    /// reads. A full buffer is followed by a one-byte read-ahead, so that content of exactly one part still goes up in one PUT
    /// and a multipart upload never ends with an empty part.
    /// </summary>
    private static async Task<Part> ReadPartAsync(Stream content, byte[] buffer, int offset, int partSize, IncrementalHash hash, CancellationToken cancellationToken)
    {
        var read = await content.ReadAtLeastAsync(buffer.AsMemory(offset, partSize - offset), partSize - offset, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        hash.AppendData(buffer, offset, read);
        var length = offset + read;
        if (length < partSize)
        {
            return new Part(length, More: false, NextByte: 0);
        }

        var next = new byte[1];
        if (await content.ReadAsync(next, cancellationToken).ConfigureAwait(false) == 0)
        {
            return new Part(length, More: false, NextByte: 0);
        }

        hash.AppendData(next);
        return new Part(length, More: true, next[0]);
    }

    private string KeyFor(string validPath) => _keyPrefix + validPath;

    private static bool IsMissingKey(AmazonS3Exception exception) =>
        exception.ErrorCode == "NoSuchKey"
        || (exception.StatusCode == HttpStatusCode.NotFound && exception.ErrorCode != "NoSuchBucket");

    private static DateTimeOffset? ToOffset(DateTime? value) =>
        value is { } time ? new DateTimeOffset(time.ToUniversalTime(), TimeSpan.Zero) : null;

    /// <summary>One line saying why S3 refused; internal so its wording is tested for answers moto never gives.</summary>
    internal string Describe(Exception exception)
    {
        if (exception is AmazonS3Exception s3)
        {
            if (s3.ErrorCode == "NoSuchBucket" || s3.StatusCode == HttpStatusCode.NotFound)
            {
                return $"S3 bucket '{_bucket}' does not exist at {_options.Endpoint}";
            }

            if (s3.ErrorCode is "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "InvalidToken" or "ExpiredToken" or "TokenRefreshRequired")
            {
                return $"S3 rejected the credentials for bucket '{_bucket}' ({s3.ErrorCode}): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY";
            }

            if (s3.StatusCode == HttpStatusCode.Forbidden)
            {
                return $"S3 denied access to bucket '{_bucket}' ({s3.ErrorCode ?? "403 Forbidden"}): the credentials need to list, read, write and delete objects in it";
            }

            if (s3.StatusCode != 0)
            {
                return $"S3 endpoint {_options.Endpoint} answered {(int)s3.StatusCode} {s3.ErrorCode} for bucket '{_bucket}': {FirstLine(s3.Message)}";
            }
        }

        if (exception is AmazonClientException && exception.Message.StartsWith("Failed to resolve AWS credentials", StringComparison.Ordinal))
        {
            return $"No AWS credentials found for S3 bucket '{_bucket}': set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or use an AWS profile or role)";
        }

        // Connection failures arrive as HttpRequestException/SocketException, bare or wrapped by the SDK.
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException or SocketException)
            {
                return $"Cannot reach S3 endpoint {_options.Endpoint}: {FirstLine(exception.GetBaseException().Message)}";
            }
        }

        return $"Cannot use S3 bucket '{_bucket}' at {_options.Endpoint}: {FirstLine(exception.GetBaseException().Message)}";
    }

    private static string FirstLine(string message)
    {
        var trimmed = message.Trim();
        var end = trimmed.IndexOfAny(['\r', '\n']);
        return end < 0 ? trimmed : trimmed[..end].TrimEnd();
    }
}
