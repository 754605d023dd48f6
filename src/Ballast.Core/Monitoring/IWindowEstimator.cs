namespace Ballast.Monitoring;

/// <summary>
/// What a monitor estimates or measures beyond drift and performance (label-free CBPE, fairness, multivariate drift),
/// registered in DI; the evaluator calls every one for each computed window. A hook the monitor's spec does not ask
/// for returns <see cref="WindowHookResult.None"/>.
/// </summary>
public interface IWindowEstimator
{
    /// <summary>A short name for logs (<c>cbpe</c>, <c>fairness</c>).</summary>
    string Name { get; }

    Task<WindowHookResult> EstimateAsync(MonitorWindowContext context, CancellationToken cancellationToken = default);
}
