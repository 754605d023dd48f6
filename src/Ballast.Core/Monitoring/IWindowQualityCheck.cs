namespace Ballast.Monitoring;

/// <summary>
/// Data-quality checks over a window's inputs (registered in DI; the evaluator calls every one for each computed
/// window): metric values by name (<c>quality.&lt;column&gt;.&lt;expectation&gt;</c>, …) that join the window's results.
/// </summary>
public interface IWindowQualityCheck
{
    Task<WindowHookResult> CheckAsync(MonitorWindowContext context, CancellationToken cancellationToken = default);
}
