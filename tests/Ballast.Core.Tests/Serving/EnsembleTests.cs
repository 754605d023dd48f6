using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Tracking;

namespace Ballast.Tests.Serving;

public sealed class EnsembleTests
{
    private static IReadOnlyList<Tensor> Answer(long[] labels, float[] probabilities) =>
    [
        new Tensor("label", TensorDatatypes.Int64, [labels.Length], labels),
        new Tensor("probabilities", TensorDatatypes.Fp32, [labels.Length, 3], probabilities, ["0", "1", "2"]),
    ];

    // Three classifiers, two rows. Row 0: a says 0 (0.6), b and c say 1 weakly; row 1: all lean to 2.
    private static readonly IReadOnlyList<IReadOnlyList<Tensor>> Answers =
    [
        Answer([0, 2], [0.6f, 0.3f, 0.1f, 0.1f, 0.2f, 0.7f]),
        Answer([1, 2], [0.3f, 0.4f, 0.3f, 0.2f, 0.2f, 0.6f]),
        Answer([1, 2], [0.35f, 0.4f, 0.25f, 0.0f, 0.1f, 0.9f]),
    ];

    [Fact]
    public void Scores_are_the_weighted_mean_and_labels_the_weighted_vote()
    {
        var combined = EnsembleRuntime.Combine(Answers, [("a", 1), ("b", 1), ("c", 1)], EnsembleSpec.Vote);
        combined[0].Data.ShouldBe(new long[] { 1, 2 }, "b and c outvote a");
        ((float[])combined[1].Data).ShouldBe([0.41667f, 0.36667f, 0.21667f, 0.1f, 0.16667f, 0.73333f], 1e-5f);
        combined[1].Labels.ShouldBe(["0", "1", "2"]);

        // Weight 3 on a: a's 0 (3) beats b and c's 1 (2); the mean moves towards a.
        var weighted = EnsembleRuntime.Combine(Answers, [("a", 3), ("b", 1), ("c", 1)], EnsembleSpec.Vote);
        weighted[0].Data.ShouldBe(new long[] { 0, 2 });
        ((float[])weighted[1].Data)[0].ShouldBe((0.6f * 3 + 0.3f + 0.35f) / 5, 1e-6f);
    }

    [Fact]
    public void With_mean_the_label_is_the_class_of_the_highest_mean_probability()
    {
        // Equal weights: row 0's mean probabilities are (0.417, 0.367, 0.217): class 0, though two of three voted 1.
        EnsembleRuntime.Combine(Answers, [("a", 1), ("b", 1), ("c", 1)], EnsembleSpec.Mean)[0].Data.ShouldBe(new long[] { 0, 2 });
    }

    [Fact]
    public void Members_that_disagree_on_an_output_shape_fail_the_ensemble() =>
        Should.Throw<InvalidOperationException>(() => EnsembleRuntime.Combine([Answers[0], [new Tensor("label", TensorDatatypes.Int64, [1], new long[] { 1 }), Answers[1][1]]], [("a", 1), ("b", 1)], EnsembleSpec.Vote))
            .Message.ShouldBe("ensemble members disagree on output 'label': a INT64 [2], b INT64 [1]");

    [Fact]
    public void An_ensemble_needs_two_variants_and_a_known_combiner()
    {
        var spec = EndpointValidation.Validate(new EndpointSpec("e", "ensemble", [new VariantSpec("a", "models:/m/1", 2), new VariantSpec("b", "models:/m/2")]));
        spec.Ensemble.ShouldBe(new EnsembleSpec(EnsembleSpec.Mean));
        spec.Variants!.Select(variant => variant.Weight).ShouldBe([2, null], "relative weights, not a split of 100");
        Should.Throw<TrackingException>(() => EndpointValidation.Validate(new EndpointSpec("e", "ensemble", [new VariantSpec("a", "models:/m/1", 0)], Ensemble: new EnsembleSpec("median"))))
            .Message.ShouldBe("Invalid endpoint 'e': ensemble combine 'median' is not one of mean, vote; an ensemble needs at least two variants; an ensemble's weights cannot all be 0 (leave them out for equal weights).");
    }
}
