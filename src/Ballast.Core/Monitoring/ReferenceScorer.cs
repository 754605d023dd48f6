using System.Globalization;
using Ballast.Runtime;
using Ballast.Serving;

namespace Ballast.Monitoring;

/// <summary>
/// Scores a dataset reference with the model the monitor's endpoint serves, so that CBPE can calibrate on a reference
/// that has labels but not the model's probabilities. Only an endpoint that serves one registered model (one variant
/// with <c>model</c>, no ensemble; shadows are not served) is scored: the window's outputs then come from that model.
/// Each input of the model's signature is read from the reference's columns as a window names them (the input's name
/// for one value a row; <c>feature_names</c>, else <c>NAME[0]</c> … for [N, k]); the outputs come back as a window's
/// columns (<c>NAME</c>, or <c>NAME[0]</c> … for [N, k]). What cannot be done is an <see cref="InvalidOperationException"/> whose message says why.
/// CUPAC covariates of A/B experiments score their dataset the same way (<see cref="ScoreAsync(string, long, IReadOnlyDictionary{string, IReadOnlyList{string}}?, ReferenceTable, CancellationToken)"/>).
/// With a <paramref name="cache"/>, a dataset file's outputs are kept per model version and feature names
/// (<see cref="CacheKey"/>), so later windows reuse them without loading the model; an alias moved to another version
/// scores the reference again.
/// </summary>
public sealed class ReferenceScorer(EndpointStore endpoints, ModelCache models, ReferenceCache? cache = null)
{
    /// <summary>Rows per call of the model.</summary>
    public const int BatchRows = 1000;

    /// <summary>Part of every cache key: a change to how references are scored changes it, so no older scores are read.</summary>
    public const string CacheFormat = "reference-scores/2";

    /// <summary>The reference's rows scored by the endpoint's model: the output columns and the model's name/version.</summary>
    public async Task<(IReadOnlyDictionary<string, List<object?>> Outputs, string Model)> ScoreAsync(MonitorSpec spec, ReferenceTable reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(reference);
        var endpoint = (await endpoints.GetAsync(spec.Endpoint!, cancellationToken).ConfigureAwait(false)).Spec;
        var served = (endpoint.Variants ?? []).Where(variant => variant.Model is not null).ToList();
        if (endpoint.Ensemble is not null || served.Count != 1 || (endpoint.Variants ?? []).Count != 1)
        {
            throw new InvalidOperationException($"endpoint '{endpoint.Name}' does not serve one registered model (one variant with a model, no ensemble), so the reference is not scored");
        }

        var modelReference = ModelReference.Parse(served[0].Model!, $"variant '{served[0].Name}'");
        var version = await models.ResolveAsync(modelReference, cancellationToken).ConfigureAwait(false);
        var outputs = await ScoreAsync(modelReference.Name, version, spec.FeatureNames, reference, cancellationToken).ConfigureAwait(false);
        return (outputs, $"{modelReference.Name}/{version.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>
    /// A dataset table's rows scored by a registered model version (what monitors and CUPAC covariates share): each
    /// input of the signature read from the table's columns (<see cref="InputColumns"/>, with <paramref name="featureNames"/>),
    /// the model called on <see cref="BatchRows"/> rows at a time, every output back as columns (<see cref="OutputColumns"/>),
    /// one value per row; kept in the cache when there is one and the table is a dataset file. The cache is read before
    /// the model is loaded: scores found there cost no model load. A model that cannot be loaded or fails on the rows is
    /// an <see cref="InvalidOperationException"/> naming the version and the rows, as a missing column is.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, List<object?>>> ScoreAsync(string name, long version, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames,
        ReferenceTable reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var key = reference.Blob is { } blob ? CacheKey(blob, name, version, featureNames) : null;
        if (cache is not null && key is not null && await cache.ScoresAsync(key, reference.Rows, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            return cached;
        }

        var model = $"models:/{name}/{version.ToString(CultureInfo.InvariantCulture)}";
        IModelRuntime runtime;
        try
        {
            runtime = (await models.GetAsync(name, version).ConfigureAwait(false)).Runtime;
        }
        catch (Exception exception) when (exception is not (OperationCanceledException or Metadata.MetadataUnavailableException))
        {
            throw new InvalidOperationException($"loading {model} failed: {exception.Message}", exception);
        }

        var columns = runtime.Signature.Inputs.Select(input => (Input: input, Names: InputColumns(input, featureNames))).ToList();
        var rows = checked((int)reference.Rows);
        var inputs = columns.Select(column => Input(column.Input, column.Names, reference, rows)).ToList();
        var outputs = new Dictionary<string, List<object?>>(StringComparer.Ordinal);
        for (var start = 0; start < rows; start += BatchRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(BatchRows, rows - start);
            var batch = inputs.Select(input => Slice(input, start, count)).ToList();
            IReadOnlyList<Tensor> scored;
            try
            {
                scored = await runtime.InferAsync(batch, null, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                throw new InvalidOperationException($"{model} failed on rows {start + 1} to {start + count} of the reference ({reference.Name}): {exception.Message}", exception);
            }

            foreach (var tensor in scored)
            {
                AddOutput(outputs, tensor, count);
            }
        }

        if (cache is not null && key is not null)
        {
            await cache.PutScoresAsync(key, outputs, cancellationToken).ConfigureAwait(false);
        }

        return outputs;
    }

    /// <summary>
    /// What the scores of a dataset file depend on: its content (SHA-256) and path (the format is read from its
    /// extension), the model version (an alias resolved: a version's model never changes) and the <c>feature_names</c>
    /// that, with the version's signature, choose the columns each input reads. Nothing in it needs the model loaded.
    /// The label and the monitor's outputs are not in it: every output of the model is kept.
    /// </summary>
    public static string CacheKey(Datasets.DatasetFile blob, string model, long version, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return $"{CacheFormat}\n{blob.Sha256}\n{blob.Path}\nmodels:/{model}/{version.ToString(CultureInfo.InvariantCulture)}\n" +
            string.Join("\n", (featureNames ?? new Dictionary<string, IReadOnlyList<string>>()).OrderBy(input => input.Key, StringComparer.Ordinal)
                .Select(input => $"{input.Key}={string.Join("\t", input.Value)}"));
    }

    /// <summary>
    /// The table columns one input of the signature reads, in order: its name for one value a row; for [N, k], the k
    /// names <paramref name="featureNames"/> gives it, else <c>NAME[0]</c> … <c>NAME[k-1]</c>. Any other shape is an
    /// <see cref="InvalidOperationException"/>.
    /// </summary>
    public static IReadOnlyList<string> InputColumns(TensorSpec input, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames)
    {
        ArgumentNullException.ThrowIfNull(input);
        var width = input.Shape.Count switch
        {
            1 => 1,
            2 when input.Shape[1] > 0 => (int)input.Shape[1],
            _ => throw new InvalidOperationException($"input '{input.Name}' is [{string.Join(", ", input.Shape)}]; a reference's columns give one value, or a fixed number, a row"),
        };
        return input.Shape.Count == 1 ? [input.Name]
            : featureNames?.GetValueOrDefault(input.Name) is { } named && named.Count == width ? named
            : Enumerable.Range(0, width).Select(i => $"{input.Name}[{i}]").ToList();
    }

    /// <summary>
    /// The columns an output comes back as: <c>NAME</c> for one value a row; <c>NAME[0]</c> … for [N, k] (null when k is
    /// only known once scored, as for a ZipMap's class probabilities: <c>NAME[i]</c> for every i the model returns).
    /// </summary>
    public static IReadOnlyList<string>? OutputColumns(TensorSpec output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return output.Shape.Count == 1 ? [output.Name]
            : output.Shape.Count == 2 && output.Shape[1] > 0 ? Enumerable.Range(0, (int)output.Shape[1]).Select(i => $"{output.Name}[{i}]").ToList()
            : null;
    }

    /// <summary>One input of the signature as a tensor of every reference row.</summary>
    private static Tensor Input(TensorSpec input, IReadOnlyList<string> names, ReferenceTable reference, int rows)
    {
        var width = names.Count;
        var columns = names.Select(name => reference.Values(name)
            ?? throw new InvalidOperationException($"the reference ({reference.Name}) has no column '{name}' for the model's input '{input.Name}'")).ToList();
        var data = Array.CreateInstance(TensorDatatypes.ElementType(input.Datatype), rows * width);
        for (var row = 0; row < rows; row++)
        {
            for (var c = 0; c < width; c++)
            {
                data.SetValue(Element(columns[c][row], input, names[c], row), (row * width) + c);
            }
        }

        return new Tensor(input.Name, input.Datatype, input.Shape.Count == 1 ? [rows] : [rows, width], data);
    }

    private static object Element(object? value, TensorSpec input, string column, int row)
    {
        if (input.Datatype == TensorDatatypes.Bytes)
        {
            return WindowValues.Text(value) ?? "";
        }

        if (TensorDatatypes.IsFloatingPoint(input.Datatype))
        {
            return TensorDatatypes.Element(WindowValues.Number(value) ?? double.NaN, TensorDatatypes.ElementType(input.Datatype));
        }

        if (input.Datatype == TensorDatatypes.Bool && WindowValues.Text(value) is "true" or "false" or "1" or "0" or "True" or "False")
        {
            return WindowValues.Text(value) is "true" or "1" or "True";
        }

        if (WindowValues.Number(value) is { } whole && whole == Math.Floor(whole))
        {
            return TensorDatatypes.Element(whole, TensorDatatypes.ElementType(input.Datatype));
        }

        throw new InvalidOperationException($"row {row} of the reference's column '{column}' ({WindowValues.Text(value) ?? "missing"}) is not a {input.Datatype} value for input '{input.Name}'");
    }

    private static Tensor Slice(Tensor tensor, int start, int count)
    {
        var width = tensor.Shape.Length == 1 ? 1 : (int)tensor.Shape[1];
        var data = Array.CreateInstance(tensor.Data.GetType().GetElementType()!, count * width);
        Array.Copy(tensor.Data, start * width, data, 0, count * width);
        return tensor with { Shape = tensor.Shape.Length == 1 ? [count] : [count, width], Data = data };
    }

    /// <summary>An output's values as a window's columns: <c>NAME</c> for one value a row, <c>NAME[i]</c> for [N, k].</summary>
    private static void AddOutput(Dictionary<string, List<object?>> outputs, Tensor tensor, int rows)
    {
        var width = rows == 0 ? 0 : tensor.Data.Length / rows;
        for (var c = 0; c < width; c++)
        {
            var name = tensor.Shape.Length == 1 ? tensor.Name : $"{tensor.Name}[{c}]";
            if (!outputs.TryGetValue(name, out var column))
            {
                outputs[name] = column = [];
            }

            for (var row = 0; row < rows; row++)
            {
                var index = (row * width) + c;
                column.Add(tensor.Data.GetValue(index) switch
                {
                    string text => text,
                    // As the prediction log writes a float (its shortest text), so a scored reference reads as traffic would.
                    float number => double.Parse(number.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
                    _ => Tensor.Number(tensor.Data, index),
                });
            }
        }
    }
}
