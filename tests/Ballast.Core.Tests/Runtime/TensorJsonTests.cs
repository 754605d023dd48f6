using System.Buffers;
using System.Text;
using System.Text.Json;
using Ballast.Runtime;

namespace Ballast.Tests.Runtime;

public sealed class TensorJsonTests
{
    public static TheoryData<Array> IntegerArrays => new()
    {
        new long[] { long.MinValue, -1, 0, 7, long.MaxValue },
        new int[] { int.MinValue, -1, 0, 7, int.MaxValue },
        new uint[] { 0, 7, uint.MaxValue },
        new short[] { short.MinValue, -1, 0, 7, short.MaxValue },
        new ushort[] { 0, 7, ushort.MaxValue },
        new sbyte[] { sbyte.MinValue, -1, 0, 7, sbyte.MaxValue },
        new byte[] { 0, 7, byte.MaxValue },
        new ulong[] { 0, 7, ulong.MaxValue },
    };

    // Negative INT64 values were written as unsigned (-1 as 18446744073709551615): the runtime lets a long[] pass for a ulong[].
    [Theory]
    [MemberData(nameof(IntegerArrays))]
    public void Integer_tensors_are_written_as_their_decimal_values_signed_or_not(Array data)
    {
        var expected = string.Join(",", data.Cast<object>().Select(value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)));

        Write(new Tensor("label", "INT64", [data.Length], data)).ShouldBe(
            $$"""{"name":"label","datatype":"INT64","shape":[{{data.Length}}],"data":[{{expected}}]}""");
    }

    [Fact]
    public void A_tensor_list_is_written_under_its_property_with_names_datatypes_shapes_data_and_labels()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            TensorJson.WriteTensors(writer, "outputs", [
                new Tensor("label", "INT64", [1], new long[] { 2 }),
                new Tensor("probabilities", "FP32", [1, 3], new[] { 0.25f, float.NaN, 0.5f }, ["a", "b", "c"]),
            ]);
            writer.WriteEndObject();
        }

        Encoding.UTF8.GetString(buffer.WrittenSpan).ShouldBe(
            """{"outputs":[{"name":"label","datatype":"INT64","shape":[1],"data":[2]},""" +
            """{"name":"probabilities","datatype":"FP32","shape":[1,3],"data":[0.25,"NaN",0.5],"parameters":{"labels":["a","b","c"]}}]}""");
    }

    private static string Write(Tensor tensor)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            TensorJson.WriteTensor(writer, tensor);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
