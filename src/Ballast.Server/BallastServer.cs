using Ballast.Configuration;
using Ballast.Leasing;
using Ballast.Metadata;
using Ballast.Pipelines;
using Ballast.Pipelines.Steps;
using Ballast.Security;
using Ballast.Server.Alerts;
using Ballast.Server.Audit;
using Ballast.Server.Dashboard;
using Ballast.Server.Datasets;
using Ballast.Server.Experiments;
using Ballast.Server.Features;
using Ballast.Server.Rollouts;
using Ballast.Server.Serving;
using Ballast.Server.Registry;
using Ballast.Server.Errors;
using Ballast.Server.Hosting;
using Ballast.Server.Pipelines;
using Ballast.Server.Keys;
using Ballast.Server.Monitoring;
using Ballast.Server.Security;
using Ballast.Server.Serialization;
using Ballast.Server.Tracking;
using Ballast.Tracking;
using Ballast.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;
using System.Text.Json.Serialization.Metadata;

namespace Ballast.Server;

/// <summary>
/// Builds and starts the Ballast web host. Start-up checks everything before listening: the settings (every problem
/// at once), the metadata database (migrated), the artifact store (reachable and writable) and the authentication
/// mode (never open to the network without keys unless --insecure). Each failure is one readable line.
/// </summary>
public static partial class BallastServer
{
    public static async Task<ServerContext> PrepareAsync(BallastOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        time ??= TimeProvider.System;
        var problems = BallastOptionsValidator.Validate(options);
        if (problems.Count > 0)
        {
            throw BallastStartupException.InvalidConfiguration(problems);
        }

        MetadataDatabase database;
        try
        {
            database = await MetadataMigrator.OpenMigratedAsync(DatabaseLocation.Parse(options.DatabaseOrDefault), cancellationToken).ConfigureAwait(false);
        }
        catch (MetadataUnavailableException exception)
        {
            throw BallastStartupException.Unavailable(exception.Message, exception);
        }

        IArtifactStore? artifacts = null;
        try
        {
            artifacts = ArtifactStoreFactory.Create(options.ArtifactsOrDefault, options.S3Endpoint, options.S3Region);
            await artifacts.CheckAsync(cancellationToken).ConfigureAwait(false);

            var keys = new ApiKeyStore(database, time);
            var mode = options.Insecure ? AuthenticationMode.Disabled
                : ListenAddresses.AreLoopbackOnly(options.Listen) ? AuthenticationMode.WhenKeysExist
                : AuthenticationMode.Required;
            if (mode == AuthenticationMode.Required && !await keys.HasLiveKeysAsync(cancellationToken).ConfigureAwait(false))
            {
                throw BallastStartupException.Refused(
                    $"Refusing to listen on {options.Listen} without API keys: anyone who can reach that address could read and change your models. " +
                     "Create a key first (`ballast keys create --name admin --role admin` with the same --data-dir or --database), " +
                     "listen on 127.0.0.1 only, or pass --insecure to serve without authentication.");
            }

            // Write-ahead files a crash left behind become segments before the server takes new predictions. Their
            // conversion to Parquet runs in a child process of the ballast executable (in this one when hosted otherwise).
            var logOptions = new Ballast.Serving.PredictionLogOptions(Path.Combine(options.DataDir, "prediction-log"))
            {
                Converter = Ballast.Serving.WalConverterProcess.ForCurrentExecutable(),
            };
            var predictions = await Ballast.Serving.PredictionLog.OpenAsync(logOptions, artifacts, time, cancellationToken).ConfigureAwait(false);
            Ballast.Features.IOnlineStore? online = null;
            if (options.OnlineStore is { } address)
            {
                try
                {
                    online = await Ballast.Features.RedisOnlineStore.ConnectAsync(address).ConfigureAwait(false);
                }
                catch (InvalidOperationException exception)
                {
                    await predictions.DisposeAsync().ConfigureAwait(false);
                    throw BallastStartupException.Unavailable(exception.Message, exception);
                }
            }

            return new ServerContext(options, database, artifacts, keys, new LeaseStore(database, time, new LeaseMetrics()), mode, time, predictions, online);
        }
        catch (Exception exception)
        {
            (artifacts as IDisposable)?.Dispose();
            await database.DisposeAsync().ConfigureAwait(false);
            if (exception is ArtifactStoreUnavailableException unavailable)
            {
                throw BallastStartupException.Unavailable(unavailable.Message, exception);
            }

            throw;
        }
    }

    /// <summary>Builds the web host; <paramref name="configure"/> lets tests add routes before it starts.</summary>
    public static WebApplication Build(ServerContext server, Action<WebApplication>? configure = null, Action<IServiceCollection>? configureServices = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var options = server.Options;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls(ListenAddresses.Parse(options.Listen).Select(uri => uri.GetLeftPart(UriPartial.Authority)).ToArray());
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);

        builder.Logging.ClearProviders();
        if (options.LogFormat == "json")
        {
            builder.Logging.AddJsonConsole(json => json.UseUtcTimestamp = true);
        }
        else
        {
            builder.Logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.UseUtcTimestamp = true;
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            });
        }

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // Off entirely: while this category logs at any level, hosting starts an Activity and a log scope for every
        // request (~6% of an iris request's CPU at peak, bench/README.md). It logs request starts and ends (below
        // Warning) and startup errors, which reach the caller as exceptions anyway.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // "No XML encryptor configured": KeyRingStartup says it instead, naming BALLAST_DATA_PROTECTION_KEY.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error);

        // Stores are created by the factories so that the container disposes them on shutdown.
        builder.Services.AddSingleton(server);
        builder.Services.AddSingleton(server.Time);
        builder.Services.AddSingleton(_ => server.Database);
        builder.Services.AddSingleton(_ => server.Artifacts);
        builder.Services.AddSingleton(server.Keys);
        builder.Services.AddSingleton(server.Leases);
        var experiments = new ExperimentStore(server.Database, server.Time);
        builder.Services.AddSingleton(experiments);
        var runs = new RunStore(server.Database, experiments, server.Time);
        builder.Services.AddSingleton(runs);
        builder.Services.AddSingleton(new LoggedModelStore(server.Database, experiments, server.Time));
        // Per request, so registry changes are audited under the API key that made them.
        var registry = new Ballast.Registry.RegistryStore(server.Database, server.Time);
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped(services => registry.WithActor(
            services.GetRequiredService<IHttpContextAccessor>().HttpContext?.User.Identity?.Name ?? "system"));
        builder.Services.AddSingleton(new Ballast.Audit.AuditLog(server.Database));
        var datasets = new Ballast.Datasets.DatasetStore(server.Database, server.Artifacts, server.Time, new Ballast.Datasets.DatasetProfiler());
        builder.Services.AddSingleton(datasets);
        builder.Services.AddSingleton(server.Predictions);
        builder.Services.AddHostedService<PredictionLogService>();
        // The retention keeps the spans of traffic that monitors compare with, whatever their age.
        builder.Services.AddSingleton(services => new Ballast.Serving.PredictionCompaction(server.Artifacts, server.Time)
        {
            Retention = options.PredictionRetention,
            Kept = services.GetRequiredService<Ballast.Monitoring.MonitorStore>().TrafficReferencesAsync,
        });
        builder.Services.AddHostedService<PredictionCompactionService>();
        var feedback = new Ballast.Serving.FeedbackStore(server.Database, server.Time);
        builder.Services.AddSingleton(feedback);
        var watermarks = new Ballast.Serving.PredictionLogWatermarks(server.Database, server.Time);
        builder.Services.AddSingleton(watermarks);
        var export = new Ballast.Serving.PredictionExport(server.Predictions, server.Artifacts, feedback, watermarks);
        builder.Services.AddSingleton(export);
        var endpoints = new Ballast.Serving.EndpointStore(server.Database, server.Time);
        var kpis = new Ballast.Experiments.KpiStore(server.Database, server.Time);
        builder.Services.AddSingleton(kpis);
        var traffic = new Ballast.Serving.TrafficStats(server.Database, server.Time);
        builder.Services.AddSingleton(traffic);
        var models = new Ballast.Serving.ModelCache(registry, runs, server.Artifacts, server.Time, new ServingMetrics());
        builder.Services.AddSingleton(endpoints);
        builder.Services.AddSingleton(models);
        var assignments = new Ballast.Serving.AssignmentStore(server.Database);
        builder.Services.AddSingleton(assignments);
        builder.Services.AddHostedService<ServingFlushService>();
        var router = new Ballast.Serving.EndpointRouter(endpoints, models, assignments, server.Time, Serving.ServingMetrics.BatchObserver);
        builder.Services.AddSingleton(router);
        // Concluding an experiment with apply routes its endpoint to the winner and swaps the routing snapshot, as a rollout's promotion does.
        // Model covariates (CUPAC) are scored as monitors score a reference: the serving cache's model, the reference cache's file and scores.
        builder.Services.AddSingleton(services => new Ballast.Experiments.AbExperimentStore(server.Database, endpoints, export, kpis, traffic, datasets, server.Time,
            cancellationToken => router.RefreshAsync(cancellationToken), registry,
            new Ballast.Monitoring.ReferenceScorer(endpoints, models, services.GetService<Ballast.Monitoring.ReferenceCache>()), services.GetService<Ballast.Monitoring.ReferenceCache>()));
        builder.Services.AddHostedService<Ballast.Server.Experiments.AbExperimentApplyService>();
        // The controller swaps the routing snapshot right after it changes an endpoint (an abort takes one swap).
        // Feedback conditions read the prediction assignments; drift conditions the prediction log with the monitors' drift
        // engine; aborts go to the alert rules' event receivers when alerts are registered.
        builder.Services.AddSingleton(services => new Ballast.Rollouts.RolloutDrift(export, services.GetRequiredService<Ballast.Monitoring.MonitorEvaluator>(),
            services.GetRequiredService<Ballast.Monitoring.MonitorStore>()));
        builder.Services.AddSingleton(services => new Ballast.Rollouts.RolloutController(server.Database, endpoints, traffic, server.Time, cancellationToken => router.RefreshAsync(cancellationToken),
            assignments, services.GetService<Ballast.Alerts.IAlertNotifier>(), services.GetRequiredService<Ballast.Rollouts.RolloutDrift>()));
        builder.Services.AddHostedService<Ballast.Server.Rollouts.RolloutService>();
        builder.Services.AddHostedService<EndpointRefreshService>();
        // Alerts: the rules engine is an IAlertObserver (monitors call every registered one per closed window); the
        // dispatcher delivers the outbox under the `alerts` lease.
        // Rules are checked against the monitors (their source must be one, their metric one it reports).
        var monitors = new Ballast.Monitoring.MonitorStore(server.Database, endpoints, datasets, server.Time, runs, server.Artifacts, registry);
        builder.Services.AddSingleton(monitors);
        var alertSources = new Ballast.Alerts.AlertSourceChecks(monitors);
        builder.Services.AddSingleton(alertSources);
        var alerts = new Ballast.Alerts.AlertStore(server.Database, server.Time, alertSources);
        builder.Services.AddSingleton(alerts);
        var alertEvaluator = new Ballast.Alerts.AlertEvaluator(alerts, server.Time, alertSources);
        builder.Services.AddSingleton(alertEvaluator);
        builder.Services.AddSingleton<Ballast.Alerts.IAlertObserver>(alertEvaluator);
        builder.Services.AddSingleton<Ballast.Alerts.IAlertNotifier>(alertEvaluator);
        builder.Services.AddSingleton(new Ballast.Alerts.AlertDispatchOptions());
        builder.Services.AddSingleton<Ballast.Server.Alerts.AlertMetrics>();
        builder.Services.AddHostedService<Ballast.Server.Alerts.AlertDispatchService>();
        // Alert observers (the alert rules engine above), data-quality checks and window estimators (CBPE, fairness,
        // multivariate drift) come from the container.
        // Dataset references and their CBPE scores are kept in <data-dir>/cache/references between windows.
        builder.Services.AddMonitorWindowHooks(endpoints, models, Path.Combine(options.DataDir, BallastDefaults.ReferenceCacheFolder), options.ReferenceCacheBytes, options.ReferenceMemoryBytes);
        builder.Services.AddSingleton(services => new Ballast.Monitoring.MonitorEvaluator(export, datasets, kpis, traffic,
            services.GetServices<Ballast.Monitoring.IWindowEstimator>(), services.GetServices<Ballast.Monitoring.IWindowQualityCheck>(), runs, server.Artifacts,
            services.GetRequiredService<Ballast.Monitoring.ReferenceCache>(), services.GetRequiredService<Ballast.Monitoring.ReferenceProfiles>()));
        builder.Services.AddSingleton(services => new Ballast.Monitoring.MonitorScheduler(monitors, services.GetRequiredService<Ballast.Monitoring.MonitorEvaluator>(), traffic,
            services.GetServices<Ballast.Alerts.IAlertObserver>(), server.Time, Ballast.Server.Monitoring.MonitorMetrics.Observe));
        builder.Services.AddHostedService<Ballast.Server.Monitoring.MonitorService>();
        AddPipelines(builder.Services, server, experiments, runs, registry, datasets);
        builder.Services.AddScoped(services => new Ballast.Registry.ModelLineage(services.GetRequiredService<Ballast.Registry.RegistryStore>(), services.GetRequiredService<RunStore>(), services.GetRequiredService<Ballast.Datasets.DatasetStore>()));
        // Feature store: definitions (their catalog snapshot read by scoring), the offline store over dataset versions,
        // the online store (Redis when configured, else the metadata database), materialization under the `features` lease.
        // Views may read the prediction log and KPI streams as well as dataset versions.
        var featureSets = new Ballast.Features.FeatureStore(server.Database, server.Time, new Ballast.Features.FeatureSourceChecks(endpoints, registry, server.Database));
        builder.Services.AddSingleton(featureSets);
        var online = server.OnlineStore ?? new Ballast.Features.EmbeddedOnlineStore(server.Database, server.Time);
        builder.Services.AddSingleton<Ballast.Features.IOnlineStore>(_ => online); // a factory, so the container disposes a Redis connection
        var streams = new Ballast.Features.FeatureStreams(server.Predictions, server.Artifacts, server.Database);
        builder.Services.AddSingleton(streams);
        var offline = new Ballast.Features.OfflineStore(datasets, Path.Combine(options.DataDir, "scratch"), streams);
        builder.Services.AddSingleton(offline);
        builder.Services.AddSingleton(new Ballast.Features.FeatureMaterializer(featureSets, datasets, offline, online, server.Database, server.Time));
        builder.Services.AddSingleton(new Ballast.Features.FeatureLookup(featureSets, online, server.Time));
        builder.Services.AddSingleton(new Ballast.Features.FeatureConsistency(offline, online, server.Time));
        builder.Services.AddHostedService<Ballast.Server.Features.FeatureMaterializationService>();
        builder.Services.AddSingleton(new AuthenticationGate(server.AuthenticationMode, server.Keys, server.Time));
        // The dashboard's session and anti-forgery cookies are protected with keys kept in the metadata database, so every
        // replica accepts what another issued and a restart keeps sessions; <data-dir>/dashboard-keys held them before.
        builder.Services.AddKeyRing(server.Database, server.Time, options.DataProtectionKey, Path.Combine(options.DataDir, "dashboard-keys"));
        builder.Services.AddDashboard();

        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
            json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
            // Error messages and names read as written in curl ('x', not \u0027x\u0027); the bodies are never inlined into HTML.
            json.SerializerOptions.Encoder = ApiJson.Encoder;
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ServerJsonContext.Default);
            // Bodies are read as strictly as their types say: unknown fields and null list elements are refused, naming them.
            json.SerializerOptions.TypeInfoResolver = json.SerializerOptions.TypeInfoResolver!.WithAddedModifier(RequestJsonContract.Modify);
        });

        // Binding failures (malformed JSON, body too large) reach the exception handler, which writes the protocol's error format with the reason.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi(options => options.AddSchemaTransformer<Serving.ExpectationSuiteSchema>());
        builder.Services.AddAuthentication(BallastClaims.Scheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(BallastClaims.Scheme, null);
        builder.Services.AddAuthorization(BallastPolicies.Add);
        builder.Services.AddSingleton<IAuthorizationHandler, RoleRequirementHandler>();
        builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, BallastAuthorizationResultHandler>();

        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteExceptionAsync, SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException or TrackingException or Ballast.Pipelines.ActiveRunLimitException or ArtifactNotFoundException or InvalidArtifactPathException or Ballast.Runtime.ModelInputException or Ballast.Runtime.RemoteModelException or ForbiddenException or UnsupportedMediaTypeException });
        app.UseStatusCodePages(WriteStatusCodeAsync);
        // Scoring has its own metrics by endpoint and variant (InferenceApi); the generic HTTP ones would cost its hot path ~10%.
        // For the same reason /metrics does not republish ASP.NET Core's per-request meters (request duration, active
        // requests, route matches, authentication and authorization, memory pool rents): once scraped, prometheus-net's
        // meter adapter would look up labelled series for several measurements of every request. Runtime, Kestrel
        // connection and other meters stay, but for the runtime's five counts that RuntimeMetrics publishes under names
        // Prometheus accepts, and the runtime's private diagnostics meters (some thirty MsQuic internals, for its own tests).
        Prometheus.Metrics.ConfigureMeterAdapter(adapter => adapter.InstrumentFilterPredicate = instrument => !PerRequestMeters.Contains(instrument.Meter.Name)
            && !instrument.Meter.Name.StartsWith("Private.InternalDiagnostics.", StringComparison.Ordinal) && !RuntimeMetrics.IsRenamed(instrument));
        // No event counters: the runtime's and Kestrel's meters publish their numbers, requests are counted by the HTTP
        // metrics and InferenceApi, and prometheus-net's event counter adapter would add a second copy under other names,
        // some with suffixes Prometheus reserves (gauges ending in _count, its own gauge ending in _total), besides its
        // event listener's cost on every request and the gen 0 collections it forces every few minutes.
        Prometheus.Metrics.SuppressDefaultMetrics(new Prometheus.SuppressDefaultMetricOptions { SuppressEventCounters = true });
        RuntimeMetrics.Publish();
        // The same branch keeps the JSON body a route binds while the request runs, so a refused one can be read again to
        // name every unknown field in it; a scoring request's body is parsed by its own reader, once, and not kept.
        app.UseWhen(context => !InferenceApi.IsScoringPath(context.Request.Path), other => other.UseHttpMetrics().UseRequestJsonContract());
        app.UseBallastAuthentication();

        app.MapOpenApi().AllowAnonymous();
        app.MapDashboard();
        app.MapSystemApi(server);
        app.MapKeysApi();
        app.MapMlflowExperimentsApi();
        app.MapMlflowRunsApi();
        app.MapMlflowLoggedModelsApi();
        app.MapMlflowArtifactsApi();
        app.MapMlflowRegistryApi();
        app.MapAuditApi();
        app.MapLineageApi();
        app.MapModelCardApi();
        app.MapDatasetsApi();
        app.MapEndpointsApi();
        app.MapInferenceApi();
        app.MapPredictionsApi();
        app.MapAbExperimentsApi();
        app.MapRolloutsApi();
        app.MapAlertsApi();
        app.MapMonitorsApi();
        app.MapPipelinesApi();
        app.MapFeaturesApi();
        configure?.Invoke(app);

        Log.Starting(app.Logger, BallastVersion.Current, options.Listen, server.Database.Location.Display, server.Artifacts.Location, server.AuthenticationMode);
        if (server.AuthenticationMode == AuthenticationMode.Disabled)
        {
            Log.InsecureMode(app.Logger);
        }

        return app;
    }

    private static readonly HashSet<string> PerRequestMeters = new(StringComparer.Ordinal)
    {
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Routing", "Microsoft.AspNetCore.Authentication", "Microsoft.AspNetCore.Authorization",
        "Microsoft.AspNetCore.MemoryPool", "Microsoft.AspNetCore.Diagnostics",
    };

    /// <summary>
    /// The pipeline engine: the built-in step kinds (other features add theirs as more <see cref="IPipelineStep"/>
    /// singletons), the store, the runner (which takes every registered step), the launcher behind
    /// <see cref="IPipelineLauncher"/> (alert actions call it), the scheduler and the lease-holding service.
    /// </summary>
    private static void AddPipelines(IServiceCollection services, ServerContext server, ExperimentStore experiments, RunStore runs, Ballast.Registry.RegistryStore registry, Ballast.Datasets.DatasetStore datasets)
    {
        var pipelineRegistry = registry.WithActor("pipelines");
        services.AddSingleton<IPipelineStep, CommandStep>();
        services.AddSingleton<IPipelineStep, EchoStep>();
        services.AddSingleton<IPipelineStep, FailStep>();
        services.AddSingleton<IPipelineStep>(provider => new RegisterModelStep(pipelineRegistry, new Ballast.Registry.ModelRegistration(pipelineRegistry, server.Artifacts), runs,
            provider.GetRequiredService<Ballast.Features.FeatureStore>()));
        services.AddSingleton<IPipelineStep>(new PromoteModelStep(pipelineRegistry));
        services.AddSingleton<IPipelineStep>(provider => new StartRolloutStep(provider.GetRequiredService<Ballast.Rollouts.RolloutController>()));
        // Built-in training steps: thin adapters over the training, quality and dataset libraries.
        services.AddSingleton<IPipelineStep>(provider => new IngestStep(datasets, provider.GetRequiredService<Ballast.Serving.PredictionExport>(), server.Time,
            location => Ballast.Storage.ArtifactStoreFactory.Create(location, server.Options.S3Endpoint, server.Options.S3Region),
            provider.GetRequiredService<Ballast.Features.FeatureStore>(), provider.GetRequiredService<Ballast.Features.OfflineStore>()));
        services.AddSingleton<IPipelineStep, ValidateDataStep>();
        services.AddSingleton<IPipelineStep, SplitStep>();
        services.AddSingleton<IPipelineStep>(new TrainStep(new Ballast.Training.ModelTrainer(server.Time), runs));
        services.AddSingleton<IPipelineStep>(new EvaluateStep(pipelineRegistry, runs));
        services.AddSingleton<IPipelineStep>(new GateStep(server.Time));
        var store = new PipelineStore(server.Database, server.Time);
        services.AddSingleton(store);
        services.AddSingleton(new PipelineRunnerOptions { WorkRoot = Path.Combine(server.Options.DataDir, "pipelines-work"), Observer = new PipelineMetrics() });
        var executor = KubernetesExecutor(server);
        services.AddSingleton(provider => new PipelineRunner(store, provider.GetServices<IPipelineStep>(), experiments, runs, server.Artifacts, server.Time,
            provider.GetRequiredService<PipelineRunnerOptions>(), executor));
        var launcher = new PipelineLauncher(store, datasets);
        services.AddSingleton(launcher);
        services.AddSingleton<IPipelineLauncher>(launcher);
        services.AddSingleton(provider =>
        {
            var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger<PipelineScheduler>();
            return new PipelineScheduler(store, launcher, datasets, server.Time, (pipeline, problem) => Log.ScheduleFailed(logger, pipeline, problem),
                (pipeline, key, reason) =>
                {
                    Log.StartSkipped(logger, pipeline, key, reason);
                    PipelineMetrics.StartSkipped(pipeline, key);
                });
        });
        services.AddHostedService<PipelineService>();
    }

    /// <summary>
    /// The Kubernetes Jobs executor when <c>BALLAST_PIPELINES_EXECUTOR=kubernetes</c> (in-cluster credentials, else the
    /// kubeconfig); null for the in-process default. A misconfiguration stops start-up with every problem listed.
    /// </summary>
    private static Ballast.Pipelines.Kubernetes.KubernetesStepExecutor? KubernetesExecutor(ServerContext server)
    {
        Ballast.Pipelines.Kubernetes.KubernetesExecutorOptions? options;
        try
        {
            options = Ballast.Pipelines.Kubernetes.KubernetesExecutorOptions.FromEnvironment(Environment.GetEnvironmentVariable);
        }
        catch (InvalidOperationException exception)
        {
            throw BallastStartupException.InvalidConfiguration([exception.Message]);
        }

        if (options is null)
        {
            return null;
        }

        var configuration = k8s.KubernetesClientConfiguration.IsInCluster()
            ? k8s.KubernetesClientConfiguration.InClusterConfig()
            : k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile();
        return new Ballast.Pipelines.Kubernetes.KubernetesStepExecutor(new k8s.Kubernetes(configuration), options, server.Artifacts);
    }

    /// <summary>Prepares, builds and starts the server; dispose the result to stop it (in-flight requests drain first).</summary>
    public static async Task<WebApplication> StartAsync(BallastOptions options, TimeProvider? time = null, Action<WebApplication>? configure = null,
        Action<IServiceCollection>? configureServices = null, CancellationToken cancellationToken = default)
    {
        // Before anything is opened: a port another server holds is the usual mistake, and one line says so (an invalid
        // --listen is left to PrepareAsync, which reports every problem of the options at once).
        if (BallastOptionsValidator.Validate(options).Count == 0 && ListenAddresses.FirstUnavailable(options.Listen) is { } taken)
        {
            throw BallastStartupException.Unavailable($"Cannot listen on {taken}.");
        }

        var server = await PrepareAsync(options, time, cancellationToken).ConfigureAwait(false);
        var app = Build(server, configure, configureServices);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException exception)
        {
            // Stopped first, so that background services see a stop rather than a disposal (which they report as a failure).
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            throw BallastStartupException.Unavailable($"Cannot listen on {options.Listen}: {exception.Message.TrimEnd('.')}.", exception);
        }
        catch (BallastStartupException)
        {
            // A start-up check of a hosted service refused (the dashboard's key ring cannot be read, say).
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return app;
    }

    /// <summary>The addresses Kestrel actually bound (port 0 resolved).</summary>
    public static IReadOnlyList<string> BoundAddresses(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
    }

    private static async Task WriteExceptionAsync(HttpContext context)
    {
        try
        {
            await WriteErrorAsync(context, context.Features.Get<IExceptionHandlerFeature>()?.Error).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away mid-request (a load generator stopping, a closed tab): nobody to answer. Handled
            // here, a body cut short stays a client error (not logged) instead of a failed error handler.
        }
    }

    private static Task WriteErrorAsync(HttpContext context, Exception? error)
    {
        return error switch
        {
            BadHttpRequestException bad => WriteBadRequestAsync(context, bad),
            MetadataUnavailableException unavailable => ErrorResponses.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ErrorCodes.TemporarilyUnavailable, unavailable.Message),
            Ballast.Features.OnlineStoreUnavailableException online => ErrorResponses.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ErrorCodes.TemporarilyUnavailable, online.Message),
            TrackingException tracking => ErrorResponses.WriteAsync(context, TrackingStatus(tracking.Code, context.Request.Path), tracking.Code, tracking.Message, tracking.Problems),
            Ballast.Pipelines.ActiveRunLimitException busy => ErrorResponses.WriteAsync(context, StatusCodes.Status409Conflict, ErrorCodes.InvalidState, busy.Message),
            ArtifactNotFoundException missing => ErrorResponses.WriteAsync(context, StatusCodes.Status404NotFound, ErrorCodes.NotFound, missing.Message),
            InvalidArtifactPathException path => ErrorResponses.WriteAsync(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameterValue, path.Message),
            UnsupportedMediaTypeException unsupported => ErrorResponses.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, ErrorCodes.BadRequest, unsupported.Message),
            ForbiddenException forbidden => ErrorResponses.WriteAsync(context, StatusCodes.Status403Forbidden, ErrorCodes.ForStatus(StatusCodes.Status403Forbidden), forbidden.Message),
            Ballast.Runtime.ModelInputException input => ErrorResponses.WriteAsync(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameterValue, input.Message),
            // A remote variant failed and no fallback answered: the gateway's error, with the remote's reason.
            Ballast.Runtime.RemoteModelException remote => ErrorResponses.WriteAsync(context, StatusCodes.Status502BadGateway, ErrorCodes.TemporarilyUnavailable, remote.Message),
            _ => ErrorResponses.WriteAsync(context, StatusCodes.Status500InternalServerError, ErrorCodes.Internal,
                $"An internal error occurred; the server log has the details under trace id {context.TraceIdentifier}."),
        };
    }

    /// <summary>
    /// MLflow's status codes on its routes: 404 for a missing resource, 400 for every other refusal (an existing name
    /// included, as MLflow clients expect); elsewhere an existing resource, or a state that refuses the request, is a 409 conflict.
    /// </summary>
    private static int TrackingStatus(string code, PathString path) => code switch
    {
        TrackingException.ResourceDoesNotExist => StatusCodes.Status404NotFound,
        TrackingException.ResourceAlreadyExists or TrackingException.InvalidState when ErrorResponses.ProtocolOf(path) == ErrorProtocol.Problem => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status400BadRequest,
    };

    private const string BodyTooLargeMessage = "The request body is larger than this server accepts (--max-request-body).";

    /// <summary>
    /// A request the server could not bind. A JSON body that does not fit its route's fields is named in the body's own
    /// terms, every problem at once: the serializer stops at the first unknown field, so the kept body is read again for
    /// the others (<c>detail</c> names them all, <c>errors</c> lists them one by one when there are several), and the
    /// rest of it, without them, is checked by the route's <see cref="BodyValidation"/> when it has one, so the
    /// validation's problems come in the same answer. A value of the wrong type is named with what its field takes.
    /// </summary>
    private static async Task WriteBadRequestAsync(HttpContext context, BadHttpRequestException bad)
    {
        if (bad.StatusCode == StatusCodes.Status400BadRequest && bad.InnerException is System.Text.Json.JsonException json && RequestJsonContract.Describe(json) is { } problems)
        {
            var detail = $"The body is not the JSON this route takes: {ProblemList.Join(problems)}.";
            if (RequestJsonContract.IsUnknownField(json) && BodyType(context) is { } root
                && await RequestJsonContract.WithoutUnknownFieldsAsync(context.Request.Body, root, context.RequestAborted).ConfigureAwait(false) is { } found)
            {
                problems = found.Problems;
                detail = $"The body is not the JSON this route takes: {ProblemList.Join(problems)}.";

                // The rest of the body, checked as the route would check it: its problems in the same answer.
                var handler = context.Features.Get<IExceptionHandlerFeature>();
                if (found.Remaining is { } known && handler?.Endpoint?.Metadata.GetMetadata<BodyValidation>() is { } validation
                    && validation.Check(known, handler.RouteValues ?? new Microsoft.AspNetCore.Routing.RouteValueDictionary(), context.RequestServices) is { } invalid)
                {
                    problems = [.. problems, .. invalid.Problems.Count > 0 ? invalid.Problems : [ProblemList.Trimmed(invalid.Message)]];
                    detail = $"{detail} {invalid.Message}";
                }
            }

            await ErrorResponses.WriteAsync(context, bad.StatusCode, ErrorCodes.ForStatus(bad.StatusCode), detail, problems.Count > 1 ? problems : null).ConfigureAwait(false);
            return;
        }

        var message = bad.StatusCode != StatusCodes.Status400BadRequest ? null
            // A value of the wrong type: its place, what the field takes and what was sent.
            : bad.InnerException is System.Text.Json.JsonException wrong
                && await JsonValueMismatch.DescribeAsync(wrong, context.Request.Body, BodyType(context), context.RequestAborted).ConfigureAwait(false) is { } mismatch
                ? $"The body is not the JSON this route takes: {mismatch}."
            // ASP.NET Core reports a body of null as one not provided: say which it was.
            : IsBodyMissing(bad) && await JsonValueMismatch.IsNullAsync(context.Request.Body, context.RequestAborted).ConfigureAwait(false)
                ? $"The body is null; expected {JsonValueMismatch.Kind(BodyType(context))}, the JSON this route takes."
            : null;
        await ErrorResponses.WriteAsync(context, bad.StatusCode, ErrorCodes.ForStatus(bad.StatusCode), message ?? BadRequestMessage(bad)).ConfigureAwait(false);
    }

    /// <summary>The body type of the route that refused the request (the exception handler has cleared the route from the context).</summary>
    private static JsonTypeInfo? BodyType(HttpContext context) =>
        context.Features.Get<IExceptionHandlerFeature>()?.Endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType is { } type
            ? context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions.GetTypeInfo(type)
            : null;

    private static string BadRequestMessage(BadHttpRequestException exception) => exception.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => BodyTooLargeMessage,
        _ => exception.InnerException is System.Text.Json.JsonException json ? JsonMessage(json)
            // ASP.NET Core's words for an empty body name the handler's parameter and suggest a service: say what the client sent.
            : IsBodyMissing(exception)
                ? "The body is empty; send the JSON this route takes."
            : BindFailure().Match(exception.Message) is { Success: true } bind
                // "Failed to bind parameter "Nullable<long> from" from "abc"." names .NET types: say what the value must be.
                ? $"Parameter '{bind.Groups["name"].Value}' must be {ExpectedValue(bind.Groups["type"].Value)}, not '{bind.Groups["value"].Value}'."
                : exception.Message,
    };

    /// <summary>ASP.NET Core's words for a body it did not get (empty, or the JSON null), naming the handler's parameter.</summary>
    private static bool IsBodyMissing(BadHttpRequestException exception) =>
        exception.InnerException is null
        && (exception.Message.StartsWith("Implicit body inferred for parameter", StringComparison.Ordinal)
            || (exception.Message.StartsWith("Required parameter", StringComparison.Ordinal) && exception.Message.EndsWith("was not provided from body.", StringComparison.Ordinal)));

    [System.Text.RegularExpressions.GeneratedRegex("^Failed to bind parameter \"(?<type>.+) (?<name>[^ ]+)\" from \"(?<value>.*)\"\\.$", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex BindFailure();

    private static string ExpectedValue(string type) => type.Replace("Nullable<", "", StringComparison.Ordinal).TrimEnd('>') switch
    {
        "long" or "int" or "Int64" or "Int32" or "short" => "a whole number",
        "double" or "float" or "decimal" or "Double" => "a number",
        "bool" or "Boolean" => "true or false",
        "Guid" => "a UUID",
        "DateTimeOffset" or "DateTime" => "an ISO 8601 time",
        var other => $"a {other}",
    };

    /// <summary>
    /// Where and why a body's JSON was refused, in the body's own terms: the reader's position and reason, but not the
    /// .NET type it was reading into ("could not be converted to IReadOnlyList`1[Ballast.Serving.VariantSpec]").
    /// </summary>
    private static string JsonMessage(System.Text.Json.JsonException json)
    {
        if (RequestJsonContract.Describe(json) is { } problems)
        {
            return $"The body is not the JSON this route takes: {ProblemList.Join(problems)}.";
        }

        var at = (json.Path is { Length: > 1 } path ? $" at {path}" : "") + (json.LineNumber is { } line ? $" (line {line + 1})" : "");
        var reason = json.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)
            ? "the value has the wrong type"
            : JsonErrorText.WithoutPosition(json.Message).TrimEnd('.');
        return $"The body is not the JSON this route takes{at}: {reason}.";
    }

    private static Task WriteStatusCodeAsync(StatusCodeContext status)
    {
        var context = status.HttpContext;
        var code = context.Response.StatusCode;
        var message = code switch
        {
            StatusCodes.Status404NotFound => $"No route matches {context.Request.Method} {context.Request.Path}.",
            StatusCodes.Status413PayloadTooLarge => BodyTooLargeMessage,
            StatusCodes.Status405MethodNotAllowed => $"{context.Request.Method} is not allowed on {context.Request.Path}{(context.Response.Headers.Allow.ToString() is { Length: > 0 } allow ? $"; it takes {allow}" : "")}.",
            // The endpoint takes a JSON body.
            StatusCodes.Status415UnsupportedMediaType => RequestMediaType.NotJson(context.Request.ContentType),
            _ => ErrorCodes.Title(ErrorCodes.ForStatus(code)) + ".",
        };
        // A path no route matches is a missing API, not a missing resource: MLflow's client reads a bare 404 as
        // ENDPOINT_NOT_FOUND (mlflow/exceptions.py HTTP_STATUS_TO_ERROR_CODE) and only then tries its fallbacks
        // (rest_utils.call_endpoints, older trace and logged-model APIs), so its routes say so in the body too.
        var errorCode = code == StatusCodes.Status404NotFound && context.GetEndpoint() is null && ErrorResponses.ProtocolOf(context.Request.Path) == ErrorProtocol.Mlflow
            ? ErrorCodes.EndpointNotFound
            : ErrorCodes.ForStatus(code);
        return ErrorResponses.WriteAsync(context, code, errorCode, message);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Ballast {Version} listening on {Listen}; metadata {Database}; artifacts {Artifacts}; authentication {Mode}")]
        public static partial void Starting(ILogger logger, string version, string listen, string database, string artifacts, AuthenticationMode mode);

        [LoggerMessage(2, LogLevel.Warning, "Authentication is disabled (--insecure): anyone who can reach this server can read and change everything")]
        public static partial void InsecureMode(ILogger logger);

        [LoggerMessage(3, LogLevel.Warning, "Pipeline {Pipeline}: a scheduled or triggered run could not start: {Problem}")]
        public static partial void ScheduleFailed(ILogger logger, string pipeline, string problem);

        [LoggerMessage(4, LogLevel.Warning, "Pipeline {Pipeline}: {Key} skipped, not started: {Reason}")]
        public static partial void StartSkipped(ILogger logger, string pipeline, string key, string reason);
    }
}
