namespace Ballast.Leasing;

/// <summary>
/// Told by <see cref="LeaseStore"/> after every acquire, renew or release whether the caller now holds the lease, so a
/// replica can report which controller leases it holds (a failed attempt counts as not held: the lease may expire).
/// </summary>
public interface ILeaseObserver
{
    void HeldChanged(string name, bool held);
}
