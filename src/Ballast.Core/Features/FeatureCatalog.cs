using System.Collections.Frozen;

namespace Ballast.Features;

/// <summary>A view ready to use: its set, entity, TTL and features.</summary>
public sealed record ResolvedView(string Set, FeatureViewSpec Spec, EntitySpec Entity, TimeSpan? Ttl)
{
    public string Name => Spec.Name;

    public IReadOnlyList<FeatureSpec> Features => Spec.Features!;
}

/// <summary>One feature of a service: the view it comes from and its declaration there.</summary>
public sealed record ServiceFeature(ResolvedView View, FeatureSpec Feature)
{
    public string Name => Feature.Name;

    public string Type => Feature.Type!;
}

/// <summary>An on-demand feature, compiled.</summary>
public sealed record OnDemandFeature(string Name, string Type, OnDemandExpression Expression);

/// <summary>A service ready to use: its entity, the looked-up features grouped by view, and the on-demand ones.</summary>
public sealed record ResolvedService(string Set, FeatureServiceSpec Spec, EntitySpec Entity, IReadOnlyList<ServiceFeature> Features, IReadOnlyList<OnDemandFeature> OnDemand)
{
    public string Name => Spec.Name;

    public string JoinKey => Entity.JoinKey!;

    /// <summary>The views the service reads, each with its selected features, in the order they are first named.</summary>
    public IReadOnlyList<(ResolvedView View, IReadOnlyList<FeatureSpec> Features)> ByView { get; } =
        Features.GroupBy(feature => feature.View.Name, StringComparer.Ordinal)
            .Select(group => (group.First().View, (IReadOnlyList<FeatureSpec>)group.Select(feature => feature.Feature).ToList())).ToList();

    /// <summary>Every output column name: looked-up features, then on-demand features.</summary>
    public IReadOnlyList<string> Names { get; } = Features.Select(feature => feature.Name).Concat(OnDemand.Select(feature => feature.Name)).ToList();
}

/// <summary>
/// An immutable snapshot of every feature set, resolved for lookup by service and view name; swapped whole when a set
/// changes, so the scoring path reads it without a lock or a database call.
/// </summary>
public sealed class FeatureCatalog
{
    public static FeatureCatalog Empty { get; } = new([]);

    public FeatureCatalog(IReadOnlyList<FeatureSetSpec> sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        Sets = sets;
        var views = new Dictionary<string, ResolvedView>(StringComparer.Ordinal);
        var services = new Dictionary<string, ResolvedService>(StringComparer.Ordinal);
        foreach (var set in sets)
        {
            var entities = (set.Entities ?? []).ToDictionary(entity => entity.Name, StringComparer.Ordinal);
            var local = new Dictionary<string, ResolvedView>(StringComparer.Ordinal);
            foreach (var view in set.Views ?? [])
            {
                var resolved = new ResolvedView(set.Name, view, entities[view.Entity!], Durations.Parse(view.Ttl));
                local[view.Name] = resolved;
                views[view.Name] = resolved;
            }

            foreach (var service in set.Services ?? [])
            {
                var features = new List<ServiceFeature>();
                foreach (var reference in service.Features ?? [])
                {
                    var colon = reference.IndexOf(':', StringComparison.Ordinal);
                    var view = local[reference[..colon]];
                    var name = reference[(colon + 1)..];
                    features.AddRange(view.Features.Where(feature => name == "*" || feature.Name == name).Select(feature => new ServiceFeature(view, feature)));
                }

                var onDemand = (service.OnDemand ?? []).Select(feature => new OnDemandFeature(feature.Name, feature.Type!, OnDemandExpression.Parse(feature.Expression!))).ToList();
                services[service.Name] = new ResolvedService(set.Name, service, features[0].View.Entity, features, onDemand);
            }
        }

        Views = views.ToFrozenDictionary(StringComparer.Ordinal);
        Services = services.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public IReadOnlyList<FeatureSetSpec> Sets { get; }

    public FrozenDictionary<string, ResolvedView> Views { get; }

    public FrozenDictionary<string, ResolvedService> Services { get; }

    /// <summary>
    /// The view whose entity the values of KPI <paramref name="kpi"/> are keyed by: one with <c>int64</c> keys when
    /// any reads it (a number or text of a whole number is then that integer, as lookups take it), else any; null
    /// when no view reads it.
    /// </summary>
    public ResolvedView? KpiReader(string kpi) =>
        Views.Values.Where(view => view.Spec.Source?.Kpi == kpi).OrderBy(view => view.Entity.Type == FeatureTypes.Int64 ? 0 : 1).ThenBy(view => view.Name, StringComparer.Ordinal).FirstOrDefault();

    public ResolvedService Service(string name) => Services.TryGetValue(name, out var service)
        ? service
        : throw Tracking.TrackingException.NotFound($"Feature service '{name}' does not exist; `ballast features list` shows the services there are.");

    public ResolvedView View(string name) => Views.TryGetValue(name, out var view)
        ? view
        : throw Tracking.TrackingException.NotFound($"Feature view '{name}' does not exist; `ballast features list` shows the views there are.");
}
