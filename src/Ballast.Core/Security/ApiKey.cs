namespace Ballast.Security;

/// <summary>An API key as stored: never the secret itself, only its salted hash.</summary>
public sealed record ApiKey(string Id, string Name, ApiKeyRole Role, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    public bool IsRevoked => RevokedAt is not null;
}

/// <summary>A key just created, with the token shown to the user once.</summary>
public sealed record CreatedApiKey(ApiKey Key, string Token);
