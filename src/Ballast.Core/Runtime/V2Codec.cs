using System.Globalization;
using System.Text.Json;

namespace Ballast.Runtime;

/// <summary>A parsed V2 inference request: its id, input tensors and the outputs asked for (all when empty).</summary>
public sealed record V2Request(string? Id, IReadOnlyList<Tensor> Inputs, IReadOnlyList<string> Outputs);

/// <summary>
/// The Open Inference Protocol's JSON tensors: reads <c>inputs</c> (data flat or nested, row-major) into typed arrays
/// and writes outputs back. Every problem is a <see cref="ModelInputException"/> naming the input and what is wrong.
/// </summary>
public static class V2Codec
{
    public static V2Request ReadRequest(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ModelInputException("the request body must be a JSON object with 'inputs'");
        }

        var id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
        if (!root.TryGetProperty("inputs", out var inputsElement) || inputsElement.ValueKind != JsonValueKind.Array)
        {
            throw new ModelInputException("'inputs' must be a list of tensors {\"name\", \"shape\", \"datatype\", \"data\"}");
        }

        var inputs = new List<Tensor>();
        foreach (var input in inputsElement.EnumerateArray())
        {
            inputs.Add(ReadTensor(input));
        }

        var outputs = new List<string>();
        if (root.TryGetProperty("outputs", out var outputsElement) && outputsElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var output in outputsElement.EnumerateArray())
            {
                outputs.Add(output.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                    ? name.GetString()!
                    : throw new ModelInputException("each of 'outputs' needs a 'name'"));
            }
        }

        return new V2Request(id, inputs, outputs);
    }

    public static Tensor ReadTensor(JsonElement input)
    {
        var name = input.TryGetProperty("name", out var nameElement) && nameElement.ValueKind == JsonValueKind.String ? nameElement.GetString()! : null;
        if (string.IsNullOrEmpty(name))
        {
            throw new ModelInputException("every input needs a 'name'");
        }

        var datatype = input.TryGetProperty("datatype", out var datatypeElement) && datatypeElement.ValueKind == JsonValueKind.String
            ? KnownDatatype(datatypeElement)
            : null;
        if (datatype is null)
        {
            throw new ModelInputException($"input '{name}': 'datatype' must be one of {string.Join(", ", TensorDatatypes.All)}");
        }

        var shape = input.TryGetProperty("shape", out var shapeElement) && shapeElement.ValueKind == JsonValueKind.Array ? ReadShape(shapeElement) : null;
        if (shape is null)
        {
            throw new ModelInputException($"input '{name}': 'shape' must be a list of non-negative integers");
        }

        if (!input.TryGetProperty("data", out var dataElement) || dataElement.ValueKind != JsonValueKind.Array)
        {
            throw new ModelInputException($"input '{name}': 'data' must be a list");
        }

        var values = new List<JsonElement>();
        Flatten(dataElement, values);
        var expected = Tensor.ElementCount(shape);
        if (values.Count != expected)
        {
            throw new ModelInputException($"input '{name}': shape [{string.Join(",", shape)}] holds {expected} values, got {values.Count}");
        }

        return new Tensor(name, datatype, shape, Convert(name, datatype, values));
    }

    /// <summary>The protocol's own string for <paramref name="element"/>'s datatype (compared in place, nothing allocated), or null.</summary>
    private static string? KnownDatatype(JsonElement element)
    {
        foreach (var datatype in TensorDatatypes.All)
        {
            if (element.ValueEquals(datatype))
            {
                return datatype;
            }
        }

        return null;
    }

    /// <summary>The dimensions, or null when one is not a non-negative integer.</summary>
    private static long[]? ReadShape(JsonElement element)
    {
        var shape = new long[element.GetArrayLength()];
        var i = 0;
        foreach (var dimension in element.EnumerateArray())
        {
            if (!dimension.TryGetInt64(out var value) || value < 0)
            {
                return null;
            }

            shape[i++] = value;
        }

        return shape;
    }

    private static void Flatten(JsonElement element, List<JsonElement> values)
    {
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                Flatten(item, values);
            }
            else
            {
                values.Add(item);
            }
        }
    }

    private static Array Convert(string name, string datatype, List<JsonElement> values)
    {
        return datatype switch
        {
            TensorDatatypes.Bool => Read(values, (JsonElement value, out bool result) =>
            {
                result = value.ValueKind == JsonValueKind.True;
                return value.ValueKind is JsonValueKind.True or JsonValueKind.False;
            }),
            TensorDatatypes.Uint8 => Read(values, (JsonElement value, out byte result) => value.TryGetByte(out result)),
            TensorDatatypes.Uint16 => Read(values, (JsonElement value, out ushort result) => value.TryGetUInt16(out result)),
            TensorDatatypes.Uint32 => Read(values, (JsonElement value, out uint result) => value.TryGetUInt32(out result)),
            TensorDatatypes.Uint64 => Read(values, (JsonElement value, out ulong result) => value.TryGetUInt64(out result)),
            TensorDatatypes.Int8 => Read(values, (JsonElement value, out sbyte result) => value.TryGetSByte(out result)),
            TensorDatatypes.Int16 => Read(values, (JsonElement value, out short result) => value.TryGetInt16(out result)),
            TensorDatatypes.Int32 => Read(values, (JsonElement value, out int result) => value.TryGetInt32(out result)),
            TensorDatatypes.Int64 => Read(values, (JsonElement value, out long result) => value.TryGetInt64(out result)),
            TensorDatatypes.Fp16 => Read(values, (JsonElement value, out Half result) =>
            {
                var ok = TryDouble(value, out var number);
                result = (Half)number;
                return ok;
            }),
            TensorDatatypes.Fp32 => Read(values, (JsonElement value, out float result) =>
            {
                var ok = TryDouble(value, out var number);
                result = (float)number;
                return ok;
            }),
            TensorDatatypes.Fp64 => Read(values, (JsonElement value, out double result) => TryDouble(value, out result)),
            _ => Read(values, (JsonElement value, out string result) =>
            {
                result = value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
                return value.ValueKind == JsonValueKind.String;
            }),
        };

        T[] Read<T>(List<JsonElement> elements, TryRead<T> read)
        {
            var result = new T[elements.Count];
            for (var i = 0; i < elements.Count; i++)
            {
                if (!read(elements[i], out result[i]))
                {
                    throw new ModelInputException($"input '{name}': value {i} ({elements[i].GetRawText()}) is not a {datatype}");
                }
            }

            return result;
        }
    }

    private static bool TryDouble(JsonElement value, out double result)
    {
        if (value.ValueKind == JsonValueKind.Number)
        {
            return value.TryGetDouble(out result);
        }

        result = value.ValueKind == JsonValueKind.String ? value.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            _ => 0,
        } : 0;
        return value.ValueKind == JsonValueKind.String && value.GetString() is "NaN" or "Infinity" or "-Infinity";
    }

    private delegate bool TryRead<T>(JsonElement value, out T result);
}
