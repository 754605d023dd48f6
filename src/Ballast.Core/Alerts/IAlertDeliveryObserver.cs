namespace Ballast.Alerts;

/// <summary>Told of every delivery attempt's outcome (the server counts them in <c>ballast_alert_notifications_total</c>).</summary>
public interface IAlertDeliveryObserver
{
    void Attempted(string rule, string kind, string outcome, string? reason);
}
