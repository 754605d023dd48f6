using System.Text.Json.Serialization;
using Ballast.Monitoring.Quality;

namespace Ballast.Monitoring;

/// <summary>
/// A monitor as users write it (JSON body of <c>/api/v1/monitors</c>, <c>kind: Monitor</c> manifests): which endpoint's
/// traffic, in which windows, compared with which reference, and what to measure besides drift.
/// </summary>
public sealed record MonitorSpec(
    string Name,
    string? Endpoint,
    MonitorWindow? Window,
    MonitorReference? Reference,
    MonitorColumns? Columns = null,
    MonitorDrift? Drift = null,
    MonitorPrediction? Prediction = null,
    MonitorPerformance? Performance = null,
    IReadOnlyList<string>? Segments = null,
    IReadOnlyList<string>? Kpis = null,
    long? MinRows = null,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? FeatureNames = null,
    MonitorQuality? Quality = null,
    MonitorEstimated? Estimated = null,
    MonitorFairness? Fairness = null,
    MonitorMultivariate? Multivariate = null);

/// <summary>A tumbling window: a time span (<c>{"duration": "10m"}</c>, closed <see cref="Grace"/> after its end) or a row count (<c>{"rows": 5000}</c>).</summary>
public sealed record MonitorWindow(string? Duration = null, long? Rows = null, string? Grace = null);

/// <summary>
/// What production windows are compared with: a dataset version (<c>{"dataset": "iris-train", "version": 3}</c>, the
/// latest without a version; <see cref="File"/> picks one table when the version has several), or a window of the
/// endpoint's own traffic (<c>{"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z"}</c>), or the dataset
/// version a tracking run logged as its training input (<c>{"run": RUN_ID}</c>: the input tagged
/// <c>mlflow.data.context = training</c>, else the run's only dataset input, that is a Ballast dataset version).
/// </summary>
public sealed record MonitorReference(string? Dataset = null, long? Version = null, string? File = null, string? From = null, string? To = null, string? Run = null);

/// <summary>Which input columns are compared: only <see cref="Include"/> when given, less <see cref="Exclude"/>.</summary>
public sealed record MonitorColumns(IReadOnlyList<string>? Include = null, IReadOnlyList<string>? Exclude = null);

/// <summary>
/// Drift settings, as <c>ballast drift</c>'s options: <see cref="Method"/>/<see cref="Threshold"/> for every column,
/// <see cref="Methods"/>/<see cref="Thresholds"/> per column, columns forced to categorical, and the dataset drift share.
/// </summary>
public sealed record MonitorDrift(
    string? Method = null,
    double? Threshold = null,
    IReadOnlyDictionary<string, string>? Methods = null,
    IReadOnlyDictionary<string, double>? Thresholds = null,
    IReadOnlyList<string>? Categorical = null,
    double? DriftShare = null);

/// <summary>Drift of the model's output <see cref="Output"/> (the first one-value-per-row output by default), with its own method and threshold.</summary>
public sealed record MonitorPrediction(bool? Enabled = null, string? Output = null, string? Method = null, double? Threshold = null);

/// <summary>
/// Quality against feedback outcomes: <c>classification</c> (accuracy, precision, recall, f1, roc_auc, log_loss) or
/// <c>regression</c> (mae, rmse, mape). <see cref="Output"/> is the predicted label or value; <see cref="Probabilities"/>
/// the [N, C] probability output (for roc_auc and log_loss) with <see cref="Classes"/> naming its columns;
/// <see cref="PositiveClass"/> makes precision, recall, F1 and ROC AUC binary (macro averages otherwise).
/// </summary>
public sealed record MonitorPerformance(
    string? Task,
    string? Output = null,
    IReadOnlyList<string>? Metrics = null,
    string? Probabilities = null,
    IReadOnlyList<string>? Classes = null,
    string? PositiveClass = null);

/// <summary>
/// Data-quality expectations over each window's inputs: an inline <see cref="Suite"/>, or the endpoint's own
/// expectations suite (<see cref="FromEndpoint"/>, also the default when the monitor says nothing and the endpoint has
/// one); <c>{"enabled": false}</c> turns the default off.
/// </summary>
public sealed record MonitorQuality(ExpectationSuite? Suite = null, bool? FromEndpoint = null, bool? Enabled = null);

/// <summary>
/// Label-free estimated performance (NannyML's CBPE). Binary: <see cref="ProbabilityOutput"/> is the model's
/// probability of <see cref="PositiveClass"/> (a one-value-per-row output, or one column of an [N, 2] output named
/// <c>NAME[1]</c>); rows with p ≥ <see cref="Threshold"/> (0.5) are predicted positive. Multiclass: <see cref="Classes"/>
/// names the columns <c>NAME[0]</c> … <c>NAME[C-1]</c> of the [N, C] probability output, and a row is predicted as its
/// most probable class. Calibration and sampling errors come from the reference when it has labels: a traffic window's
/// feedback, or a dataset's <see cref="Label"/> column (default <c>label</c>) beside columns named as the output.
/// <see cref="NormalizeConfusionMatrix"/> is NannyML's <c>normalize_confusion_matrix</c> for the expected confusion
/// matrix: <c>true</c>, <c>pred</c> or <c>all</c> (<see cref="Ballast.Statistics.Performance.ConfusionNormalizations"/>;
/// YAML's and JSON's boolean <c>true</c> reads as <c>"true"</c>); absent, the cells are expected counts.
/// </summary>
public sealed record MonitorEstimated(
    string? ProbabilityOutput,
    string? PositiveClass = null,
    double? Threshold = null,
    string? Label = null,
    IReadOnlyList<string>? Classes = null,
    [property: JsonConverter(typeof(JsonScalarTextConverter))] string? NormalizeConfusionMatrix = null);

/// <summary>
/// Fairness across the values of the input column <see cref="Sensitive"/>, or across the combinations of the values of
/// the columns <see cref="SensitiveFeatures"/> (fairlearn's definitions; its intersectional groups when several
/// sensitive features are given): the predicted label is <see cref="Output"/> (the prediction output by default)
/// compared with <see cref="PositiveClass"/>; the label-based differences need feedback. Disparities are over every
/// group; the selection rates of the <see cref="MaxGroups"/> largest are stored.
/// </summary>
public sealed record MonitorFairness(string? Sensitive, string? PositiveClass, string? Output = null, IReadOnlyList<string>? SensitiveFeatures = null, int? MaxGroups = null)
{
    public const int DefaultMaxGroups = 50;
    public const int MaxMaxGroups = 1000;
    public const int MaxSensitiveFeatures = 5;

    /// <summary>The sensitive columns (a method, not a property: it is not a field of the spec's JSON).</summary>
    public IReadOnlyList<string> Columns() => Sensitive is { } column ? [column] : SensitiveFeatures ?? [];
}

/// <summary>
/// Multivariate drift of the compared input columns: <c>reconstruction</c> (NannyML's PCA reconstruction error, alert
/// outside the reference chunks' mean ± 3 standard deviations) or <c>domain_classifier</c> (cross-validated ROC AUC of
/// a classifier telling reference from window rows; drift above <see cref="Threshold"/>, 0.55).
/// </summary>
public sealed record MonitorMultivariate(string? Method, double? Threshold = null);
