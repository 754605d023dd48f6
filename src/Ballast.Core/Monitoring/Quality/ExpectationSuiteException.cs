namespace Ballast.Monitoring.Quality;

/// <summary>A suite file that cannot be read or applied; the message names the line or field.</summary>
public sealed class ExpectationSuiteException(string message, Exception? inner = null) : Exception(message, inner);
