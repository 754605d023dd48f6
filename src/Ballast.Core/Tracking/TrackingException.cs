namespace Ballast.Tracking;

/// <summary>
/// A request to the tracking store that cannot be carried out as asked. <see cref="Code"/> is MLflow's error code
/// (<c>INVALID_PARAMETER_VALUE</c>, <c>RESOURCE_DOES_NOT_EXIST</c>, <c>RESOURCE_ALREADY_EXISTS</c>, <c>INVALID_STATE</c>),
/// so every API can answer in its own protocol from one mapping.
/// </summary>
public sealed class TrackingException(string code, string message) : Exception(message)
{
    public const string InvalidParameterValue = "INVALID_PARAMETER_VALUE";
    public const string ResourceDoesNotExist = "RESOURCE_DOES_NOT_EXIST";
    public const string ResourceAlreadyExists = "RESOURCE_ALREADY_EXISTS";
    public const string InvalidState = "INVALID_STATE";

    public string Code { get; } = code;

    /// <summary>The problems one by one when the request had several (<see cref="Invalid(string, IReadOnlyList{string})"/>); empty otherwise.</summary>
    public IReadOnlyList<string> Problems { get; private init; } = [];

    public static TrackingException Invalid(string message) => new(InvalidParameterValue, message);

    /// <summary>
    /// Every problem found with <paramref name="subject"/> at once: the message lists them all
    /// (<c>Invalid pipeline 'p': a; b.</c>) and <see cref="Problems"/> holds them one by one, which problem+json answers
    /// carry as <c>errors</c>.
    /// </summary>
    public static TrackingException Invalid(string subject, IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        return new(InvalidParameterValue, $"{subject}: {ProblemList.Join(problems)}.") { Problems = [.. problems] };
    }

    public static TrackingException NotFound(string message) => new(ResourceDoesNotExist, message);

    public static TrackingException AlreadyExists(string message) => new(ResourceAlreadyExists, message);

    /// <summary>The thing is in a state that refuses the request (an experiment already stopped or concluded): 409 under <c>/api/v1</c>.</summary>
    public static TrackingException Conflict(string message) => new(InvalidState, message);
}
