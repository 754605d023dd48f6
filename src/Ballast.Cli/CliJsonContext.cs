using System.Text.Json.Serialization;
using Ballast.Cli.Commands;

namespace Ballast.Cli;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(VersionOutput))]
[JsonSerializable(typeof(KeyOutput))]
[JsonSerializable(typeof(List<KeyOutput>))]
[JsonSerializable(typeof(CreatedKeyOutput))]
[JsonSerializable(typeof(StatsTTestOutput))]
[JsonSerializable(typeof(StatsZTestOutput))]
[JsonSerializable(typeof(StatsSrmOutput))]
[JsonSerializable(typeof(StatsPowerOutput))]
[JsonSerializable(typeof(StatsSampleSizeOutput))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
