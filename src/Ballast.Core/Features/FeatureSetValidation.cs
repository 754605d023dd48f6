using System.Text.RegularExpressions;
using Ballast.Datasets;
using Ballast.Tracking;

namespace Ballast.Features;

/// <summary>Checks a feature set and lists every problem at once; returns it with defaults filled in.</summary>
public static partial class FeatureSetValidation
{
    public const int MaxFeaturesPerView = 1000;

    /// <summary>The longest ttl: 100 000 weeks (about 1900 years), the most a ttl could say before <see cref="Durations"/> took longer ones.</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(7 * 100_000);

    public static FeatureSetSpec Validate(FeatureSetSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<string>();
        if (string.IsNullOrEmpty(spec.Name) || !NamePattern().IsMatch(spec.Name))
        {
            throw TrackingException.Invalid($"Invalid feature set name '{spec.Name}': use 1 to 63 lowercase letters, digits, '_' or '-', starting with a letter.");
        }

        var entities = spec.Entities ?? [];
        var views = spec.Views ?? [];
        var services = spec.Services ?? [];
        if (entities.Count == 0)
        {
            problems.Add("entities: declare at least one entity (name and join_key)");
        }

        if (views.Count == 0)
        {
            problems.Add("views: declare at least one feature view");
        }

        var entityNames = new HashSet<string>(StringComparer.Ordinal);
        var normalizedEntities = new List<EntitySpec>();
        foreach (var (entity, i) in entities.Select((entity, i) => (entity, i)))
        {
            var where = $"entities[{i}]";
            if (Named(problems, where, entity.Name) && !entityNames.Add(entity.Name))
            {
                problems.Add($"{where}: name '{entity.Name}' is used twice");
            }

            if (string.IsNullOrEmpty(entity.JoinKey) || !ColumnPattern().IsMatch(entity.JoinKey))
            {
                problems.Add($"{where}.join_key '{entity.JoinKey}' must be a column name (letters, digits, '_')");
            }

            if (entity.Type is not null and not (FeatureTypes.String or FeatureTypes.Int64))
            {
                problems.Add($"{where}.type '{entity.Type}' is not one of string, int64");
            }

            normalizedEntities.Add(entity with { Type = entity.Type ?? FeatureTypes.String });
        }

        var viewNames = new HashSet<string>(StringComparer.Ordinal);
        var featuresByView = new Dictionary<string, (string Entity, IReadOnlyList<FeatureSpec> Features)>(StringComparer.Ordinal);
        foreach (var (view, i) in views.Select((view, i) => (view, i)))
        {
            var where = $"views[{i}]";
            if (Named(problems, where, view.Name) && !viewNames.Add(view.Name))
            {
                problems.Add($"{where}: name '{view.Name}' is used twice");
            }

            where = $"view '{view.Name}'";
            if (view.Entity is null || !entityNames.Contains(view.Entity))
            {
                problems.Add($"{where}: entity '{view.Entity}' is not one of the set's entities ({string.Join(", ", entityNames)})");
            }

            ValidateSource(problems, where, view);
            if (view.Ttl is { } text)
            {
                if (Durations.Parse(text) is not { } ttl || ttl <= TimeSpan.Zero)
                {
                    problems.Add($"{where}: ttl '{text}' is not a duration such as 90s, 30m, 12h, 30d or 2w");
                }
                else if (ttl > MaxTtl)
                {
                    problems.Add($"{where}: ttl '{text}' is longer than {Durations.Format(MaxTtl)}; leave ttl out for values that never expire");
                }
            }

            var features = view.Features ?? [];
            if (features.Count is 0 or > MaxFeaturesPerView)
            {
                problems.Add($"{where}: declare between 1 and {MaxFeaturesPerView} features, not {features.Count}");
            }

            var featureNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (var feature in features)
            {
                if (string.IsNullOrEmpty(feature.Name) || !ColumnPattern().IsMatch(feature.Name) || !featureNames.Add(feature.Name))
                {
                    problems.Add($"{where}: feature name '{feature.Name}' must be a new column-like name (letters, digits, '_')");
                    continue;
                }

                if (feature.Type is null || !FeatureTypes.All.Contains(feature.Type))
                {
                    problems.Add($"{where}: feature '{feature.Name}' type '{feature.Type}' is not one of {string.Join(", ", FeatureTypes.All)}");
                }
                else if (feature.Default is { } value && !FeatureTypes.Accepts(feature.Type, value))
                {
                    problems.Add($"{where}: feature '{feature.Name}' default {value.GetRawText()} is not {(feature.Type == FeatureTypes.Int64 ? "an" : "a")} {feature.Type}");
                }

                if (feature.Column is not null && view.Source?.Endpoint is not null && view.Source.Dataset is null && view.Source.Kpi is null)
                {
                    if (!TensorColumnPattern().IsMatch(feature.Column))
                    {
                        problems.Add($"{where}: feature '{feature.Name}' column '{feature.Column}' is not an input or output of the prediction log: write NAME, input.NAME or output.NAME, with [i] for element i of a wider tensor");
                    }
                }
                else if (view.Source?.Kpi is not null && view.Source.Dataset is null && view.Source.Endpoint is null)
                {
                    if (feature.Column is not (null or KpiValueColumn))
                    {
                        problems.Add($"{where}: feature '{feature.Name}' column '{feature.Column}' is not a column of a KPI stream; its only column is '{KpiValueColumn}' (the default)");
                    }
                }
                else if (feature.Column is not null && !ColumnPattern().IsMatch(feature.Column))
                {
                    problems.Add($"{where}: feature '{feature.Name}' column '{feature.Column}' is not a column name");
                }

                if (feature.Name == view.Timestamp || (view.Entity is not null && entities.Any(entity => entity.Name == view.Entity && entity.JoinKey == feature.Name)))
                {
                    problems.Add($"{where}: feature '{feature.Name}' has the name of the view's timestamp or join key");
                }
            }

            if (view.Name is not null)
            {
                featuresByView[view.Name] = (view.Entity ?? "", features);
            }
        }

        var serviceNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (service, i) in services.Select((service, i) => (service, i)))
        {
            if (Named(problems, $"services[{i}]", service.Name) && !serviceNames.Add(service.Name))
            {
                problems.Add($"services[{i}]: name '{service.Name}' is used twice");
            }

            ValidateService(problems, service, featuresByView, entities);
        }

        if (problems.Count > 0)
        {
            throw TrackingException.Invalid($"Invalid feature set '{spec.Name}'", problems);
        }

        return spec with { Entities = normalizedEntities, Views = views, Services = services };
    }

    private static void ValidateService(List<string> problems, FeatureServiceSpec service, Dictionary<string, (string Entity, IReadOnlyList<FeatureSpec> Features)> views, IReadOnlyList<EntitySpec> entities)
    {
        var where = $"service '{service.Name}'";
        var references = service.Features ?? [];
        if (references.Count == 0)
        {
            problems.Add($"{where}: features lists no view:feature (or view:*) references");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var serviceEntities = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reference in references)
        {
            var colon = reference.IndexOf(':', StringComparison.Ordinal);
            var view = colon > 0 ? reference[..colon] : reference;
            var feature = colon > 0 ? reference[(colon + 1)..] : "";
            if (colon <= 0 || feature.Length == 0)
            {
                problems.Add($"{where}: '{reference}' is not view:feature or view:*");
                continue;
            }

            if (!views.TryGetValue(view, out var declared))
            {
                problems.Add($"{where}: '{reference}' names view '{view}', which the set does not declare");
                continue;
            }

            serviceEntities.Add(declared.Entity);
            var selected = feature == "*" ? declared.Features.Select(f => f.Name).ToList() : [feature];
            foreach (var name in selected)
            {
                if (declared.Features.All(f => f.Name != name))
                {
                    problems.Add($"{where}: view '{view}' has no feature '{name}'");
                }
                else if (!names.Add(name))
                {
                    problems.Add($"{where}: feature name '{name}' comes twice (each name is one input of the model)");
                }
            }
        }

        if (serviceEntities.Count > 1)
        {
            problems.Add($"{where}: its views describe different entities ({string.Join(", ", serviceEntities)}); a service looks features up by one entity key");
        }

        var keys = entities.Where(entity => serviceEntities.Contains(entity.Name)).Select(entity => entity.JoinKey).ToHashSet(StringComparer.Ordinal);
        foreach (var onDemand in service.OnDemand ?? [])
        {
            if (string.IsNullOrEmpty(onDemand.Name) || !ColumnPattern().IsMatch(onDemand.Name) || !names.Add(onDemand.Name) || keys.Contains(onDemand.Name))
            {
                problems.Add($"{where}: on_demand name '{onDemand.Name}' must be a new column-like name");
            }

            if (onDemand.Type is not (FeatureTypes.Float or FeatureTypes.Double))
            {
                problems.Add($"{where}: on_demand '{onDemand.Name}' type '{onDemand.Type}' must be float or double (expressions are arithmetic)");
            }

            try
            {
                OnDemandExpression.Parse(onDemand.Expression ?? throw new FormatException("no expression"));
            }
            catch (FormatException exception)
            {
                problems.Add($"{where}: on_demand '{onDemand.Name}' expression: {exception.Message}");
            }
        }
    }

    /// <summary>The one value column of a KPI stream, which its features read.</summary>
    public const string KpiValueColumn = "value";

    private static void ValidateSource(List<string> problems, string where, FeatureViewSpec view)
    {
        var source = view.Source;
        var given = new[] { (source?.Dataset, "source.dataset"), (source?.Endpoint, "source.endpoint"), (source?.Kpi, "source.kpi") }
            .Where(item => item.Item1 is not null).Select(item => item.Item2).ToList();
        if (given.Count != 1)
        {
            problems.Add(given.Count == 0
                ? $"{where}: source names nothing; give one of dataset (name@version or name), endpoint (its prediction log, with entity_column) or kpi (a KPI stream)"
                : $"{where}: source gives {string.Join(" and ", given)}; give exactly one");
            return;
        }

        if (source!.Dataset is { } dataset)
        {
            try
            {
                DatasetReference.Parse(dataset);
            }
            catch (TrackingException exception)
            {
                problems.Add($"{where}: source.dataset {exception.Message.TrimEnd('.')}");
            }

            if (source.EntityColumn is not null)
            {
                problems.Add($"{where}: source.entity_column is for endpoint sources; a dataset's rows are keyed by the entity's join_key column");
            }

            if (string.IsNullOrEmpty(view.Timestamp) || !ColumnPattern().IsMatch(view.Timestamp))
            {
                problems.Add($"{where}: timestamp '{view.Timestamp}' must name the source's event-time column");
            }

            return;
        }

        if (source.Endpoint is { } endpoint)
        {
            if (!EndpointPattern().IsMatch(endpoint))
            {
                problems.Add($"{where}: source.endpoint '{endpoint}' is not an endpoint name (1 to 63 lowercase letters, digits or '-', starting with a letter)");
            }

            if (string.IsNullOrEmpty(source.EntityColumn) || !TensorColumnPattern().IsMatch(source.EntityColumn) || source.EntityColumn.StartsWith("output.", StringComparison.Ordinal))
            {
                problems.Add($"{where}: source.entity_column '{source.EntityColumn}' must name the input that holds the entity key in the requests of endpoint '{endpoint}'");
            }
        }
        else
        {
            if (string.IsNullOrEmpty(source.Kpi) || !NamePattern().IsMatch(source.Kpi))
            {
                problems.Add($"{where}: source.kpi '{source.Kpi}' is not a KPI name (1 to 63 lowercase letters, digits, '_' or '-', starting with a letter)");
            }

            if (source.EntityColumn is not null)
            {
                problems.Add($"{where}: source.entity_column is for endpoint sources; a KPI stream is keyed by each value's entity field");
            }
        }

        if (view.Timestamp is not null)
        {
            problems.Add($"{where}: timestamp '{view.Timestamp}' is for dataset sources; {(source.Endpoint is not null ? "the prediction log's event time is each prediction's timestamp" : "a KPI stream's event time is when each value was recorded")}, so leave timestamp out");
        }
    }

    private static bool Named(List<string> problems, string where, string? name)
    {
        if (string.IsNullOrEmpty(name) || !NamePattern().IsMatch(name))
        {
            problems.Add($"{where}: name '{name}' must be 1 to 63 lowercase letters, digits, '_' or '-', starting with a letter");
            return false;
        }

        return true;
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,62}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    internal static partial Regex ColumnPattern();

    /// <summary>A prediction-log column: a tensor name, optionally <c>input.</c> or <c>output.</c> first and <c>[i]</c> after.</summary>
    [GeneratedRegex(@"^((input|output)\.)?[A-Za-z_][A-Za-z0-9_.:/-]{0,127}(\[[0-9]{1,6}\])?$")]
    internal static partial Regex TensorColumnPattern();

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial Regex EndpointPattern();
}
