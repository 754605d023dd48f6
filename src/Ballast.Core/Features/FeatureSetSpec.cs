namespace Ballast.Features;

/// <summary>
/// A feature set as users write it (<c>kind: FeatureSet</c>, the JSON body of <c>/api/v1/features</c>): the entities
/// (join keys), the feature views over dataset versions, and the feature services (named sets of features a model
/// uses). Service names are unique across all feature sets: endpoints and training sets name a service alone.
/// </summary>
public sealed record FeatureSetSpec(
    string Name,
    IReadOnlyList<EntitySpec>? Entities,
    IReadOnlyList<FeatureViewSpec>? Views,
    IReadOnlyList<FeatureServiceSpec>? Services = null,
    string? Description = null);

/// <summary>An entity: what features describe (a customer, a passenger) and the column that identifies it.</summary>
public sealed record EntitySpec(string Name, string? JoinKey, string? Type = null, string? Description = null);

/// <summary>
/// Features of one entity read from a source with an event-time column (<see cref="Timestamp"/> for a dataset; a
/// stream's own time for the prediction log and KPIs). A value is valid from its event time for
/// <see cref="Ttl"/> (e.g. <c>30d</c>, <c>12h</c>; none: forever); a training row or an online lookup never sees a value
/// from after its own time, nor one older than the TTL.
/// </summary>
public sealed record FeatureViewSpec(
    string Name,
    string? Entity,
    FeatureSourceSpec? Source,
    string? Timestamp,
    IReadOnlyList<FeatureSpec>? Features,
    string? Ttl = null);

/// <summary>
/// Where a view's rows come from, one of: a dataset version (<see cref="Dataset"/>: <c>name@3</c>, or <c>name</c> for its
/// newest version); an endpoint's prediction log (<see cref="Endpoint"/>, keyed by the input <see cref="EntityColumn"/>;
/// event time is each prediction's timestamp; features name input or output tensors); or a KPI stream posted to
/// <c>/api/v1/kpis</c> (<see cref="Kpi"/>, keyed by each value's <c>entity</c>; event time is when it was recorded;
/// the feature column is <c>value</c>).
/// </summary>
public sealed record FeatureSourceSpec(string? Dataset = null, string? Endpoint = null, string? EntityColumn = null, string? Kpi = null)
{
    public const string DatasetKind = "dataset";
    public const string EndpointKind = "endpoint";
    public const string KpiKind = "kpi";

    /// <summary><c>dataset</c>, <c>endpoint</c> or <c>kpi</c> (of a validated source).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Kind => Dataset is not null ? DatasetKind : Endpoint is not null ? EndpointKind : KpiKind;

    /// <summary>Whether the rows come from a stream (the prediction log or KPIs) rather than a dataset version.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsStream => Dataset is null;

    /// <summary>What a stream is called in results and watermarks: <c>endpoint:churn</c>, <c>kpi:revenue</c>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string StreamName => Endpoint is not null ? $"{EndpointKind}:{Endpoint}" : $"{KpiKind}:{Kpi}";
}

/// <summary>
/// One feature: its column in the source (defaults to its name), its type (<c>float</c>, <c>double</c>, <c>int64</c>,
/// <c>string</c>, <c>bool</c>) and the value serving uses when the entity has none and the endpoint's policy is <c>default</c>.
/// </summary>
public sealed record FeatureSpec(string Name, string? Type, string? Column = null, System.Text.Json.JsonElement? Default = null);

/// <summary>
/// A named set of features a model uses: <c>view:feature</c> or <c>view:*</c> references, all of one entity, plus
/// on-demand features computed at request time from request fields and the looked-up features.
/// </summary>
public sealed record FeatureServiceSpec(string Name, IReadOnlyList<string>? Features, IReadOnlyList<OnDemandFeatureSpec>? OnDemand = null, string? Description = null);

/// <summary>A feature computed per row: an arithmetic <see cref="Expression"/> (+ - * /, parentheses, numbers, names of request fields and features).</summary>
public sealed record OnDemandFeatureSpec(string Name, string? Type, string? Expression);
