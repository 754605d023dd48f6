using Ballast.Server.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Ballast.Server.Errors;

/// <summary>
/// Writes an error in the format of the protocol the request spoke: MLflow's <c>{"error_code","message"}</c>
/// under <c>/api/2.0/mlflow</c>, the Open Inference Protocol's <c>{"error"}</c> under <c>/v2</c>, and RFC 7807
/// problem+json everywhere else. Every error Ballast answers with goes through here.
/// </summary>
public static class ErrorResponses
{
    public static ErrorProtocol ProtocolOf(PathString path) =>
        path.StartsWithSegments("/api/2.0/mlflow") || path.StartsWithSegments("/api/2.0/mlflow-artifacts") || path.StartsWithSegments("/ajax-api")
        || (path.StartsWithSegments("/endpoints") && path.Value!.EndsWith("/invocations", StringComparison.Ordinal))
            ? ErrorProtocol.Mlflow
            : path.StartsWithSegments("/v2") ? ErrorProtocol.OpenInference : ErrorProtocol.Problem;

    /// <summary>
    /// Writes the error; <paramref name="errors"/> are the problems one by one when a request had several (validation
    /// lists every problem at once): problem+json carries them as <c>errors</c> beside the <c>detail</c> that names them all.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, int status, string code, string message, IReadOnlyList<string>? errors = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        var cancellation = context.RequestAborted;
        switch (ProtocolOf(context.Request.Path))
        {
            case ErrorProtocol.Mlflow:
                await context.Response.WriteAsJsonAsync(new MlflowError(code, message), ApiJson.Context.MlflowError, cancellationToken: cancellation).ConfigureAwait(false);
                break;
            case ErrorProtocol.OpenInference:
                await context.Response.WriteAsJsonAsync(new InferenceError(message), ApiJson.Context.InferenceError, cancellationToken: cancellation).ConfigureAwait(false);
                break;
            default:
                await context.Response.WriteAsJsonAsync(Problem(status, code, message, context.Request.Path, errors), ApiJson.Context.ProblemDetails, "application/problem+json", cancellation).ConfigureAwait(false);
                break;
        }
    }

    public static ProblemDetails Problem(int status, string code, string detail, string? instance = null, IReadOnlyList<string>? errors = null)
    {
        var problem = new ProblemDetails
        {
            Type = $"https://ballast.dev/errors/{code.ToLowerInvariant().Replace('_', '-')}",
            // A wrong method keeps MLflow's ENDPOINT_NOT_FOUND code (its clients fall back on it), not its title.
            Title = status == StatusCodes.Status405MethodNotAllowed ? "Method not allowed" : ErrorCodes.Title(code),
            Status = status,
            Detail = detail,
            Instance = instance,
        };
        problem.Extensions["code"] = code;
        if (errors is { Count: > 0 })
        {
            problem.Extensions["errors"] = errors.ToArray();
        }

        return problem;
    }

    /// <summary>A problem+json result for minimal API handlers under <c>/api/v1</c>.</summary>
    public static ProblemHttpResult ProblemResult(int status, string code, string detail, IReadOnlyList<string>? errors = null) =>
        TypedResults.Problem(Problem(status, code, detail, errors: errors));
}

public enum ErrorProtocol
{
    Problem,
    Mlflow,
    OpenInference,
}

public sealed record MlflowError(string ErrorCode, string Message);

public sealed record InferenceError(string Error);
