namespace Ballast.Cli.Manifests;

/// <summary>The kinds that <c>ballast apply</c>, <c>get</c> and <c>delete</c> know.</summary>
internal static class ManifestKinds
{
    public static IReadOnlyList<ManifestKind> All { get; } = [new EndpointManifestKind(), new ExperimentManifestKind(), new MonitorManifestKind(), new AlertRuleManifestKind(), new PipelineManifestKind(), new FeatureSetManifestKind()];

    public static string Known => string.Join(", ", All.Select(kind => kind.Name));

    /// <summary>The kind a manifest's <c>kind:</c> names, in any case.</summary>
    public static ManifestKind? Find(string kind) => All.FirstOrDefault(known => known.Name.Equals(kind, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The kind a command line names, singular or plural, in any case, with or without hyphens (<c>endpoint</c>,
    /// <c>endpoints</c>; <c>alertrule</c>, <c>alert-rules</c>, <c>AlertRules</c>).
    /// </summary>
    public static ManifestKind FromArgument(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var wanted = Plain(text);
        return All.FirstOrDefault(known => Plain(known.Name) == wanted || Plain(known.Plural) == wanted || Plain(known.Name) + "s" == wanted)
            ?? throw new CommandUsageException($"'{text}' is not a kind of object; known: {string.Join(", ", All.Select(kind => kind.Plural))}");

        static string Plain(string name) => name.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
    }
}
