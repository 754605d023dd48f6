namespace Ballast.Serving;

/// <summary>
/// The feature service an endpoint's requests are enriched from: a request names the entity (its join key as an input)
/// and any request-time fields; the service's features are looked up in the online store and added as inputs before the
/// model runs. <see cref="OnMissing"/> <c>reject</c> answers 400 naming the features an entity lacks; <c>default</c>
/// fills each with the default its view declares (and rejects those that declare none).
/// </summary>
public sealed record EndpointFeaturesSpec(string? Service, string? OnMissing = null)
{
    public const string Reject = "reject";
    public const string Default = "default";

    public static IReadOnlyList<string> Policies { get; } = [Reject, Default];

    internal void Validate(List<string> problems)
    {
        if (string.IsNullOrEmpty(Service))
        {
            problems.Add("features.service names no feature service");
        }

        if (OnMissing is not null && !Policies.Contains(OnMissing))
        {
            problems.Add($"features.on_missing '{OnMissing}' is not one of reject, default");
        }
    }
}
