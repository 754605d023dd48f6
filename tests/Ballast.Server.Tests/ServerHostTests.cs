using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ballast.Configuration;
using Ballast.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ballast.Tests;

public sealed class ServerHostTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Health_ready_version_and_metrics_answer_on_a_default_server()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();

        var health = await client.GetFromJsonAsync<JsonElement>("/health", Cancel);
        health.GetProperty("status").GetString().ShouldBe("ok");

        var ready = await client.GetFromJsonAsync<JsonElement>("/ready", Cancel);
        ready.GetProperty("status").GetString().ShouldBe("ready");

        var version = await client.GetFromJsonAsync<JsonElement>("/version", Cancel);
        version.GetProperty("version").GetString().ShouldBe(BallastVersion.Current);
        version.GetProperty("database").GetString().ShouldBe("sqlite");
        version.GetProperty("artifacts").GetString().ShouldBe("local");

        var metrics = await client.GetStringAsync("/metrics", Cancel);
        metrics.ShouldContain("process_cpu_seconds_total");
        metrics.ShouldContain("http_requests_received_total");

        File.Exists(Path.Combine(server.DataDir, "ballast.db")).ShouldBeTrue();
        Directory.Exists(Path.Combine(server.DataDir, "artifacts")).ShouldBeTrue();
    }

    [Fact]
    public async Task The_openapi_document_describes_the_routes()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Cancel);

        var paths = document.GetProperty("paths");
        paths.TryGetProperty("/health", out _).ShouldBeTrue();
        paths.TryGetProperty("/api/v1/keys", out _).ShouldBeTrue();
    }

    [Theory]
    [InlineData("/api/v1/nothing-here", "application/problem+json", "detail")]
    [InlineData("/api/2.0/mlflow/nothing-here", "application/json", "error_code")]
    [InlineData("/v2/nothing-here", "application/json", "error")]
    public async Task Unknown_routes_get_404_in_the_error_format_of_their_protocol(string path, string mediaType, string field)
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        using var response = await client.GetAsync(path, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe(mediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        body.GetProperty(field).GetString()!.ShouldNotBeNullOrWhiteSpace();
        if (field == "error_code")
        {
            // MLflow clients fall back to older routes only on ENDPOINT_NOT_FOUND (a missing resource stays RESOURCE_DOES_NOT_EXIST).
            body.GetProperty("error_code").GetString().ShouldBe("ENDPOINT_NOT_FOUND");
            body.GetProperty("message").GetString()!.ShouldContain(path);
        }
    }

    [Theory]
    [InlineData("DELETE", "/api/v1/feedback", "application/problem+json", "detail")]
    [InlineData("GET", "/api/2.0/mlflow/experiments/create", "application/json", "message")]
    public async Task A_wrong_method_gets_405_naming_the_methods_the_route_takes(string method, string path, string mediaType, string field)
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.ContentType!.MediaType.ShouldBe(mediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        body.GetProperty(field).GetString().ShouldBe($"{method} is not allowed on {path}; it takes POST.");
        if (field == "detail")
        {
            // The code stays ENDPOINT_NOT_FOUND (MLflow clients fall back on it); the title says what is wrong.
            body.GetProperty("title").GetString().ShouldBe("Method not allowed");
        }
    }

    [Fact]
    public async Task A_body_over_the_limit_gets_413_problem_json()
    {
        await using var server = await RunningServer.StartAsync(options => options with { MaxRequestBodyBytes = 1024 });
        using var client = server.Client();
        using var content = new StringContent("{\"name\":\"" + new string('x', 4096) + "\",\"role\":\"reader\"}", Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/api/v1/keys", content, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.Content.ReadAsStringAsync(Cancel)).ShouldContain("--max-request-body");
    }

    [Fact]
    public async Task Malformed_json_gets_400_problem_json_that_says_what_is_wrong()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        using var content = new StringContent("{\"name\": ", Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/api/v1/keys", content, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        problem.GetProperty("status").GetInt32().ShouldBe(400);
        problem.GetProperty("detail").GetString()!.ShouldContain("JSON");

        // curl -d sends a form: the refusal says what to send instead.
        using var form = new StringContent("{\"name\":\"x\"}", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var refused = await client.PostAsync("/api/v1/keys", form, Cancel);
        refused.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
            .ShouldBe("Send the body as JSON with Content-Type: application/json, not application/x-www-form-urlencoded; charset=utf-8.");
    }

    [Fact]
    public async Task Shutdown_lets_in_flight_requests_finish()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await RunningServer.StartAsync(routes: app => app.MapGet("/test/slow", async () =>
        {
            entered.SetResult();
            await release.Task;
            return "done";
        }));
        using var client = server.Client();

        var inFlight = client.GetStringAsync("/test/slow", Cancel);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        var stopping = server.App.StopAsync(Cancel);
        stopping.IsCompleted.ShouldBeFalse("the server waits for the request in flight");

        release.SetResult();
        (await inFlight).ShouldBe("done");
        await stopping;
    }

    [Fact]
    public void Every_invalid_setting_is_reported_at_once()
    {
        var problems = BallastOptionsValidator.Validate(new BallastOptions
        {
            Listen = "ftp://somewhere",
            Database = "mysql://root@db/ballast",
            Artifacts = "s3://",
            LogFormat = "xml",
        });

        problems.Count.ShouldBe(4);
        problems.ShouldContain(problem => problem.StartsWith("--listen", StringComparison.Ordinal));
        problems.ShouldContain(problem => problem.StartsWith("--database", StringComparison.Ordinal));
        problems.ShouldContain(problem => problem.StartsWith("--artifacts", StringComparison.Ordinal));
        problems.ShouldContain(problem => problem.StartsWith("--log-format", StringComparison.Ordinal));
    }

    [Fact]
    public void Dashboard_settings_out_of_range_are_reported_without_echoing_the_key()
    {
        var problems = BallastOptionsValidator.Validate(new BallastOptions { DashboardRefresh = TimeSpan.FromHours(2), DataProtectionKey = "too-short-secret" });

        problems.ShouldBe([
            "BALLAST_DATA_PROTECTION_KEY must be at least 32 characters (generate one with `openssl rand -base64 32`)",
            "--dashboard-refresh must be between 0 (off) and 3600 seconds",
        ]);
        BallastOptionsValidator.Validate(new BallastOptions { DashboardRefresh = TimeSpan.FromSeconds(-1) }).ShouldHaveSingleItem().ShouldStartWith("--dashboard-refresh");
        BallastOptionsValidator.Validate(new BallastOptions { DashboardRefresh = TimeSpan.Zero, DataProtectionKey = new string('k', 32) }).ShouldBeEmpty();
        BallastOptionsValidator.Validate(new BallastOptions { PredictionRetention = TimeSpan.FromHours(12) }).ShouldBe(["--prediction-retention-days must be at least 1 (or 0 to keep every record)"]);
        BallastOptionsValidator.Validate(new BallastOptions { PredictionRetention = TimeSpan.FromDays(30) }).ShouldBeEmpty();
        BallastOptionsValidator.Validate(new BallastOptions { ReferenceCacheBytes = -1 }).ShouldBe(["--reference-cache-mb must be a number of MiB (0 turns the monitors' reference cache off)"]);
        BallastOptionsValidator.Validate(new BallastOptions { ReferenceCacheBytes = 0 }).ShouldBeEmpty();
        BallastOptionsValidator.Validate(new BallastOptions { ReferenceMemoryBytes = -1 }).ShouldBe(["--reference-memory-mb must be a number of MiB (0 turns the monitors' in-memory reference profiles off)"]);
        BallastOptionsValidator.Validate(new BallastOptions { ReferenceMemoryBytes = 0 }).ShouldBeEmpty();
    }

    [Fact]
    public async Task An_unreachable_database_stops_start_up_with_one_clear_line()
    {
        var dataDir = Directory.CreateTempSubdirectory("ballast-server-").FullName;
        var error = await Should.ThrowAsync<BallastStartupException>(() => BallastServer.PrepareAsync(
            new BallastOptions { DataDir = dataDir, Database = "postgres://ballast:pw@127.0.0.1:1/ballast" }, cancellationToken: Cancel));

        error.IsConfigurationError.ShouldBeFalse();
        error.Message.ShouldStartWith("Cannot use the metadata database postgres://ballast@127.0.0.1:1/ballast");
        error.Message.ShouldNotContain("pw");
        error.Message.ShouldNotContain(Environment.NewLine);
    }

    [Fact]
    public async Task A_port_another_server_holds_stops_start_up_with_one_clear_line_before_anything_is_opened()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        var dataDir = Path.Combine(Directory.CreateTempSubdirectory("ballast-server-").FullName, "data");

        var error = await Should.ThrowAsync<BallastStartupException>(() => BallastServer.StartAsync(
            new BallastOptions { DataDir = dataDir, Listen = $"http://127.0.0.1:{port}" }, cancellationToken: Cancel));

        error.IsConfigurationError.ShouldBeFalse();
        error.Message.ShouldBe($"Cannot listen on http://127.0.0.1:{port}: address already in use (is another server running there?).");
        Directory.Exists(dataDir).ShouldBeFalse("nothing was created");
    }

    [Fact]
    public async Task Serving_on_a_non_loopback_address_without_keys_is_refused_unless_insecure()
    {
        var dataDir = Directory.CreateTempSubdirectory("ballast-server-").FullName;
        var options = new BallastOptions { DataDir = dataDir, Listen = "http://0.0.0.0:5001" };

        var error = await Should.ThrowAsync<BallastStartupException>(() => BallastServer.PrepareAsync(options, cancellationToken: Cancel));
        error.IsConfigurationError.ShouldBeTrue();
        error.Message.ShouldContain("Refusing to listen on http://0.0.0.0:5001 without API keys");
        error.Message.ShouldContain("--insecure");

        var insecure = await BallastServer.PrepareAsync(options with { Insecure = true }, cancellationToken: Cancel);
        insecure.AuthenticationMode.ShouldBe(Ballast.Server.Security.AuthenticationMode.Disabled);
        await insecure.Database.DisposeAsync();
    }

    [Fact]
    public async Task Requests_run_without_an_activity_or_a_hosting_log_scope()
    {
        // Hosting starts an Activity and a log scope for every request while its diagnostics category logs at any level:
        // ~6% of an iris request's CPU at peak (bench/README.md). The server turns the category off.
        await using var server = await RunningServer.StartAsync(routes: app => app.MapGet("/test/activity", () => System.Diagnostics.Activity.Current?.OperationName ?? "none"));
        using var client = server.Client();

        (await client.GetStringAsync("/test/activity", Cancel)).ShouldBe("none");
        server.App.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Critical).ShouldBeFalse();
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_body_leaves_no_error_in_the_log()
    {
        var logs = new CapturedLogs();
        await using var server = await RunningServer.StartAsync(services: services =>
        {
            services.AddSingleton<ILoggerProvider>(logs);
            services.Configure<LoggerFilterOptions>(filters => filters.Rules.Add(new LoggerFilterRule(typeof(CapturedLogs).FullName, null, LogLevel.Information, null)));
        });

        // A body announced at 1,000 bytes, cut after 10 (a load generator stopping, a closed tab).
        foreach (var path in new[] { "/api/2.0/mlflow/experiments/create", "/api/v1/feedback" })
        {
            using var socket = new System.Net.Sockets.TcpClient();
            await socket.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, Cancel);
            var head = $"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"name\": ";
            await socket.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head), Cancel);
            await socket.GetStream().FlushAsync(Cancel);
            await Task.Delay(300, Cancel); // the server is now waiting for the rest of the body
        }

        // Hosting logs "Request finished" once the exception handler is done with each.
        while (logs.Entries.Count(entry => entry.Message.Contains("Request finished", StringComparison.Ordinal) && entry.Message.Contains("POST", StringComparison.Ordinal)) < 2)
        {
            await Task.Delay(20, Cancel);
        }

        logs.Entries.Where(entry => entry.Level >= LogLevel.Error).Select(entry => entry.Message).ShouldBeEmpty();
    }

    [Fact]
    public async Task An_unencrypted_key_ring_is_reported_once_naming_the_setting_and_an_encrypted_one_not_at_all()
    {
        var plain = new CapturedLogs();
        await using (await RunningServer.StartAsync(services: services => services.AddSingleton<ILoggerProvider>(plain)))
        {
        }

        var warnings = plain.Entries.Where(entry => entry.Level == LogLevel.Warning).Select(entry => entry.Message).ToList();
        warnings.Count(message => message.Contains("stored unencrypted", StringComparison.Ordinal)).ShouldBe(1);
        warnings.Single(message => message.Contains("stored unencrypted", StringComparison.Ordinal)).ShouldContain("BALLAST_DATA_PROTECTION_KEY");
        // Data Protection's own "No XML encryptor configured" names no setting a Ballast user has; it is filtered out.
        plain.Entries.ShouldNotContain(entry => entry.Message.Contains("XML encryptor", StringComparison.Ordinal));

        var encrypted = new CapturedLogs();
        await using (await RunningServer.StartAsync(options => options with { DataProtectionKey = new string('k', 32) },
            services: services => services.AddSingleton<ILoggerProvider>(encrypted)))
        {
        }

        encrypted.Entries.ShouldContain(entry => entry.Message.Contains("Dashboard key ring: created key", StringComparison.Ordinal));
        encrypted.Entries.ShouldNotContain(entry => entry.Message.Contains("unencrypted", StringComparison.Ordinal));
    }

    private sealed class CapturedLogs : ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLogs logs) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                logs.Entries.Enqueue((logLevel, formatter(state, exception) + (exception is null ? "" : " " + exception.Message)));
        }
    }
}
