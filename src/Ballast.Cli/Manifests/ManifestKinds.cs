namespace Ballast.Cli.Manifests;

/// <summary>The kinds that <c>ballast apply</c>, <c>get</c> and <c>delete</c> know.</summary>
internal static class ManifestKinds
{
    public static IReadOnlyList<ManifestKind> All { get; } = [new EndpointManifestKind(), new ExperimentManifestKind(), new MonitorManifestKind(), new AlertRuleManifestKind(), new PipelineManifestKind()];

    public static string Known => string.Join(", ", All.Select(kind => kind.Name));

    /// <summary>The kind a manifest's <c>kind:</c> names, in any case.</summary>
    public static ManifestKind? Find(string kind) => All.FirstOrDefault(known => known.Name.Equals(kind, StringComparison.OrdinalIgnoreCase));

    /// <summary>The kind a command line names, singular or plural (<c>endpoint</c>, <c>endpoints</c>).</summary>
    public static ManifestKind FromArgument(string text) =>
        All.FirstOrDefault(known => known.Name.Equals(text, StringComparison.OrdinalIgnoreCase) || known.Plural.Equals(text, StringComparison.OrdinalIgnoreCase))
        ?? throw new CommandUsageException($"'{text}' is not a kind of object; known: {string.Join(", ", All.Select(kind => kind.Plural))}");
}
