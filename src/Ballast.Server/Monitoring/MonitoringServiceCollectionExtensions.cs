using Ballast.Monitoring;
using Ballast.Serving;

namespace Ballast.Server.Monitoring;

/// <summary>The window hooks every monitor gets: data quality, CBPE, fairness and multivariate drift (each does nothing unless the monitor's spec asks).</summary>
public static class MonitoringServiceCollectionExtensions
{
    /// <summary>
    /// Registers the reference cache (<paramref name="folder"/>, at most <paramref name="maxBytes"/>), the in-memory
    /// reference profiles (at most <paramref name="memoryBytes"/>, estimated) and the hooks; CBPE
    /// scores a dataset reference that lacks the model's probabilities with the endpoint's model from
    /// <paramref name="models"/> (the serving cache, so a version is loaded once for both), its scores kept in the reference cache.
    /// </summary>
    public static IServiceCollection AddMonitorWindowHooks(this IServiceCollection services, EndpointStore endpoints, ModelCache models, string folder, long maxBytes, long memoryBytes)
    {
        services.AddSingleton<ReferenceCacheMetrics>();
        services.AddSingleton(provider => new ReferenceCache(folder, maxBytes, provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ReferenceCacheMetrics>()));
        services.AddSingleton(provider => new ReferenceProfiles(memoryBytes, provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ReferenceCacheMetrics>()));
        services.AddSingleton<IWindowQualityCheck>(new ExpectationWindowCheck(endpoints));
        services.AddSingleton<IWindowEstimator>(provider => new CbpeWindowEstimator(new ReferenceScorer(endpoints, models, provider.GetRequiredService<ReferenceCache>())));
        services.AddSingleton<IWindowEstimator, FairnessWindowEstimator>();
        services.AddSingleton<IWindowEstimator, MultivariateWindowEstimator>();
        return services;
    }
}
