namespace Ballast.Features;

/// <summary>The online store (Redis) could not be reached or did not answer in time; the message says which and why, never with credentials.</summary>
public sealed class OnlineStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
