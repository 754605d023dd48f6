using System.Text.Json.Serialization;
using Ballast.Server.Audit;
using Ballast.Server.Errors;
using Ballast.Server.Hosting;
using Ballast.Server.Keys;
using Ballast.Server.Tracking;
using Microsoft.AspNetCore.Mvc;

namespace Ballast.Server.Serialization;

// Named floating-point literals: a NaN or infinite metric is written as "NaN" / "Infinity" rather than failing the response.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(MlflowError))]
[JsonSerializable(typeof(InferenceError))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
[JsonSerializable(typeof(VersionResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ApiKeyResponse))]
[JsonSerializable(typeof(CreatedApiKeyResponse))]
[JsonSerializable(typeof(CreateApiKeyRequest))]
[JsonSerializable(typeof(ApiKeyListResponse))]
[JsonSerializable(typeof(CreateExperimentResponse))]
[JsonSerializable(typeof(GetExperimentResponse))]
[JsonSerializable(typeof(SearchExperimentsResponse))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(RunResponse))]
[JsonSerializable(typeof(RunInfoResponse))]
[JsonSerializable(typeof(MetricHistoryResponse))]
[JsonSerializable(typeof(SearchRunsResponse))]
[JsonSerializable(typeof(ListArtifactsResponse))]
[JsonSerializable(typeof(RegisteredModelResponse))]
[JsonSerializable(typeof(RegisteredModelsResponse))]
[JsonSerializable(typeof(ModelVersionResponse))]
[JsonSerializable(typeof(ModelVersionsResponse))]
[JsonSerializable(typeof(DownloadUriResponse))]
[JsonSerializable(typeof(AuditListResponse))]
[JsonSerializable(typeof(Ballast.Registry.LineageGraph))]
[JsonSerializable(typeof(Ballast.Registry.ModelCard))]
[JsonSerializable(typeof(Ballast.Server.Registry.CardSectionRequest))]
[JsonSerializable(typeof(Ballast.Server.Datasets.DatasetListResponse))]
[JsonSerializable(typeof(Ballast.Server.Datasets.DatasetVersionsResponse))]
[JsonSerializable(typeof(Ballast.Server.Datasets.AddDatasetVersionRequest))]
[JsonSerializable(typeof(Ballast.Server.Datasets.AddDatasetVersionResponse))]
[JsonSerializable(typeof(Ballast.Server.Datasets.BlobResponse))]
[JsonSerializable(typeof(Ballast.Datasets.DatasetVersion))]
[JsonSerializable(typeof(Ballast.Datasets.DatasetDiff))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(Ballast.Server.Serving.LiveResponse))]
[JsonSerializable(typeof(Ballast.Server.Serving.ReadyResponse))]
[JsonSerializable(typeof(Ballast.Server.Serving.ModelReadyResponse))]
[JsonSerializable(typeof(Ballast.Server.Serving.ServerMetadataResponse))]
[JsonSerializable(typeof(Ballast.Server.Serving.ModelMetadataResponse))]
[JsonSerializable(typeof(Ballast.Serving.EndpointSpec))]
[JsonSerializable(typeof(Ballast.Server.Serving.EndpointResponse))]
[JsonSerializable(typeof(Ballast.Server.Serving.SignalRequest))]
[JsonSerializable(typeof(Ballast.Server.Serving.SignalResponse))]
[JsonSerializable(typeof(Ballast.Server.Serving.EndpointListResponse))]
[JsonSerializable(typeof(Ballast.Server.Serving.RegisteredVersionResponse))]
[JsonSerializable(typeof(Ballast.Registry.SignatureJson))]
[JsonSerializable(typeof(Ballast.Server.Serving.FeedbackResponse))]
public sealed partial class ServerJsonContext : JsonSerializerContext;
