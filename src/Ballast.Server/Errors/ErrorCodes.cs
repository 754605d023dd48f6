namespace Ballast.Server.Errors;

/// <summary>Error codes shared by every protocol; the names are MLflow's where MLflow has one.</summary>
public static class ErrorCodes
{
    public const string BadRequest = "BAD_REQUEST";
    public const string InvalidParameterValue = "INVALID_PARAMETER_VALUE";
    public const string NotFound = "RESOURCE_DOES_NOT_EXIST";
    public const string AlreadyExists = "RESOURCE_ALREADY_EXISTS";
    public const string InvalidState = "INVALID_STATE";
    public const string Unauthenticated = "UNAUTHENTICATED";
    public const string PermissionDenied = "PERMISSION_DENIED";
    public const string RequestTooLarge = "REQUEST_LIMIT_EXCEEDED";
    /// <summary>No route answers this path (or not with this method): MLflow clients fall back to older APIs on this code.</summary>
    public const string EndpointNotFound = "ENDPOINT_NOT_FOUND";
    public const string TemporarilyUnavailable = "TEMPORARILY_UNAVAILABLE";
    public const string Internal = "INTERNAL_ERROR";

    public static string Title(string code) => code switch
    {
        BadRequest => "Bad request",
        InvalidParameterValue => "Invalid parameter value",
        NotFound => "Not found",
        AlreadyExists => "Already exists",
        InvalidState => "Conflict with the current state",
        Unauthenticated => "Authentication required",
        PermissionDenied => "Permission denied",
        RequestTooLarge => "Request too large",
        EndpointNotFound => "No such endpoint",
        TemporarilyUnavailable => "Temporarily unavailable",
        _ => "Internal error",
    };

    public static string ForStatus(int status) => status switch
    {
        400 => BadRequest,
        401 => Unauthenticated,
        403 => PermissionDenied,
        404 => NotFound,
        405 => EndpointNotFound,
        409 => AlreadyExists,
        413 => RequestTooLarge,
        503 => TemporarilyUnavailable,
        _ when status < 500 => BadRequest,
        _ => Internal,
    };
}
