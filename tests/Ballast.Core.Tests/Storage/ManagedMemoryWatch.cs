namespace Ballast.Tests.Storage;

/// <summary>
/// Samples the managed heap (<see cref="GC.GetTotalMemory(bool)"/>, which counts garbage not yet collected too) every few
/// milliseconds from a full collection on, and reports the largest growth seen: what an operation made the process hold.
/// </summary>
public sealed class ManagedMemoryWatch : IDisposable
{
    private readonly long _baseline;
    private readonly Timer _timer;
    private long _peak;

    private ManagedMemoryWatch()
    {
        _baseline = GC.GetTotalMemory(forceFullCollection: true);
        _peak = _baseline;
        _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(2));
    }

    public static ManagedMemoryWatch Start() => new();

    /// <summary>The largest heap size seen, minus the heap size at the start.</summary>
    public long PeakGrowthBytes
    {
        get
        {
            Sample();
            return Interlocked.Read(ref _peak) - _baseline;
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Sample()
    {
        var now = GC.GetTotalMemory(forceFullCollection: false);
        long seen;
        while (now > (seen = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, seen) != seen)
        {
        }
    }
}
