namespace Ballast.Metadata;

/// <summary>A writer's turn on the metadata database (<see cref="MetadataDatabase.WriterTurnAsync"/>); disposing ends it.</summary>
public readonly struct WriterTurn(SemaphoreSlim? gate) : IDisposable
{
    public void Dispose() => gate?.Release();
}
