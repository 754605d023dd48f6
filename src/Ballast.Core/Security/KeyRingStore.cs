using Ballast.Metadata;
using Dapper;

namespace Ballast.Security;

/// <summary>
/// The dashboard's key ring (the ASP.NET Core Data Protection keys behind session cookies and anti-forgery tokens)
/// in the metadata database, so that every replica reads the same keys. Elements are added, never changed or removed,
/// and are read back in the order they were added. The framework reads and writes through a synchronous interface,
/// so <see cref="List"/> and <see cref="Add"/> are synchronous; it calls them at start-up, on a key's first use and
/// when it refreshes its cached ring (daily), never per request. <see cref="LockAsync"/> serializes the first start
/// of several replicas, so that exactly one creates the first key.
/// </summary>
public sealed class KeyRingStore(MetadataDatabase database, TimeProvider time)
{
    /// <summary>The longest element name the table takes; the framework's are <c>key-GUID</c> and <c>revocation-…</c>.</summary>
    public const int MaxNameLength = 255;

    public IReadOnlyList<KeyRingElement> List()
    {
        using var connection = database.Open();
        return connection.Query<KeyRingRow>("SELECT id AS Id, name AS Name, xml AS Xml, created_at AS CreatedAt FROM data_protection_keys ORDER BY id")
            .Select(row => new KeyRingElement(row.Id, row.Name, row.Xml, DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt)))
            .ToList();
    }

    public void Add(string name, string xml)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(xml);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(name.Length, MaxNameLength, nameof(name));
        using var connection = database.Open();
        connection.Execute("INSERT INTO data_protection_keys (name, xml, created_at) VALUES (@name, @xml, @at)",
            new { name, xml, at = time.GetUtcNow().ToUnixTimeMilliseconds() });
    }

    /// <summary>Holds the key ring's lock (across processes) until the result is disposed.</summary>
    public Task<MetadataLock> LockAsync(CancellationToken cancellationToken = default) => MetadataLock.AcquireAsync(database, "key-ring", cancellationToken);

    private sealed record KeyRingRow(long Id, string Name, string Xml, long CreatedAt);
}
