using System.Text.Json.Serialization;

namespace Ballast.Datasets;

/// <summary>How manifests and profiles are kept in the metadata database: the same snake_case JSON the API returns.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(List<DatasetFile>))]
[JsonSerializable(typeof(DatasetProfile))]
internal sealed partial class DatasetJsonContext : JsonSerializerContext;
