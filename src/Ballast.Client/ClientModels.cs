using System.Text.Json.Serialization;

namespace Ballast.Client;

public sealed record ServerVersion(string Version, string Runtime, string Database, string Artifacts);

public sealed record ApiKeySummary(string Id, string Name, string Role, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

public sealed record CreatedApiKeySummary(string Id, string Name, string Role, DateTimeOffset CreatedAt, string Token);

internal sealed record ApiKeyList(IReadOnlyList<ApiKeySummary> Keys);

internal sealed record CreateKey(string Name, string Role);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ServerVersion))]
[JsonSerializable(typeof(ApiKeyList))]
[JsonSerializable(typeof(CreateKey))]
[JsonSerializable(typeof(CreatedApiKeySummary))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
