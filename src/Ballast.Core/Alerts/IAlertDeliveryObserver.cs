namespace Ballast.Alerts;

/// <summary>Told of every delivery attempt's outcome (the server counts them in <c>ballast_alert_notifications_total</c>).</summary>
public interface IAlertDeliveryObserver
{
    void Attempted(string rule, string kind, string outcome, string? reason);

    /// <summary>A pipeline action of <paramref name="rule"/> started nothing: <paramref name="pipeline"/> had as many runs under way as its <c>max_active_runs</c> allows.</summary>
    void PipelineStartSkipped(string rule, string pipeline);
}
