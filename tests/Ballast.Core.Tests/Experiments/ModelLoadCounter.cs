using Ballast.Serving;

namespace Ballast.Tests.Experiments;

/// <summary>A model cache observer that counts the versions the cache loaded.</summary>
public sealed class ModelLoadCounter : IModelCacheObserver
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Loaded(LoadedModel model, TimeSpan elapsed) => Interlocked.Increment(ref _count);

    public void CircuitChanged(Uri url, string transition)
    {
    }
}
