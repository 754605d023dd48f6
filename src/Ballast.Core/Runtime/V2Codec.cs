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

        string? id = null;
        if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind != JsonValueKind.Null)
        {
            id = idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : throw new ModelInputException("'id' must be a string");
        }

        if (!root.TryGetProperty("inputs", out var inputsElement) || inputsElement.ValueKind != JsonValueKind.Array)
        {
            throw new ModelInputException("'inputs' must be a list of tensors {\"name\", \"shape\", \"datatype\", \"data\"}");
        }

        var inputs = new List<Tensor>();
        foreach (var input in inputsElement.EnumerateArray())
        {
            inputs.Add(input.ValueKind == JsonValueKind.Object ? ReadTensor(input)
                : throw new ModelInputException($"inputs[{inputs.Count}] must be a tensor {{\"name\", \"shape\", \"datatype\", \"data\"}}, not {input.GetRawText()}"));
        }

        var outputs = new List<string>();
        if (root.TryGetProperty("outputs", out var outputsElement) && outputsElement.ValueKind != JsonValueKind.Null)
        {
            if (outputsElement.ValueKind != JsonValueKind.Array)
            {
                throw new ModelInputException("'outputs' must be a list of {\"name\"}");
            }

            foreach (var output in outputsElement.EnumerateArray())
            {
                var name = output.ValueKind == JsonValueKind.Object && output.TryGetProperty("name", out var nameElement) && nameElement.ValueKind == JsonValueKind.String
                    ? nameElement.GetString()!
                    : throw new ModelInputException("each of 'outputs' needs a 'name'");
                outputs.Add(outputs.Contains(name, StringComparer.Ordinal) ? throw new ModelInputException($"output '{name}' is asked for twice") : name);
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

        long expected;
        try
        {
            expected = Tensor.ElementCount(shape);
        }
        catch (OverflowException)
        {
            throw new ModelInputException($"input '{name}': shape [{string.Join(",", shape)}] is too large");
        }

        var values = new List<JsonElement>();
        if (!Flatten(dataElement, shape, 0, values))
        {
            throw new ModelInputException($"input '{name}': nested 'data' does not match shape [{string.Join(",", shape)}]; give every row as a list of the same length, or all values in one flat list");
        }

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
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out var value) || value < 0)
            {
                return null;
            }

            shape[i++] = value;
        }

        return shape;
    }

    /// <summary>
    /// Appends the values of <paramref name="list"/>, row-major. A list of lists must follow the shape from
    /// <paramref name="dimension"/> on: as many items as the dimension, each a list (all nested alike), or, in the
    /// innermost list given, values only (the rest of the shape flat). False when it does not.
    /// </summary>
    private static bool Flatten(JsonElement list, long[] shape, int dimension, List<JsonElement> values)
    {
        var nested = list.GetArrayLength() > 0 && list[0].ValueKind == JsonValueKind.Array;
        if (!nested)
        {
            foreach (var item in list.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Array)
                {
                    return false;
                }

                values.Add(item);
            }

            return true;
        }

        if (dimension >= shape.Length - 1 || list.GetArrayLength() != shape[dimension])
        {
            return false;
        }

        int? width = null;
        foreach (var item in list.EnumerateArray())
        {
            var before = values.Count;
            if (item.ValueKind != JsonValueKind.Array || !Flatten(item, shape, dimension + 1, values) || (width ??= values.Count - before) != values.Count - before)
            {
                return false;
            }
        }

        return true;
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
            // Integers also as whole numbers written otherwise (1.0, 1e3: Python's json writes a float column's 1 as 1.0); a fraction is refused,
            // and so is anything but a number (a string, null, true), with its position (JsonElement's readers throw on those).
            TensorDatatypes.Uint8 => Read<byte>(values, TryInteger),
            TensorDatatypes.Uint16 => Read<ushort>(values, TryInteger),
            TensorDatatypes.Uint32 => Read<uint>(values, TryInteger),
            TensorDatatypes.Uint64 => Read<ulong>(values, TryInteger),
            TensorDatatypes.Int8 => Read<sbyte>(values, TryInteger),
            TensorDatatypes.Int16 => Read<short>(values, TryInteger),
            TensorDatatypes.Int32 => Read<int>(values, TryInteger),
            TensorDatatypes.Int64 => Read<long>(values, TryInteger),
            // A finite number beyond the type's range is refused, not sent as infinity.
            TensorDatatypes.Fp16 => Read(values, (JsonElement value, out Half result) =>
            {
                var ok = TryDouble(value, out var number);
                result = (Half)number;
                return ok && (Half.IsFinite(result) || !double.IsFinite(number));
            }),
            TensorDatatypes.Fp32 => Read(values, (JsonElement value, out float result) =>
            {
                var ok = TryDouble(value, out var number);
                result = (float)number;
                return ok && (float.IsFinite(result) || !double.IsFinite(number));
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
                    throw new ModelInputException($"input '{name}': value {i} ({elements[i].GetRawText()}) is not {TensorDatatypes.WithArticle(datatype)}");
                }
            }

            return result;
        }
    }

    /// <summary>
    /// A JSON number that is a whole number in <typeparamref name="T"/>'s range: an integer literal (read as a long, or a
    /// ulong past long's range, then kept only if <typeparamref name="T"/> holds it unchanged), else one written with a
    /// fraction or exponent (<see cref="TryWhole"/>). One reader for the eight integer types, specialised per type by the
    /// JIT (no boxing).
    /// </summary>
    private static bool TryInteger<T>(JsonElement value, out T result)
        where T : struct, System.Numerics.IBinaryInteger<T>
    {
        result = default;
        if (value.ValueKind != JsonValueKind.Number)
        {
            return false;
        }

        if (value.TryGetInt64(out var signed))
        {
            result = T.CreateSaturating(signed);
            return long.CreateTruncating(result) == signed;
        }

        if (value.TryGetUInt64(out var unsigned))
        {
            result = T.CreateSaturating(unsigned);
            return ulong.CreateTruncating(result) == unsigned;
        }

        return TryWhole(value, out result);
    }

    /// <summary>A JSON number that is a whole number in <typeparamref name="T"/>'s range, written with a fraction or exponent (<c>1.0</c>, <c>1e3</c>).</summary>
    private static bool TryWhole<T>(JsonElement value, out T result)
        where T : struct, System.Numerics.IBinaryInteger<T>
    {
        result = default;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var number) || number != decimal.Truncate(number))
        {
            return false;
        }

        result = T.CreateSaturating(number);
        return decimal.CreateChecked(result) == number;
    }

    private static bool TryDouble(JsonElement value, out double result)
    {
        if (value.ValueKind == JsonValueKind.Number)
        {
            // A number beyond the range of doubles (1e400) reads as infinity: not what was sent.
            return value.TryGetDouble(out result) && double.IsFinite(result);
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
