using Ballast.Alerts;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Ballast.Server.Alerts;

/// <summary>
/// <c>ballast_alerts{rule,severity,state}</c> (1 for each rule's current state, 0 for its other states),
/// <c>ballast_alert_rule_error{rule}</c> (1 while a rule is not evaluated: its monitor was deleted or no longer reports
/// its metric; else 0) and <c>ballast_alert_notifications_total{rule,outcome}</c> (delivery attempts: delivered, retry,
/// failed; and skipped, a resolved notification not sent because its firing one failed); failed attempts and skipped
/// notifications are logged with the rule, the kind and the reason (never a secret or a webhook's path).
/// </summary>
public sealed partial class AlertMetrics(ILogger<AlertMetrics> logger) : IAlertDeliveryObserver
{
    private static readonly Gauge Alerts = Metrics.CreateGauge("ballast_alerts", "Alert rules by state: 1 for the state each rule's alert is in, 0 for the others.",
        new GaugeConfiguration { LabelNames = ["rule", "severity", "state"] });

    private static readonly Gauge RuleErrors = Metrics.CreateGauge("ballast_alert_rule_error",
        "1 while an alert rule is not evaluated (its monitor was deleted, or no longer reports its metric), else 0.", new GaugeConfiguration { LabelNames = ["rule"] });

    private static readonly Counter Notifications = Metrics.CreateCounter("ballast_alert_notifications_total", "Alert notification delivery attempts by rule and outcome (delivered, retry, failed; skipped: a resolved notification not sent as its firing one failed).",
        new CounterConfiguration { LabelNames = ["rule", "outcome"] });

    private readonly Lock _lock = new();
    private HashSet<(string Rule, string Severity)> _published = [];

    public void Attempted(string rule, string kind, string outcome, string? reason)
    {
        Notifications.WithLabels(rule, outcome).Inc();
        if (outcome == DeliveryOutcomes.Failed)
        {
            LogFailed(logger, rule, kind, reason ?? "");
        }
        else if (outcome == DeliveryOutcomes.Retry)
        {
            LogRetry(logger, rule, kind, reason ?? "");
        }
        else if (outcome == DeliveryOutcomes.Skipped)
        {
            LogSkipped(logger, rule, kind, reason ?? "");
        }
    }

    /// <summary>Counted in <c>ballast_pipeline_skipped_starts_total{trigger_kind="alert"}</c> (the skip itself is logged by <see cref="Attempted"/>).</summary>
    public void PipelineStartSkipped(string rule, string pipeline) => Ballast.Server.Pipelines.PipelineMetrics.StartSkipped(pipeline, "alert:" + rule);

    /// <summary>
    /// Sets the gauges from the alerts now and the problems of the rules that are not evaluated (by rule); series of
    /// deleted rules (or a changed severity) are removed.
    /// </summary>
    public void Publish(IReadOnlyList<AlertState> alerts, IReadOnlyDictionary<string, string> problems)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        ArgumentNullException.ThrowIfNull(problems);
        lock (_lock)
        {
            var current = new HashSet<(string, string)>();
            foreach (var alert in alerts)
            {
                current.Add((alert.Rule, alert.Severity));
                foreach (var state in AlertStates.All)
                {
                    Alerts.WithLabels(alert.Rule, alert.Severity, state).Set(state == alert.State ? 1 : 0);
                }

                RuleErrors.WithLabels(alert.Rule).Set(problems.ContainsKey(alert.Rule) ? 1 : 0);
            }

            var rules = current.Select(alert => alert.Item1).ToHashSet(StringComparer.Ordinal);
            foreach (var (rule, severity) in _published.Where(old => !current.Contains(old)))
            {
                foreach (var state in AlertStates.All)
                {
                    Alerts.RemoveLabelled(rule, severity, state);
                }

                if (!rules.Contains(rule))
                {
                    RuleErrors.RemoveLabelled(rule);
                }
            }

            _published = current;
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Alert notification of rule {Rule} ({Kind}) failed for good: {Reason}")]
    private static partial void LogFailed(ILogger logger, string rule, string kind, string reason);

    [LoggerMessage(2, LogLevel.Information, "Alert notification of rule {Rule} ({Kind}) failed, will retry: {Reason}")]
    private static partial void LogRetry(ILogger logger, string rule, string kind, string reason);

    [LoggerMessage(3, LogLevel.Information, "Alert notification of rule {Rule} ({Kind}) skipped: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string rule, string kind, string reason);
}
