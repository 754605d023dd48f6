namespace Ballast.Monitoring;

/// <summary>The data or the options of a drift report cannot be compared as asked (a missing file or column, an unknown method, an empty column).</summary>
public sealed class DriftInputException(string message, Exception? inner = null) : Exception(message, inner);
