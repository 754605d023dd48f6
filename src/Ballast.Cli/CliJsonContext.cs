using System.Text.Json.Serialization;
using Ballast.Cli.Commands;

namespace Ballast.Cli;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(VersionOutput))]
[JsonSerializable(typeof(KeyOutput))]
[JsonSerializable(typeof(List<KeyOutput>))]
[JsonSerializable(typeof(CreatedKeyOutput))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
