using Ballast.Runtime;

namespace Ballast.Training;

/// <summary>
/// Rows of a CSV or Parquet file as the V2 input tensors a served model's signature asks for: each scalar input from
/// the column of its name, FP32 from numbers (missing as NaN), BYTES from strings. What a client sends to
/// <c>/v2/models/…/infer</c>; used to measure latency and to check that serving scores as evaluation did.
/// </summary>
public static class ServingInputs
{
    public static IReadOnlyList<Tensor> Read(string file, ModelSignature signature, int? maxRows = null)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var table = TrainingFiles.ReadTable(file, "sample");
        var rows = Math.Min(table.Rows, maxRows ?? int.MaxValue);
        var tensors = new List<Tensor>();
        foreach (var input in signature.Inputs)
        {
            if (input.Shape.Count != 1)
            {
                throw new TrainingInputException($"input '{input.Name}' is a {input} tensor; only one value a row can be read from a file's column");
            }

            var column = table.Get(input.Name, "input");
            Array data = input.Datatype switch
            {
                TensorDatatypes.Fp32 when column.Kind is ColumnKind.Numeric or ColumnKind.Boolean => column.Numbers[..rows],
                TensorDatatypes.Bytes => Enumerable.Range(0, rows).Select(row => column.TextAt(row) ?? "").ToArray(),
                TensorDatatypes.Bool => TableDataView.Booleans(column, "sample")[..rows],
                _ => throw new TrainingInputException($"input '{input.Name}' is {input.Datatype}; column '{column.Name}' holds {column.Kind} values"),
            };
            tensors.Add(new Tensor(input.Name, input.Datatype, [rows], data));
        }

        return tensors;
    }
}
