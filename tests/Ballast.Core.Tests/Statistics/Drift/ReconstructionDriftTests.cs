using Ballast.Statistics.Drift;
using MathNet.Numerics.Distributions;

namespace Ballast.Tests.Statistics.Drift;

public sealed class ReconstructionDriftTests
{
    /// <summary>
    /// By hand: y = 2x makes the standardized columns equal, so one component explains everything and rows on the line
    /// reconstruct exactly. The row (1, 8) standardizes to (−1.5/√1.25, 3/√5) = (−a, a), orthogonal to the component
    /// (1, 1)/√2, so its whole length a√2 = 1.5·√2/√1.25 is the error.
    /// </summary>
    [Fact]
    public void Error_is_the_distance_to_the_principal_subspace()
    {
        var model = ReconstructionDrift.Fit([Numeric("x", 1, 2, 3, 4), Numeric("y", 2, 4, 6, 8)], chunkSize: 2);

        model.Components.ShouldBe(1);
        model.ExplainedVarianceRatio[0].ShouldBe(1, 1e-12);
        model.RowErrors([Numeric("x", 1, 3), Numeric("y", 2, 6)]).ShouldBe([0, 0], tolerance: 1e-12);
        model.RowErrors([Numeric("y", 8), Numeric("x", 1)]).ShouldBe([1.5 * Math.Sqrt(2) / Math.Sqrt(1.25)], tolerance: 1e-12);
    }

    /// <summary>
    /// NannyML's "butterfly" demonstration (docs/how_it_works/data_reconstruction.rst): x1 = s + ε/8, x2 = s + ε/8,
    /// x3 = ε/8 on the reference; the analysis rotates (x1, x2) by 90°, which flips their correlation from +0.98 to
    /// −0.98 but leaves each feature's distribution as it was. One component (≈ 66 % of the variance) is kept; a fresh
    /// reference-like chunk stays inside the band and the rotated chunk is well above it (about 1.56 against a band top of 0.87). Seeded data, 10 reference
    /// chunks of 1,000 rows.
    /// </summary>
    [Fact]
    public void A_change_in_correlation_alone_raises_an_alert()
    {
        var random = new Random(23);
        var model = ReconstructionDrift.Fit(Butterfly(random, 10_000, rotated: false), chunkSize: 1_000);

        model.Components.ShouldBe(1);
        model.ExplainedVarianceRatio[0].ShouldBe(0.66, 0.01);
        model.ReferenceChunkErrors.Count.ShouldBe(10);

        var same = model.Evaluate(Butterfly(random, 1_000, rotated: false));
        same.Alert.ShouldBeFalse();

        var rotated = Butterfly(random, 1_000, rotated: true);
        var reference = Butterfly(new Random(23), 10_000, rotated: false);
        for (var j = 0; j < 3; j++)
        {
            var before = reference[j].Numbers!;
            var after = rotated[j].Numbers!;
            after.Average().ShouldBe(before.Average(), 0.1);
            StandardDeviation(after).ShouldBe(StandardDeviation(before), 0.05 * StandardDeviation(before));
        }

        var drifted = model.Evaluate(rotated);
        drifted.Alert.ShouldBeTrue();
        drifted.Error.ShouldBeGreaterThan(1.5 * model.UpperThreshold);
    }

    /// <summary>
    /// Categories are encoded as their share of the reference rows (NannyML's CountEncoder(normalize=True)); a chunk of
    /// a category the reference never saw encodes as 0, far from the reference, and alerts. Missing values are imputed
    /// with the mean or the most frequent category, so a chunk with a few gaps is scored, not rejected.
    /// </summary>
    [Fact]
    public void Categories_are_count_encoded_and_missing_values_imputed()
    {
        var random = new Random(5);
        string[] levels = ["a", "a", "a", "b", "b", "c"];
        var model = ReconstructionDrift.Fit(Mixed(random, 6_000, () => levels[random.Next(levels.Length)]), chunkSize: 500);

        model.Evaluate(Mixed(random, 500, () => levels[random.Next(levels.Length)])).Alert.ShouldBeFalse();
        model.Evaluate(Mixed(random, 500, () => "z")).Alert.ShouldBeTrue();

        var gaps = Mixed(random, 500, () => random.Next(10) == 0 ? null : levels[random.Next(levels.Length)]);
        gaps[0].Numbers![3] = double.NaN;
        model.RowErrors(gaps).ShouldAllBe(e => double.IsFinite(e));
    }

    [Fact]
    public void Bad_input_is_rejected_with_the_reason()
    {
        Should.Throw<ArgumentException>(() => ReconstructionDrift.Fit([Numeric("x", 1, 2, 3), Numeric("y", 1, 2)], chunkSize: 1))
            .Message.ShouldBe("every reference column needs the same number of rows: 'x' has 3, 'y' has 2.");
        Should.Throw<ArgumentException>(() => ReconstructionDrift.Fit([Numeric("x", 1, 2, 3)], chunkSize: 2))
            .Message.ShouldBe("the reference has 3 rows; thresholds need at least 2 chunks of 2 rows.");
        Should.Throw<ArgumentException>(() => ReconstructionDrift.Fit([Numeric("x", 1, 2, 3, 4)], chunkSize: 2, varianceExplained: 1))
            .Message.ShouldBe("the variance to explain must be between 0 and 1, exclusive (got 1).");
        Should.Throw<ArgumentException>(() => ReconstructionDrift.Fit([Numeric("x", double.NaN, double.NaN, double.NaN, double.NaN)], chunkSize: 2))
            .Message.ShouldBe("reference column 'x' has no values; every value is missing.");

        var model = ReconstructionDrift.Fit([Numeric("x", 1, 2, 3, 4), Numeric("y", 2, 4, 6, 9)], chunkSize: 2);
        Should.Throw<ArgumentException>(() => model.Evaluate([Numeric("x", 1), Numeric("z", 1)]))
            .Message.ShouldBe("the columns must be those of the reference: missing y; not in the reference z.");
        Should.Throw<ArgumentException>(() => model.Evaluate([Numeric("x", 1), ReconstructionColumn.Categorical("y", ["a"])]))
            .Message.ShouldBe("column 'y' is categorical here but numeric in the reference.");
    }

    private static ReconstructionColumn Numeric(string name, params double[] values) => ReconstructionColumn.Numeric(name, values);

    private static ReconstructionColumn[] Butterfly(Random random, int rows, bool rotated)
    {
        var x1 = new double[rows];
        var x2 = new double[rows];
        var x3 = new double[rows];
        for (var i = 0; i < rows; i++)
        {
            var s = Normal.Sample(random, 0, 1);
            var a = s + Normal.Sample(random, 0, 1) / 8;
            var b = s + Normal.Sample(random, 0, 1) / 8;
            (x1[i], x2[i]) = rotated ? (-b, a) : (a, b);
            x3[i] = Normal.Sample(random, 0, 1) / 8;
        }

        return [Numeric("x1", x1), Numeric("x2", x2), Numeric("x3", x3)];
    }

    private static ReconstructionColumn[] Mixed(Random random, int rows, Func<string?> category)
    {
        var x = new double[rows];
        var y = new double[rows];
        var c = new string?[rows];
        for (var i = 0; i < rows; i++)
        {
            x[i] = Normal.Sample(random, 0, 1);
            y[i] = x[i] + Normal.Sample(random, 0, 0.3);
            c[i] = category();
        }

        return [Numeric("x", x), Numeric("y", y), ReconstructionColumn.Categorical("c", c)];
    }

    private static double StandardDeviation(double[] values)
    {
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }
}
