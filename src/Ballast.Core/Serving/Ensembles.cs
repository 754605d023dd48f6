using System.Globalization;
using Ballast.Runtime;

namespace Ballast.Serving;

/// <summary>
/// An ensemble endpoint's settings: every variant scores each request (in parallel) and the answers are combined with
/// the variants' weights (equal when left out). Score outputs (FP16/FP32/FP64) are always the weighted mean; label
/// outputs are the weighted majority vote (<c>vote</c>), or with <c>mean</c> the class of the highest mean
/// probability when the model gives class labels for its probability output (as scikit-learn classifiers do).
/// </summary>
/// <remarks>
/// With regime settings on the endpoint (a signal or a detector and thresholds), <see cref="WeightsByRegime"/> gives
/// the variants' weights in each regime (one row per regime, one weight per variant), so the blend follows the world.
/// </remarks>
/// <remarks>
/// With <see cref="Adapt"/>, the weights also follow each member's recent accuracy on the outcomes posted as feedback
/// (<see cref="EnsembleWeights"/>).
/// </remarks>
public sealed record EnsembleSpec(string? Combine = null, IReadOnlyList<IReadOnlyList<double>>? WeightsByRegime = null, EnsembleAdaptSpec? Adapt = null)
{
    public const string Mean = "mean";
    public const string Vote = "vote";

    public static IReadOnlyList<string> Combiners { get; } = [Mean, Vote];
}

/// <summary>
/// An ensemble whose weights adapt to feedback: each member's predictions of the last <see cref="Window"/> (a
/// duration, default 1h, at most 30d) are compared with the outcomes posted for them, and once every member has at
/// least <see cref="MinFeedback"/> (default 20) such outcomes, its weight is multiplied by a factor that grows with its
/// accuracy (<see cref="EnsembleWeights.Adapted"/>).
/// </summary>
public sealed record EnsembleAdaptSpec(string? Window = null, int? MinFeedback = null)
{
    public const string DefaultWindow = "1h";
    public const int DefaultMinFeedback = 20;

    /// <summary>The window as a duration (the spec is validated first). A method, not a property: a property would be a field of the endpoint's JSON.</summary>
    public TimeSpan WindowSpan() => Durations.Parse(Window ?? DefaultWindow) ?? TimeSpan.FromHours(1);
}

/// <summary>One member's recent record: predictions with an outcome posted for them in the window, and how many were right.</summary>
public sealed record MemberAccuracy(string Member, long Labelled, long Correct);

/// <summary>
/// An adaptive ensemble's weights, pure: the weights the spec gives each member times log((c - 1) p / (1 - p)), where p
/// is its accuracy smoothed as (correct + 1) / (labelled + 2) and c the number of classes (distinct outcomes, at least
/// 2), and 0 for a member no better than chance (p &lt;= 1 / c). These are the weights under which a weighted majority
/// vote of independent classifiers, each wrong evenly across the other classes, is most often right (for two classes
/// log(p / (1 - p)): Nitzan and Paroush, 1982; Kuncheva, Combining Pattern Classifiers, "weighted majority vote"), and
/// they take a member that is always wrong to 0 rather than to a fraction of the others.
/// </summary>
public static class EnsembleWeights
{
    /// <summary>
    /// The factor each member's weight is multiplied by, in member order; null (the spec's weights stand) until every
    /// member has <paramref name="minFeedback"/> labelled predictions, or when no member is better than chance.
    /// </summary>
    public static double[]? Adapted(IReadOnlyList<string> members, IReadOnlyList<MemberAccuracy> accuracy, long classes, int minFeedback)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(accuracy);
        var factors = new double[members.Count];
        for (var i = 0; i < members.Count; i++)
        {
            var record = accuracy.FirstOrDefault(member => member.Member == members[i]);
            if (record is null || record.Labelled < minFeedback)
            {
                return null;
            }

            var p = (record.Correct + 1.0) / (record.Labelled + 2.0);
            factors[i] = Math.Max(0, Math.Log(Math.Max(2, classes) - 1) + Math.Log(p / (1 - p)));
        }

        return factors.Any(factor => factor > 0) ? factors : null;
    }
}

/// <summary>
/// The runtime of an ensemble: calls its members' runtimes concurrently and combines their outputs. When a member
/// fails the ensemble fails (the endpoint's fallback variant then answers); a member's bad-input error is the caller's.
/// An adaptive ensemble's weights are the spec's times factors learned from feedback (<see cref="Adapt"/>), swapped in whole.
/// </summary>
public sealed class EnsembleRuntime(IReadOnlyList<(string Name, IModelRuntime Runtime, double Weight)> members, string combine) : IModelRuntime
{
    private volatile (string Name, double Weight)[] _weights = [.. members.Select(member => (member.Name, member.Weight))];

    public string Flavor => "ensemble";

    public ModelSignature Signature => members[0].Runtime.Signature;

    /// <summary>
    /// The members' weights as the endpoint's spec gives them, one row per regime when they follow one
    /// (<see cref="EnsembleSpec.WeightsByRegime"/>), else one row of each variant's weight (1 when left out); one weight
    /// per name of <paramref name="variants"/>, in that order.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<double>> WeightRows(EndpointSpec spec, IReadOnlyList<string> variants)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(variants);
        return spec.Ensemble?.WeightsByRegime is { Count: > 0 } rows
            ? rows
            : [[.. variants.Select(name => (double)(spec.Variants!.First(member => member.Name == name).Weight ?? 1))]];
    }

    /// <summary>The ensemble of an endpoint's variants (in the order of <paramref name="weights"/>) with those weights and the spec's combination; a variant weighing 0 is left out.</summary>
    public static EnsembleRuntime Of(EndpointSpec spec, IReadOnlyList<(string Name, IModelRuntime Runtime)> variants, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(variants);
        ArgumentNullException.ThrowIfNull(weights);
        return new EnsembleRuntime(variants.Select((variant, i) => (variant.Name, variant.Runtime, weights[i])).Where(member => member.Item3 > 0).ToList(),
            spec.Ensemble?.Combine ?? EnsembleSpec.Mean);
    }

    /// <summary>The members' names, in order.</summary>
    public IReadOnlyList<string> Members { get; } = [.. members.Select(member => member.Name)];

    /// <summary>The weights in use, in member order: the spec's, or the spec's times the last factors given to <see cref="Adapt"/>.</summary>
    public IReadOnlyList<(string Name, double Weight)> Weights => _weights;

    /// <summary>Whether <see cref="Weights"/> are learned from feedback (the last <see cref="Adapt"/> had factors).</summary>
    public bool Adapted => _adapted;

    private volatile bool _adapted;

    /// <summary>Multiplies the spec's weights by <paramref name="factors"/> (one per member, in order, not all 0: <see cref="EnsembleWeights.Adapted"/>); null goes back to the spec's.</summary>
    public void Adapt(double[]? factors)
    {
        _weights = [.. members.Select((member, i) => (member.Name, member.Weight * (factors?[i] ?? 1)))];
        _adapted = factors is not null;
    }

    public IReadOnlyList<Tensor> Infer(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs = null)
    {
        var weights = _weights;
        return Combine(members.Select(member => member.Runtime.Infer(inputs, outputs)).ToList(), weights, combine);
    }

    public async ValueTask<IReadOnlyList<Tensor>> InferAsync(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs = null, CancellationToken cancellationToken = default) =>
        (await InferMembersAsync(inputs, outputs, cancellationToken).ConfigureAwait(false)).Combined;

    /// <summary>Runs every member and combines their answers; returns the combination and each member's own answer (in member order).</summary>
    public async ValueTask<(IReadOnlyList<Tensor> Combined, IReadOnlyList<IReadOnlyList<Tensor>> Members)> InferMembersAsync(IReadOnlyList<Tensor> inputs,
        IReadOnlyCollection<string>? outputs = null, CancellationToken cancellationToken = default)
    {
        var weights = _weights;
        var answers = await Task.WhenAll(members.Select(member => member.Runtime.InferAsync(inputs, outputs, cancellationToken).AsTask())).ConfigureAwait(false);
        return (Combine(answers, weights, combine), answers);
    }

    public void Dispose()
    {
        // The members belong to the model cache.
    }

    /// <summary>Combines the members' answers (in member order) with their weights: pure, so tested on its own.</summary>
    public static IReadOnlyList<Tensor> Combine(IReadOnlyList<IReadOnlyList<Tensor>> answers, IReadOnlyList<(string Name, double Weight)> members, string combine)
    {
        ArgumentNullException.ThrowIfNull(answers);
        ArgumentNullException.ThrowIfNull(members);
        var total = members.Sum(member => member.Weight);
        var combined = new List<Tensor>();
        foreach (var template in answers[0])
        {
            var parts = answers.Select((answer, i) => answer.FirstOrDefault(output => output.Name == template.Name)
                ?? throw new InvalidOperationException($"ensemble member '{members[i].Name}' gave no output '{template.Name}'")).ToList();
            if (parts.Any(part => !part.Shape.SequenceEqual(template.Shape) || part.Datatype != template.Datatype))
            {
                throw new InvalidOperationException($"ensemble members disagree on output '{template.Name}': {string.Join(", ", parts.Select((part, i) => $"{members[i].Name} {part.Datatype} [{string.Join(",", part.Shape)}]"))}");
            }

            combined.Add(template.Data is float[] or double[] or Half[] ? WeightedMean(template, parts, members, total) : WeightedVote(template, parts, members));
        }

        if (combine == EnsembleSpec.Mean)
        {
            for (var i = 0; i < combined.Count; i++)
            {
                combined[i] = LabelFromProbabilities(combined[i], combined) ?? combined[i];
            }
        }

        return combined;
    }

    private static Tensor WeightedMean(Tensor template, List<Tensor> parts, IReadOnlyList<(string Name, double Weight)> members, double total)
    {
        var sums = new double[template.Data.Length];
        for (var i = 0; i < parts.Count; i++)
        {
            var data = parts[i].Data;
            for (var j = 0; j < sums.Length; j++)
            {
                sums[j] += members[i].Weight * Tensor.Number(data, j)!.Value;
            }
        }

        Array result = template.Data switch
        {
            float[] => sums.Select(sum => (float)(sum / total)).ToArray(),
            Half[] => sums.Select(sum => (Half)(sum / total)).ToArray(),
            _ => sums.Select(sum => sum / total).ToArray(),
        };
        return template with { Data = result };
    }

    private static Tensor WeightedVote(Tensor template, List<Tensor> parts, IReadOnlyList<(string Name, double Weight)> members)
    {
        var result = Array.CreateInstance(template.Data.GetType().GetElementType()!, template.Data.Length);
        for (var j = 0; j < result.Length; j++)
        {
            var tally = new Dictionary<object, double>();
            object? best = null;
            for (var i = 0; i < parts.Count; i++)
            {
                var value = parts[i].Data.GetValue(j)!;
                tally[value] = tally.GetValueOrDefault(value) + members[i].Weight;
                // Strictly more weight wins; on a tie, the earlier variant's answer stays.
                if (best is null || tally[value] > tally[best])
                {
                    best = value;
                }
            }

            result.SetValue(best, j);
        }

        return template with { Data = result };
    }

    /// <summary>A 1-D label output re-derived as the class of the highest mean probability, when an [N, C] output names its C classes.</summary>
    private static Tensor? LabelFromProbabilities(Tensor label, List<Tensor> outputs)
    {
        if (label.Data is float[] or double[] or Half[] || label.Data.Length == 0)
        {
            return null;
        }

        var rows = label.Data.Length;
        var probabilities = outputs.FirstOrDefault(output => output.Labels is { Count: > 0 } && output.Shape.Length == 2 && output.Shape[0] == rows && output.Shape[1] == output.Labels.Count);
        if (probabilities is null)
        {
            return null;
        }

        var classes = probabilities.Labels!;
        var width = classes.Count;
        var result = Array.CreateInstance(label.Data.GetType().GetElementType()!, rows);
        for (var row = 0; row < rows; row++)
        {
            var top = 0;
            for (var column = 1; column < width; column++)
            {
                if (Tensor.Number(probabilities.Data, (row * width) + column) > Tensor.Number(probabilities.Data, (row * width) + top))
                {
                    top = column;
                }
            }

            try
            {
                result.SetValue(result is string[] ? classes[top] : Convert.ChangeType(classes[top], result.GetType().GetElementType()!, CultureInfo.InvariantCulture), row);
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return label with { Data = result };
    }
}
