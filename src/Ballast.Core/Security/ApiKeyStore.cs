using System.Security.Cryptography;
using System.Text;
using Ballast.Metadata;
using Dapper;

namespace Ballast.Security;

/// <summary>
/// Creates, lists, revokes and checks API keys. A token reads <c>blst_&lt;id&gt;_&lt;secret&gt;</c>: the id finds the row,
/// the 256-bit secret is checked against HMAC-SHA256(salt, secret) in constant time. Keys carry enough entropy
/// that a slow password hash would only slow every request down, not make guessing any harder.
/// </summary>
public sealed class ApiKeyStore(MetadataDatabase database, TimeProvider time)
{
    public const string TokenPrefix = "blst_";
    public const int MaxNameLength = 64;

    private const int IdBytes = 9;
    private const int SecretBytes = 32;
    private const int SaltBytes = 16;

    /// <summary>Null when the name is acceptable, otherwise the reason.</summary>
    public static string? ValidateName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "a key needs a name";
        }

        if (name.Length > MaxNameLength)
        {
            return $"key name '{name}' is longer than {MaxNameLength} characters";
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return $"key name '{name}' may contain only letters, digits, '-', '_' and '.'";
            }
        }

        return null;
    }

    /// <summary>Creates a key; throws <see cref="ArgumentException"/> for a bad name and <see cref="ApiKeyNameTakenException"/> when a live key has it.</summary>
    public async Task<CreatedApiKey> CreateAsync(string name, ApiKeyRole role, CancellationToken cancellationToken = default)
    {
        if (ValidateName(name) is { } problem)
        {
            throw new ArgumentException(problem, nameof(name));
        }

        var id = Base64Url(RandomNumberGenerator.GetBytes(IdBytes)).Replace('_', 'x').Replace('-', 'y');
        var secret = Base64Url(RandomNumberGenerator.GetBytes(SecretBytes));
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var key = new ApiKey(id, name, role, time.GetUtcNow(), null);

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var taken = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM api_keys WHERE name = @name AND revoked_at IS NULL", new { name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (taken > 0)
        {
            throw new ApiKeyNameTakenException(name);
        }

        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO api_keys (id, name, role, salt, hash, created_at) VALUES (@id, @name, @role, @salt, @hash, @created)",
                new { id, name, role = role.ToName(), salt = Convert.ToHexStringLower(salt), hash = Hash(salt, secret), created = key.CreatedAt.ToUnixTimeMilliseconds() },
                transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException exception) when (MetadataErrors.IsUniqueViolation(exception))
        {
            // Another process created a key of that name between our check and our insert.
            throw new ApiKeyNameTakenException(name);
        }

        return new CreatedApiKey(key, $"{TokenPrefix}{id}_{secret}");
    }

    public async Task<IReadOnlyList<ApiKey>> ListAsync(bool includeRevoked = false, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<KeyRow>(new CommandDefinition(
            $"SELECT id AS Id, name AS Name, role AS Role, created_at AS CreatedAt, revoked_at AS RevokedAt FROM api_keys {(includeRevoked ? "" : "WHERE revoked_at IS NULL")} ORDER BY name, created_at",
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(ToKey).ToList();
    }

    /// <summary>Revokes the live key of that name; false when there is none.</summary>
    public async Task<bool> RevokeAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE api_keys SET revoked_at = @now WHERE name = @name AND revoked_at IS NULL",
            new { name, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return changed > 0;
    }

    public async Task<bool> HasLiveKeysAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL", cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
    }

    /// <summary>The live key a token belongs to, or null for a malformed, unknown, wrong or revoked token.</summary>
    public async Task<ApiKey?> AuthenticateAsync(string token, CancellationToken cancellationToken = default)
    {
        if (!TrySplit(token, out var id, out var secret))
        {
            return null;
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<StoredKeyRow>(new CommandDefinition(
            "SELECT id AS Id, name AS Name, role AS Role, created_at AS CreatedAt, revoked_at AS RevokedAt, salt AS Salt, hash AS Hash FROM api_keys WHERE id = @id",
            new { id }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row is null || row.RevokedAt is not null)
        {
            return null;
        }

        var expected = Convert.FromHexString(row.Hash);
        var actual = Convert.FromHexString(Hash(Convert.FromHexString(row.Salt), secret));
        return CryptographicOperations.FixedTimeEquals(expected, actual)
            ? ToKey(new KeyRow(row.Id, row.Name, row.Role, row.CreatedAt, row.RevokedAt))
            : null;
    }

    private static bool TrySplit(string token, out string id, out string secret)
    {
        id = secret = "";
        if (string.IsNullOrEmpty(token) || !token.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = token.AsSpan(TokenPrefix.Length);
        var separator = rest.IndexOf('_');
        if (separator <= 0 || separator == rest.Length - 1 || rest.Length > 200)
        {
            return false;
        }

        id = rest[..separator].ToString();
        secret = rest[(separator + 1)..].ToString();
        return true;
    }

    private static string Hash(byte[] salt, string secret) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(salt, Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static ApiKey ToKey(KeyRow row) => new(
        row.Id,
        row.Name,
        ApiKeyRoles.TryParse(row.Role, out var role) ? role : ApiKeyRole.Reader,
        DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt),
        row.RevokedAt is { } revoked ? DateTimeOffset.FromUnixTimeMilliseconds(revoked) : null);

    private sealed record KeyRow(string Id, string Name, string Role, long CreatedAt, long? RevokedAt);

    private sealed record StoredKeyRow(string Id, string Name, string Role, long CreatedAt, long? RevokedAt, string Salt, string Hash);
}
