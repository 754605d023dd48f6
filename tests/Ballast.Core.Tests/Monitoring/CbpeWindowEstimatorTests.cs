using Ballast.Monitoring;

namespace Ballast.Tests.Monitoring;

/// <summary>
/// Multiclass CBPE on a window when a class is missing: from the reference's labels (NannyML's CBPE refuses such a
/// reference, so the window gets a note instead of numbers) or from the window's predictions (NannyML's one-vs-rest
/// ratios over 0 are 0). NannyML publishes no test values for either case, so the expected values are small examples
/// computed by hand below. The reference's probabilities are its labels one-hot: every class's one-vs-rest ROC AUC is 1
/// (above NannyML's 0.999), so no class is calibrated and the window's probabilities are used as they are.
/// </summary>
public sealed class CbpeWindowEstimatorTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static readonly string[] Classes = ["a", "b", "c"];

    /// <summary>A table of [N, 3] probabilities (<c>probability[0]</c> … <c>probability[2]</c>) with one outcome per row.</summary>
    private static WindowTable Table(double[][] rows, string?[] outcomes)
    {
        var table = new WindowTable();
        for (var c = 0; c < Classes.Length; c++)
        {
            table.Outputs[$"probability[{c}]"] = rows.Select(row => (object?)row[c]).ToList();
        }

        table.Outcomes.AddRange(outcomes);
        return table;
    }

    /// <summary>A traffic reference whose probabilities are its labels one-hot (a label that is no class: all 0).</summary>
    private static ReferenceTable Reference(params string[] labels) =>
        ReferenceTable.FromWindow("traffic of the test", Table(labels.Select(label => Classes.Select(c => c == label ? 1.0 : 0.0).ToArray()).ToArray(), labels));

    private static Task<WindowHookResult> EstimateAsync(ReferenceTable reference, double[][] window, string? normalize = null) =>
        new CbpeWindowEstimator().EstimateAsync(new MonitorWindowContext(
            new MonitorSpec("classes", "iris", new MonitorWindow(Duration: "10m"), new MonitorReference(From: "2026-12-01T00:00:00Z", To: "2026-12-01T01:00:00Z"), MinRows: 3,
                Estimated: new MonitorEstimated("probability", Classes: Classes, NormalizeConfusionMatrix: normalize)),
            Table(window, new string?[window.Length]), reference, [], 0, 0, Path.GetTempPath()), Cancel);

    private static readonly double[][] Window =
    [
        [0.7, 0.2, 0.1],   // predicted a
        [0.6, 0.3, 0.1],   // a
        [0.2, 0.5, 0.3],   // b
        [0.1, 0.3, 0.6],   // c
        [0.3, 0.4, 0.3],   // b
    ];

    [Fact]
    public async Task A_reference_whose_labels_lack_a_class_gives_a_note_and_no_estimates_as_NannyML_refuses_it()
    {
        // Labels a and b only (and one row labelled z, which is no class and is left out): NannyML's
        // MulticlassClassificationAUROC._fit raises InvalidArgumentsException when the classes observed in the
        // reference's targets are not the classes of y_pred_proba, so CBPE cannot be fitted on this reference.
        var result = await EstimateAsync(Reference("a", "b", "a", "b", "z", "a"), Window);

        result.Metrics.ShouldBeEmpty();
        result.Notes.ShouldBe([
            "1 reference rows have a label that is not one of estimated.classes and were left out of calibration and sampling errors",
            "no estimated performance: no labelled row of the reference (traffic of the test) has class 'c' of estimated.classes, and CBPE (as NannyML's, " +
            "which refuses such a reference: \"y_pred_proba class and class probabilities dictionary does not match reference data\") needs every class " +
            "among the reference's labels to calibrate it and to give the estimates their sampling errors",
        ]);

        // Two classes missing are both named, in the order of estimated.classes.
        (await EstimateAsync(Reference("b", "b", "b"), Window)).Notes.Single().ShouldStartWith(
            "no estimated performance: no labelled row of the reference (traffic of the test) has class 'a', 'c' of estimated.classes");
    }

    [Fact]
    public async Task A_traffic_reference_without_any_feedback_gives_a_note_and_no_estimates_as_NannyML_refuses_it()
    {
        // NannyML's CBPE cannot be fitted on a reference without y_true: CBPE._fit_binary (and the multiclass fit) in
        // nannyml/performance_estimation/confidence_based/cbpe.py calls _list_missing([self.y_true, self.y_pred_proba,
        // self.y_pred], list(reference_data.columns)), which raises InvalidArgumentsException. Uncalibrated numbers
        // without sampling errors are not what it gives, so the window gets a note instead.
        const string Why = "; CBPE (as NannyML's, which refuses a reference without its y_true column) calibrates on the reference's probabilities and labels";
        var unlabelled = ReferenceTable.FromWindow("traffic of the test", Table(Window, new string?[Window.Length]));
        var multiclass = await EstimateAsync(unlabelled, Window);
        multiclass.Metrics.ShouldBeEmpty();
        multiclass.Notes.ShouldBe(["no estimated performance: the reference (traffic of the test) has no row with both feedback (the true label) and the model's probabilities" + Why]);

        // Binary: the probability of class "1" one value a row; feedback for none of the reference's rows.
        var probabilities = new WindowTable();
        probabilities.Outputs["probability"] = [0.9, 0.2, 0.7, 0.4];
        probabilities.Outcomes.AddRange(new string?[4]);
        var binary = await new CbpeWindowEstimator().EstimateAsync(new MonitorWindowContext(
            new MonitorSpec("binary", "loans", new MonitorWindow(Duration: "10m"), new MonitorReference(From: "2026-12-01T00:00:00Z", To: "2026-12-01T01:00:00Z"), MinRows: 3,
                Estimated: new MonitorEstimated("probability", "1")),
            probabilities, ReferenceTable.FromWindow("traffic of the test", probabilities), [], 0, 0, Path.GetTempPath()), Cancel);
        binary.Metrics.ShouldBeEmpty();
        binary.Notes.ShouldBe(["no estimated performance: the reference (traffic of the test) has no row with both feedback (the true label) and the model's probabilities" + Why]);
    }

    [Fact]
    public async Task With_every_class_among_the_reference_labels_the_window_is_estimated_by_hand()
    {
        var result = await EstimateAsync(Reference("a", "b", "c", "a", "b", "c"), Window);

        // Predicted classes a, a, b, c, b; nothing is calibrated (ROC AUC 1 for each class).
        // accuracy = mean probability of the predicted class = (0.7 + 0.6 + 0.5 + 0.6 + 0.4) / 5 = 0.56.
        // Expected matrix [true][predicted]: column a = rows 1, 2: (1.3, 0.5, 0.2); column b = rows 3, 5: (0.5, 0.9, 0.6);
        // column c = row 4: (0.1, 0.3, 0.6). Precision per class: 1.3 / 2, 0.9 / 2, 0.6 / 1; recall: 1.3 / 1.9,
        // 0.9 / 1.7, 0.6 / 1.4 (true positives over the row's sum); macro averages.
        var metrics = result.Metrics;
        result.Notes.ShouldNotContain(note => note.StartsWith("no estimated performance", StringComparison.Ordinal));
        (metrics["estimated.rows"], metrics["estimated.calibrated"]).ShouldBe((5.0, 0.0));
        metrics["estimated.accuracy"].ShouldBe(0.56, 1e-12);
        metrics["estimated.precision"].ShouldBe(((1.3 / 2) + (0.9 / 2) + 0.6) / 3, 1e-12);
        metrics["estimated.recall"].ShouldBe(((1.3 / 1.9) + (0.9 / 1.7) + (0.6 / 1.4)) / 3, 1e-12);
        double[][] matrix = [[1.3, 0.5, 0.1], [0.5, 0.9, 0.3], [0.2, 0.6, 0.6]];
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                metrics[$"estimated.true_{Classes[i]}_pred_{Classes[j]}"].ShouldBe(matrix[i][j], 1e-12);
            }
        }

        // Every reference row is predicted right, so "the row is correct" has no variance: accuracy's error is 0.
        metrics["estimated.accuracy.sampling_error"].ShouldBe(0);
    }

    [Fact]
    public async Task A_class_the_window_never_predicts_has_precision_and_recall_0_specificity_1_and_no_pred_normalized_cells()
    {
        // Predicted a, b, a: nothing as c. NannyML's estimate_precision / estimate_recall / estimate_f1 give 0 when their
        // denominator is 0 (c: no expected true positives nor false positives), estimate_specificity TN / (TN + FP) with
        // FP = 0 gives 1. Precision: a (0.7 + 0.4) / 2, b 0.5 / 1, c 0. Specificity: a TN = 1 − 0.2 (row 2), FP = 0.3 + 0.6;
        // b TN = 0.8 + 0.65, FP = 0.5; c TN = 0.9 + 0.7 + 0.75, FP = 0.
        double[][] window = [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.4, 0.35, 0.25]];
        var reference = Reference("a", "b", "c", "a", "b", "c");
        var counts = (await EstimateAsync(reference, window)).Metrics;
        counts["estimated.precision"].ShouldBe(((1.1 / 2) + 0.5 + 0) / 3, 1e-12);
        counts["estimated.specificity"].ShouldBe(((0.8 / 1.7) + (1.45 / 1.95) + 1) / 3, 1e-12);
        counts["estimated.true_c_pred_c"].ShouldBe(0);

        // normalize_confusion_matrix: pred divides column c by its expected count, 0 here (NannyML's 0 / 0 is NaN):
        // those cells are left out and the message says why; the other columns each sum to 1.
        var byPredicted = await EstimateAsync(reference, window, "pred");
        byPredicted.Metrics.Keys.ShouldNotContain("estimated.true_a_pred_c");
        byPredicted.Notes.ShouldContain("no estimated.true_a_pred_c, estimated.true_b_pred_c, estimated.true_c_pred_c: normalize_confusion_matrix pred divides by the " +
            "predicted class's expected count, 0 in this window");
        Classes.Sum(truth => byPredicted.Metrics[$"estimated.true_{truth}_pred_a"]).ShouldBe(1, 1e-12);
        byPredicted.Metrics["estimated.true_a_pred_a"].ShouldBe(1.1 / 2, 1e-12);
    }
}
