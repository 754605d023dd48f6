using Ballast.Datasets;
using Ballast.Server.Security;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Datasets;

public sealed record DatasetListResponse(IReadOnlyList<DatasetSummary> Datasets);

public sealed record DatasetVersionsResponse(IReadOnlyList<DatasetVersion> Versions);

public sealed record AddDatasetVersionRequest(IReadOnlyList<DatasetFile>? Files, string? Message);

public sealed record AddDatasetVersionResponse(DatasetVersion Version, bool Created);

public sealed record BlobResponse(string Sha256, long Size);

/// <summary>
/// <c>/api/v1/datasets</c>: versioned datasets. A client uploads each file once under its SHA-256
/// (<c>PUT blobs/{sha256}</c>, skipped when <c>HEAD</c> finds it), then posts the manifest to make a version, which
/// the server profiles. Files come back by path within a version or by hash. Errors are problem+json.
/// </summary>
public static class DatasetsApi
{
    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/datasets").WithTags("Datasets");

        group.MapGet("/", async (DatasetStore datasets, CancellationToken cancellationToken) =>
            TypedResults.Ok(new DatasetListResponse(await datasets.ListAsync(cancellationToken).ConfigureAwait(false))))
            .WithSummary("Lists datasets with their newest version.").RequireAuthorization(BallastPolicies.Reader);

        group.MapGet("/diff", async (string? from, string? to, DatasetStore datasets, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrEmpty(from) || string.IsNullOrEmpty(to))
            {
                throw TrackingException.Invalid("Name both versions to compare: ?from=churn@2&to=churn@3.");
            }

            var before = await datasets.GetVersionAsync(DatasetReference.Parse(from), cancellationToken).ConfigureAwait(false);
            var after = await datasets.GetVersionAsync(DatasetReference.Parse(to), cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(DatasetDiff.Compare(before, after));
        }).WithSummary("Files, schema and column statistics that changed between two versions.").RequireAuthorization(BallastPolicies.Reader);

        group.MapMethods("/blobs/{sha256}", [HttpMethods.Head], async Task<Results<Ok, NotFound>> (string sha256, DatasetStore datasets, CancellationToken cancellationToken) =>
            await datasets.HasBlobAsync(sha256, cancellationToken).ConfigureAwait(false) ? TypedResults.Ok() : TypedResults.NotFound())
            .WithSummary("Whether file content with this SHA-256 is stored (200) or not (404).").RequireAuthorization(BallastPolicies.Reader);

        group.MapGet("/blobs/{sha256}", async (string sha256, DatasetStore datasets, CancellationToken cancellationToken) =>
            TypedResults.Stream(await datasets.OpenBlobAsync(sha256, cancellationToken).ConfigureAwait(false), "application/octet-stream"))
            .WithSummary("Downloads file content by its SHA-256.").RequireAuthorization(BallastPolicies.Reader);

        // Streams to the store with bounded memory, so the general request size limit does not apply.
        group.MapPut("/blobs/{sha256}", async (string sha256, HttpRequest request, DatasetStore datasets) =>
        {
            var stored = await datasets.PutBlobAsync(sha256, request.Body, request.HttpContext.RequestAborted).ConfigureAwait(false);
            return TypedResults.Ok(new BlobResponse(sha256, stored.Size ?? 0));
        }).WithMetadata(new DisableRequestSizeLimitAttribute())
            .WithSummary("Uploads file content; refused (400) unless it hashes to the SHA-256 in the path.").RequireAuthorization(BallastPolicies.Writer);

        group.MapGet("/{name}/versions", async (string name, DatasetStore datasets, CancellationToken cancellationToken) =>
            TypedResults.Ok(new DatasetVersionsResponse(await datasets.ListVersionsAsync(name, cancellationToken).ConfigureAwait(false))))
            .WithSummary("The versions of a dataset, newest first (without manifests and profiles).").RequireAuthorization(BallastPolicies.Reader);

        group.MapPost("/{name}/versions", AddVersionAsync)
            .WithSummary("Makes a version from uploaded files (201), or returns the version with the same files (200).").RequireAuthorization(BallastPolicies.Writer);

        group.MapGet("/{name}/versions/{version}", async (string name, string version, DatasetStore datasets, CancellationToken cancellationToken) =>
            TypedResults.Ok(await datasets.GetVersionAsync(DatasetReference.Parse($"{name}@{version}"), cancellationToken).ConfigureAwait(false)))
            .WithSummary("A version (a number or 'latest') with its manifest and profile.").RequireAuthorization(BallastPolicies.Reader);

        group.MapGet("/{name}/versions/{version}/files/{**path}", async (string name, string version, string path, DatasetStore datasets, CancellationToken cancellationToken) =>
        {
            var found = await datasets.GetVersionAsync(DatasetReference.Parse($"{name}@{version}"), cancellationToken).ConfigureAwait(false);
            var file = found.Files?.FirstOrDefault(file => file.Path == path)
                       ?? throw TrackingException.NotFound($"Dataset {found.Reference} has no file '{path}'.");
            return TypedResults.Stream(await datasets.OpenBlobAsync(file.Sha256, cancellationToken).ConfigureAwait(false), "application/octet-stream", Path.GetFileName(file.Path));
        }).WithSummary("Downloads one file of a version by its path.").RequireAuthorization(BallastPolicies.Reader);

        return routes;
    }

    private static async Task<Results<Created<AddDatasetVersionResponse>, Ok<AddDatasetVersionResponse>>> AddVersionAsync(
        string name, AddDatasetVersionRequest request, DatasetStore datasets, HttpContext http)
    {
        if (request.Files is null)
        {
            throw TrackingException.Invalid("The request needs 'files': a list of {\"path\", \"size\", \"sha256\"} for files uploaded to /api/v1/datasets/blobs/{sha256}.");
        }

        var result = await datasets.AddVersionAsync(name, request.Files, request.Message, http.User.Identity?.Name, http.RequestAborted).ConfigureAwait(false);
        var response = new AddDatasetVersionResponse(result.Version, result.Created);
        return result.Created
            ? TypedResults.Created($"/api/v1/datasets/{Uri.EscapeDataString(name)}/versions/{result.Version.Version}", response)
            : TypedResults.Ok(response);
    }
}
