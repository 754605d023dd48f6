namespace Ballast.Server.Security;

/// <summary>The caller's role does not allow what the request asks (answered 403 in the route's error format).</summary>
public sealed class ForbiddenException(string message) : Exception(message);
