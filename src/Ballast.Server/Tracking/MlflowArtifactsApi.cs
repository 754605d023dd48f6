using Ballast.Server.Security;
using Ballast.Storage;
using Ballast.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Ballast.Server.Tracking;

public sealed record FileInfoJson(string Path, bool IsDir, long? FileSize);

public sealed record ListArtifactsResponse(IReadOnlyList<FileInfoJson>? Files, string? RootUri = null);

/// <summary>
/// MLflow's artifact proxy (<c>mlflow server --serve-artifacts</c>): <c>/api/2.0/mlflow-artifacts/artifacts/…</c> streams
/// files to and from the configured artifact store (local folder or S3) without buffering them, and
/// <c>/api/2.0/mlflow/artifacts/list</c> lists a run's artifacts. <c>mlflow-artifacts:/X</c> URIs live under
/// <see cref="StorePrefix"/> in the store.
/// </summary>
public static class MlflowArtifactsApi
{
    public const string StorePrefix = "mlflow-artifacts";
    private const string UriScheme = "mlflow-artifacts:";

    public static IEndpointRouteBuilder MapMlflowArtifactsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/2.0/mlflow-artifacts/artifacts").WithTags("MLflow artifacts");
        group.MapGet("/", ListAsync).RequireAuthorization(BallastPolicies.Reader);
        group.MapGet("/{**path}", DownloadAsync).RequireAuthorization(BallastPolicies.Reader);
        // Uploads stream to the store with bounded memory, so the general request size limit does not apply.
        group.MapPut("/{**path}", UploadAsync).RequireAuthorization(BallastPolicies.Writer).WithMetadata(new DisableRequestSizeLimitAttribute());
        group.MapDelete("/{**path}", DeleteAsync).RequireAuthorization(BallastPolicies.Writer);

        foreach (var prefix in new[] { "/api/2.0/mlflow", "/ajax-api/2.0/mlflow" })
        {
            routes.MapGet(prefix + "/artifacts/list", ListRunArtifactsAsync).WithTags("MLflow artifacts").RequireAuthorization(BallastPolicies.Reader);
            routes.MapGet(prefix + "/logged-models/{model_id}/artifacts/directories", ListLoggedModelArtifactsAsync).WithTags("MLflow artifacts").RequireAuthorization(BallastPolicies.Reader);
            routes.MapGet(prefix + "/logged-models/{model_id}/artifacts/files", DownloadLoggedModelArtifactAsync).WithTags("MLflow artifacts").RequireAuthorization(BallastPolicies.Reader);
        }

        return routes;
    }

    private static async Task<Ok<ListArtifactsResponse>> ListAsync(string? path, IArtifactStore store, CancellationToken cancellationToken)
    {
        var folder = ArtifactPath.ValidatePrefix(path ?? "");
        return TypedResults.Ok(new ListArtifactsResponse(await ListFolderAsync(store, folder, folder, cancellationToken).ConfigureAwait(false)));
    }

    private static async Task<FileStreamHttpResult> DownloadAsync(string path, IArtifactStore store, CancellationToken cancellationToken)
    {
        var stream = await store.OpenReadAsync(StorePath(path), cancellationToken).ConfigureAwait(false);
        return TypedResults.Stream(stream, "application/octet-stream", Path.GetFileName(path));
    }

    /// <summary>
    /// Refuses, with 400 INVALID_PARAMETER_VALUE, a file where a folder is or below a file: a local store cannot hold it
    /// (it was a 500 from the file system) and S3 would keep a file and a folder of one name, so both stores refuse alike.
    /// </summary>
    private static async Task<Ok<EmptyResponse>> UploadAsync(string path, HttpRequest request, IArtifactStore store)
    {
        var storePath = StorePath(path);
        try
        {
            await store.EnsureFileFitsAsync(storePath, request.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidArtifactPathException clash)
        {
            throw new InvalidArtifactPathException(path, clash.Reason);
        }

        await store.PutAsync(storePath, request.Body, request.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Ok<EmptyResponse>> DeleteAsync(string path, IArtifactStore store, CancellationToken cancellationToken)
    {
        var storePath = StorePath(path);
        if (!await store.ExistsAsync(storePath, cancellationToken).ConfigureAwait(false))
        {
            // Deleting a folder removes everything under it, as MLflow's proxy does.
            var deleted = 0;
            await foreach (var entry in store.ListAsync(storePath, recursive: true, cancellationToken).ConfigureAwait(false))
            {
                await store.DeleteAsync(entry.Path, cancellationToken).ConfigureAwait(false);
                deleted++;
            }

            if (deleted == 0)
            {
                throw new ArtifactNotFoundException(path);
            }
        }
        else
        {
            await store.DeleteAsync(storePath, cancellationToken).ConfigureAwait(false);
        }

        return TypedResults.Ok(new EmptyResponse());
    }

    /// <summary><c>artifacts/list?run_id=&amp;path=</c>: the run's artifacts, with paths relative to the run's artifact root.</summary>
    private static async Task<Ok<ListArtifactsResponse>> ListRunArtifactsAsync(HttpRequest http, RunStore runs, IArtifactStore store)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var run = await runs.GetAsync(request.RequiredString("run_id", "run_uuid"), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return await ListUnderAsync(store, run.Info.ArtifactUri, $"run {run.Info.RunId}", request.OptionalString("path"), http.HttpContext.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>logged-models/{model_id}/artifacts/directories?artifact_directory_path=</c>: a logged model's files, with paths
    /// relative to its artifact location (MLflow's <c>ListLoggedModelArtifacts</c>).
    /// </summary>
    private static async Task<Ok<ListArtifactsResponse>> ListLoggedModelArtifactsAsync(string model_id, HttpRequest http, LoggedModelStore models, IArtifactStore store)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var model = await models.GetAsync(model_id, cancellationToken: http.HttpContext.RequestAborted).ConfigureAwait(false);
        return await ListUnderAsync(store, model.ArtifactLocation, $"logged model {model.ModelId}", request.OptionalString("artifact_directory_path"), http.HttpContext.RequestAborted).ConfigureAwait(false);
    }

    /// <summary><c>logged-models/{model_id}/artifacts/files?artifact_file_path=</c>: one file of a logged model, streamed (what MLflow's UI downloads).</summary>
    private static async Task<FileStreamHttpResult> DownloadLoggedModelArtifactAsync(string model_id, HttpRequest http, LoggedModelStore models, IArtifactStore store)
    {
        var request = await MlflowRequest.ReadAsync(http).ConfigureAwait(false);
        var file = request.OptionalString("artifact_file_path") is { Length: > 0 } given ? ArtifactPath.Validate(given)
            : throw new TrackingException("BAD_REQUEST", "Request must include the \"artifact_file_path\" query parameter.");
        var model = await models.GetAsync(model_id, cancellationToken: http.HttpContext.RequestAborted).ConfigureAwait(false);
        var root = ProxyRoot(model.ArtifactLocation, $"logged model {model.ModelId}");
        var stream = await store.OpenReadAsync(ArtifactPath.Combine(StorePrefix, ArtifactPath.Combine(root, file)), http.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Stream(stream, "application/octet-stream", Path.GetFileName(file));
    }

    /// <summary>The folder <paramref name="relative"/> below an artifact root in the proxy's namespace, paths relative to the root.</summary>
    private static async Task<Ok<ListArtifactsResponse>> ListUnderAsync(IArtifactStore store, string rootUri, string owner, string? relative, CancellationToken cancellationToken)
    {
        var root = ProxyRoot(rootUri, owner);
        var folder = ArtifactPath.ValidatePrefix(relative ?? "");
        var files = await ListFolderAsync(store, ArtifactPath.Combine(root, folder).TrimEnd('/'), root, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new ListArtifactsResponse(files, rootUri));
    }

    /// <summary>The path in the proxy's namespace of an <c>mlflow-artifacts:/</c> root; any other root is outside this server's store.</summary>
    private static string ProxyRoot(string rootUri, string owner) =>
        rootUri.StartsWith(UriScheme, StringComparison.Ordinal)
            ? ArtifactPath.ValidatePrefix(rootUri[UriScheme.Length..].TrimStart('/'))
            : throw TrackingException.Invalid($"The artifacts of {owner} are at {rootUri}, outside this server's artifact store; read them from there.");

    /// <summary>Lists one folder of the proxy namespace; paths come back relative to <paramref name="relativeTo"/>.</summary>
    private static async Task<List<FileInfoJson>?> ListFolderAsync(IArtifactStore store, string folder, string relativeTo, CancellationToken cancellationToken)
    {
        var storeFolder = folder.Length == 0 ? StorePrefix : ArtifactPath.Combine(StorePrefix, folder);
        var strip = (relativeTo.Length == 0 ? StorePrefix : ArtifactPath.Combine(StorePrefix, relativeTo)).Length + 1;
        var files = new List<FileInfoJson>();
        await foreach (var entry in store.ListAsync(storeFolder, recursive: false, cancellationToken).ConfigureAwait(false))
        {
            files.Add(new FileInfoJson(entry.Path[strip..], entry.IsDirectory, entry.IsDirectory ? null : entry.Size));
        }

        // MLflow leaves "files" out of an empty listing.
        return files.Count == 0 ? null : files;
    }

    private static string StorePath(string path) => ArtifactPath.Combine(StorePrefix, ArtifactPath.Validate(path));
}
