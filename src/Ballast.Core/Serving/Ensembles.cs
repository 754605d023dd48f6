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
public sealed record EnsembleSpec(string? Combine = null, IReadOnlyList<IReadOnlyList<double>>? WeightsByRegime = null)
{
    public const string Mean = "mean";
    public const string Vote = "vote";

    public static IReadOnlyList<string> Combiners { get; } = [Mean, Vote];
}

/// <summary>
/// The runtime of an ensemble: calls its members' runtimes concurrently and combines their outputs. When a member
/// fails the ensemble fails (the endpoint's fallback variant then answers); a member's bad-input error is the caller's.
/// </summary>
public sealed class EnsembleRuntime(IReadOnlyList<(string Name, IModelRuntime Runtime, double Weight)> members, string combine) : IModelRuntime
{
    public string Flavor => "ensemble";

    public ModelSignature Signature => members[0].Runtime.Signature;

    public IReadOnlyList<Tensor> Infer(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs = null) =>
        Combine(members.Select(member => member.Runtime.Infer(inputs, outputs)).ToList(), members.Select(member => (member.Name, member.Weight)).ToList(), combine);

    public async ValueTask<IReadOnlyList<Tensor>> InferAsync(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs = null, CancellationToken cancellationToken = default)
    {
        var answers = await Task.WhenAll(members.Select(member => member.Runtime.InferAsync(inputs, outputs, cancellationToken).AsTask())).ConfigureAwait(false);
        return Combine(answers, members.Select(member => (member.Name, member.Weight)).ToList(), combine);
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
