using Ballast.Runtime;
using Microsoft.ML;

namespace Ballast.Tests.Runtime;

/// <summary>The models of <see cref="MlNetTestModels"/>, trained and saved once for the class.</summary>
public sealed class MlNetModelFiles : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-mlnet-").FullName;

    public MlNetModelFiles()
    {
        Regression = MlNetTestModels.SaveRegression(_folder);
        Multiclass = MlNetTestModels.SaveMulticlass(_folder);
        Binary = MlNetTestModels.SaveBinary(_folder);
        FastTree = MlNetTestModels.SaveFastTree(_folder);
    }

    public string FastTree { get; }

    public string Regression { get; }

    public string Multiclass { get; }

    public string Binary { get; }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}

/// <summary>
/// ML.NET zips served without compile-time classes. Expected answers come from ML.NET itself: a PredictionEngine over
/// the same saved file and the same rows, to 1e-5.
/// </summary>
public sealed class MlNetModelRuntimeTests(MlNetModelFiles files) : IClassFixture<MlNetModelFiles>
{
    // A key output is given the way a key input is taken, and as an ONNX classifier's label output: the class itself when
    // the key has values (what MapKeyToValue gives, checked against the flowers model that ends with it), else its index
    // 0..K-1. Raw keys (1..K, 0 missing) with the classes beside them made every client subtract one.
    [Fact]
    public void A_key_output_with_key_values_comes_back_as_its_values_the_classes()
    {
        var folder = Directory.CreateTempSubdirectory("ballast-mlnet-keyed-output-").FullName;
        try
        {
            using var keyed = MlNetModelRuntime.Load(MlNetTestModels.SaveMulticlassKeyed(folder));
            keyed.Signature.Outputs.Select(output => $"{output.Name} {output}").ShouldBe(["PredictedLabel BYTES [-1]", "Score FP32 [-1,3]"], ignoreOrder: true);
            keyed.Signature.Outputs.Single(output => output.Name == "PredictedLabel").Labels.ShouldBeNull("the values are the classes");

            var rows = MlNetTestModels.Flowers(6, seed: 42);
            var outputs = keyed.Infer([new Tensor("Measurements", "FP32", [6, 4], rows.SelectMany(row => row.Measurements).ToArray())]);

            var ml = new MLContext(seed: 1);
            var engine = ml.Model.CreatePredictionEngine<Flower, FlowerPrediction>(ml.Model.Load(files.Multiclass, out _));
            var label = outputs.Single(output => output.Name == "PredictedLabel");
            label.Datatype.ShouldBe("BYTES");
            label.Labels.ShouldBeNull();
            label.Data.ShouldBe(rows.Select(row => engine.Predict(row).PredictedLabel).ToArray());
            label.Data.ShouldBe(new[] { "setosa", "versicolor", "virginica", "setosa", "versicolor", "virginica" }, "the synthetic classes are well apart");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_key_output_without_key_values_comes_back_as_its_index_from_zero()
    {
        var folder = Directory.CreateTempSubdirectory("ballast-mlnet-segments-").FullName;
        try
        {
            using var segments = MlNetModelRuntime.Load(MlNetTestModels.SaveSegments(folder));
            segments.Signature.Outputs.Single(output => output.Name == "PredictedLabel").ToString().ShouldBe("INT64 [-1]");

            var outputs = segments.Infer([new Tensor("Spend", "FP32", [3, 1], new[] { 25f, 125f, 225f })]);

            var label = outputs.Single(output => output.Name == "PredictedLabel");
            label.Datatype.ShouldBe("INT64");
            label.Data.ShouldBe(new[] { 0L, 1L, 2L }, "segment s spends 100 s to 100 s + 50: the index a [KeyType(3)] field holds");
            var scores = (float[])outputs.Single(output => output.Name == "Score").Data;
            ((long[])label.Data).Select((index, row) => scores[(row * 3) + (int)index]).ShouldBe(Enumerable.Range(0, 3).Select(row => scores.Skip(row * 3).Take(3).Max()), "the class of the highest score");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_key_input_takes_the_values_a_prediction_engine_is_given_and_refuses_one_past_the_last_key()
    {
        var folder = Directory.CreateTempSubdirectory("ballast-mlnet-keyed-").FullName;
        try
        {
            var path = MlNetTestModels.SaveKeyed(folder);
            using var visits = MlNetModelRuntime.Load(path);
            visits.Signature.Inputs.Select(input => $"{input.Name} {input}").ShouldBe(["Segment UINT32 [-1]", "Spend FP32 [-1]"]);

            // A [KeyType(3)] field holds 0..2 (the data view's raw keys 1..3): the request sends what the class holds.
            var outputs = visits.Infer([new Tensor("Segment", TensorDatatypes.Uint32, [3], new uint[] { 0, 1, 2 }), new Tensor("Spend", TensorDatatypes.Fp32, [3], new[] { 10f, 50f, 90f })]);

            var ml = new MLContext(seed: 1);
            var engine = ml.Model.CreatePredictionEngine<Visit, HousePrediction>(ml.Model.Load(path, out _));
            var expected = new[] { (0u, 10f), (1u, 50f), (2u, 90f) }.Select(row => engine.Predict(new Visit { Segment = row.Item1, Spend = row.Item2 }).Score).ToArray();
            ((float[])outputs.Single(output => output.Name == "Score").Data).ShouldBe(expected, 1e-5f);

            Should.Throw<ModelInputException>(() => visits.Infer([new Tensor("Segment", TensorDatatypes.Uint32, [1], new uint[] { 3 }), new Tensor("Spend", TensorDatatypes.Fp32, [1], new[] { 1f })]))
                .Message.ShouldBe("input 'Segment': value 0 (3) is not a key of 0..2");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_regression_signature_has_the_raw_columns_as_inputs_and_the_score_as_output()
    {
        using var houses = MlNetModelRuntime.Load(files.Regression);

        houses.Flavor.ShouldBe("mlnet");
        houses.Signature.Inputs.Select(input => $"{input.Name} {input}").ShouldBe(["Rooms FP32 [-1]", "Age FP32 [-1]", "Distance FP32 [-1]", "District BYTES [-1]"]);
        houses.Signature.Outputs.Select(output => $"{output.Name} {output}").ShouldBe(["Score FP32 [-1]"], "Features and DistrictEncoded feed the trainer; Label is not read to predict");
    }

    [Fact]
    public void A_batch_of_houses_gets_the_prices_mlnet_predicts_for_each()
    {
        using var houses = MlNetModelRuntime.Load(files.Regression);
        var rows = MlNetTestModels.Houses(6, seed: 99);
        rows[5].District = "nowhere";

        var outputs = houses.Infer(
        [
            new Tensor("Rooms", "FP32", [6], rows.Select(row => row.Rooms).ToArray()),
            new Tensor("Age", "FP32", [6], rows.Select(row => row.Age).ToArray()),
            new Tensor("Distance", "FP32", [6], rows.Select(row => row.Distance).ToArray()),
            new Tensor("District", "BYTES", [6], rows.Select(row => row.District).ToArray()),
        ]);

        var score = outputs.ShouldHaveSingleItem();
        score.Name.ShouldBe("Score");
        score.Datatype.ShouldBe("FP32");
        score.Shape.ShouldBe([6L]);
        var ml = new MLContext(seed: 1);
        var engine = ml.Model.CreatePredictionEngine<House, HousePrediction>(ml.Model.Load(files.Regression, out _));
        var expected = rows.Select(row => engine.Predict(row).Score).ToArray();
        ((float[])score.Data).Zip(expected).ShouldAllBe(pair => Math.Abs(pair.First - pair.Second) < 1e-5f);
        expected.Distinct().Count().ShouldBe(6, "the rows differ, so must their prices");
    }

    [Fact]
    public void A_fast_tree_model_is_served_with_the_prices_mlnet_predicts()
    {
        using var houses = MlNetModelRuntime.Load(files.FastTree);
        var rows = MlNetTestModels.Houses(5, seed: 42);
        var score = houses.Infer(
        [
            new Tensor("Rooms", "FP32", [5], rows.Select(row => row.Rooms).ToArray()),
            new Tensor("Age", "FP32", [5], rows.Select(row => row.Age).ToArray()),
            new Tensor("Distance", "FP32", [5], rows.Select(row => row.Distance).ToArray()),
            new Tensor("District", "BYTES", [5], rows.Select(row => row.District).ToArray()),
        ]).ShouldHaveSingleItem();

        var ml = new MLContext(seed: 1);
        var engine = ml.Model.CreatePredictionEngine<House, HousePrediction>(ml.Model.Load(files.FastTree, out _));
        ((float[])score.Data).Zip(rows.Select(row => engine.Predict(row).Score)).ShouldAllBe(pair => Math.Abs(pair.First - pair.Second) < 1e-4f);
    }

    [Fact]
    public void The_multiclass_score_is_a_matrix_labelled_with_the_classes_and_the_label_comes_back_as_text()
    {
        using var flowers = MlNetModelRuntime.Load(files.Multiclass);

        flowers.Signature.Inputs.Select(input => $"{input.Name} {input}").ShouldBe(["Measurements FP32 [-1,4]"]);
        flowers.Signature.Outputs.Select(output => $"{output.Name} {output}").ShouldBe(["PredictedLabel BYTES [-1]", "Score FP32 [-1,3]"]);
        flowers.Signature.Outputs.Single(output => output.Name == "Score").Labels.ShouldBe(MlNetTestModels.Species);

        var rows = MlNetTestModels.Flowers(5, seed: 42);
        var outputs = flowers.Infer([new Tensor("Measurements", "FP32", [5, 4], rows.SelectMany(row => row.Measurements).ToArray())]);

        var ml = new MLContext(seed: 1);
        var engine = ml.Model.CreatePredictionEngine<Flower, FlowerPrediction>(ml.Model.Load(files.Multiclass, out _));
        var expected = rows.Select(row => engine.Predict(row)).ToList();
        var label = outputs.Single(output => output.Name == "PredictedLabel");
        label.Datatype.ShouldBe("BYTES");
        label.Data.ShouldBe(expected.Select(prediction => prediction.PredictedLabel).ToArray());
        label.Data.ShouldBe(new[] { "setosa", "versicolor", "virginica", "setosa", "versicolor" }, "the synthetic classes are well apart");
        var score = outputs.Single(output => output.Name == "Score");
        score.Shape.ShouldBe([5L, 3L]);
        score.Labels.ShouldBe(MlNetTestModels.Species);
        ((float[])score.Data).Zip(expected.SelectMany(prediction => prediction.Score)).ShouldAllBe(pair => Math.Abs(pair.First - pair.Second) < 1e-5f);

        flowers.Infer([new Tensor("Measurements", "FP32", [1, 4], rows[0].Measurements)], ["Score"]).Select(output => output.Name).ShouldBe(["Score"]);
    }

    [Fact]
    public void A_binary_classifier_gives_score_probability_and_a_boolean_label()
    {
        using var loans = MlNetModelRuntime.Load(files.Binary);
        loans.Signature.Inputs.Select(input => $"{input.Name} {input}").ShouldBe(["Income FP32 [-1]", "Debt FP32 [-1]"]);
        loans.Signature.Outputs.Select(output => $"{output.Name} {output}").ShouldBe(["Score FP32 [-1]", "Probability FP32 [-1]", "PredictedLabel BOOL [-1]"], ignoreOrder: true);

        var rows = MlNetTestModels.Loans(4, seed: 5);
        var outputs = loans.Infer([new Tensor("Income", "FP32", [4], rows.Select(row => row.Income).ToArray()), new Tensor("Debt", "FP32", [4], rows.Select(row => row.Debt).ToArray())])
            .ToDictionary(output => output.Name);

        var ml = new MLContext(seed: 1);
        var engine = ml.Model.CreatePredictionEngine<Loan, LoanPrediction>(ml.Model.Load(files.Binary, out _));
        var expected = rows.Select(row => engine.Predict(row)).ToList();
        outputs["PredictedLabel"].Data.ShouldBe(expected.Select(prediction => prediction.PredictedLabel).ToArray());
        ((float[])outputs["Probability"].Data).Zip(expected.Select(prediction => prediction.Probability)).ShouldAllBe(pair => Math.Abs(pair.First - pair.Second) < 1e-5f);
        ((float[])outputs["Score"].Data).Zip(expected.Select(prediction => prediction.Score)).ShouldAllBe(pair => Math.Abs(pair.First - pair.Second) < 1e-5f);
    }

    [Fact]
    public void Wrong_inputs_are_refused_with_what_was_expected()
    {
        using var flowers = MlNetModelRuntime.Load(files.Multiclass);
        using var houses = MlNetModelRuntime.Load(files.Regression);

        Should.Throw<ModelInputException>(() => flowers.Infer([new Tensor("Measurements", "INT64", [2, 3], new long[6])]))
            .Message.ShouldBe("input 'Measurements': expected FP32 [-1,4], got INT64 [2,3]");
        Should.Throw<ModelInputException>(() => flowers.Infer([new Tensor("Measurements", "FP32", [2, 3], new float[6])]))
            .Message.ShouldBe("input 'Measurements': expected FP32 [-1,4], got FP32 [2,3]");
        Should.Throw<ModelInputException>(() => flowers.Infer([new Tensor("Measurements", "FP32", [2, 4], new float[7])]))
            .Message.ShouldBe("input 'Measurements': shape [2,4] holds 8 values, got 7");
        Should.Throw<ModelInputException>(() => flowers.Infer([new Tensor("Label", "BYTES", [1], new[] { "setosa" })]))
            .Message.ShouldBe("unknown input 'Label'; the model takes 'Measurements' (FP32 [-1,4])");
        Should.Throw<ModelInputException>(() => flowers.Infer([new Tensor("Measurements", "FP32", [1, 4], new float[4])], ["Features"]))
            .Message.ShouldBe("unknown output 'Features'; the model gives 'PredictedLabel' (BYTES [-1]), 'Score' (FP32 [-1,3])");

        Tensor[] house = [new("Rooms", "FP32", [1], new[] { 3f }), new("Age", "FP32", [1], new[] { 10f }), new("Distance", "FP32", [1], new[] { 2f }), new("District", "BYTES", [1], new[] { "north" })];
        Should.Throw<ModelInputException>(() => houses.Infer(house[..3]))
            .Message.ShouldBe("missing input 'District' (BYTES [-1])");
        Should.Throw<ModelInputException>(() => houses.Infer([.. house[..3], new Tensor("District", "BYTES", [1, 1], new[] { "north" })]))
            .Message.ShouldBe("input 'District': expected BYTES [-1], got BYTES [1,1]");
        Should.Throw<ModelInputException>(() => houses.Infer([.. house[..3], new Tensor("District", "BYTES", [2], new[] { "north", "east" })]))
            .Message.ShouldBe("input 'District' has 2 rows, input 'Rooms' 1: every input needs the same number of rows");
    }

    [Fact]
    public void An_empty_batch_gives_empty_outputs()
    {
        using var flowers = MlNetModelRuntime.Load(files.Multiclass);

        var outputs = flowers.Infer([new Tensor("Measurements", "FP32", [0, 4], Array.Empty<float>())]);

        outputs.Select(output => string.Join(",", output.Shape)).ShouldBe(["0", "0,3"]);
    }

    [Fact]
    public async Task Concurrent_requests_share_the_model_and_each_gets_its_own_answers()
    {
        using var flowers = MlNetModelRuntime.Load(files.Multiclass);
        using var houses = MlNetModelRuntime.Load(files.Regression);
        var requests = Enumerable.Range(0, 8).Select(seed => seed % 2 == 0 ? Flowers(MlNetTestModels.Flowers(1 + seed, seed)) : Houses(MlNetTestModels.Houses(1 + seed, seed))).ToList();
        var expected = requests.Select(request => request()).ToList();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(task => Task.Run(() =>
        {
            for (var i = 0; i < 40; i++)
            {
                var request = (task + i) % requests.Count;
                if (!requests[request]().SequenceEqual(expected[request]))
                {
                    return false;
                }
            }

            return true;
        }, TestContext.Current.CancellationToken)));

        answers.ShouldAllBe(same => same);

        Func<float[]> Flowers(List<Flower> rows) => () =>
            (float[])flowers.Infer([new Tensor("Measurements", "FP32", [rows.Count, 4], rows.SelectMany(row => row.Measurements).ToArray())]).Single(output => output.Name == "Score").Data;

        Func<float[]> Houses(List<House> rows) => () => (float[])houses.Infer(
        [
            new Tensor("Rooms", "FP32", [rows.Count], rows.Select(row => row.Rooms).ToArray()),
            new Tensor("Age", "FP32", [rows.Count], rows.Select(row => row.Age).ToArray()),
            new Tensor("Distance", "FP32", [rows.Count], rows.Select(row => row.Distance).ToArray()),
            new Tensor("District", "BYTES", [rows.Count], rows.Select(row => row.District).ToArray()),
        ])[0].Data;
    }

    [Fact]
    public void The_mlnet_flavor_loads_through_model_flavors_and_a_file_that_is_not_a_model_is_refused_with_the_loaders_reason()
    {
        using var runtime = ModelFlavors.Load(ModelFlavors.FromFileName("model.zip")!, files.Regression);
        runtime.ShouldBeOfType<MlNetModelRuntime>();

        var path = Path.Combine(Path.GetTempPath(), "ballast-not-a-model-" + Guid.NewGuid().ToString("N") + ".zip");
        try
        {
            File.WriteAllText(path, "not a zip");
            Should.Throw<ModelLoadException>(() => MlNetModelRuntime.Load(path)).Message.ShouldStartWith("not a model ML.NET can load: ");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Batched_requests_get_the_prices_the_model_gives_each_alone()
    {
        using var houses = MlNetModelRuntime.Load(files.Regression);
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var batches = new List<int>();
        var batcher = new Ballast.Serving.InferenceBatcher(houses, new Ballast.Serving.BatchingSpec(32, 1), time, batches.Add);
        IReadOnlyList<Tensor> Request(House row) =>
        [
            new Tensor("Rooms", "FP32", [1], new[] { row.Rooms }), new Tensor("Age", "FP32", [1], new[] { row.Age }),
            new Tensor("Distance", "FP32", [1], new[] { row.Distance }), new Tensor("District", "BYTES", [1], new[] { row.District }),
        ];

        var rows = MlNetTestModels.Houses(5, seed: 7);
        var requests = rows.Select(row => batcher.InferAsync(Request(row), null).AsTask()).ToList();
        time.Advance(TimeSpan.FromMilliseconds(1));

        batches.ShouldBe([5]);
        for (var i = 0; i < rows.Count; i++)
        {
            ((float[])(await requests[i])[0].Data).ShouldBe((float[])houses.Infer(Request(rows[i]))[0].Data, 1e-5f);
        }
    }
}
