using System.Globalization;
using Ballast.Datasets;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Training;

/// <summary>Reads and writes the CSV and Parquet files of training steps through DuckDB (one in-memory database per call).</summary>
internal static class TrainingFiles
{
    public static DuckDBConnection Open()
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        // One thread keeps the insertion order (rowid) the file's order and leaves the other core to the trainer.
        Execute(connection, "SET threads = 1; SET preserve_insertion_order = true;");
        return connection;
    }

    /// <summary>The file's format (csv, tsv, parquet), or an exception naming the file.</summary>
    public static string FormatOf(string path, string role) =>
        DatasetProfiler.FormatOf(path) ?? throw new TrainingInputException($"the {role} file {path} is not CSV, TSV or Parquet (by its extension)");

    /// <summary>Loads a file into <paramref name="table"/>, rows in the file's order (its rowid).</summary>
    public static void Load(DuckDBConnection connection, string path, string table, string role)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new TrainingInputException($"there is no {role} file at {path}");
        }

        var format = FormatOf(path, role);
        var full = Literal(Path.GetFullPath(path));
        var source = format switch
        {
            "parquet" => $"read_parquet({full})",
            "tsv" => $"read_csv({full}, delim = '\\t', sample_size = -1)",
            _ => $"read_csv({full}, sample_size = -1)",
        };
        try
        {
            Execute(connection, $"CREATE TABLE {table} AS SELECT * FROM {source}");
        }
        catch (DuckDBException exception)
        {
            throw new TrainingInputException($"cannot read the {role} file {path}: {FirstLine(exception.Message)}", exception);
        }
    }

    /// <summary>Writes the rows a query returns to a CSV (with a header) or Parquet file, by the path's extension.</summary>
    public static void Write(DuckDBConnection connection, string query, string path)
    {
        var format = DatasetProfiler.FormatOf(path) == "parquet" ? "FORMAT PARQUET" : DatasetProfiler.FormatOf(path) == "tsv" ? "FORMAT CSV, HEADER, DELIMITER '\\t'" : "FORMAT CSV, HEADER";
        Execute(connection, $"COPY ({query}) TO {Literal(Path.GetFullPath(path))} ({format})");
    }

    /// <summary>Reads a whole file into memory, columns typed by DuckDB.</summary>
    public static Table ReadTable(string path, string role)
    {
        using var connection = Open();
        Load(connection, path, "input_rows", role);
        return ReadTable(connection, "SELECT * FROM input_rows ORDER BY rowid");
    }

    public static Table ReadTable(DuckDBConnection connection, string query)
    {
        var rows = checked((int)Scalar<long>(connection, $"SELECT count(*) FROM ({query})"));
        using var command = connection.CreateCommand();
        command.CommandText = query;
        using var reader = command.ExecuteReader();
        var columns = new TableColumn[reader.FieldCount];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = new TableColumn(reader.GetName(i), KindOf(reader.GetFieldType(i)), rows);
        }

        var row = 0;
        while (reader.Read())
        {
            for (var i = 0; i < columns.Length; i++)
            {
                Store(columns[i], row, reader.IsDBNull(i) ? null : reader.GetValue(i));
            }

            row++;
        }

        return new Table(columns, row);
    }

    public static T Scalar<T>(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), CultureInfo.InvariantCulture);
    }

    private static ColumnKind KindOf(Type type) =>
        type == typeof(string) ? ColumnKind.Text
        : type == typeof(bool) ? ColumnKind.Boolean
        : type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(DateOnly) || type.Name == "DuckDBDateOnly" || type.Name == "DuckDBTimestamp" ? ColumnKind.Timestamp
        : type.IsPrimitive || type == typeof(decimal) || type == typeof(System.Numerics.BigInteger) || type == typeof(Half) ? ColumnKind.Numeric
        : ColumnKind.Text;

    private static void Store(TableColumn column, int row, object? value)
    {
        switch (column.Kind)
        {
            case ColumnKind.Numeric:
                column.Numbers[row] = value is null ? float.NaN : Convert.ToSingle(value, CultureInfo.InvariantCulture);
                break;
            case ColumnKind.Boolean:
                column.Numbers[row] = value is null ? float.NaN : (bool)value ? 1f : 0f;
                break;
            case ColumnKind.Timestamp:
                column.Times[row] = value switch
                {
                    null => null,
                    DateTime time => DateTime.SpecifyKind(time, DateTimeKind.Utc).Ticks,
                    DateTimeOffset time => time.UtcTicks,
                    DateOnly date => date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).Ticks,
                    _ => DateTime.Parse(Convert.ToString(value, CultureInfo.InvariantCulture)!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal).Ticks,
                };
                break;
            default:
                column.Texts[row] = value is null ? null : Convert.ToString(value, CultureInfo.InvariantCulture);
                break;
        }
    }
}
