using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ballast.Runtime;

/// <summary>
/// Reads one output column of an ML.NET cursor row by row into a tensor of the column's <see cref="TensorSpec"/>:
/// a scalar column as [N], a vector column as [N, K] (dense, sparse vectors filled with zeros); text as strings.
/// </summary>
internal abstract class OutputColumnReader
{
    private static readonly MethodInfo CreateMethod = typeof(OutputColumnReader).GetMethod(nameof(CreateOf), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static readonly MethodInfo KeyReadersMethod = typeof(OutputColumnReader).GetMethod(nameof(KeyReaders), BindingFlags.NonPublic | BindingFlags.Static)!;

    public abstract void ReadRow();

    public abstract Tensor ToTensor();

    /// <summary>
    /// A factory of readers for a column whose item type is <paramref name="item"/>, made once per model. A key column is
    /// read as <see cref="KeyReaders{T}"/> reads it, with its <paramref name="keyValues"/> if it has them.
    /// </summary>
    public static Func<DataViewRow, DataViewSchema.Column, TensorSpec, long, OutputColumnReader> Factory(DataViewType item, IReadOnlyList<string>? keyValues = null)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item is KeyDataViewType)
        {
            return (Func<DataViewRow, DataViewSchema.Column, TensorSpec, long, OutputColumnReader>)KeyReadersMethod.MakeGenericMethod(item.RawType).Invoke(null, [keyValues])!;
        }

        return item.RawType == typeof(ReadOnlyMemory<char>)
            ? (row, column, spec, rows) => new Reader<ReadOnlyMemory<char>, string>(row, column, spec, rows, text => text.ToString())
            : CreateMethod.MakeGenericMethod(item.RawType).CreateDelegate<Func<DataViewRow, DataViewSchema.Column, TensorSpec, long, OutputColumnReader>>();
    }

    /// <summary>
    /// Readers of a key column (raw keys 1..K, 0 a missing key): with key values, each key's value as text (what ML.NET's
    /// <c>MapKeyToValue</c> would give; "" for a missing key), else its index 0..K-1 as a long (-1 for a missing key), the
    /// convention key inputs are taken in.
    /// </summary>
    private static Func<DataViewRow, DataViewSchema.Column, TensorSpec, long, OutputColumnReader> KeyReaders<T>(IReadOnlyList<string>? keyValues)
        where T : System.Numerics.IBinaryInteger<T>
    {
        if (keyValues is null)
        {
            return (row, column, spec, rows) => new Reader<T, long>(row, column, spec, rows, static key => long.CreateTruncating(key) - 1);
        }

        // Made here, once per model: a request's reader takes it as it is.
        var values = keyValues.ToArray();
        Func<T, string> value = key => ulong.CreateTruncating(key) is var raw && raw > 0 && raw <= (ulong)values.Length ? values[raw - 1] : "";
        return (row, column, spec, rows) => new Reader<T, string>(row, column, spec, rows, value);
    }

    private static Reader<T, T> CreateOf<T>(DataViewRow row, DataViewSchema.Column column, TensorSpec spec, long rows) => new(row, column, spec, rows, value => value);

    private sealed class Reader<TRaw, TValue> : OutputColumnReader
    {
        private readonly TensorSpec _spec;
        private readonly Func<TRaw, TValue> _convert;
        private readonly ValueGetter<TRaw>? _scalar;
        private readonly ValueGetter<VBuffer<TRaw>>? _vector;
        private TRaw _value = default!;
        private VBuffer<TRaw> _buffer;
        private TRaw[] _row = [];
        private TValue[] _data;
        private int _width;
        private int _count;
        private long _rows;

        public Reader(DataViewRow row, DataViewSchema.Column column, TensorSpec spec, long rows, Func<TRaw, TValue> convert)
        {
            _spec = spec;
            _convert = convert;
            if (column.Type is VectorDataViewType)
            {
                _vector = row.GetGetter<VBuffer<TRaw>>(column);
                _width = spec.Shape.Skip(1).All(dimension => dimension >= 0) ? checked((int)Tensor.ElementCount(spec.Shape.Skip(1).ToList())) : -1;
            }
            else
            {
                _scalar = row.GetGetter<TRaw>(column);
            }

            _data = new TValue[checked((int)(rows * Math.Max(_width, 1)))];
        }

        public override void ReadRow()
        {
            if (_scalar is not null)
            {
                _scalar(ref _value);
                Append(1)[0] = _convert(_value);
            }
            else
            {
                _vector!(ref _buffer);
                if (_width < 0 && _rows == 0)
                {
                    _width = _buffer.Length;
                }

                if (_buffer.Length != _width)
                {
                    throw new InvalidOperationException(
                        $"output '{_spec.Name}' has a row of {_buffer.Length} values after rows of {_width}; Ballast serves vector outputs whose rows all have one length");
                }

                if (_row.Length != _width)
                {
                    _row = new TRaw[_width];
                }

                _buffer.CopyTo(_row);
                var target = Append(_width);
                for (var i = 0; i < _width; i++)
                {
                    target[i] = _convert(_row[i]);
                }
            }

            _rows++;
        }

        public override Tensor ToTensor()
        {
            long[] shape = _scalar is not null ? [_rows]
                : _spec.Shape.Skip(1).All(dimension => dimension >= 0) ? [_rows, .. _spec.Shape.Skip(1)]
                : [_rows, Math.Max(_width, 0)];
            return new Tensor(_spec.Name, _spec.Datatype, shape, _count == _data.Length ? _data : _data[.._count], _spec.Labels);
        }

        private Span<TValue> Append(int count)
        {
            if (_count + count > _data.Length)
            {
                Array.Resize(ref _data, Math.Max(_count + count, _data.Length * 2));
            }

            var span = _data.AsSpan(_count, count);
            _count += count;
            return span;
        }
    }
}
