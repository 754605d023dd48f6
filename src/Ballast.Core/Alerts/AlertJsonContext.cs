using System.Text.Json.Serialization;

namespace Ballast.Alerts;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AlertRuleSpec))]
[JsonSerializable(typeof(AlertAction))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class AlertJsonContext : JsonSerializerContext;
