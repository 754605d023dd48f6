using Ballast.Runtime;
using Ballast.Serving;

namespace Ballast.Tests.Serving;

/// <summary>The queue's labels as a flush writes them: the same JSON text as <see cref="PredictionAssignment.LabelOf"/>, for every element type.</summary>
public sealed class AssignmentQueueTests
{
    public static TheoryData<string, Array, string?> Labels => new()
    {
        { TensorDatatypes.Int64, new[] { -3L }, "-3" },
        { TensorDatatypes.Int32, new[] { 1025 }, "1025" },
        { TensorDatatypes.Uint64, new[] { 9_223_372_036_854_775_808UL }, "9223372036854775808" },
        { TensorDatatypes.Uint32, new[] { 4_000_000_000U }, "4000000000" },
        { TensorDatatypes.Fp32, new[] { 2f }, "2" },
        { TensorDatatypes.Fp64, new[] { 0.25 }, "0.25" },
        { TensorDatatypes.Bytes, new[] { "setosa" }, "\"setosa\"" },
        { TensorDatatypes.Bool, new[] { true }, "true" },
        { TensorDatatypes.Fp64, new[] { double.NaN }, null },
    };

    [Theory]
    [MemberData(nameof(Labels))]
    public void A_queued_label_is_written_as_the_record_would_write_it(string datatype, Array data, string? expected)
    {
        var queue = new AssignmentQueue();
        Tensor[] outputs = [new Tensor("label", datatype, [1], data)];
        queue.Add(Guid.CreateVersion7(), "iris", "a", 1, outputs, banditArm: false);

        var chunk = queue.Take(10).ShouldHaveSingleItem();
        chunk.Entries[0].Predicted.ShouldBe(expected);
        PredictionAssignment.LabelOf(outputs).ShouldBe(expected);
    }
}
