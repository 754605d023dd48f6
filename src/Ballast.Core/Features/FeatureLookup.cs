using System.Text.Json;

namespace Ballast.Features;

/// <summary>One entity's looked-up features: a value per feature of the service (in its order; null when missing) and the names of the missing ones.</summary>
public sealed record FeatureRow(string Entity, IReadOnlyList<JsonElement?> Values, IReadOnlyList<string> Missing);

/// <summary>
/// Reads a service's features for entity keys from the online store. A view's value older than its TTL (by the
/// clock, at lookup) counts as missing, as it would in a training set at that time.
/// </summary>
public sealed class FeatureLookup(FeatureStore definitions, IOnlineStore online, TimeProvider time)
{
    public FeatureCatalog Catalog => definitions.Catalog;

    public async Task<IReadOnlyList<FeatureRow>> GetAsync(ResolvedService service, IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(keys);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var values = new JsonElement?[keys.Count][];
        for (var row = 0; row < keys.Count; row++)
        {
            values[row] = new JsonElement?[service.Features.Count];
        }

        foreach (var (view, features) in service.ByView)
        {
            var stored = await online.ReadAsync(view.Name, keys, cancellationToken).ConfigureAwait(false);
            var oldest = view.Ttl is { } ttl ? now - (long)ttl.TotalMilliseconds : long.MinValue;
            var slots = new int[features.Count];
            for (var f = 0; f < features.Count; f++)
            {
                slots[f] = IndexOf(service, view, features[f]);
            }

            for (var row = 0; row < keys.Count; row++)
            {
                if (stored[row] is not { } found || found.EventAt < oldest)
                {
                    continue;
                }

                // One copy of the row's values outlives the parse; the features' elements point into it.
                JsonElement root;
                using (var document = JsonDocument.Parse(found.Values))
                {
                    root = document.RootElement.Clone();
                }

                for (var f = 0; f < features.Count; f++)
                {
                    if (root.TryGetProperty(features[f].Name, out var value) && value.ValueKind != JsonValueKind.Null && FeatureTypes.Accepts(features[f].Type!, value))
                    {
                        values[row][slots[f]] = value;
                    }
                }
            }
        }

        var rows = new List<FeatureRow>(keys.Count);
        for (var row = 0; row < keys.Count; row++)
        {
            var missing = new List<string>();
            for (var i = 0; i < service.Features.Count; i++)
            {
                if (values[row][i] is null)
                {
                    missing.Add(service.Features[i].Name);
                }
            }

            rows.Add(new FeatureRow(keys[row], values[row], missing));
        }

        return rows;
    }

    private static int IndexOf(ResolvedService service, ResolvedView view, FeatureSpec feature)
    {
        for (var i = 0; i < service.Features.Count; i++)
        {
            if (ReferenceEquals(service.Features[i].View, view) && service.Features[i].Name == feature.Name)
            {
                return i;
            }
        }

        return -1;
    }
}
