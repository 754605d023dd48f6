using Ballast.Runtime;

namespace Ballast.Serving;

/// <summary>
/// An endpoint's variants, shadows and fallback against the endpoint's signature: its first variant's model's inputs,
/// which <c>GET /v2/models/{name}</c> advertises, MLflow requests' columns are mapped to, and a feature service's
/// lookups are shaped to. Every one of them must score any request that signature accepts. The runtimes refuse an input
/// the model does not take as firmly as a missing one (<see cref="SignatureCheck.Inputs"/>: <c>unknown input</c>), so a
/// model must take exactly the endpoint's inputs: the same names, each with the same datatype and a shape that holds
/// every shape the endpoint's holds (a dimension the endpoint leaves free, -1, must be free in the model too; one it
/// fixes must be fixed to the same size or free). Outputs may differ. A remote (URL) variant is not checked: its
/// signature is what its server said when it was connected, which may leave shapes out and may change without Ballast
/// knowing; when the first variant is remote, the first in-process one stands for the endpoint.
/// </summary>
public static class EndpointSignatureCheck
{
    /// <summary>
    /// Why the routed variants and shadows of <paramref name="spec"/> cannot all score the endpoint's requests: the
    /// endpoint's inputs, then each variant, fallback or shadow that differs, its model and how; null when they can.
    /// </summary>
    public static string? Problem(EndpointSpec spec, IReadOnlyList<RoutedVariant> variants, IReadOnlyList<RoutedVariant> shadows)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(variants);
        ArgumentNullException.ThrowIfNull(shadows);
        var reference = variants.FirstOrDefault(variant => variant.Model.Flavor != ModelFlavors.Remote);
        if (reference is null)
        {
            return null;
        }

        var endpoint = reference.Model.Runtime.Signature.Inputs;
        var problems = new List<string>();
        foreach (var (variant, role) in variants.Select(variant => (variant, variant.Name == spec.Fallback ? "fallback variant" : "variant"))
                     .Concat(shadows.Select(shadow => (variant: shadow, role: "shadow"))))
        {
            if (variant == reference || variant.Model.Flavor == ModelFlavors.Remote)
            {
                continue;
            }

            if (Difference(endpoint, variant.Model.Runtime.Signature.Inputs) is { } difference)
            {
                problems.Add($"{role} '{variant.Name}' ({Describe(variant)}) {difference}");
            }
        }

        return problems.Count == 0 ? null : $"every variant, shadow and fallback must take the endpoint's inputs, those of variant '{reference.Name}' ({Describe(reference)}): "
            + string.Join(", ", endpoint.OrderBy(input => input.Name, StringComparer.Ordinal).Select(input => $"{input.Name} {input}")) + "; " + string.Join("; ", problems);
    }

    /// <summary>
    /// How a model's inputs differ from the endpoint's, null when the model scores every request the endpoint's accept:
    /// the inputs it lacks, those it takes besides (a request could not carry them), and those it takes with another
    /// datatype or a shape some accepted request does not fit.
    /// </summary>
    public static string? Difference(IReadOnlyList<TensorSpec> endpoint, IReadOnlyList<TensorSpec> model)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(model);
        var parts = new List<string>();
        var lacks = endpoint.Where(input => model.All(other => other.Name != input.Name)).OrderBy(input => input.Name, StringComparer.Ordinal).ToList();
        if (lacks.Count > 0)
        {
            parts.Add($"lacks {string.Join(", ", lacks.Select(input => input.Name))}");
        }

        var differs = model.Where(input => endpoint.FirstOrDefault(other => other.Name == input.Name) is { } wanted && !Fits(wanted, input))
            .OrderBy(input => input.Name, StringComparer.Ordinal).ToList();
        if (differs.Count > 0)
        {
            parts.Add($"takes {string.Join(", ", differs.Select(input => $"{input.Name} {input}"))}");
        }

        var extra = model.Where(input => endpoint.All(other => other.Name != input.Name)).OrderBy(input => input.Name, StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
        {
            parts.Add($"also takes {string.Join(", ", extra.Select(input => $"{input.Name} {input}"))}, which the endpoint's requests do not carry");
        }

        return parts.Count == 0 ? null : string.Join(" and ", parts);
    }

    /// <summary>
    /// Whether every tensor the endpoint's input accepts fits the model's: the same datatype, and, when both give a
    /// shape (a remote model's metadata may leave it out), the same rank with each dimension free in the model or fixed
    /// to the endpoint's fixed size.
    /// </summary>
    private static bool Fits(TensorSpec endpoint, TensorSpec model) =>
        endpoint.Datatype == model.Datatype
        && (endpoint.Shape.Count == 0 || model.Shape.Count == 0
            || (endpoint.Shape.Count == model.Shape.Count && endpoint.Shape.Zip(model.Shape).All(pair => pair.Second < 0 || pair.First == pair.Second)));

    /// <summary>The model a variant serves: its version, after what the spec names when that is an alias or the latest.</summary>
    private static string Describe(RoutedVariant variant) =>
        variant.Source == $"models:/{variant.Model.Reference}" ? variant.Model.Reference : $"{variant.Source} = {variant.Model.Reference}";
}
