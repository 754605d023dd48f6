using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Ballast.Cli.Commands;
using Ballast.Features;

namespace Ballast.Cli.Manifests;

/// <summary><c>kind: FeatureSet</c>: the body of <c>PUT /api/v1/features/{name}</c> (<see cref="FeatureSetSpec"/>): entities, views and services in one file.</summary>
internal sealed class FeatureSetManifestKind : ManifestKind
{
    public override string Name => "FeatureSet";

    public override string Plural => "featuresets";

    public override string Collection => "/api/v1/features";

    public override JsonTypeInfo Spec => ManifestJsonContext.Default.FeatureSetSpec;

    public override IReadOnlyList<JsonElement> Items(JsonElement list) => ClientOptions.Items(list, "feature_sets").ToList();

    public override JsonObject Stored(JsonElement answer) => Project(JsonObject.Create(answer) ?? []);

    // The server's validation fills the defaults it stores (an entity's type string).
    public override JsonObject Normalize(JsonObject spec, out string? problem) =>
        Normalize(spec, ManifestJsonContext.Default.FeatureSetSpec, FeatureSetValidation.Validate, out problem);

    public override string Summary(JsonElement answer) => $"revision {ClientOptions.Text(answer, "revision")}";

    public override TextTable Table(IEnumerable<JsonElement> answers) => FeaturesCommand.Table(answers);
}
