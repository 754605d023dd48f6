using Ballast.Security;

namespace Ballast.Server.Security;

/// <summary>
/// Decides whether a request without a key may pass. <see cref="AuthenticationMode.Disabled"/> (--insecure): always.
/// <see cref="AuthenticationMode.Required"/> (any non-loopback address): never.
/// <see cref="AuthenticationMode.WhenKeysExist"/> (loopback only): until the first key is created, so a fresh
/// local install works without set-up and creating a key turns protection on without a restart.
/// </summary>
public sealed class AuthenticationGate(AuthenticationMode mode, ApiKeyStore keys, TimeProvider time)
{
    /// <summary>How long the "do any keys exist" answer is reused, sparing the database a query per request.</summary>
    private static readonly TimeSpan KeyPresenceCacheLifetime = TimeSpan.FromSeconds(2);

    // Swapped whole, so a reader never sees one request's answer with another's timestamp.
    private KeyPresence? _keyPresence;

    public AuthenticationMode Mode { get; } = mode;

    public async ValueTask<bool> AllowsAnonymousAsync(CancellationToken cancellationToken)
    {
        switch (Mode)
        {
            case AuthenticationMode.Disabled:
                return true;
            case AuthenticationMode.Required:
                return false;
        }

        var now = time.GetTimestamp();
        var cached = Volatile.Read(ref _keyPresence);
        if (cached is not null && time.GetElapsedTime(cached.CheckedAt, now) < KeyPresenceCacheLifetime)
        {
            return !cached.HasKeys;
        }

        var hasKeys = await keys.HasLiveKeysAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _keyPresence, new KeyPresence(hasKeys, now));
        return !hasKeys;
    }

    /// <summary>
    /// The answer of <see cref="AllowsAnonymousAsync"/> when it is known without a database query (the mode decides, or
    /// the cached answer is fresh): true with <paramref name="allows"/> set; false when only a query can tell.
    /// </summary>
    public bool TryAllowsAnonymous(out bool allows)
    {
        switch (Mode)
        {
            case AuthenticationMode.Disabled:
                allows = true;
                return true;
            case AuthenticationMode.Required:
                allows = false;
                return true;
        }

        var cached = Volatile.Read(ref _keyPresence);
        if (cached is not null && time.GetElapsedTime(cached.CheckedAt) < KeyPresenceCacheLifetime)
        {
            allows = !cached.HasKeys;
            return true;
        }

        allows = false;
        return false;
    }

    /// <summary>Forgets the cached answer, after keys were created or revoked through this process.</summary>
    public void KeysChanged() => Volatile.Write(ref _keyPresence, null);

    private sealed record KeyPresence(bool HasKeys, long CheckedAt);
}

public enum AuthenticationMode
{
    WhenKeysExist,
    Required,
    Disabled,
}
