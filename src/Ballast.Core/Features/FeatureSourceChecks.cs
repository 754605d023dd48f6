using System.Text.Json;
using Ballast.Metadata;
using Ballast.Registry;
using Ballast.Serving;
using Ballast.Tracking;
using Dapper;

namespace Ballast.Features;

/// <summary>
/// Checks that a feature set's stream sources exist when it is stored: each endpoint view's endpoint, the input holding
/// its entity key and its feature columns (against the signatures its variants' model versions recorded at
/// registration, and the inputs its own feature service adds; a variant on another server or without a recorded
/// signature leaves the columns unchecked), and each KPI view's KPI with values that name an entity.
/// </summary>
public sealed class FeatureSourceChecks(EndpointStore endpoints, RegistryStore registry, MetadataDatabase database)
{
    /// <summary>Every problem found, each starting with the view it is about; empty when the sources are fine.</summary>
    public async Task<IReadOnlyList<string>> ProblemsAsync(FeatureSetSpec spec, FeatureCatalog current, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(current);
        var problems = new List<string>();
        var own = new FeatureCatalog([spec]);
        foreach (var view in spec.Views ?? [])
        {
            var where = $"view '{view.Name}'";
            if (view.Source?.Endpoint is { } endpoint)
            {
                await CheckEndpointAsync(problems, where, view, endpoint, name => own.Services.GetValueOrDefault(name) ?? current.Services.GetValueOrDefault(name), cancellationToken).ConfigureAwait(false);
            }
            else if (view.Source?.Kpi is { } kpi)
            {
                await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
                var (values, withEntity) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
                    "SELECT COUNT(*), COUNT(entity) FROM kpis WHERE name = @kpi", new { kpi }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (values == 0)
                {
                    problems.Add($"{where}: source.kpi '{kpi}' is unknown: no value of it has been posted to /api/v1/kpis");
                }
                else if (withEntity == 0)
                {
                    problems.Add($"{where}: source.kpi '{kpi}' has {values} value(s) but none names an entity; post its values with \"entity\" (the {EntityKey(spec, view)} they describe)");
                }
            }
        }

        return problems;
    }

    private async Task CheckEndpointAsync(List<string> problems, string where, FeatureViewSpec view, string name, Func<string, ResolvedService?> services, CancellationToken cancellationToken)
    {
        StoredEndpoint endpoint;
        try
        {
            endpoint = await endpoints.GetAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (TrackingException exception) when (exception.Code == TrackingException.ResourceDoesNotExist)
        {
            problems.Add($"{where}: source.endpoint '{name}' is unknown: there is no such endpoint");
            return;
        }

        var (inputs, outputs) = await SignatureAsync(endpoint.Spec, services, cancellationToken).ConfigureAwait(false);
        if (inputs is null || outputs is null)
        {
            return; // a variant's signature is not known here: the columns are read as they are logged
        }

        var entityColumn = view.Source!.EntityColumn!;
        var entity = entityColumn.StartsWith("input.", StringComparison.Ordinal) ? entityColumn["input.".Length..] : entityColumn;
        if (!inputs.Contains(entity))
        {
            problems.Add($"{where}: source.entity_column '{entityColumn}' is not an input of endpoint '{name}' (its inputs: {string.Join(", ", inputs.Order(StringComparer.Ordinal))})");
        }

        foreach (var feature in view.Features ?? [])
        {
            var column = feature.Column ?? feature.Name;
            var bare = column.StartsWith("input.", StringComparison.Ordinal) ? column["input.".Length..] : column.StartsWith("output.", StringComparison.Ordinal) ? column["output.".Length..] : column;
            var bracket = bare.LastIndexOf('[');
            bare = bare.EndsWith(']') && bracket > 0 ? bare[..bracket] : bare;
            var found = column.StartsWith("input.", StringComparison.Ordinal) ? inputs.Contains(bare)
                : column.StartsWith("output.", StringComparison.Ordinal) ? outputs.Contains(bare)
                : inputs.Contains(bare) || outputs.Contains(bare);
            if (!found)
            {
                problems.Add($"{where}: feature '{feature.Name}' column '{column}' is not an input or output of endpoint '{name}' (inputs: {string.Join(", ", inputs.Order(StringComparer.Ordinal))}; outputs: {string.Join(", ", outputs.Order(StringComparer.Ordinal))})");
            }
        }
    }

    /// <summary>
    /// The input and output names the endpoint's primary answers are logged with: its variants' model signatures, plus
    /// the join key and features its feature service adds. Null when a variant's signature is unknown.
    /// </summary>
    private async Task<(HashSet<string>? Inputs, HashSet<string>? Outputs)> SignatureAsync(EndpointSpec spec, Func<string, ResolvedService?> services, CancellationToken cancellationToken)
    {
        var inputs = new HashSet<string>(StringComparer.Ordinal);
        var outputs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var variant in spec.Variants ?? [])
        {
            if (variant.Model is null)
            {
                return (null, null);
            }

            ModelVersion version;
            try
            {
                version = await ModelReference.Parse(variant.Model, $"variant '{variant.Name}'").ResolveAsync(registry, cancellationToken).ConfigureAwait(false);
            }
            catch (TrackingException)
            {
                return (null, null);
            }

            if (version.Tags.FirstOrDefault(tag => tag.Key == ModelRegistration.SignatureTag)?.Value is not { } json
                || JsonSerializer.Deserialize(json, RegistrationJsonContext.Default.SignatureJson) is not { } signature)
            {
                return (null, null);
            }

            inputs.UnionWith(signature.Inputs.Select(input => input.Name));
            outputs.UnionWith(signature.Outputs.Select(output => output.Name));
        }

        if (spec.Features?.Service is { } name)
        {
            if (services(name) is not { } service)
            {
                return (null, null);
            }

            inputs.Add(service.JoinKey);
            inputs.UnionWith(service.Names);
        }

        return (inputs, outputs);
    }

    private static string EntityKey(FeatureSetSpec spec, FeatureViewSpec view) =>
        (spec.Entities ?? []).FirstOrDefault(entity => entity.Name == view.Entity)?.JoinKey ?? "entity key";
}
