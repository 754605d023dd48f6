using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ballast.Runtime;

/// <summary>One column of a <see cref="TensorDataView"/>: how a cursor reads its value at the current row.</summary>
internal abstract class TensorColumn
{
    private static readonly MethodInfo DefaultOfMethod = typeof(TensorColumn).GetMethod(nameof(DefaultOf), BindingFlags.NonPublic | BindingFlags.Static)!;

    public abstract ValueGetter<TValue> Getter<TValue>(DataViewRow row);

    /// <summary>The tensor's values as a scalar column (width 0) or a column of vectors of <paramref name="width"/> values.</summary>
    public static TensorColumn From(Array data, int width) => data switch
    {
        float[] values => Of(values, width),
        double[] values => Of(values, width),
        bool[] values => Of(values, width),
        // The runtime lets a uint[] match int[] (and byte[] sbyte[], ushort[] short[], ulong[] long[]), which would make
        // a UINT32 key column a column of Int32: unsigned arrays first, by exact type.
        byte[] values when data.GetType() == typeof(byte[]) => Of(values, width),
        ushort[] values when data.GetType() == typeof(ushort[]) => Of(values, width),
        uint[] values when data.GetType() == typeof(uint[]) => Of(values, width),
        ulong[] values when data.GetType() == typeof(ulong[]) => Of(values, width),
        sbyte[] values => Of(values, width),
        short[] values => Of(values, width),
        int[] values => Of(values, width),
        long[] values => Of(values, width),
        string[] values => Of(Array.ConvertAll(values, value => value.AsMemory()), width),
        _ => throw new ArgumentException($"ML.NET has no column type for {data.GetType().Name}", nameof(data)),
    };

    /// <summary>A column that gives the default value of <paramref name="type"/> on every row (zero, empty text, a missing key, an empty vector).</summary>
    public static TensorColumn Default(DataViewType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return (TensorColumn)DefaultOfMethod.MakeGenericMethod(type.RawType).Invoke(null, null)!;
    }

    private static TensorColumn Of<T>(T[] values, int width) => width == 0 ? new Scalar<T>(values) : new VectorValues<T>(values, width);

    private static DefaultValue<T> DefaultOf<T>() => new();

    private static ValueGetter<TValue> Cast<T, TValue>(ValueGetter<T> getter) =>
        getter as ValueGetter<TValue> ?? throw new InvalidOperationException($"the column holds {typeof(T).Name}, not {typeof(TValue).Name}");

    private sealed class Scalar<T>(T[] values) : TensorColumn
    {
        public override ValueGetter<TValue> Getter<TValue>(DataViewRow row) => Cast<T, TValue>((ref T value) => value = values[row.Position]);
    }

    private sealed class VectorValues<T>(T[] values, int width) : TensorColumn
    {
        public override ValueGetter<TValue> Getter<TValue>(DataViewRow row) => Cast<VBuffer<T>, TValue>((ref VBuffer<T> value) =>
        {
            var editor = VBufferEditor.Create(ref value, width);
            values.AsSpan(checked((int)(row.Position * width)), width).CopyTo(editor.Values);
            value = editor.Commit();
        });
    }

    private sealed class DefaultValue<T> : TensorColumn
    {
        public override ValueGetter<TValue> Getter<TValue>(DataViewRow row) => Cast<T, TValue>((ref T value) => value = default!);
    }
}
