using System.Globalization;
using Ballast.Runtime;
using Ballast.Serving;

namespace Ballast.Monitoring;

/// <summary>One variant's outputs on the reference (<see cref="Outputs"/>, by <see cref="Model"/>), or why it has none (<see cref="Problem"/>).</summary>
public sealed record ScoredVariant(string Variant, string? Model, IReadOnlyDictionary<string, List<object?>>? Outputs, string? Problem);

/// <summary>The reference scored per variant; <see cref="OneModel"/>: the endpoint serves one registered model (one variant, no ensemble).</summary>
public sealed record ScoredReference(IReadOnlyList<ScoredVariant> Variants, bool OneModel);

/// <summary>
/// Scores a dataset reference with the models the monitor's endpoint serves, so that CBPE can calibrate on a reference
/// that has labels but not the model's probabilities: each variant with a registered model by its version, and an
/// ensemble endpoint's combination of them (shadows are not served, so not scored). Each input of the model's signature
/// is read from the reference's columns as a window names them (the input's name for one value a row;
/// <c>feature_names</c>, else <c>NAME[0]</c> … for [N, k]); the outputs come back as a window's columns (<c>NAME</c>, or
/// <c>NAME[0]</c> … for [N, k]). What cannot be done is an <see cref="InvalidOperationException"/> whose message says why.
/// CUPAC covariates of A/B experiments score their dataset the same way (<see cref="ScoreAsync(string, long, IReadOnlyDictionary{string, IReadOnlyList{string}}?, ReferenceTable, CancellationToken)"/>).
/// With a <paramref name="cache"/>, a dataset file's outputs are kept per model version (an ensemble's per its versions,
/// weights and combination) and feature names (<see cref="CacheKey(Datasets.DatasetFile, string, long, IReadOnlyDictionary{string, IReadOnlyList{string}}?)"/>),
/// so later windows reuse them without loading the model; an alias moved to another version scores the reference again.
/// </summary>
public sealed class ReferenceScorer(EndpointStore endpoints, ModelCache models, ReferenceCache? cache = null)
{
    /// <summary>Rows per call of the model.</summary>
    public const int BatchRows = 1000;

    /// <summary>Part of every cache key: a change to how references are scored changes it, so no older scores are read.</summary>
    public const string CacheFormat = "reference-scores/2";

    /// <summary>
    /// The reference's rows scored as each variant of the monitor's endpoint that answers traffic would score them (a
    /// variant's name as the prediction log records it): every variant with a registered model, by that model's version
    /// (an alias resolved); on an ensemble endpoint, <c>ensemble</c> (the variants' models combined as serving combines
    /// them, <see cref="EnsembleRuntime"/>, with the spec's weights) and each variant (a fallback answers alone). Only
    /// the names in <paramref name="variants"/> when given. A variant that cannot be scored (a url variant, an ensemble
    /// whose weights follow a regime or feedback, a model that does not fit the reference's columns) has a
    /// <see cref="ScoredVariant.Problem"/> instead of outputs. <see cref="ScoredReference.OneModel"/> says whether the
    /// endpoint serves one registered model and nothing else (its scores then stand for every row of a window).
    /// </summary>
    public async Task<ScoredReference> ScoreAsync(MonitorSpec spec, ReferenceTable reference, IReadOnlyCollection<string>? variants, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(reference);
        var endpoint = (await endpoints.GetAsync(spec.Endpoint!, cancellationToken).ConfigureAwait(false)).Spec;
        var all = endpoint.Variants ?? [];
        var ensemble = endpoint.Policy == EndpointValidation.EnsemblePolicy;
        var scored = new List<ScoredVariant>();
        if (ensemble && (variants is null || variants.Contains(EnsembleVariant)))
        {
            scored.Add(await ScoreEnsembleAsync(endpoint, spec.FeatureNames, reference, cancellationToken).ConfigureAwait(false));
        }

        foreach (var variant in all.Where(variant => variants is null || variants.Contains(variant.Name)))
        {
            scored.Add(await ScoreVariantAsync(variant, spec.FeatureNames, reference, cancellationToken).ConfigureAwait(false));
        }

        return new ScoredReference(scored, !ensemble && all.Count == 1 && all[0].Model is not null);
    }

    /// <summary>The name the prediction log gives an ensemble's answers.</summary>
    public const string EnsembleVariant = "ensemble";

    private async Task<ScoredVariant> ScoreVariantAsync(VariantSpec variant, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames, ReferenceTable reference,
        CancellationToken cancellationToken)
    {
        if (variant.Model is null)
        {
            return new ScoredVariant(variant.Name, null, null, $"variant '{variant.Name}' calls a model on another server ({variant.Url}), so the reference is not scored with it");
        }

        try
        {
            var modelReference = ModelReference.Parse(variant.Model, $"variant '{variant.Name}'");
            var version = await models.ResolveAsync(modelReference, cancellationToken).ConfigureAwait(false);
            var outputs = await ScoreAsync(modelReference.Name, version, featureNames, reference, cancellationToken).ConfigureAwait(false);
            return new ScoredVariant(variant.Name, $"{modelReference.Name}/{version.ToString(CultureInfo.InvariantCulture)}", outputs, null);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The model or the reference's columns do not fit: this variant's rows are not calibrated, and the message says why.
            return new ScoredVariant(variant.Name, variant.Model, null, $"variant '{variant.Name}' ({variant.Model}) could not score the reference: {exception.Message}");
        }
    }

    /// <summary>The reference scored by the endpoint's ensemble: each variant's model run on it, combined by <see cref="EnsembleRuntime"/> with the spec's weights.</summary>
    private async Task<ScoredVariant> ScoreEnsembleAsync(EndpointSpec endpoint, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames, ReferenceTable reference,
        CancellationToken cancellationToken)
    {
        var variants = endpoint.Variants ?? [];
        string? problem = endpoint.Ensemble?.WeightsByRegime is { Count: > 1 }
            ? "the ensemble's weights follow a regime, and a window does not say which regime's weights answered each row"
            : endpoint.Ensemble?.Adapt is not null ? "the ensemble's weights adapt to feedback, so no fixed combination of its variants answered the window's rows"
            : variants.FirstOrDefault(variant => variant.Model is null) is { } remote ? $"its variant '{remote.Name}' calls a model on another server ({remote.Url})"
            : null;
        if (problem is not null)
        {
            return new ScoredVariant(EnsembleVariant, null, null, $"the ensemble could not score the reference: {problem}");
        }

        try
        {
            var versions = new List<(string Variant, string Model, long Version)>();
            foreach (var variant in variants)
            {
                var modelReference = ModelReference.Parse(variant.Model, $"variant '{variant.Name}'");
                versions.Add((variant.Name, modelReference.Name, await models.ResolveAsync(modelReference, cancellationToken).ConfigureAwait(false)));
            }

            var weights = EnsembleRuntime.WeightRows(endpoint, [.. variants.Select(variant => variant.Name)])[0];
            var model = $"ensemble({endpoint.Ensemble?.Combine ?? EnsembleSpec.Mean}:" +
                string.Join(",", versions.Select((member, i) => $"{member.Variant}={ModelKey(member.Model, member.Version)}*{weights[i].ToString("R", CultureInfo.InvariantCulture)}")) + ")";
            async Task<IModelRuntime> LoadEnsembleAsync()
            {
                var members = new List<(string Name, IModelRuntime Runtime)>();
                foreach (var (variant, name, version) in versions)
                {
                    members.Add((variant, await LoadAsync(name, version).ConfigureAwait(false)));
                }

                return EnsembleRuntime.Of(endpoint, members, weights);
            }

            return new ScoredVariant(EnsembleVariant, model, await ScoreAsync(model, LoadEnsembleAsync, featureNames, reference, cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return new ScoredVariant(EnsembleVariant, null, null, $"the ensemble could not score the reference: {exception.Message}");
        }
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
        return await ScoreAsync(ModelKey(name, version), () => LoadAsync(name, version), featureNames, reference, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A model version's runtime; one that cannot be loaded is an <see cref="InvalidOperationException"/> naming the version.</summary>
    private async Task<IModelRuntime> LoadAsync(string name, long version)
    {
        try
        {
            return (await models.GetAsync(name, version).ConfigureAwait(false)).Runtime;
        }
        catch (Exception exception) when (exception is not (OperationCanceledException or Metadata.MetadataUnavailableException))
        {
            throw new InvalidOperationException($"loading {ModelKey(name, version)} failed: {exception.Message}", exception);
        }
    }

    /// <summary>
    /// The rows scored by the runtime <paramref name="load"/> gives (a model version's, or an ensemble of them), cached
    /// under <paramref name="model"/> (what names its scores); the cache is read first, so a hit loads nothing.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, List<object?>>> ScoreAsync(string model, Func<Task<IModelRuntime>> load, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames,
        ReferenceTable reference, CancellationToken cancellationToken)
    {
        var key = reference.Blob is { } blob ? CacheKey(blob, model, featureNames) : null;
        if (cache is not null && key is not null && await cache.ScoresAsync(key, reference.Rows, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            return cached;
        }

        var runtime = await load().ConfigureAwait(false);
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
    public static string CacheKey(Datasets.DatasetFile blob, string model, long version, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames) =>
        CacheKey(blob, ModelKey(model, version), featureNames);

    /// <summary>What names a model version's scores in a cache key.</summary>
    private static string ModelKey(string model, long version) => $"models:/{model}/{version.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A cache key for the scores of <paramref name="model"/>: a version (<see cref="ModelKey"/>), or an ensemble of versions with its weights and combination.</summary>
    private static string CacheKey(Datasets.DatasetFile blob, string model, IReadOnlyDictionary<string, IReadOnlyList<string>>? featureNames)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return $"{CacheFormat}\n{blob.Sha256}\n{blob.Path}\n{model}\n" +
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

        throw new InvalidOperationException($"row {row} of the reference's column '{column}' ({WindowValues.Text(value) ?? "missing"}) is not {TensorDatatypes.WithArticle(input.Datatype)} value for input '{input.Name}'");
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
