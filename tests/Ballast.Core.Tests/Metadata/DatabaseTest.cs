using Ballast.Metadata;
using Microsoft.Extensions.Time.Testing;

namespace Ballast.Tests.Metadata;

/// <summary>Base of the contract suites: a fresh, migrated database of the given engine per test, and a fake clock.</summary>
public abstract class DatabaseTest(DatabaseEngine engine) : IAsyncLifetime
{
    private Func<Task> _drop = () => Task.CompletedTask;

    protected DatabaseEngine Engine { get; } = engine;

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    protected DatabaseLocation Location { get; private set; } = null!;

    protected MetadataDatabase Database { get; private set; } = null!;

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        (Location, _drop) = await TestDatabases.CreateAsync(Engine);
        Database = await MetadataMigrator.OpenMigratedAsync(Location, Cancel);
    }

    public virtual async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        await _drop();
        GC.SuppressFinalize(this);
    }
}
