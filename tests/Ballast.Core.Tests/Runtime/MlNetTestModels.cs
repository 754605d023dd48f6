using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ballast.Tests.Runtime;

/// <summary>
/// Small ML.NET models trained here, with MLContext(seed: 1), on synthetic rows from a seeded <see cref="Random"/>
/// (nothing downloaded), and saved as zips with their input schema the way users save them. The row classes are
/// what a user's program would declare; the tests use them only to ask ML.NET itself for the expected answers.
/// </summary>
public static class MlNetTestModels
{
    public static readonly string[] Districts = ["north", "south", "east"];
    public static readonly string[] Species = ["setosa", "versicolor", "virginica"];

    /// <summary>House prices: three numbers and a one-hot encoded text district, min-max normalized, SDCA regression.</summary>
    public static string SaveRegression(string folder)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Houses(400, seed: 7));
        var pipeline = ml.Transforms.Categorical.OneHotEncoding("DistrictEncoded", nameof(House.District))
            .Append(ml.Transforms.Concatenate("Features", nameof(House.Rooms), nameof(House.Age), nameof(House.Distance), "DistrictEncoded"))
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.Regression.Trainers.Sdca(maximumNumberOfIterations: 50));
        return Save(ml, pipeline.Fit(data), data.Schema, folder, "houses.zip");
    }

    /// <summary>The house prices again with FastTree (boosted trees, from the Microsoft.ML.FastTree component).</summary>
    public static string SaveFastTree(string folder)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Houses(400, seed: 7));
        var pipeline = ml.Transforms.Categorical.OneHotEncoding("DistrictEncoded", nameof(House.District))
            .Append(ml.Transforms.Concatenate("Features", nameof(House.Rooms), nameof(House.Age), nameof(House.Distance), "DistrictEncoded"))
            .Append(ml.Regression.Trainers.FastTree(numberOfLeaves: 8, numberOfTrees: 20, minimumExampleCountPerLeaf: 5));
        return Save(ml, pipeline.Fit(data), data.Schema, folder, "houses-fasttree.zip");
    }

    /// <summary>Iris-like flowers: a vector of four measurements, the species mapped to a key and back, maximum entropy.</summary>
    public static string SaveMulticlass(string folder)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Flowers(300, seed: 11));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(featureColumnName: nameof(Flower.Measurements), maximumNumberOfIterations: 50))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        return Save(ml, pipeline.Fit(data), data.Schema, folder, "flowers.zip");
    }

    /// <summary>
    /// The flowers without the last step: <c>PredictedLabel</c> stays the trainer's key, whose key values are the species
    /// (what a multiclass model saved without <c>MapKeyToValue</c> gives).
    /// </summary>
    public static string SaveMulticlassKeyed(string folder)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Flowers(300, seed: 11));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(featureColumnName: nameof(Flower.Measurements), maximumNumberOfIterations: 50));
        return Save(ml, pipeline.Fit(data), data.Schema, folder, "flowers-keyed.zip");
    }

    /// <summary>
    /// Visits classified into their segment from the spend: the label a <see cref="KeyTypeAttribute"/> of 3 (0..2, no key
    /// values), so <c>PredictedLabel</c> is a key with no values. Spends of segment s lie in [100 s, 100 s + 50).
    /// </summary>
    public static string SaveSegments(string folder)
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(19);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 300).Select(i =>
            new SegmentedVisit { Label = (uint)(i % 3), Spend = [(100 * (i % 3)) + (float)(random.NextDouble() * 50)] }).ToList());
        var pipeline = ml.Transforms.NormalizeMinMax(nameof(SegmentedVisit.Spend))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(featureColumnName: nameof(SegmentedVisit.Spend), maximumNumberOfIterations: 100));
        return Save(ml, pipeline.Fit(data), data.Schema, folder, "segments.zip");
    }

    /// <summary>Loan defaults: two numbers, logistic regression (score, probability and a boolean label).</summary>
    public static string SaveBinary(string folder)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Loans(300, seed: 13));
        var pipeline = ml.Transforms.Concatenate("Features", nameof(Loan.Income), nameof(Loan.Debt))
            .Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression());
        return Save(ml, pipeline.Fit(data), data.Schema, folder, "loans.zip");
    }

    /// <summary>Visits: a segment as an ML.NET key (<see cref="KeyTypeAttribute"/> of 3: the field holds 0..2) one-hot encoded beside a spend, SDCA regression.</summary>
    public static string SaveKeyed(string folder)
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(17);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 300).Select(i =>
        {
            var visit = new Visit { Segment = (uint)(i % 3), Spend = (float)(random.NextDouble() * 100) };
            visit.Label = visit.Spend + (10 * (visit.Segment + 1)) + (float)random.NextDouble();
            return visit;
        }).ToList());
        var pipeline = ml.Transforms.Conversion.MapKeyToVector("SegmentVector", nameof(Visit.Segment))
            .Append(ml.Transforms.Concatenate("Features", "SegmentVector", nameof(Visit.Spend)))
            .Append(ml.Regression.Trainers.Sdca(maximumNumberOfIterations: 50));
        return Save(ml, pipeline.Fit(data), data.Schema, folder, "visits.zip");
    }

    public static List<House> Houses(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var house = new House
            {
                Rooms = (float)(1 + random.NextDouble() * 5),
                Age = (float)(random.NextDouble() * 50),
                Distance = (float)(random.NextDouble() * 20),
                District = Districts[random.Next(Districts.Length)],
            };
            house.Label = (50 * house.Rooms) - (0.8f * house.Age) - (3 * house.Distance) + (house.District == "north" ? 40 : house.District == "east" ? 20 : 0) + (float)(random.NextDouble() * 10);
            return house;
        }).ToList();
    }

    public static List<Flower> Flowers(int count, int seed)
    {
        var random = new Random(seed);
        float[][] centers = [[5.0f, 3.4f, 1.5f, 0.2f], [5.9f, 2.8f, 4.3f, 1.3f], [6.6f, 3.0f, 5.6f, 2.0f]];
        return Enumerable.Range(0, count).Select(i =>
        {
            var species = i % 3;
            return new Flower { Measurements = centers[species].Select(center => center + (float)((random.NextDouble() - 0.5) * 1.2)).ToArray(), Label = Species[species] };
        }).ToList();
    }

    public static List<Loan> Loans(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var loan = new Loan { Income = (float)(random.NextDouble() * 100), Debt = (float)(random.NextDouble() * 50) };
            loan.Label = loan.Income - (2 * loan.Debt) + ((random.NextDouble() - 0.5) * 20) > 0;
            return loan;
        }).ToList();
    }

    private static string Save(MLContext ml, ITransformer model, DataViewSchema schema, string folder, string name)
    {
        var path = Path.Combine(folder, name);
        ml.Model.Save(model, schema, path);
        return path;
    }
}

public sealed class House
{
    public float Rooms { get; set; }

    public float Age { get; set; }

    public float Distance { get; set; }

    public string District { get; set; } = "";

    public float Label { get; set; }
}

public sealed class Visit
{
    [KeyType(3)]
    public uint Segment { get; set; }

    public float Spend { get; set; }

    public float Label { get; set; }
}

public sealed class SegmentedVisit
{
    [VectorType(1)]
    public float[] Spend { get; set; } = [];

    [KeyType(3)]
    public uint Label { get; set; }
}

public sealed class HousePrediction
{
    public float Score { get; set; }
}

public sealed class Flower
{
    [VectorType(4)]
    public float[] Measurements { get; set; } = [];

    public string Label { get; set; } = "";
}

public sealed class FlowerPrediction
{
    public string PredictedLabel { get; set; } = "";

    public float[] Score { get; set; } = [];
}

public sealed class Loan
{
    public float Income { get; set; }

    public float Debt { get; set; }

    public bool Label { get; set; }
}

public sealed class LoanPrediction
{
    public bool PredictedLabel { get; set; }

    public float Score { get; set; }

    public float Probability { get; set; }
}
