namespace Ballast.Serving;

/// <summary>
/// A variant (or shadow) of an endpoint enriched from feature service <see cref="Enriched"/> whose model version
/// <see cref="Version"/> (what <see cref="Model"/> resolves to) was registered as trained on another one,
/// <see cref="Trained"/>: the model would be scored with features it was not trained on.
/// </summary>
public sealed record FeatureServiceMismatch(string Endpoint, string Variant, bool Shadow, string Model, string Version, string Trained, string Enriched)
{
    public string Message =>
        $"{(Shadow ? "shadow" : "variant")} '{Variant}' ({Model}) is model version {Version}, trained on feature service '{Trained}', but endpoint '{Endpoint}' is enriched from feature service '{Enriched}'";
}

/// <summary>
/// Thrown while building an endpoint's routing when a routed model version was trained on another feature service than
/// the endpoint's (after an alias moved, or a change that bypassed the API's check): the router keeps serving the
/// endpoint's previous models and reports the mismatches as its problem.
/// </summary>
public sealed class FeatureServiceMismatchException(IReadOnlyList<FeatureServiceMismatch> mismatches)
    : Exception(ProblemList.Join(mismatches.Select(mismatch => mismatch.Message)))
{
    public IReadOnlyList<FeatureServiceMismatch> Mismatches { get; } = mismatches;
}
