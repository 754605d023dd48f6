using Ballast.Configuration;
using Ballast.Metadata;
using Ballast.Tests.Metadata;
using Microsoft.AspNetCore.Builder;

namespace Ballast.Tests;

/// <summary>
/// Base of the HTTP suites that must hold on every metadata engine: each test's servers use SQLite in their data
/// folder, or a fresh PostgreSQL database of their own (dropped afterwards). Subclasses pick the engine.
/// </summary>
public abstract class EngineServerTest(DatabaseEngine engine) : IAsyncLifetime
{
    private string? _database;
    private Func<Task> _drop = () => Task.CompletedTask;

    protected DatabaseEngine Engine => engine;

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        if (engine == DatabaseEngine.Postgres)
        {
            var (location, drop) = await TestDatabases.CreateAsync(engine);
            _drop = drop;
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(location.ConnectionString);
            _database = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _drop();
        GC.SuppressFinalize(this);
    }

    /// <summary>A server on this suite's engine; <paramref name="configure"/> sees the options with the database already set.</summary>
    protected Task<RunningServer> StartServerAsync(Func<BallastOptions, BallastOptions>? configure = null, Action<WebApplication>? routes = null, TimeProvider? time = null,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null) =>
        RunningServer.StartAsync(options =>
        {
            var onEngine = _database is null ? options : options with { Database = _database };
            return configure?.Invoke(onEngine) ?? onEngine;
        }, routes, time, services);
}
