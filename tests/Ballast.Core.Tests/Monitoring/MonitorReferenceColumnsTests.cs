using Ballast.Datasets;
using Ballast.Monitoring;

namespace Ballast.Tests.Monitoring;

/// <summary>
/// A CBPE reference with labels but not the model's probabilities: accepted when a variant of the endpoint may score it
/// (the window scores it, <see cref="ReferenceScorer"/>), refused when none can: every variant a url one or reading a
/// column the table lacks.
/// </summary>
public sealed class MonitorReferenceColumnsTests
{
    private static readonly TableProfile Table = new("train.csv", "csv", 10,
        [new ColumnProfile("x", "DOUBLE", "numeric", 10, 0, 10), new ColumnProfile("label", "BIGINT", "numeric", 10, 0, 2)]);

    private static readonly MonitorSpec Spec = new("m", "loans", new MonitorWindow(Duration: "10m"), new MonitorReference(Dataset: "train"),
        Estimated: new MonitorEstimated("probability", "1"));

    private static readonly MonitorReferenceColumns.Scorer Remote = new("remote", null, [], "calls a model on another server (http://127.0.0.1:9/v2/models/loans)");

    private static readonly MonitorReferenceColumns.Scorer Wide = new("wide", "models:/loans/2", [("features", "features[0]"), ("features", "features[1]")]);

    [Fact]
    public void A_labelled_reference_without_probabilities_is_refused_only_when_no_variant_can_score_it()
    {
        MonitorReferenceColumns.Problems(Spec, "train@1 train.csv", Table, [Remote, Wide]).ShouldBe([
            "estimated.probability_output: train@1 train.csv has no column 'probability' (or 'probability[1]') with the model's probabilities, and no model of endpoint 'loans' " +
            "can score it: variant 'remote' calls a model on another server (http://127.0.0.1:9/v2/models/loans); variant 'wide' (models:/loans/2) reads 'features[0]', 'features[1]' " +
            "for its input 'features' (feature_names names an [N, k] input's columns); it has x, label",
        ]);

        MonitorReferenceColumns.Problems(Spec, "train@1 train.csv", Table, [Remote, new MonitorReferenceColumns.Scorer("main", "models:/loans/1", [("x", "x")])])
            .ShouldBeEmpty("variant 'main' reads x, which the table has");
        MonitorReferenceColumns.Problems(Spec, "train@1 train.csv", Table, null).ShouldBeEmpty("how the endpoint scores is not known: left to the window");
        MonitorReferenceColumns.Problems(Spec with { Estimated = new MonitorEstimated("x", "1") }, "train@1 train.csv", Table, [Remote])
            .ShouldBeEmpty("the table has the probabilities and the label");
    }
}
