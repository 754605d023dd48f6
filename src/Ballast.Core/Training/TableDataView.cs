using System.Globalization;
using Ballast.Runtime;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ballast.Training;

/// <summary>Rows of a <see cref="Table"/> as an ML.NET <see cref="IDataView"/> of a given schema (the schema a model was trained and saved with).</summary>
internal static class TableDataView
{
    /// <summary>
    /// The table's columns under <paramref name="schema"/>: Single from numbers and booleans, Text from strings (or
    /// numbers written invariantly), Boolean from booleans or 0/1. A schema column the file lacks is an error unless it
    /// is in <paramref name="optional"/> (the label, which scoring does not read); it then holds default values.
    /// </summary>
    public static IDataView Build(Table table, DataViewSchema schema, string role, IReadOnlySet<string>? optional = null)
    {
        var columns = new TensorColumn[schema.Count];
        foreach (var column in schema)
        {
            var source = table.Find(column.Name);
            if (source is null)
            {
                columns[column.Index] = optional?.Contains(column.Name) == true
                    ? TensorColumn.Default(column.Type)
                    : throw new TrainingInputException($"the {role} file has no column '{column.Name}', which the model takes");
                continue;
            }

            columns[column.Index] = column.Type switch
            {
                NumberDataViewType when column.Type.RawType == typeof(float) && source.Kind is ColumnKind.Numeric or ColumnKind.Boolean => TensorColumn.From(source.Numbers, 0),
                TextDataViewType => TensorColumn.From(Enumerable.Range(0, table.Rows).Select(row => source.TextAt(row) ?? "").ToArray(), 0),
                BooleanDataViewType => TensorColumn.From(Booleans(source, role), 0),
                _ => throw new TrainingInputException($"column '{column.Name}' of the {role} file holds {source.Kind} values; the model takes {column.Type}"),
            };
        }

        return new TensorDataView(schema, columns, table.Rows);
    }

    /// <summary>A binary label: booleans, or numbers that are all 0 or 1.</summary>
    public static bool[] Booleans(TableColumn column, string role)
    {
        if (column.Kind is not (ColumnKind.Numeric or ColumnKind.Boolean))
        {
            throw new TrainingInputException($"the binary label '{column.Name}' of the {role} file holds {column.Kind} values; it must be true/false or 0/1");
        }

        var values = new bool[column.Numbers.Length];
        for (var row = 0; row < values.Length; row++)
        {
            var value = column.Numbers[row];
            values[row] = value switch
            {
                0f => false,
                1f => true,
                _ => throw new TrainingInputException(string.Create(CultureInfo.InvariantCulture, $"the binary label '{column.Name}' of the {role} file is {(float.IsNaN(value) ? "missing" : value.ToString(CultureInfo.InvariantCulture))} on row {row + 1}; it must be true/false or 0/1")),
            };
        }

        return values;
    }
}
