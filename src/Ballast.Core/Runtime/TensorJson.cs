using System.Globalization;
using System.Text.Json;

namespace Ballast.Runtime;

/// <summary>
/// Writes tensors as the Open Inference Protocol's JSON tensors (<c>name</c>, <c>datatype</c>, <c>shape</c>, flat
/// row-major <c>data</c>, class labels under <c>parameters</c>): the V2 responses and the prediction log's inputs and outputs.
/// </summary>
public static class TensorJson
{
    // Property names encoded once rather than transcoded and checked for escaping at every write (same bytes).
    private static readonly JsonEncodedText NameProperty = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText DatatypeProperty = JsonEncodedText.Encode("datatype");
    private static readonly JsonEncodedText ShapeProperty = JsonEncodedText.Encode("shape");
    private static readonly JsonEncodedText DataProperty = JsonEncodedText.Encode("data");
    private static readonly JsonEncodedText ParametersProperty = JsonEncodedText.Encode("parameters");
    private static readonly JsonEncodedText LabelsProperty = JsonEncodedText.Encode("labels");

    /// <summary>Writes <paramref name="tensors"/> as a JSON list under <paramref name="property"/> of the current object.</summary>
    public static void WriteTensors(Utf8JsonWriter writer, string property, IReadOnlyList<Tensor> tensors) =>
        WriteTensors(writer, JsonEncodedText.Encode(property), tensors);

    /// <inheritdoc cref="WriteTensors(Utf8JsonWriter, string, IReadOnlyList{Tensor})"/>
    public static void WriteTensors(Utf8JsonWriter writer, JsonEncodedText property, IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(tensors);
        writer.WritePropertyName(property);
        WriteList(writer, tensors);
    }

    private static void WriteList(Utf8JsonWriter writer, IReadOnlyList<Tensor> tensors)
    {
        writer.WriteStartArray();
        for (var i = 0; i < tensors.Count; i++)
        {
            WriteTensor(writer, tensors[i]);
        }

        writer.WriteEndArray();
    }

    // One buffer and writer per thread for Encode (the relaxed encoder of the API's responses).
    [ThreadStatic]
    private static System.Buffers.ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private static readonly JsonWriterOptions EncodeOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The JSON list <see cref="WriteTensors(Utf8JsonWriter, JsonEncodedText, IReadOnlyList{Tensor})"/> writes, as
    /// bytes (non-ASCII text unescaped, as the API's responses write it): for tensors written to more than one place,
    /// a V2 response and the prediction log, encoded once and written raw (<see cref="Utf8JsonWriter.WriteRawValue(ReadOnlySpan{byte}, bool)"/>).
    /// </summary>
    public static byte[] Encode(IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var buffer = t_buffer ??= new System.Buffers.ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, EncodeOptions);
        writer.Reset(buffer);
        WriteList(writer, tensors);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteTensor(Utf8JsonWriter writer, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(tensor);
        writer.WriteStartObject();
        writer.WriteString(NameProperty, tensor.Name);
        writer.WriteString(DatatypeProperty, tensor.Datatype);
        writer.WriteStartArray(ShapeProperty);
        foreach (var dimension in tensor.Shape)
        {
            writer.WriteNumberValue(dimension);
        }

        writer.WriteEndArray();
        writer.WriteStartArray(DataProperty);
        WriteValues(writer, tensor.Data);
        writer.WriteEndArray();
        if (tensor.Labels is { } labels)
        {
            writer.WriteStartObject(ParametersProperty);
            writer.WriteStartArray(LabelsProperty);
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
        ArgumentNullException.ThrowIfNull(data);
        // By the exact element type: the runtime lets a long[] pass for a ulong[] (and int[] for uint[], and so on), so
        // type patterns on arrays would write -1 as 18446744073709551615. Typed loops, no boxing per element.
        switch (Type.GetTypeCode(data.GetType().GetElementType()))
        {
            case TypeCode.Single:
                foreach (var value in (float[])data)
                {
                    WriteNumber(writer, value);
                }

                break;
            case TypeCode.Double:
                foreach (var value in (double[])data)
                {
                    WriteNumber(writer, value);
                }

                break;
            case TypeCode.String:
                foreach (var value in (string[])data)
                {
                    writer.WriteStringValue(value);
                }

                break;
            case TypeCode.Boolean:
                foreach (var value in (bool[])data)
                {
                    writer.WriteBooleanValue(value);
                }

                break;
            case TypeCode.Int64:
                WriteSigned(writer, (long[])data);
                break;
            case TypeCode.Int32:
                WriteSigned(writer, (int[])data);
                break;
            case TypeCode.Int16:
                WriteSigned(writer, (short[])data);
                break;
            case TypeCode.SByte:
                WriteSigned(writer, (sbyte[])data);
                break;
            case TypeCode.UInt64:
                WriteUnsigned(writer, (ulong[])data);
                break;
            case TypeCode.UInt32:
                WriteUnsigned(writer, (uint[])data);
                break;
            case TypeCode.UInt16:
                WriteUnsigned(writer, (ushort[])data);
                break;
            case TypeCode.Byte:
                WriteUnsigned(writer, (byte[])data);
                break;
            default:
                if (data is Half[] halves)
                {
                    // As sent: (Half)0.1 is written 0.1, not 0.0999755859375 (as a float is written by its shortest text).
                    foreach (var value in halves)
                    {
                        WriteNumber(writer, SentNumber.Of(value));
                    }

                    break;
                }

                foreach (var value in data)
                {
                    writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                }

                break;
        }
    }

    // One loop per signedness, specialized by the JIT for each element type: widening to long or ulong writes the same digits.
    private static void WriteSigned<T>(Utf8JsonWriter writer, T[] values)
        where T : System.Numerics.IBinaryInteger<T>, System.Numerics.ISignedNumber<T>
    {
        foreach (var value in values)
        {
            writer.WriteNumberValue(long.CreateTruncating(value));
        }
    }

    private static void WriteUnsigned<T>(Utf8JsonWriter writer, T[] values)
        where T : System.Numerics.IBinaryInteger<T>, System.Numerics.IUnsignedNumber<T>
    {
        foreach (var value in values)
        {
            writer.WriteNumberValue(ulong.CreateTruncating(value));
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
