using Ballast.Monitoring;
using Ballast.Statistics.Drift;

namespace Ballast.Tests.Statistics.Drift;

public sealed class DriftMethodTests
{
    /// <summary>Evidently src/evidently/legacy/calculations/stattests/registry.py, _get_default_stattest.</summary>
    [Theory]
    [InlineData(FeatureType.Numerical, 1000, 6, "ks")]
    [InlineData(FeatureType.Numerical, 1000, 5, "chisquare")]
    [InlineData(FeatureType.Numerical, 1000, 2, "z")]
    [InlineData(FeatureType.Categorical, 1000, 3, "chisquare")]
    [InlineData(FeatureType.Categorical, 1000, 2, "z")]
    [InlineData(FeatureType.Numerical, 1001, 6, "wasserstein")]
    [InlineData(FeatureType.Numerical, 1001, 5, "jensenshannon")]
    [InlineData(FeatureType.Categorical, 1001, 50, "jensenshannon")]
    public void Automatic_choice_follows_evidently(FeatureType type, long referenceRows, long distinct, string method)
    {
        DriftMethods.Auto(type, referenceRows, distinct).Name.ShouldBe(method);
    }

    /// <summary>Evidently's default thresholds (StatTest.default_threshold) and NannyML's documented 0.1 for l_infinity.</summary>
    [Fact]
    public void Default_thresholds_are_the_reference_projects()
    {
        DriftMethods.All.ToDictionary(method => method.Name, method => method.DefaultThreshold).ShouldBe(new Dictionary<string, double>
        {
            ["ks"] = 0.05, ["chisquare"] = 0.05, ["z"] = 0.05, ["g_test"] = 0.1, ["fisher_exact"] = 0.1, ["t_test"] = 0.05, ["welch_t_test"] = 0.05,
            ["anderson"] = 0.1, ["cramer_von_mises"] = 0.1, ["psi"] = 0.1, ["jensenshannon"] = 0.1, ["wasserstein"] = 0.1, ["ed"] = 0.1,
            ["hellinger"] = 0.1, ["l_infinity"] = 0.1,
        });
    }

    [Fact]
    public void Tests_drift_below_their_threshold_and_distances_at_or_above_it()
    {
        DriftMethods.Ks.IsDrift(0.049, 0.05).ShouldBeTrue();
        DriftMethods.Ks.IsDrift(0.05, 0.05).ShouldBeFalse();
        DriftMethods.Psi.IsDrift(0.1, 0.1).ShouldBeTrue();
        DriftMethods.Psi.IsDrift(0.099, 0.1).ShouldBeFalse();
    }

    /// <summary>The KS known answer of scipy's testRepeatedValues through the column pipeline, and the dataset share rule (≥ 0.5).</summary>
    [Fact]
    public void Columns_are_evaluated_and_the_dataset_drifts_at_half_its_columns()
    {
        double[] x = [.. Enumerable.Repeat(2.0, 3), .. Enumerable.Repeat(3.0, 4), .. Enumerable.Repeat(5.0, 5), .. Enumerable.Repeat(6.0, 4)];
        var column = DriftColumn.FromNumbers("x", x, x.Select(v => v + 1).ToArray());

        var ks = ColumnDriftDetector.Evaluate(column, DriftMethods.Ks);
        ks.ShouldBe(new FeatureDrift("x", FeatureType.Numerical, "ks", 0.3125, ks.PValue, ks.PValue!.Value, 0.05, false));
        ks.PValue.Value.ShouldBe(0.4262934613454952, 1e-6);
        ColumnDriftDetector.Evaluate(column, DriftMethods.Ks, threshold: 0.5).Drifted.ShouldBeTrue();
        ColumnDriftDetector.Evaluate(column, DriftMethods.ChiSquare).Method.ShouldBe("chisquare");

        var plan = DriftColumn.FromCategories("plan", ["a", "a", "b", "b", "c", "c"], ["a", "a", "b", "b", "c", "c", "d"]);
        Math.Round(ColumnDriftDetector.Evaluate(plan, DriftMethods.LInfinity).Score, 2).ShouldBe(0.14);
        Should.Throw<ArgumentException>(() => ColumnDriftDetector.Evaluate(plan, DriftMethods.Ks)).Message.ShouldContain("does not apply");

        var result = DriftResult.Of([ks with { Drifted = true }, ks]);
        result.DatasetDrift.ShouldBeTrue();
        result.DriftShare.ShouldBe(0.5);
        DriftResult.Of([ks with { Drifted = true }, ks, ks]).DatasetDrift.ShouldBeFalse();
    }

    [Fact]
    public void Options_name_every_problem_at_once()
    {
        var options = new DriftOptions
        {
            Methods = ["ks", "psi", "nope", "KS"],
            ColumnMethods = new Dictionary<string, string> { ["x"] = "bad" },
            Threshold = -1,
            Categorical = ["a"],
            Numerical = ["a"],
        };

        var problems = options.Validate();

        problems.Count.ShouldBe(5);
        problems.ShouldContain("method 'ks' is given twice");
        problems.ShouldContain(problem => problem.StartsWith("unknown drift method 'nope'", StringComparison.Ordinal));
        problems.ShouldContain(problem => problem.StartsWith("column 'x': unknown drift method 'bad'", StringComparison.Ordinal));
        new DriftOptions { Methods = ["ks", "chisquare"] }.Validate().ShouldBeEmpty();
        new DriftOptions { Methods = ["ks", "chisquare"] }.ChosenMethod("plan", FeatureType.Categorical)!.Name.ShouldBe("chisquare");
        var several = new DriftOptions { Methods = ["psi", "ks", "chisquare"], ColumnMethods = new Dictionary<string, string> { ["amount"] = "wasserstein" } };
        several.Validate().ShouldBeEmpty();
        several.ChosenMethods("x", FeatureType.Numerical).Select(method => method.Name).ShouldBe(["psi", "ks"]);
        several.ChosenMethods("plan", FeatureType.Categorical).Select(method => method.Name).ShouldBe(["psi", "chisquare"]);
        several.ChosenMethods("amount", FeatureType.Numerical).Select(method => method.Name).ShouldBe(["wasserstein"]);
    }

    [Fact]
    public void A_tests_threshold_above_1_is_refused_and_a_distances_is_not()
    {
        // A p-value is at most 1: with threshold 1.5 every column would drift (p < 1.5). Distances (PSI 0.2, 1.5, …) have no such bound.
        new DriftOptions { Methods = ["ks", "chisquare"], Threshold = 1.5 }.Validate().ShouldBe(
            ["the threshold 1.5 is above 1, but ks, chisquare gives a p-value (at most 1), so every column would drift; give a threshold between 0 and 1 (drift when p < threshold)"]);
        new DriftOptions { ColumnMethods = new Dictionary<string, string> { ["x"] = "ks", ["y"] = "psi" }, ColumnThresholds = new Dictionary<string, double> { ["x"] = 2, ["y"] = 2 } }
            .Validate().ShouldBe(["column 'x': the threshold 2 is above 1, but ks gives a p-value (at most 1), so every column would drift; give a threshold between 0 and 1 (drift when p < threshold)"]);
        new DriftOptions { Methods = ["psi"], Threshold = 1.5 }.Validate().ShouldBeEmpty();
        new DriftOptions { Methods = ["psi", "ks"], Threshold = 1.5 }.Validate().ShouldBeEmpty("a column's first method is psi, a distance");
        new DriftOptions { Threshold = 1.5 }.Validate().ShouldBeEmpty("the automatic choice is known per column, when the data is read");
    }
}
