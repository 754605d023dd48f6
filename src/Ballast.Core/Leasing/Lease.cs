namespace Ballast.Leasing;

/// <summary>
/// A held lease. <see cref="Epoch"/> grows by one every time the lease changes hands, so a controller can
/// fence its writes: work stamped with an older epoch came from a holder that has since lost the lease.
/// </summary>
public sealed record Lease(string Name, string Holder, long Epoch, DateTimeOffset AcquiredAt, DateTimeOffset ExpiresAt);
