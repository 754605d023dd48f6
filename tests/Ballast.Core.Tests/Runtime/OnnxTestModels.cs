using System.Text;

namespace Ballast.Tests.Runtime;

/// <summary>
/// Small ONNX models written byte by byte (protobuf wire format, field numbers from onnx.proto) for the element types
/// no fixture has: an Identity node per input, "x_u8" → "y_u8", each of shape [N, 2] with a dynamic first dimension.
/// </summary>
public static class OnnxTestModels
{
    /// <summary>ONNX's TensorProto.DataType numbers, by V2 datatype.</summary>
    public static IReadOnlyDictionary<string, int> ElementTypes { get; } = new Dictionary<string, int>
    {
        ["FP32"] = 1, ["UINT8"] = 2, ["INT8"] = 3, ["UINT16"] = 4, ["INT16"] = 5, ["INT32"] = 6, ["INT64"] = 7,
        ["BYTES"] = 8, ["BOOL"] = 9, ["FP16"] = 10, ["FP64"] = 11, ["UINT32"] = 12, ["UINT64"] = 13,
    };

    /// <summary>A model that returns each input unchanged: input "x_{datatype}" of [N, 2] gives output "y_{datatype}".</summary>
    public static byte[] Identity(params string[] datatypes)
    {
        var graph = new List<byte>();
        foreach (var datatype in datatypes)
        {
            var suffix = datatype.ToLowerInvariant();
            graph.AddRange(Field(1, [.. Text(1, "x_" + suffix), .. Text(2, "y_" + suffix), .. Text(3, "identity_" + suffix), .. Text(4, "Identity")]));
        }

        graph.AddRange(Text(2, "identity"));
        foreach (var datatype in datatypes)
        {
            graph.AddRange(Field(11, ValueInfo("x_" + datatype.ToLowerInvariant(), ElementTypes[datatype])));
        }

        foreach (var datatype in datatypes)
        {
            graph.AddRange(Field(12, ValueInfo("y_" + datatype.ToLowerInvariant(), ElementTypes[datatype])));
        }

        // ir_version 8, producer, graph, opset 13 of the default domain.
        return [.. Number(1, 8), .. Text(2, "ballast-tests"), .. Field(7, [.. graph]), .. Field(8, [.. Text(1, ""), .. Number(2, 13)])];
    }

    public static string WriteIdentity(string folder, params string[] datatypes)
    {
        var path = Path.Combine(folder, $"identity-{string.Join("-", datatypes).ToLowerInvariant()}.onnx");
        File.WriteAllBytes(path, Identity(datatypes));
        return path;
    }

    private static byte[] ValueInfo(string name, int elementType)
    {
        // TypeProto.tensor_type { elem_type, shape { dim { dim_param "N" } dim { dim_value 2 } } }
        byte[] shape = [.. Field(1, Text(2, "N")), .. Field(1, Number(1, 2))];
        return [.. Text(1, name), .. Field(2, Field(1, [.. Number(1, elementType), .. Field(2, shape)]))];
    }

    private static byte[] Field(int number, byte[] content) => [.. Varint((ulong)(number << 3 | 2)), .. Varint((ulong)content.Length), .. content];

    private static byte[] Text(int number, string text) => Field(number, Encoding.UTF8.GetBytes(text));

    private static byte[] Number(int number, long value) => [.. Varint((ulong)(number << 3)), .. Varint((ulong)value)];

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var low = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? low : (byte)(low | 0x80));
        }
        while (value != 0);

        return [.. bytes];
    }
}
