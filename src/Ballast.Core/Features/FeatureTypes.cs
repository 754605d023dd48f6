using System.Globalization;
using System.Text.Json;
using Ballast.Runtime;

namespace Ballast.Features;

/// <summary>The feature value types, with the DuckDB type a source column is cast to and the V2 datatype serving sends the model.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The names are the feature types users write.")]
public static class FeatureTypes
{
    public const string Float = "float";
    public const string Double = "double";
    public const string Int64 = "int64";
    public const string String = "string";
    public const string Bool = "bool";

    public static IReadOnlyList<string> All { get; } = [Float, Double, Int64, String, Bool];

    public static string SqlType(string type) => type switch
    {
        Float => "FLOAT",
        Double => "DOUBLE",
        Int64 => "BIGINT",
        Bool => "BOOLEAN",
        _ => "VARCHAR",
    };

    public static string Datatype(string type) => type switch
    {
        Float => TensorDatatypes.Fp32,
        Double => TensorDatatypes.Fp64,
        Int64 => TensorDatatypes.Int64,
        Bool => TensorDatatypes.Bool,
        _ => TensorDatatypes.Bytes,
    };

    /// <summary>Whether <paramref name="value"/> (JSON) is a value of <paramref name="type"/>; null is not.</summary>
    public static bool Accepts(string type, JsonElement value) => type switch
    {
        Float or Double => value.ValueKind == JsonValueKind.Number,
        Int64 => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        Bool => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        _ => value.ValueKind == JsonValueKind.String,
    };

    /// <summary>A flat array of <paramref name="count"/> elements of the type's .NET element type.</summary>
    public static Array NewArray(string type, int count) => type switch
    {
        Float => new float[count],
        Double => new double[count],
        Int64 => new long[count],
        Bool => new bool[count],
        _ => new string[count],
    };

    /// <summary>Stores a JSON value (already checked with <see cref="Accepts"/>) into element <paramref name="index"/>.</summary>
    public static void Set(string type, Array target, int index, JsonElement value)
    {
        ArgumentNullException.ThrowIfNull(target);
        switch (type)
        {
            case Float: ((float[])target)[index] = value.GetSingle(); break;
            case Double: ((double[])target)[index] = value.GetDouble(); break;
            case Int64: ((long[])target)[index] = value.GetInt64(); break;
            case Bool: ((bool[])target)[index] = value.GetBoolean(); break;
            default: ((string[])target)[index] = value.GetString() ?? ""; break;
        }
    }

    /// <summary>Element <paramref name="index"/> of a tensor's data as text, for entity keys (integers and strings).</summary>
    public static string? KeyText(Array data, int index)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.GetValue(index) switch
        {
            null => null,
            string text => text,
            float value => value.ToString("R", CultureInfo.InvariantCulture),
            double value => value.ToString("R", CultureInfo.InvariantCulture),
            IFormattable value => value.ToString(null, CultureInfo.InvariantCulture),
            var value => value.ToString(),
        };
    }
}
