using Ballast.Registry;
using Ballast.Tracking;

namespace Ballast.Serving;

/// <summary>
/// An endpoint's feature service against the feature services its model versions were trained on (recorded at
/// registration: <see cref="ModelRegistration.FeatureServiceTag"/>). A version trained on another service than the
/// endpoint's is a mismatch; a version with no recorded service, or a remote (URL) variant, is allowed (nothing says
/// what it was trained on). An endpoint without a feature service may route to a version trained with one: the caller
/// then sends every feature itself, and the endpoint's answer carries a warning (<see cref="Warnings"/>).
/// </summary>
public static class FeatureServiceCheck
{
    /// <summary>The mismatches of a spec's variants and shadows, resolving their references in the registry now (for the API's 400).</summary>
    public static async Task<IReadOnlyList<FeatureServiceMismatch>> MismatchesAsync(EndpointSpec spec, RegistryStore registry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(registry);
        if (spec.Features?.Service is not { } enriched)
        {
            return [];
        }

        var mismatches = new List<FeatureServiceMismatch>();
        var routes = (spec.Variants ?? []).Select(variant => (variant.Name, variant.Model, Shadow: false))
            .Concat((spec.Shadows ?? []).Select(shadow => (shadow.Name, shadow.Model, Shadow: true)));
        foreach (var (name, model, shadow) in routes)
        {
            if (model is null)
            {
                continue; // a remote variant: what it was trained on is not recorded here
            }

            ModelVersion version;
            try
            {
                version = await ModelReference.Parse(model, $"variant '{name}'").ResolveAsync(registry, cancellationToken).ConfigureAwait(false);
            }
            catch (TrackingException)
            {
                continue; // not resolvable now: the endpoint's status reports it, and the router checks once it resolves
            }

            if (ModelRegistration.FeatureServiceOf(version) is { } trained && trained != enriched)
            {
                mismatches.Add(new FeatureServiceMismatch(spec.Name, name, shadow, model, $"{version.Name}/{version.Version}", trained, enriched));
            }
        }

        return mismatches;
    }

    /// <summary>The mismatches of a routed endpoint's loaded models (the router's check on every refresh).</summary>
    public static IReadOnlyList<FeatureServiceMismatch> Mismatches(EndpointSpec spec, IReadOnlyList<RoutedVariant> variants, IReadOnlyList<RoutedVariant> shadows)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(variants);
        ArgumentNullException.ThrowIfNull(shadows);
        if (spec.Features?.Service is not { } enriched)
        {
            return [];
        }

        return variants.Select(variant => (variant, Shadow: false)).Concat(shadows.Select(shadow => (variant: shadow, Shadow: true)))
            .Where(route => route.variant.Model.FeatureService is { } trained && trained != enriched)
            .Select(route => new FeatureServiceMismatch(spec.Name, route.variant.Name, route.Shadow, route.variant.Source, route.variant.Model.Reference, route.variant.Model.FeatureService!, enriched))
            .ToList();
    }

    /// <summary>
    /// What a served endpoint without a feature service should know: each variant whose model was trained on one gets
    /// no looked-up features, so its callers must send every feature themselves.
    /// </summary>
    public static IReadOnlyList<string> Warnings(RoutedEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.Endpoint.Spec.Features is not null)
        {
            return [];
        }

        return endpoint.Variants.Select(variant => (variant, Shadow: false)).Concat(endpoint.Shadows.Select(shadow => (variant: shadow, Shadow: true)))
            .Where(route => route.variant.Model.FeatureService is not null)
            .Select(route => $"{(route.Shadow ? "shadow" : "variant")} '{route.variant.Name}' serves {route.variant.Model.Reference}, trained on feature service "
                + $"'{route.variant.Model.FeatureService}', but the endpoint has no features.service: nothing is looked up, so requests must carry every feature "
                + $"themselves (set features.service: {route.variant.Model.FeatureService} to send only the entity key)")
            .ToList();
    }
}
