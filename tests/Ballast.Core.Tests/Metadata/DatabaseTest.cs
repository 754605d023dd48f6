using Ballast.Metadata;
using Ballast.Serving;
using Ballast.Storage;
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

/// <summary>
/// A <see cref="DatabaseTest"/> that also owns a temporary folder (<see cref="Root"/>) and the prediction logs opened in
/// it: the logs are closed (their queued records written and rolled) before the database goes, then the folder is removed.
/// </summary>
public abstract class FolderDatabaseTest(DatabaseEngine engine, string prefix) : DatabaseTest(engine)
{
    private readonly List<PredictionLog> _logs = [];

    protected DirectoryInfo Root { get; } = Directory.CreateTempSubdirectory(prefix);

    /// <summary>A path under <see cref="Root"/>.</summary>
    protected string PathIn(string name) => Path.Combine(Root.FullName, name);

    /// <summary>A local artifact store in <c>artifacts</c> under the root.</summary>
    protected IArtifactStore LocalArtifacts() => ArtifactStoreFactory.Create(PathIn("artifacts"), null, null);

    /// <summary>Opens a prediction log in <paramref name="folder"/> under the root on the test's clock (or <paramref name="time"/>); closed after the test.</summary>
    protected async Task<PredictionLog> OpenLogAsync(IArtifactStore artifacts, string folder = "wal", TimeProvider? time = null)
    {
        var log = await PredictionLog.OpenAsync(new PredictionLogOptions(PathIn(folder)), artifacts, time ?? Time, Cancel);
        _logs.Add(log);
        return log;
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var log in _logs)
        {
            await log.DisposeAsync();
        }

        await base.DisposeAsync();
        Root.Delete(recursive: true);
        GC.SuppressFinalize(this);
    }
}
