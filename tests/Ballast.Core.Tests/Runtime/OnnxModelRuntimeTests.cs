using Ballast.Runtime;

namespace Ballast.Tests.Runtime;

/// <summary>ONNX Runtime on real scikit-learn exports from ../shared/fixtures (known answers from its README).</summary>
public sealed class OnnxModelRuntimeTests
{
    [Fact]
    public void The_signature_is_read_from_the_model_with_zipmap_outputs_as_fp32_matrices()
    {
        using var iris = OnnxModelRuntime.Load(TestServices.Fixture("logreg_iris.onnx"));

        iris.Flavor.ShouldBe("onnx");
        iris.Signature.Inputs.ShouldBe([new TensorSpec("float_input", "FP32", [-1, 4])], new SpecComparer());
        iris.Signature.Outputs.Select(output => (output.Name, output.ToString())).ShouldBe([("output_label", "INT64 [-1]"), ("output_probability", "FP32 [-1,-1]")]);
    }

    [Fact]
    public void Iris_rows_get_their_labels_and_class_probabilities()
    {
        using var iris = OnnxModelRuntime.Load(TestServices.Fixture("logreg_iris.onnx"));

        var outputs = iris.Infer([new Tensor("float_input", "FP32", [2, 4], new[] { 5.1f, 3.5f, 1.4f, 0.2f, 6.7f, 3.0f, 5.2f, 2.3f })]);

        var label = outputs.Single(output => output.Name == "output_label");
        label.Datatype.ShouldBe("INT64");
        label.Shape.ShouldBe([2L]);
        label.Data.ShouldBe(new long[] { 0, 2 });
        var probabilities = outputs.Single(output => output.Name == "output_probability");
        probabilities.Shape.ShouldBe([2L, 3L]);
        probabilities.Labels.ShouldBe(["0", "1", "2"]);
        var p = (float[])probabilities.Data;
        p[0].ShouldBe(0.97720f, 1e-4f);
        p[5].ShouldBe(0.88232f, 1e-4f);
        for (var row = 0; row < 2; row++)
        {
            p.Skip(row * 3).Take(3).Sum().ShouldBe(1f, 1e-5f);
        }

        iris.Infer([new Tensor("float_input", "FP32", [1, 4], new[] { 5.1f, 3.5f, 1.4f, 0.2f })], ["output_label"]).Select(output => output.Name).ShouldBe(["output_label"]);
    }

    [Fact]
    public void The_titanic_pipeline_takes_five_named_inputs_with_strings()
    {
        using var titanic = OnnxModelRuntime.Load(TestServices.Fixture("titanic_pipeline.onnx"));
        titanic.Signature.Inputs.Select(input => $"{input.Name} {input}").ShouldBe(["pclass INT64 [-1,1]", "sex BYTES [-1,1]", "age FP32 [-1,1]", "fare FP32 [-1,1]", "embarked BYTES [-1,1]"]);

        var outputs = titanic.Infer(
        [
            new Tensor("pclass", "INT64", [2, 1], new long[] { 1, 3 }),
            new Tensor("sex", "BYTES", [2, 1], new[] { "female", "male" }),
            new Tensor("age", "FP32", [2, 1], new[] { 29f, 40f }),
            new Tensor("fare", "FP32", [2, 1], new[] { 211.3f, 7.9f }),
            new Tensor("embarked", "BYTES", [2, 1], new[] { "S", "Q" }),
        ]);

        outputs[0].Data.ShouldBe(new long[] { 1, 0 });
        var probabilities = (float[])outputs[1].Data;
        probabilities.Zip(new[] { 0.11917f, 0.88083f, 0.91891f, 0.08109f }).ShouldAllBe(pair => Math.Abs(pair.First - pair.Second) < 1e-4f);
    }

    [Fact]
    public void Wrong_inputs_are_refused_with_what_was_expected()
    {
        using var iris = OnnxModelRuntime.Load(TestServices.Fixture("logreg_iris.onnx"));

        Should.Throw<ModelInputException>(() => iris.Infer([new Tensor("float_input", "INT64", [2, 3], new long[6])]))
            .Message.ShouldBe("input 'float_input': expected FP32 [-1,4], got INT64 [2,3]");
        Should.Throw<ModelInputException>(() => iris.Infer([new Tensor("float_input", "FP32", [2, 4], new float[7])]))
            .Message.ShouldBe("input 'float_input': shape [2,4] holds 8 values, got 7");
        Should.Throw<ModelInputException>(() => iris.Infer([new Tensor("x", "FP32", [1, 4], new float[4])]))
            .Message.ShouldBe("unknown input 'x'; the model takes 'float_input' (FP32 [-1,4])");
        Should.Throw<ModelInputException>(() => iris.Infer([]))
            .Message.ShouldBe("missing input 'float_input' (FP32 [-1,4])");
        Should.Throw<ModelInputException>(() => iris.Infer([new Tensor("float_input", "FP32", [1, 4], new float[4])], ["nope"]))
            .Message.ShouldStartWith("unknown output 'nope'; the model gives 'output_label' (INT64 [-1])");
    }

    [Theory]
    [InlineData("FP32")]
    [InlineData("FP64")]
    [InlineData("FP16")]
    [InlineData("INT8")]
    [InlineData("INT16")]
    [InlineData("INT32")]
    [InlineData("INT64")]
    [InlineData("UINT8")]
    [InlineData("UINT16")]
    [InlineData("UINT32")]
    [InlineData("UINT64")]
    [InlineData("BOOL")]
    [InlineData("BYTES")]
    public void Every_V2_datatype_goes_through_onnx_runtime_unchanged(string datatype)
    {
        var folder = Directory.CreateTempSubdirectory("ballast-onnx-").FullName;
        try
        {
            using var identity = OnnxModelRuntime.Load(OnnxTestModels.WriteIdentity(folder, datatype));
            identity.Signature.Inputs.Single().ToString().ShouldBe($"{datatype} [-1,2]");

            // Values at the ends of each range: an unsigned value above the signed maximum was once sent as signed.
            Array data = datatype switch
            {
                "FP32" => new[] { float.MaxValue, -1.5f, float.Epsilon, 0f },
                "FP64" => new[] { double.MaxValue, -1.5, double.Epsilon, 0 },
                "FP16" => new[] { Half.MaxValue, (Half)(-1.5), Half.Epsilon, (Half)0 },
                "INT8" => new sbyte[] { sbyte.MaxValue, sbyte.MinValue, -1, 0 },
                "INT16" => new short[] { short.MaxValue, short.MinValue, -1, 0 },
                "INT32" => new[] { int.MaxValue, int.MinValue, -1, 0 },
                "INT64" => new[] { long.MaxValue, long.MinValue, -1, 0 },
                "UINT8" => new byte[] { byte.MaxValue, 200, 1, 0 },
                "UINT16" => new ushort[] { ushort.MaxValue, 65000, 1, 0 },
                "UINT32" => new uint[] { uint.MaxValue, 4_000_000_000, 1, 0 },
                "UINT64" => new ulong[] { ulong.MaxValue, 10_000_000_000_000_000_000, 1, 0 },
                "BOOL" => new[] { true, false, false, true },
                _ => new[] { "a", "", "ünïcødé", "0" },
            };
            var output = identity.Infer([new Tensor("x_" + datatype.ToLowerInvariant(), datatype, [2, 2], data)]).Single();

            output.Datatype.ShouldBe(datatype);
            output.Shape.ShouldBe([2L, 2L]);
            output.Data.GetType().ShouldBe(data.GetType());
            output.Data.ShouldBe(data);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Inputs_with_different_numbers_of_rows_are_the_clients_mistake()
    {
        using var titanic = OnnxModelRuntime.Load(TestServices.Fixture("titanic_pipeline.onnx"));

        Should.Throw<ModelInputException>(() => titanic.Infer(
        [
            new Tensor("pclass", "INT64", [2, 1], new long[] { 1, 3 }),
            new Tensor("sex", "BYTES", [1, 1], new[] { "female" }),
            new Tensor("age", "FP32", [2, 1], new[] { 29f, 40f }),
            new Tensor("fare", "FP32", [2, 1], new[] { 211.3f, 7.9f }),
            new Tensor("embarked", "BYTES", [2, 1], new[] { "S", "Q" }),
        ])).Message.ShouldBe("input 'sex' has 1 row, input 'pclass' 2: every input needs the same number of rows");
    }

    [Fact]
    public void A_file_that_is_not_a_model_is_refused_with_the_loaders_reason()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not onnx");
            Should.Throw<ModelLoadException>(() => OnnxModelRuntime.Load(path)).Message.ShouldStartWith("not a model ONNX Runtime can load: ");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class SpecComparer : IEqualityComparer<TensorSpec>
    {
        public bool Equals(TensorSpec? x, TensorSpec? y) => x is not null && y is not null && x.Name == y.Name && x.Datatype == y.Datatype && x.Shape.SequenceEqual(y.Shape);

        public int GetHashCode(TensorSpec obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
