namespace Ballast.Runtime;

/// <summary>The tensor element types of the Open Inference Protocol (V2), by their protocol names.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The names are the protocol's own datatype names.")]
public static class TensorDatatypes
{
    public const string Bool = "BOOL";
    public const string Uint8 = "UINT8";
    public const string Uint16 = "UINT16";
    public const string Uint32 = "UINT32";
    public const string Uint64 = "UINT64";
    public const string Int8 = "INT8";
    public const string Int16 = "INT16";
    public const string Int32 = "INT32";
    public const string Int64 = "INT64";
    public const string Fp16 = "FP16";
    public const string Fp32 = "FP32";
    public const string Fp64 = "FP64";
    public const string Bytes = "BYTES";

    public static IReadOnlyList<string> All { get; } = [Bool, Uint8, Uint16, Uint32, Uint64, Int8, Int16, Int32, Int64, Fp16, Fp32, Fp64, Bytes];

    public static bool IsFloatingPoint(string datatype) => datatype is Fp16 or Fp32 or Fp64;

    /// <summary>
    /// The datatype after its article, as said aloud: "an INT64", "an FP32", "a UINT8", "a BOOL"; BYTES, which holds
    /// text in JSON, is "a string (BYTES)".
    /// </summary>
    public static string WithArticle(string datatype) => datatype == Bytes ? "a string (BYTES)" : (datatype is ['I' or 'F', ..] ? "an " : "a ") + datatype;

    /// <summary>Integers and floating-point numbers (not BOOL, not BYTES).</summary>
    public static bool IsNumeric(string datatype) => IsFloatingPoint(datatype) || datatype is Uint8 or Uint16 or Uint32 or Uint64 or Int8 or Int16 or Int32 or Int64;

    /// <summary>The .NET array element type that holds a tensor of <paramref name="datatype"/> (BYTES as strings).</summary>
    public static Type ElementType(string datatype) => datatype switch
    {
        Bool => typeof(bool),
        Uint8 => typeof(byte),
        Uint16 => typeof(ushort),
        Uint32 => typeof(uint),
        Uint64 => typeof(ulong),
        Int8 => typeof(sbyte),
        Int16 => typeof(short),
        Int32 => typeof(int),
        Int64 => typeof(long),
        Fp16 => typeof(Half),
        Fp32 => typeof(float),
        Fp64 => typeof(double),
        Bytes => typeof(string),
        _ => throw new ArgumentException($"'{datatype}' is not a V2 datatype; use one of {string.Join(", ", All)}.", nameof(datatype)),
    };

    /// <summary>
    /// <paramref name="number"/> as an element of a numeric tensor whose array holds <paramref name="element"/>
    /// (<see cref="ElementType"/>): a cast for the floating-point types, rounded for the integers (an
    /// <see cref="OverflowException"/> when it does not fit).
    /// </summary>
    public static object Element(double number, Type element) =>
        element == typeof(Half) ? (Half)number : Convert.ChangeType(number, element, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// An input or output a model declares: name, V2 datatype and shape (-1 for a dimension of any size).
/// <see cref="Labels"/> names the columns of a class-probability output that the model returns as maps (ZipMap).
/// </summary>
public sealed record TensorSpec(string Name, string Datatype, IReadOnlyList<long> Shape, IReadOnlyList<string>? Labels = null)
{
    public override string ToString() => $"{Datatype} [{string.Join(",", Shape)}]";
}

public sealed record ModelSignature(IReadOnlyList<TensorSpec> Inputs, IReadOnlyList<TensorSpec> Outputs);

/// <summary>
/// A tensor in row-major order: <see cref="Data"/> is a flat array of the datatype's element type
/// (<see cref="TensorDatatypes.ElementType"/>), as long as the product of <see cref="Shape"/>.
/// </summary>
public sealed record Tensor(string Name, string Datatype, long[] Shape, Array Data, IReadOnlyList<string>? Labels = null)
{
    public static long ElementCount(IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (var dimension in shape)
        {
            count = checked(count * dimension);
        }

        return count;
    }

    public string Describe() => $"{Datatype} [{string.Join(",", Shape)}]";

    /// <summary>
    /// Element <paramref name="index"/> of a tensor's data as a number (any V2 datatype but BYTES; BOOL as 0 or 1), null
    /// for a string. <see cref="Half"/> is not <see cref="IConvertible"/>, hence the switch.
    /// </summary>
    public static double? Number(Array data, int index)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.GetValue(index) switch
        {
            float value => value,
            double value => value,
            long value => value,
            int value => value,
            short value => value,
            sbyte value => value,
            byte value => value,
            ushort value => value,
            uint value => value,
            ulong value => value,
            Half value => (double)value,
            bool value => value ? 1 : 0,
            _ => null,
        };
    }

    /// <summary>The values of <paramref name="count"/> rows from row <paramref name="from"/> along the first dimension (a scalar is one row).</summary>
    public Array RowValues(long from, long count)
    {
        var width = Shape.Length <= 1 ? 1 : ElementCount(Shape[1..]);
        var values = Array.CreateInstance(Data.GetType().GetElementType()!, checked((int)(count * width)));
        Array.Copy(Data, from * width, values, 0, values.Length);
        return values;
    }
}

/// <summary>A request a model cannot take as sent (wrong input name, type or shape); the message says what was expected.</summary>
public sealed class ModelInputException(string message) : Exception(message);

/// <summary>A file that does not load as a model of its flavor; the message carries the loader's reason.</summary>
public sealed class ModelLoadException(string message, Exception? inner = null) : Exception(message, inner);
