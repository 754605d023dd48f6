namespace Ballast.Training;

/// <summary>The names of the metrics evaluation records and gates check, and which way is better for each.</summary>
public static class MetricNames
{
    public const string Auc = "auc";
    public const string Accuracy = "accuracy";
    public const string Precision = "precision";
    public const string Recall = "recall";
    public const string F1 = "f1";
    public const string LogLoss = "log_loss";
    public const string ExpectedCalibrationError = "ece";
    public const string AccuracyMicro = "accuracy_micro";
    public const string AccuracyMacro = "accuracy_macro";
    public const string Mae = "mae";
    public const string Rmse = "rmse";
    public const string R2 = "r2";
    public const string Mape = "mape";
    public const string Rows = "rows";

    /// <summary>Guardrail measurements gates compare with bounds.</summary>
    public const string LatencyMs = "latency_ms";
    public const string SizeBytes = "model_size_bytes";

    public const string HigherIsBetter = "higher_is_better";
    public const string LowerIsBetter = "lower_is_better";

    /// <summary>Errors, losses, latency and size are better lower; every other metric (auc, accuracy, r2, …) higher.</summary>
    private static readonly HashSet<string> LowerBetter = new(StringComparer.Ordinal) { LogLoss, ExpectedCalibrationError, Mae, Rmse, Mape, LatencyMs, SizeBytes, "mse", "error_rate" };

    public static string DefaultDirection(string metric) => LowerBetter.Contains(metric) ? LowerIsBetter : HigherIsBetter;
}
