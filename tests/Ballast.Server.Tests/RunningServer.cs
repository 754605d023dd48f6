using System.Net.Http.Headers;
using Ballast.Configuration;
using Ballast.Server;
using Microsoft.AspNetCore.Builder;

namespace Ballast.Tests;

/// <summary>A real Ballast server on a free loopback port, with its own data folder, for one test.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private readonly bool _ownsDataDir;

    private RunningServer(WebApplication app, string dataDir, bool ownsDataDir)
    {
        App = app;
        DataDir = dataDir;
        _ownsDataDir = ownsDataDir;
        BaseAddress = new Uri(app.BoundAddresses()[0]);
    }

    public WebApplication App { get; }

    public string DataDir { get; }

    public Uri BaseAddress { get; }

    public static async Task<RunningServer> StartAsync(Func<BallastOptions, BallastOptions>? configure = null, Action<WebApplication>? routes = null, TimeProvider? time = null,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null)
    {
        var dataDir = Directory.CreateTempSubdirectory("ballast-server-").FullName;
        var options = new BallastOptions { DataDir = dataDir, Listen = "http://127.0.0.1:0" };
        options = configure?.Invoke(options) ?? options;
        var app = await BallastServer.StartAsync(options, time, routes, services, TestContext.Current.CancellationToken);
        return new RunningServer(app, options.DataDir, ownsDataDir: options.DataDir == dataDir);
    }

    public HttpClient Client(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_ownsDataDir)
        {
            try
            {
                Directory.Delete(DataDir, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open by a pooled connection; the temp folder is cleaned by the OS.
            }
        }
    }
}
