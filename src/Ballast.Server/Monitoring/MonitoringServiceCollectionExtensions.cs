using Ballast.Monitoring;
using Ballast.Serving;

namespace Ballast.Server.Monitoring;

/// <summary>The window hooks every monitor gets: data quality, CBPE, fairness and multivariate drift (each does nothing unless the monitor's spec asks).</summary>
public static class MonitoringServiceCollectionExtensions
{
    public static IServiceCollection AddMonitorWindowHooks(this IServiceCollection services, EndpointStore endpoints)
    {
        services.AddSingleton<IWindowQualityCheck>(new ExpectationWindowCheck(endpoints));
        services.AddSingleton<IWindowEstimator, CbpeWindowEstimator>();
        services.AddSingleton<IWindowEstimator, FairnessWindowEstimator>();
        services.AddSingleton<IWindowEstimator, MultivariateWindowEstimator>();
        return services;
    }
}
