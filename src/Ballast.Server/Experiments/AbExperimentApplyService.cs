using Ballast.Experiments;
using Ballast.Leasing;
using Ballast.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace Ballast.Server.Experiments;

/// <summary>
/// Finishes A/B conclusions whose apply did not (the endpoint change failed after the decision was recorded), every
/// few seconds on the one replica holding the <c>experiments</c> lease: the decision is the desired state, and this
/// makes the endpoint match it. One that cannot be applied is logged once and stays pending.
/// </summary>
public sealed partial class AbExperimentApplyService(AbExperimentStore experiments, LeaseStore leases, TimeProvider time, ILogger<AbExperimentApplyService> logger)
    : LeaseHoldingService(leases, time, logger, LeaseName, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30))
{
    public const string LeaseName = "experiments";

    /// <summary>How old a conclusion must be before it is taken over (one concluded just now is still applying itself).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    private readonly HashSet<(string, string)> _reported = [];

    protected override async Task TickAsync(CancellationToken cancellationToken)
    {
        foreach (var (experiment, problem) in await experiments.ApplyPendingAsync(Grace, cancellationToken).ConfigureAwait(false))
        {
            if (problem is null)
            {
                LogApplied(logger, experiment);
            }
            else if (_reported.Add((experiment, problem)))
            {
                LogCannotApply(logger, experiment, problem);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Experiment {Experiment}: finished routing all traffic to its winner (the apply at its conclusion had not)")]
    private static partial void LogApplied(ILogger logger, string experiment);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Experiment {Experiment}: its winner cannot be applied: {Problem}")]
    private static partial void LogCannotApply(ILogger logger, string experiment, string problem);
}
