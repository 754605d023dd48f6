namespace Ballast.Features;

/// <summary>
/// The online store: the latest feature values per view and entity key, for lookups at request time. A write keeps
/// the newer of what is stored and what is written (by event time), so replaying a materialization changes nothing and
/// an older value never replaces a newer one. Implementations: <see cref="EmbeddedOnlineStore"/> (the metadata
/// database, the default) and <see cref="RedisOnlineStore"/> (scale-out).
/// </summary>
public interface IOnlineStore
{
    /// <summary><c>embedded</c> or <c>redis</c>, for messages and metrics.</summary>
    string Kind { get; }

    /// <summary>Writes rows of one view; returns how many changed what was stored (new keys, newer values).</summary>
    Task<int> WriteAsync(string view, IReadOnlyList<OnlineRow> rows, CancellationToken cancellationToken = default);

    /// <summary>The stored row for each key, in the keys' order (null where there is none).</summary>
    Task<IReadOnlyList<OnlineRow?>> ReadAsync(string view, IReadOnlyList<string> keys, CancellationToken cancellationToken = default);

    /// <summary>Removes every row of a view; returns how many there were.</summary>
    Task<long> DeleteViewAsync(string view, CancellationToken cancellationToken = default);
}
