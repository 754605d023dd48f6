using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ballast.Runtime;

/// <summary>
/// A batch of request tensors as an ML.NET <see cref="IDataView"/> with the model's input schema, built per request
/// (nothing shared, so concurrent requests never meet). Row i of every column is row i of its tensor: a scalar column
/// reads element i of an [N] tensor, a vector column reads row i of an [N, K] tensor as a dense K-vector. Columns the
/// request does not fill (inputs the model's outputs do not read, such as the training label) give default values.
/// </summary>
internal sealed class TensorDataView(DataViewSchema schema, TensorColumn[] columns, long rows) : IDataView
{
    public bool CanShuffle => false;

    public DataViewSchema Schema => schema;

    public long Rows => rows;

    public ValueGetter<TValue> Getter<TValue>(DataViewRow row, DataViewSchema.Column column) => columns[column.Index].Getter<TValue>(row);

    public long? GetRowCount() => rows;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var active = new bool[schema.Count];
        foreach (var column in columnsNeeded)
        {
            active[column.Index] = true;
        }

        return new Cursor(this, active);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(TensorDataView view, bool[] active) : DataViewRowCursor
    {
        private long _position = -1;

        public override long Position => _position;

        public override long Batch => 0;

        public override DataViewSchema Schema => view.Schema;

        public override bool MoveNext()
        {
            if (_position + 1 < view.Rows)
            {
                _position++;
                return true;
            }

            _position = view.Rows;
            return false;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            active[column.Index] ? view.Getter<TValue>(this, column) : throw new InvalidOperationException($"column '{column.Name}' is not active in this cursor");
    }
}
