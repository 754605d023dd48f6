using System.Text.Json.Serialization;

namespace Ballast.Training;

/// <summary>
/// JSON of the training library's results (snake_case; NaN for undefined metrics written as "NaN"), for pipeline steps
/// to store as outputs and for the API to return.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, WriteIndented = true)]
[JsonSerializable(typeof(GateDecision))]
[JsonSerializable(typeof(GateSpec))]
[JsonSerializable(typeof(EvaluationResult))]
[JsonSerializable(typeof(TrainedModel))]
[JsonSerializable(typeof(TrainingSpec))]
[JsonSerializable(typeof(SplitSpec))]
[JsonSerializable(typeof(SplitResult))]
[JsonSerializable(typeof(EvaluationSpec))]
public sealed partial class TrainingJsonContext : JsonSerializerContext;
