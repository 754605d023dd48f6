namespace Ballast.Configuration;

/// <summary>
/// The server cannot start. <see cref="IsConfigurationError"/> separates what the user must change in the settings
/// (exit code 2) from an environment that refuses (database down, bucket missing: exit code 1).
/// The message is one line.
/// </summary>
public sealed class BallastStartupException : Exception
{
    private BallastStartupException(string message, bool isConfigurationError, Exception? inner)
        : base(message, inner) => IsConfigurationError = isConfigurationError;

    public bool IsConfigurationError { get; }

    /// <summary>Settings that are wrong in themselves; lists every problem found.</summary>
    public static BallastStartupException InvalidConfiguration(IReadOnlyList<string> problems) =>
        new("Invalid configuration: " + ProblemList.Join(problems) + ".", isConfigurationError: true, null);

    /// <summary>Settings that are valid but refused as unsafe, with what to do instead.</summary>
    public static BallastStartupException Refused(string reason) => new(reason, isConfigurationError: true, null);

    /// <summary>Something the server depends on is unreachable or rejects it.</summary>
    public static BallastStartupException Unavailable(string reason, Exception? inner = null) => new(reason, isConfigurationError: false, inner);
}
