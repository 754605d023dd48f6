using System.Globalization;
using DuckDB.NET.Data;

namespace Ballast.Monitoring;

/// <summary>
/// A monitor's reference as a table: a dataset version's file (read by DuckDB) or a window of the endpoint's traffic;
/// it writes the columns a comparison needs to a Parquet file, as <see cref="DriftTableReader"/> compares every column of its reference.
/// </summary>
internal sealed class ReferenceTable
{
    private readonly string? _file;
    private readonly WindowTable? _window;
    private readonly HashSet<string> _columns;

    private ReferenceTable(string name, long rows, HashSet<string> columns, string? file, WindowTable? window)
    {
        Name = name;
        Rows = rows;
        _columns = columns;
        _file = file;
        _window = window;
    }

    public string Name { get; }

    public long Rows { get; }

    public static ReferenceTable FromFile(string name, string path)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        WindowTable.Execute(connection, $"SET threads = 1; CREATE VIEW reference AS SELECT * FROM {Source(path)}");
        var columns = new HashSet<string>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT column_name FROM (DESCRIBE reference)";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                columns.Add(reader.GetString(0));
            }
        }

        using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM reference";
        return new ReferenceTable(name, Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture), columns, path, null);
    }

    public static ReferenceTable FromWindow(string name, WindowTable window) =>
        new(name, window.Rows, window.Inputs.Keys.ToHashSet(StringComparer.Ordinal), null, window);

    public bool Has(string column) => _columns.Contains(column);

    /// <summary>Whether the reference holds the model output's values: the traffic's output, or a dataset column of that name.</summary>
    public bool HasOutput(string output) => _window is null ? _columns.Contains(output) : _window.Outputs.ContainsKey(output);

    public string Write(string scratch, IReadOnlyList<string> columns)
    {
        var path = Path.Combine(scratch, $"reference-{Guid.NewGuid():N}.parquet");
        if (_window is not null)
        {
            _window.WriteParquet(path, columns.Select(column => (column, _window.Inputs[column])).ToList());
            return path;
        }

        Copy(columns, path);
        return path;
    }

    public string WriteOutput(string scratch, string output)
    {
        var path = Path.Combine(scratch, "prediction-reference.parquet");
        if (_window is not null)
        {
            _window.WriteParquet(path, [(output, _window.Outputs[output])]);
            return path;
        }

        Copy([output], path);
        return path;
    }

    private void Copy(IReadOnlyList<string> columns, string path)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        WindowTable.Execute(connection, $"SET threads = 1; COPY (SELECT {string.Join(", ", columns.Select(WindowTable.Quote))} FROM {Source(_file!)}) TO {Literal(path)} (FORMAT parquet)");
    }

    private static string Source(string path) => Ballast.Datasets.DatasetProfiler.FormatOf(path) switch
    {
        "parquet" => $"read_parquet({Literal(path)})",
        "tsv" => $"read_csv({Literal(path)}, delim = '\\t', sample_size = -1)",
        _ => $"read_csv({Literal(path)}, sample_size = -1)",
    };

    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
}
