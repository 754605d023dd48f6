namespace Ballast.Security;

/// <summary>One stored element of the key ring: a key, or a revocation, as the XML the Data Protection framework wrote.</summary>
public sealed record KeyRingElement(long Id, string Name, string Xml, DateTimeOffset CreatedAt);
