using Ballast.Runtime;

namespace Ballast.Training;

/// <summary>
/// A model <see cref="ModelTrainer"/> wrote: <see cref="ModelFolder"/> is an MLflow-style model folder holding
/// <c>model.zip</c> (the ML.NET model with its input schema) and <c>MLmodel</c> (flavor, signature, size); the
/// signature is the one Ballast's ML.NET runtime reads from the zip; metrics are on the training file and, when one was
/// given, on the validation file.
/// </summary>
public sealed record TrainedModel(
    string ModelFolder,
    string ModelPath,
    long SizeBytes,
    string Sha256,
    string Task,
    string Trainer,
    IReadOnlyDictionary<string, double> Hyperparameters,
    IReadOnlyList<FeatureColumn> Features,
    IReadOnlyList<IgnoredColumn> IgnoredColumns,
    ModelSignature Signature,
    IReadOnlyDictionary<string, double> TrainingMetrics,
    IReadOnlyDictionary<string, double>? ValidationMetrics);

/// <summary>A column the model takes and how it is encoded: numeric, boolean, one_hot, hashed or text.</summary>
public sealed record FeatureColumn(string Name, string Encoding);

/// <summary>A column of the train file that is not a feature, and why: excluded (by the spec) or timestamp (never a feature).</summary>
public sealed record IgnoredColumn(string Name, string Reason);
