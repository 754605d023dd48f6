using System.Text.Json.Serialization;
using Ballast.Serving;

namespace Ballast.Cli.Manifests;

/// <summary>The control API's JSON conventions (snake_case, nulls left out) for the spec types that manifests hold.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(EndpointSpec))]
[JsonSerializable(typeof(Ballast.Experiments.AbExperimentSpec))]
[JsonSerializable(typeof(Ballast.Alerts.AlertRuleSpec))]
[JsonSerializable(typeof(Ballast.Monitoring.MonitorSpec))]
[JsonSerializable(typeof(Ballast.Pipelines.PipelineSpec))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonObject))]
[JsonSerializable(typeof(Ballast.Features.FeatureSetSpec))]
[JsonSerializable(typeof(Ballast.Rollouts.RolloutSpec))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
