using System.Globalization;
using System.Text.Json;

namespace Ballast.Runtime;

/// <summary>
/// Writes tensors as the Open Inference Protocol's JSON tensors (<c>name</c>, <c>datatype</c>, <c>shape</c>, flat
/// row-major <c>data</c>, class labels under <c>parameters</c>): the V2 responses and the prediction log's inputs and outputs.
/// </summary>
public static class TensorJson
{
    /// <summary>Writes <paramref name="tensors"/> as a JSON list under <paramref name="property"/> of the current object.</summary>
    public static void WriteTensors(Utf8JsonWriter writer, string property, IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(tensors);
        writer.WriteStartArray(property);
        foreach (var tensor in tensors)
        {
            WriteTensor(writer, tensor);
        }

        writer.WriteEndArray();
    }

    public static void WriteTensor(Utf8JsonWriter writer, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(tensor);
        writer.WriteStartObject();
        writer.WriteString("name", tensor.Name);
        writer.WriteString("datatype", tensor.Datatype);
        writer.WriteStartArray("shape");
        foreach (var dimension in tensor.Shape)
        {
            writer.WriteNumberValue(dimension);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("data");
        WriteValues(writer, tensor.Data);
        writer.WriteEndArray();
        if (tensor.Labels is { } labels)
        {
            writer.WriteStartObject("parameters");
            writer.WriteStartArray("labels");
            foreach (var label in labels)
            {
                writer.WriteStringValue(label);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    public static void WriteValues(Utf8JsonWriter writer, Array data)
    {
        ArgumentNullException.ThrowIfNull(writer);
        switch (data)
        {
            case float[] values:
                foreach (var value in values)
                {
                    WriteNumber(writer, value);
                }

                break;
            case double[] values:
                foreach (var value in values)
                {
                    WriteNumber(writer, value);
                }

                break;
            case Half[] values:
                foreach (var value in values)
                {
                    WriteNumber(writer, (double)value);
                }

                break;
            case string[] values:
                foreach (var value in values)
                {
                    writer.WriteStringValue(value);
                }

                break;
            case bool[] values:
                foreach (var value in values)
                {
                    writer.WriteBooleanValue(value);
                }

                break;
            case ulong[] values:
                foreach (var value in values)
                {
                    writer.WriteNumberValue(value);
                }

                break;
            default:
                foreach (var value in data)
                {
                    writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                }

                break;
        }
    }

    private static void WriteNumber(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            // JSON has no NaN or infinity; the protocol's JSON encoders write them as strings.
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static void WriteNumber(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            WriteNumber(writer, (double)value);
        }
    }

}
