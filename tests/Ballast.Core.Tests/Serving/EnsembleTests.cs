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
    public void Adapted_weights_are_the_log_odds_of_each_members_smoothed_accuracy()
    {
        // Two classes: p = (correct + 1) / (labelled + 2); a: 21/22, log(21) = 3.0445; b: 11/22, a coin, 0.
        var factors = EnsembleWeights.Adapted(["a", "b"], [new MemberAccuracy("a", 20, 20), new MemberAccuracy("b", 20, 10)], classes: 2, minFeedback: 20);
        factors.ShouldNotBeNull();
        factors[0].ShouldBe(Math.Log(21), 1e-12);
        factors[1].ShouldBe(0);

        // Three classes: log(2 p / (1 - p)); c: 16/22, log(2 * 16 / 6) = 1.6740; chance is 1/3, so b's 0.5 now counts (log 2).
        var three = EnsembleWeights.Adapted(["b", "c"], [new MemberAccuracy("b", 20, 10), new MemberAccuracy("c", 20, 15)], classes: 3, minFeedback: 20)!;
        three[0].ShouldBe(Math.Log(2), 1e-12);
        three[1].ShouldBe(1.6740, 1e-4);

        // Until every member has min_feedback outcomes, and when none beats chance, the spec's weights stand.
        EnsembleWeights.Adapted(["a", "b"], [new MemberAccuracy("a", 20, 20), new MemberAccuracy("b", 19, 19)], 2, 20).ShouldBeNull();
        EnsembleWeights.Adapted(["a", "b"], [new MemberAccuracy("a", 20, 20)], 2, 20).ShouldBeNull();
        EnsembleWeights.Adapted(["a", "b"], [new MemberAccuracy("a", 20, 5), new MemberAccuracy("b", 20, 10)], 2, 20).ShouldBeNull();
    }

    [Fact]
    public void An_adapted_ensemble_weighs_its_members_by_the_spec_times_the_learned_factors()
    {
        using var ensemble = new EnsembleRuntime([("a", null!, 3), ("b", null!, 1)], EnsembleSpec.Vote);
        ensemble.Adapt([0.5, 2]);
        ensemble.Adapted.ShouldBeTrue();
        ensemble.Weights.ShouldBe([("a", 1.5), ("b", 2.0)]);
        ensemble.Adapt(null);
        ensemble.Adapted.ShouldBeFalse();
        ensemble.Weights.ShouldBe([("a", 3.0), ("b", 1.0)]);
    }

    [Fact]
    public void An_ensembles_adaptive_settings_are_validated()
    {
        var variants = new[] { new VariantSpec("a", "models:/m/1"), new VariantSpec("b", "models:/m/2") };
        EndpointValidation.Validate(new EndpointSpec("e", "ensemble", variants, Ensemble: new EnsembleSpec(Adapt: new EnsembleAdaptSpec()))).Ensemble!.Adapt
            .ShouldBe(new EnsembleAdaptSpec("1h", 20));
        Should.Throw<TrackingException>(() => EndpointValidation.Validate(new EndpointSpec("e", "ensemble", variants, Ensemble: new EnsembleSpec(Adapt: new EnsembleAdaptSpec("soon", 0)))))
            .Message.ShouldBe("Invalid endpoint 'e': ensemble.adapt.window 'soon' is not a duration (e.g. 30m, 1h, 7d); ensemble.adapt.min_feedback must be at least 1, not 0.");
        Should.Throw<TrackingException>(() => EndpointValidation.Validate(new EndpointSpec("e", "ensemble", variants, Ensemble: new EnsembleSpec(Adapt: new EnsembleAdaptSpec("31d")))))
            .Message.ShouldBe("Invalid endpoint 'e': ensemble.adapt.window must be more than 0 and at most 30d (member predictions are kept 30 days), not '31d'.");
    }

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
