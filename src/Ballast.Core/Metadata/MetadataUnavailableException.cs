namespace Ballast.Metadata;

/// <summary>The metadata database cannot be reached or used; the message says which database and why, in one line.</summary>
public sealed class MetadataUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
