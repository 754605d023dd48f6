using System.Runtime.CompilerServices;
using System.Text.Json;
using Ballast.Features;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Tracking;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Ballast.Server.Features;

/// <summary>What a request becomes with its endpoint's feature service: the model's inputs, and the enriched row the prediction log stores (the entity key included).</summary>
internal sealed record EnrichedInputs(IReadOnlyList<Tensor> Model, IReadOnlyList<Tensor> Logged);

/// <summary>
/// An endpoint's feature service on the scoring path, before expectations and the model: the request carries the
/// entity's join key (and request-time fields); the service's features are looked up in the online store and added as
/// [N, 1] inputs of their types, then the on-demand features are computed per row. Missing features follow the
/// endpoint's policy: <c>reject</c> is a <see cref="ModelInputException"/> naming them (400 in the protocol's error
/// format, nothing scored or logged); <c>default</c> uses each feature's declared default. The join key and the features
/// go to the model when it takes them as inputs; the logged row has them all.
/// </summary>
internal static class ServingFeatures
{
    private static readonly Counter Lookups = Metrics.CreateCounter("ballast_feature_lookups_total", "Scoring requests enriched from a feature service, by endpoint and outcome (complete, defaulted, rejected).",
        new CounterConfiguration { LabelNames = ["endpoint", "outcome"] });

    private static readonly Counter Missing = Metrics.CreateCounter("ballast_feature_missing_total", "Rows of scoring requests whose entity lacked a feature, by endpoint and feature.",
        new CounterConfiguration { LabelNames = ["endpoint", "feature"] });

    private static readonly ConditionalWeakTable<RoutedEndpoint, EndpointSeries> Series = [];

    /// <summary>
    /// The columns an MLflow-protocol request to a feature endpoint is read as: the join key, then the model's inputs
    /// the service does not provide (the request-time fields). Null when the endpoint has no feature service.
    /// </summary>
    public static ModelSignature? RequestSignature(RoutedEndpoint endpoint, HttpContext http)
    {
        if (endpoint.Endpoint.Spec.Features is null)
        {
            return null;
        }

        var service = Service(endpoint, http);
        var model = endpoint.Variants[0].Model.Runtime.Signature;
        var key = new TensorSpec(service.JoinKey, service.Entity.Type == FeatureTypes.Int64 ? TensorDatatypes.Int64 : TensorDatatypes.Bytes, [-1, 1]);
        var fields = model.Inputs.Where(input => input.Name != service.JoinKey && !service.Names.Contains(input.Name)).ToList();
        return new ModelSignature([key, .. fields], model.Outputs);
    }

    public static async Task<EnrichedInputs> EnrichAsync(RoutedEndpoint endpoint, HttpContext http, IReadOnlyList<Tensor> inputs)
    {
        if (endpoint.Endpoint.Spec.Features is not { } spec)
        {
            return new EnrichedInputs(inputs, inputs);
        }

        var service = Service(endpoint, http);
        var key = inputs.FirstOrDefault(input => input.Name == service.JoinKey) ?? throw new ModelInputException(
            $"input '{service.JoinKey}' is missing: it is the join key of entity '{service.Entity.Name}', by which feature service '{service.Name}' looks up {string.Join(", ", service.Names)}");
        var rows = key.Shape.Length > 0 ? (int)key.Shape[0] : 0;
        if (key.Shape.Length is 0 or > 2 || key.Data.Length != rows)
        {
            throw new ModelInputException($"input '{service.JoinKey}' must hold one entity key per row (shape [N] or [N,1]), not {key.Describe()}");
        }

        var given = inputs.Where(input => service.Names.Contains(input.Name)).Select(input => $"'{input.Name}'").ToList();
        if (given.Count > 0)
        {
            throw new ModelInputException($"input {string.Join(", ", given)} {(given.Count == 1 ? "is a feature" : "are features")} of service '{service.Name}', which the server looks up; send the entity key '{service.JoinKey}' and request-time fields only");
        }

        // Keys as the online store holds them: an int64 entity's 1.0 or "1" is key 1; a fraction is no key at all.
        var keys = new string[rows];
        var wrong = new List<string>();
        for (var row = 0; row < rows; row++)
        {
            if (!EntityKeys.TryNormalize(service.Entity, key.Data, row, out keys[row], out var reason))
            {
                wrong.Add($"{FeatureTypes.KeyText(key.Data, row) ?? "null"} (row {row}) is {reason}");
            }
        }

        if (wrong.Count > 0)
        {
            throw new ModelInputException($"input '{service.JoinKey}' must hold keys of entity '{service.Entity.Name}' ({service.Entity.Type}): {string.Join("; ", wrong.Take(5))}{(wrong.Count > 5 ? $"; and {wrong.Count - 5} more" : "")}");
        }

        if (service.Entity.Type == FeatureTypes.Int64 && key.Datatype != TensorDatatypes.Int64)
        {
            // The model and the prediction log get an int64 entity's key as INT64, whatever datatype it came in (FP64 1.0 → 1).
            var integers = keys.Select(text => long.Parse(text, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            inputs = inputs.Select(input => ReferenceEquals(input, key) ? new Tensor(key.Name, TensorDatatypes.Int64, key.Shape, integers) : input).ToList();
        }

        var lookup = http.RequestServices.GetRequiredService<FeatureLookup>();
        var found = await lookup.GetAsync(service, keys, http.RequestAborted).ConfigureAwait(false);
        var series = Series.GetValue(endpoint, routed => new EndpointSeries(routed.Name));
        var useDefaults = spec.OnMissing == EndpointFeaturesSpec.Default;
        var problems = new List<string>();
        var defaulted = false;
        var columns = new Array[service.Features.Count];
        for (var i = 0; i < service.Features.Count; i++)
        {
            columns[i] = FeatureTypes.NewArray(service.Features[i].Type, rows);
        }

        for (var row = 0; row < rows; row++)
        {
            var unresolved = new List<string>();
            for (var i = 0; i < service.Features.Count; i++)
            {
                var feature = service.Features[i];
                var value = found[row].Values[i];
                if (value is null)
                {
                    Missing.WithLabels(endpoint.Name, feature.Name).Inc();
                    if (useDefaults && feature.Feature.Default is { } fallback)
                    {
                        value = fallback;
                        defaulted = true;
                    }
                    else
                    {
                        unresolved.Add(feature.Name);
                        continue;
                    }
                }

                FeatureTypes.Set(feature.Type, columns[i], row, value.Value);
            }

            if (unresolved.Count > 0)
            {
                problems.Add($"{service.JoinKey} {keys[row]} (row {row}) has no {string.Join(", ", unresolved)}{(useDefaults ? " and no default is declared" : "")}");
            }
        }

        if (problems.Count > 0)
        {
            series.Rejected.Inc();
            throw new ModelInputException($"feature service '{service.Name}' is missing features: {ProblemList.Join(problems)}");
        }

        var added = new List<Tensor>(service.Names.Count);
        for (var i = 0; i < service.Features.Count; i++)
        {
            added.Add(new Tensor(service.Features[i].Name, FeatureTypes.Datatype(service.Features[i].Type), [rows, 1], columns[i]));
        }

        added.AddRange(OnDemand(service, inputs, added, rows));
        (defaulted ? series.Defaulted : series.Complete).Inc();
        // The model gets the features it declares as inputs (a service may carry more, e.g. what an on-demand feature is
        // computed from); the logged row has them all.
        var takes = endpoint.Variants[0].Model.Runtime.Signature.Inputs.ToDictionary(input => input.Name, StringComparer.Ordinal);
        var model = inputs.Where(input => input.Name != service.JoinKey || takes.ContainsKey(input.Name))
            .Concat(added.Where(feature => takes.ContainsKey(feature.Name)).Select(feature => Conform(feature, takes[feature.Name]))).ToList();
        return new EnrichedInputs(model, [.. inputs, .. added]);
    }

    /// <summary>
    /// A looked-up feature ([N, 1] of its declared type) as the model takes it: [N] when the model's input has one
    /// dimension, and a numeric feature in the input's numeric type (a model trained by the pipeline's train step takes
    /// FP32 [-1]; the feature set declares doubles). Anything else is left for the signature check to explain.
    /// </summary>
    private static Tensor Conform(Tensor feature, TensorSpec input)
    {
        var shape = input.Shape.Count == 1 ? new[] { feature.Shape[0] } : feature.Shape;
        if (feature.Datatype == input.Datatype || !TensorDatatypes.IsNumeric(feature.Datatype) || !TensorDatatypes.IsNumeric(input.Datatype))
        {
            return feature with { Shape = shape };
        }

        var element = TensorDatatypes.ElementType(input.Datatype);
        var data = Array.CreateInstance(element, feature.Data.Length);
        for (var i = 0; i < data.Length; i++)
        {
            var number = Tensor.Number(feature.Data, i)!.Value;
            try
            {
                data.SetValue(TensorDatatypes.Element(number, element), i);
            }
            catch (OverflowException)
            {
                throw new ModelInputException($"feature '{feature.Name}': value {number} (row {i}) does not fit the model's {input.Datatype} input '{input.Name}'");
            }
        }

        return new Tensor(feature.Name, input.Datatype, shape, data);
    }

    private static ResolvedService Service(RoutedEndpoint endpoint, HttpContext http)
    {
        var name = endpoint.Endpoint.Spec.Features!.Service!;
        var catalog = http.RequestServices.GetRequiredService<FeatureLookup>().Catalog;
        return catalog.Services.TryGetValue(name, out var service)
            ? service
            : throw TrackingException.NotFound($"Endpoint '{endpoint.Name}' is enriched from feature service '{name}', which does not exist; `ballast apply -f` its feature set.");
    }

    private static IEnumerable<Tensor> OnDemand(ResolvedService service, IReadOnlyList<Tensor> inputs, List<Tensor> features, int rows)
    {
        if (service.OnDemand.Count == 0)
        {
            yield break;
        }

        var named = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var tensor in inputs.Concat(features))
        {
            if (tensor.Data.Length == rows)
            {
                named[tensor.Name] = tensor;
            }
        }

        foreach (var feature in service.OnDemand)
        {
            var unknown = feature.Expression.Names.Where(name => !named.ContainsKey(name)).ToList();
            if (unknown.Count > 0)
            {
                throw new ModelInputException($"on-demand feature '{feature.Name}' = {feature.Expression.Text} needs {string.Join(", ", unknown.Select(name => $"'{name}'"))}, which the request does not give (one value per row)");
            }

            var values = FeatureTypes.NewArray(feature.Type, rows);
            for (var row = 0; row < rows; row++)
            {
                var result = feature.Expression.Evaluate(name => Tensor.Number(named[name].Data, row))
                    ?? throw new ModelInputException($"on-demand feature '{feature.Name}' = {feature.Expression.Text} has no value in row {row} (a non-numeric input or a division by zero)");
                if (feature.Type == FeatureTypes.Float)
                {
                    ((float[])values)[row] = (float)result;
                }
                else
                {
                    ((double[])values)[row] = result;
                }
            }

            var tensor = new Tensor(feature.Name, FeatureTypes.Datatype(feature.Type), [rows, 1], values);
            named[feature.Name] = tensor;
            yield return tensor;
        }
    }

    private sealed class EndpointSeries(string endpoint)
    {
        public Counter.Child Complete { get; } = Lookups.WithLabels(endpoint, "complete");

        public Counter.Child Defaulted { get; } = Lookups.WithLabels(endpoint, "defaulted");

        public Counter.Child Rejected { get; } = Lookups.WithLabels(endpoint, "rejected");
    }
}
