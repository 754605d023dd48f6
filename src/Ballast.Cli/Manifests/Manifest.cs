using System.Text.Json.Nodes;

namespace Ballast.Cli.Manifests;

/// <summary>One object of a manifest file: its kind, its name and the fields sent to the server (name included).</summary>
internal sealed record Manifest(ManifestKind Kind, string Name, JsonObject Spec)
{
    public string Label => Kind.Label(Name);
}
