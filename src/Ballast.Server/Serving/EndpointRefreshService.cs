using Ballast.Serving;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Ballast.Server.Serving;

/// <summary>
/// Builds the routing snapshot before the server takes traffic, then refreshes it every few seconds so that changes
/// made through another replica and alias moves in the registry reach this one. A re-point the router refuses (a
/// routed version trained on another feature service than the endpoint's) is logged as an error once and held in the
/// gauge <c>ballast_endpoint_feature_service_mismatch{endpoint,variant}</c> (1 while refused, 0 once resolved).
/// </summary>
public sealed partial class EndpointRefreshService(EndpointRouter router, TimeProvider time, ILogger<EndpointRefreshService> logger) : BackgroundService
{
    private static readonly Gauge Mismatch = Metrics.CreateGauge("ballast_endpoint_feature_service_mismatch",
        "1 while the router refuses to route an endpoint's variant to a model version trained on another feature service than the endpoint's (e.g. after an alias move), else 0.",
        new GaugeConfiguration { LabelNames = ["endpoint", "variant"] });

    private static readonly Gauge EnsembleWeight = Metrics.CreateGauge("ballast_ensemble_weight",
        "The weight an adaptive ensemble gives each member (its current regime's): the spec's, times a factor learned from the outcomes of the member's own answers once it has enough of them.",
        new GaugeConfiguration { LabelNames = ["endpoint", "variant"] });

    private HashSet<FeatureServiceMismatch> _refused = [];
    private HashSet<(string Endpoint, string Variant)> _weighed = [];

    public static TimeSpan Interval { get; } = TimeSpan.FromSeconds(5);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await RefreshAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await router.RefreshAsync(cancellationToken).ConfigureAwait(false);
            var refused = new HashSet<FeatureServiceMismatch>();
            foreach (var problem in router.Problems)
            {
                if (problem.FeatureServiceMismatches is { } mismatches)
                {
                    refused.UnionWith(mismatches);
                    foreach (var mismatch in mismatches.Where(mismatch => !_refused.Contains(mismatch)))
                    {
                        LogRefused(logger, mismatch.Endpoint, mismatch.Message);
                    }
                }
                else
                {
                    LogProblem(logger, problem.Endpoint, problem.Message);
                }
            }

            foreach (var resolved in _refused.Where(mismatch => !refused.Any(now => now.Endpoint == mismatch.Endpoint && now.Variant == mismatch.Variant)))
            {
                Mismatch.WithLabels(resolved.Endpoint, resolved.Variant).Set(0);
            }

            foreach (var mismatch in refused)
            {
                Mismatch.WithLabels(mismatch.Endpoint, mismatch.Variant).Set(1);
            }

            _refused = refused;
            PublishEnsembleWeights();
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The database may be briefly unreachable; the previous snapshot keeps serving.
            LogFailed(logger, exception);
        }
    }

    /// <summary>Sets <c>ballast_ensemble_weight</c> for every adaptive ensemble's members and removes the series of those gone.</summary>
    private void PublishEnsembleWeights()
    {
        var weighed = new HashSet<(string Endpoint, string Variant)>();
        foreach (var endpoint in router.Endpoints.Values.Where(endpoint => endpoint.EnsembleAdapt is not null))
        {
            foreach (var member in EnsembleStatus.From(endpoint).Members)
            {
                EnsembleWeight.WithLabels(endpoint.Name, member.Variant).Set(member.Weight);
                weighed.Add((endpoint.Name, member.Variant));
            }
        }

        foreach (var (endpoint, variant) in _weighed.Except(weighed))
        {
            EnsembleWeight.RemoveLabelled(endpoint, variant);
        }

        _weighed = weighed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Endpoint {Endpoint} is not fully served: {Problem}")]
    private static partial void LogProblem(ILogger logger, string endpoint, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Endpoint {Endpoint}: routing refused, {Mismatch}; see its status.problem (GET /api/v1/endpoints/{Endpoint})")]
    private static partial void LogRefused(ILogger logger, string endpoint, string mismatch);

    [LoggerMessage(Level = LogLevel.Error, Message = "Refreshing the routing snapshot failed; serving the previous one")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
