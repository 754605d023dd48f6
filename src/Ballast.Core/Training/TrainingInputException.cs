namespace Ballast.Training;

/// <summary>Input the training library cannot use (a bad spec, an unreadable file, a missing column); the message says what and why.</summary>
public sealed class TrainingInputException(string message, Exception? inner = null) : Exception(message, inner);
