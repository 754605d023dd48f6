using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Tracking;
using Microsoft.Extensions.Time.Testing;

namespace Ballast.Tests.Serving;

/// <summary>Micro-batching with the real ONNX fixtures: a batched request gets exactly what it would alone.</summary>
public sealed class InferenceBatcherTests
{
    private static Tensor Iris(int row) => new("float_input", TensorDatatypes.Fp32, [1, 4], new[] { 4.3f + (row % 30) * 0.12f, 2.0f + (row % 7) * 0.3f, 1.0f + (row % 50) * 0.12f, 0.1f + (row % 25) * 0.1f });

    private static IReadOnlyList<Tensor> Titanic(int row) =>
    [
        new Tensor("pclass", "INT64", [1, 1], new long[] { 1 + row % 3 }),
        new Tensor("sex", "BYTES", [1, 1], new[] { row % 2 == 0 ? "female" : "male" }),
        new Tensor("age", "FP32", [1, 1], new[] { 5f + row % 60 }),
        new Tensor("fare", "FP32", [1, 1], new[] { 7.9f + row * 3.1f }),
        new Tensor("embarked", "BYTES", [1, 1], new[] { (row % 3) switch { 0 => "S", 1 => "C", _ => "Q" } }),
    ];

    private static void ShouldMatch(IReadOnlyList<Tensor> batched, IReadOnlyList<Tensor> alone)
    {
        batched.Select(tensor => $"{tensor.Name} {tensor.Describe()}").ShouldBe(alone.Select(tensor => $"{tensor.Name} {tensor.Describe()}"));
        for (var i = 0; i < alone.Count; i++)
        {
            // ONNX Runtime's vectorized kernels may round the last bit of a score differently in a batch of rows.
            if (alone[i].Data is float[] scores)
            {
                ((float[])batched[i].Data).ShouldBe(scores, 1e-6f);
            }
            else
            {
                batched[i].Data.ShouldBe(alone[i].Data);
            }

            batched[i].Labels.ShouldBe(alone[i].Labels);
        }
    }

    [Fact]
    public async Task Requests_waiting_for_the_delay_run_as_one_batch_and_each_gets_its_own_rows()
    {
        using var iris = OnnxModelRuntime.Load(TestServices.Fixture("logreg_iris.onnx"));
        var time = new FakeTimeProvider();
        var batches = new List<int>();
        var batcher = new InferenceBatcher(iris, new BatchingSpec(32, 5), time, batches.Add);

        var requests = Enumerable.Range(0, 7).Select(row => batcher.InferAsync([Iris(row)], null).AsTask()).ToList();
        requests.ShouldAllBe(request => !request.IsCompleted, "they wait for the batch's delay");
        time.Advance(TimeSpan.FromMilliseconds(5));

        batches.ShouldBe([7]);
        for (var row = 0; row < requests.Count; row++)
        {
            ShouldMatch(await requests[row], iris.Infer([Iris(row)]));
        }
    }

    [Fact]
    public async Task A_batch_runs_as_soon_as_it_is_full()
    {
        using var iris = OnnxModelRuntime.Load(TestServices.Fixture("logreg_iris.onnx"));
        var batches = new List<int>();
        var batcher = new InferenceBatcher(iris, new BatchingSpec(4, 1000), new FakeTimeProvider(), batches.Add);
        var twoRows = new Tensor("float_input", TensorDatatypes.Fp32, [2, 4], new[] { 5.1f, 3.5f, 1.4f, 0.2f, 6.7f, 3.0f, 5.2f, 2.3f });

        var first = batcher.InferAsync([twoRows], null).AsTask();
        var second = batcher.InferAsync([Iris(1)], null).AsTask();
        first.IsCompleted.ShouldBeFalse();
        var third = batcher.InferAsync([Iris(2)], null).AsTask();

        batches.ShouldBe([4], "the fourth row filled the batch: it ran without waiting for the delay");
        ShouldMatch(await first, iris.Infer([twoRows]));
        (await first)[0].Data.ShouldBe(new long[] { 0, 2 });
        ShouldMatch(await second, iris.Infer([Iris(1)]));
        ShouldMatch(await third, iris.Infer([Iris(2)]));

        // A request of a whole batch's rows runs alone, at once.
        var fourRows = new Tensor("float_input", TensorDatatypes.Fp32, [4, 4], ((float[])twoRows.Data).Concat((float[])twoRows.Data).ToArray());
        var big = batcher.InferAsync([fourRows], null).AsTask();
        big.IsCompleted.ShouldBeTrue();
        batches.ShouldBe([4, 4]);
        ShouldMatch(await big, iris.Infer([fourRows]));
    }

    [Fact]
    public async Task Each_request_keeps_its_choice_and_order_of_outputs()
    {
        using var iris = OnnxModelRuntime.Load(TestServices.Fixture("logreg_iris.onnx"));
        var time = new FakeTimeProvider();
        var batcher = new InferenceBatcher(iris, new BatchingSpec(32, 1), time);

        var all = batcher.InferAsync([Iris(0)], null).AsTask();
        var probabilities = batcher.InferAsync([Iris(1)], ["output_probability"]).AsTask();
        var reversed = batcher.InferAsync([Iris(2)], ["output_probability", "output_label"]).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(1));

        ShouldMatch(await all, iris.Infer([Iris(0)]));
        ShouldMatch(await probabilities, iris.Infer([Iris(1)], ["output_probability"]));
        ShouldMatch(await reversed, iris.Infer([Iris(2)], ["output_probability", "output_label"]));
    }

    [Fact]
    public async Task The_titanic_pipelines_five_inputs_and_strings_are_stacked_by_name()
    {
        using var titanic = OnnxModelRuntime.Load(TestServices.Fixture("titanic_pipeline.onnx"));
        var time = new FakeTimeProvider();
        var batches = new List<int>();
        var batcher = new InferenceBatcher(titanic, new BatchingSpec(64, 2), time, batches.Add);

        // One request sends its inputs in another order: they are matched by name.
        var requests = Enumerable.Range(0, 12).Select(row => batcher.InferAsync(row == 5 ? Titanic(row).Reverse().ToList() : Titanic(row), null).AsTask()).ToList();
        time.Advance(TimeSpan.FromMilliseconds(2));

        batches.ShouldBe([12]);
        for (var row = 0; row < requests.Count; row++)
        {
            ShouldMatch(await requests[row], titanic.Infer(Titanic(row)));
        }

        // The fixtures README's known answer: a first-class female of 29 who paid 211.3 survives with p = 0.88083.
        var known = batcher.InferAsync(
        [
            new Tensor("pclass", "INT64", [1, 1], new long[] { 1 }), new Tensor("sex", "BYTES", [1, 1], new[] { "female" }),
            new Tensor("age", "FP32", [1, 1], new[] { 29f }), new Tensor("fare", "FP32", [1, 1], new[] { 211.3f }), new Tensor("embarked", "BYTES", [1, 1], new[] { "S" }),
        ], null).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(2));
        ((float[])(await known)[1].Data)[1].ShouldBe(0.88083f, 1e-4f);
    }

    [Fact]
    public async Task A_bad_request_fails_alone_before_joining_a_batch()
    {
        using var iris = OnnxModelRuntime.Load(TestServices.Fixture("logreg_iris.onnx"));
        var time = new FakeTimeProvider();
        var batches = new List<int>();
        var batcher = new InferenceBatcher(iris, new BatchingSpec(32, 1), time, batches.Add);

        var good = batcher.InferAsync([Iris(0)], null).AsTask();
        Should.Throw<ModelInputException>(() => batcher.InferAsync([new Tensor("float_input", TensorDatatypes.Fp32, [1, 3], new[] { 1f, 2f, 3f })], null).AsTask())
            .Message.ShouldBe(Should.Throw<ModelInputException>(() => iris.Infer([new Tensor("float_input", TensorDatatypes.Fp32, [1, 3], new[] { 1f, 2f, 3f })])).Message);
        Should.Throw<ModelInputException>(() => batcher.InferAsync([Iris(1)], ["no_such_output"]).AsTask());
        time.Advance(TimeSpan.FromMilliseconds(1));

        batches.ShouldBe([1]);
        ShouldMatch(await good, iris.Infer([Iris(0)]));
    }

    [Fact]
    public async Task Without_a_delay_concurrent_requests_batch_on_the_thread_pool_and_each_gets_its_answer()
    {
        using var iris = OnnxModelRuntime.Load(TestServices.Fixture("logreg_iris.onnx"));
        var rows = 0;
        var batcher = new InferenceBatcher(iris, new BatchingSpec(), observe: size => Interlocked.Add(ref rows, size));

        var answers = await Task.WhenAll(Enumerable.Range(0, 400).Select(row => Task.Run(async () => (row, await batcher.InferAsync([Iris(row)], null)))));

        rows.ShouldBe(400, "every row ran once");
        foreach (var (row, answer) in answers)
        {
            ShouldMatch(answer, iris.Infer([Iris(row)]));
        }
    }

    [Fact]
    public void Only_models_whose_inputs_and_outputs_all_have_a_variable_first_dimension_are_batched()
    {
        using var iris = OnnxModelRuntime.Load(TestServices.Fixture("logreg_iris.onnx"));
        InferenceBatcher.CanBatch(iris.Signature).ShouldBeTrue();
        InferenceBatcher.CanBatch(new ModelSignature([new TensorSpec("x", TensorDatatypes.Fp32, [1, 4])], [new TensorSpec("y", TensorDatatypes.Fp32, [-1])])).ShouldBeFalse();
        InferenceBatcher.CanBatch(new ModelSignature([new TensorSpec("x", TensorDatatypes.Fp32, [-1, 4])], [new TensorSpec("y", TensorDatatypes.Fp32, [])])).ShouldBeFalse();
    }

    [Fact]
    public void Batching_settings_are_validated_and_filled()
    {
        EndpointSpec Spec(BatchingSpec batching, string? policy = null) => new("e", policy, [new VariantSpec("a", "models:/m/1", policy is null ? 50 : null), new VariantSpec("b", "models:/m/2", policy is null ? 50 : null)], Batching: batching);
        EndpointValidation.Validate(Spec(new BatchingSpec())).Batching.ShouldBe(new BatchingSpec(32, 0));
        EndpointValidation.Validate(Spec(new BatchingSpec(8, 2.5))).Batching.ShouldBe(new BatchingSpec(8, 2.5));
        Should.Throw<TrackingException>(() => EndpointValidation.Validate(Spec(new BatchingSpec(1, -1))))
            .Message.ShouldContain("batching: max_batch_size 1 must be between 2 and 4096 (rows); batching: max_delay_ms -1 must be between 0 and 1000");
        Should.Throw<TrackingException>(() => EndpointValidation.Validate(Spec(new BatchingSpec(), "ensemble")))
            .Message.ShouldContain("batching: not available with policy 'ensemble' (its members are called once per request)");
    }
}
