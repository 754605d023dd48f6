using Ballast.Statistics.Performance;

namespace Ballast.Tests.Statistics.Performance;

/// <summary>
/// CBPE's expected confusion matrix normalized as NannyML's <c>normalize_confusion_matrix</c>, against the values
/// NannyML publishes in its own tests (<c>tests/performance_estimation/CBPE/test_cbpe_metrics.py</c>, on its synthetic
/// car-loan and credit-card datasets): the same chunks' expected counts (<c>normalize_confusion_matrix: None</c>) and
/// their normalized values (<c>true</c>, <c>pred</c>, <c>all</c>).
/// </summary>
public sealed class ConfusionNormalizationTests
{
    /// <summary>
    /// <c>test_cbpe_for_binary_classification_with_timestamps</c>, <c>SizeBasedChunker(chunk_size=20000, incomplete='append')</c>:
    /// chunk [0:19999] (20,000 rows) and [20000:49999] (30,000 rows); per chunk TP, TN, FP, FN as counts and as
    /// normalized by NannyML's <c>BinaryClassificationConfusionMatrix.get_true_positive_estimate</c> and the other cells'.
    /// </summary>
    public static TheoryData<int, double[], string, double[]> Binary { get; } = new()
    {
        { 20_000, [9488.96406430504, 9468.107941981285, 567.0359356949585, 475.8920580187156], "all", [0.47444820321525205, 0.47340539709906426, 0.02835179678474793, 0.02379460290093578] },
        { 20_000, [9488.96406430504, 9468.107941981285, 567.0359356949585, 475.8920580187156], "true", [0.9522429574319092, 0.9434949869571514, 0.05650501304284861, 0.04775704256809077] },
        { 20_000, [9488.96406430504, 9468.107941981285, 567.0359356949585, 475.8920580187156], "pred", [0.9436121782324026, 0.952142793843653, 0.05638782176759731, 0.0478572061563471] },
        { 30_000, [14537.180201036117, 13200.5981195499, 1267.8197989638852, 994.4018804500995], "all", [0.4845726733678706, 0.44001993731833, 0.04226065996546284, 0.03314672934833665] },
        { 30_000, [14537.180201036117, 13200.5981195499, 1267.8197989638852, 994.4018804500995], "true", [0.9359754933378336, 0.9123732942949082, 0.08762670570509186, 0.06402450666216646] },
        { 30_000, [14537.180201036117, 13200.5981195499, 1267.8197989638852, 994.4018804500995], "pred", [0.9197836255005452, 0.9299470320218318, 0.08021637449945493, 0.07005296797816835] },
    };

    [Theory]
    [MemberData(nameof(Binary))]
    public void Binary_cells_normalize_to_nannyml_published_values(int rows, double[] counts, string name, double[] expected)
    {
        var matrix = new EstimatedConfusionMatrix(TruePositives: counts[0], FalsePositives: counts[2], FalseNegatives: counts[3], TrueNegatives: counts[1]);

        var normalized = ConfusionNormalizations.Normalize(matrix, ConfusionNormalizations.Parse(name)!.Value, rows);

        new[] { normalized.TruePositives, normalized.TrueNegatives, normalized.FalsePositives, normalized.FalseNegatives }.ShouldBe(expected, 1e-12);
        ConfusionNormalizations.Normalize(matrix, ConfusionNormalization.None, rows).ShouldBe(matrix, "absent, the cells stay expected counts");
    }

    /// <summary>
    /// <c>test_cbpe_for_multiclass_classification</c>, <c>chunk_size=20000</c> on the synthetic credit-card dataset
    /// (classes highstreet_card, prepaid_card, upmarket_card): the expected counts of chunks [0:19999], [20000:39999]
    /// and [40000:59999], and the same chunks with <c>normalize_confusion_matrix='true'</c>
    /// (<c>MulticlassClassificationConfusionMatrix._get_multiclass_confusion_matrix_estimate</c>: each row divided by
    /// its sum). <c>pred</c> and <c>all</c> are published on other chunks only; on these counts each column sums to 1,
    /// and the whole matrix to 1, the counts summing to the chunk's 20,000 rows.
    /// </summary>
    [Fact]
    public void Multiclass_rows_normalize_to_nannyml_published_values()
    {
        double[][][] counts =
        [
            [[4976.829215997277, 878.1877379091701, 831.7702766018707], [806.1451187447954, 5180.838942632071, 755.9948957802203], [812.0256652579275, 786.9733194587595, 4971.234827617909]],
            [[5148.649186425118, 1038.3533241561252, 993.7691398029524], [1140.1932616586546, 4134.524656135082, 998.509495865855], [1062.1575519162266, 873.1220197087925, 4610.7213643311925]],
            [[5412.348045797111, 1250.9260097761653, 1109.9706655490413], [1451.431964364007, 3326.8467648553315, 1200.1095251814281], [1263.219989838882, 967.2272253685034, 4017.9198092695306]],
        ];
        double[][][] byTrueClass =
        [
            [[0.7442780881812128, 0.1313317902358936, 0.12439012158289371], [0.11955326034187638, 0.7683308780213619, 0.1121158616367618], [0.1235915933057778, 0.1197785865673972, 0.756629820126825]],
            [[0.7170050012869645, 0.14460191393226796, 0.1383930847807676], [0.18175544842770236, 0.6590745693568182, 0.15916998221547937], [0.16226052551901615, 0.13338250761817996, 0.7043569668628038]],
            [[0.6962791266676683, 0.16092713592008898, 0.1427937374122426], [0.24277980997563847, 0.5564788741190233, 0.20074131590533828], [0.20216802004274595, 0.15479680076083163, 0.6430351791964225]],
        ];

        for (var chunk = 0; chunk < counts.Length; chunk++)
        {
            var matrix = counts[chunk].Select(row => (IReadOnlyList<double>)row).ToArray();
            var normalized = ConfusionNormalizations.Normalize(matrix, ConfusionNormalization.True);
            for (var i = 0; i < 3; i++)
            {
                normalized[i].ShouldBe(byTrueClass[chunk][i], 1e-12, $"chunk {chunk}, true class {i}");
            }

            matrix.Sum(row => row.Sum()).ShouldBe(20_000, 1e-6);
            var byPrediction = ConfusionNormalizations.Normalize(matrix, ConfusionNormalization.Pred);
            Enumerable.Range(0, 3).Select(j => byPrediction.Sum(row => row[j])).ShouldBe([1, 1, 1], 1e-12);
            byPrediction[0][0].ShouldBe(counts[chunk][0][0] / counts[chunk].Sum(row => row[0]), 1e-15);
            var all = ConfusionNormalizations.Normalize(matrix, ConfusionNormalization.All);
            all.Sum(row => row.Sum()).ShouldBe(1, 1e-12);
            all[1][2].ShouldBe(counts[chunk][1][2] / 20_000, 1e-12);
        }
    }

    /// <summary>A class the window expects no rows of (nothing predicted positive) leaves its column 0/0, NaN as NannyML's division.</summary>
    [Fact]
    public void An_empty_class_gives_nan_and_names_parse_as_nannyml_writes_them()
    {
        var matrix = new EstimatedConfusionMatrix(TruePositives: 0, FalsePositives: 0, FalseNegatives: 1.5, TrueNegatives: 2.5);

        var normalized = ConfusionNormalizations.Normalize(matrix, ConfusionNormalization.Pred, 4);

        (double.IsNaN(normalized.TruePositives), double.IsNaN(normalized.FalsePositives)).ShouldBe((true, true));
        (normalized.FalseNegatives, normalized.TrueNegatives).ShouldBe((1.5 / 4, 2.5 / 4));
        ConfusionNormalizations.Normalize(matrix, ConfusionNormalization.True, 4).TruePositives.ShouldBe(0, "the positives' row has 1.5 expected rows");

        ConfusionNormalizations.Names.ShouldBe(["true", "pred", "all"]);
        ConfusionNormalizations.Names.Select(ConfusionNormalizations.Parse).ShouldBe([ConfusionNormalization.True, ConfusionNormalization.Pred, ConfusionNormalization.All]);
        ConfusionNormalizations.Parse(null).ShouldBe(ConfusionNormalization.None);
        ConfusionNormalizations.Parse("True").ShouldBeNull("NannyML's names are lower case");
        ConfusionNormalizations.Parse("rows").ShouldBeNull();
    }
}
