using System.Globalization;
using Ballast.Storage;
using DuckDB.NET.Data;

namespace Ballast.Monitoring;

/// <summary>
/// A monitor's reference as a table: a dataset version's file (read by DuckDB) or a window of the endpoint's traffic;
/// it writes the columns a comparison needs to a Parquet file, as <see cref="DriftTableReader"/> compares every column of its reference.
/// Disposing it releases the <see cref="ReferenceCache"/>'s copy it reads, if it reads one. A dataset file's row count,
/// columns, column values and Parquet projections are kept in <see cref="ReferenceProfiles"/> when given, so the next
/// window with the same file reads none of them from it again.
/// </summary>
public sealed class ReferenceTable : IDisposable
{
    private readonly string? _file;
    private readonly WindowTable? _window;
    private readonly HashSet<string> _columns;
    private readonly IDisposable? _lease;
    private readonly ReferenceProfiles? _profiles;
    private readonly string? _profile;

    private ReferenceTable(string name, long rows, HashSet<string> columns, string? file, WindowTable? window, Datasets.DatasetFile? blob = null, IDisposable? lease = null,
        ReferenceProfiles? profiles = null, string? profile = null)
    {
        _profiles = profiles;
        _profile = profile;
        Name = name;
        Rows = rows;
        _columns = columns;
        _file = file;
        _window = window;
        Blob = blob;
        _lease = lease;
    }

    public string Name { get; }

    public long Rows { get; }

    /// <summary>The dataset file the table was read from (its path in the version and SHA-256), null for a run's artifact or traffic.</summary>
    public Datasets.DatasetFile? Blob { get; }

    /// <summary>
    /// The table in the file at <paramref name="path"/>, read in place; <paramref name="blob"/> is the dataset file it
    /// holds, and <paramref name="lease"/> (disposed with the table) keeps the file while the table is used; with
    /// <paramref name="profiles"/> and <paramref name="blob"/>, what is read from the file is kept there under its SHA-256 and format.
    /// </summary>
    public static ReferenceTable FromFile(string name, string path, Datasets.DatasetFile? blob = null, IDisposable? lease = null, ReferenceProfiles? profiles = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var profile = blob is not null && profiles is not null ? $"{blob.Sha256}{ReferenceCache.Extension(path)}" : null;
        var schema = profile is null ? Schema(path) : profiles!.GetOrAdd(ReferenceProfiles.Profile, profile + " columns", () =>
        {
            var schema = Schema(path);
            return (schema, 64 + schema.Columns.Sum(column => 64 + (2L * column.Length)));
        });
        return new ReferenceTable(name, schema.Rows, schema.Columns, path, null, blob, lease, profiles, profile);
    }

    private sealed record FileSchema(long Rows, HashSet<string> Columns);

    /// <summary>The file's row count and column names.</summary>
    private static FileSchema Schema(string path)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        DuckDbSql.Execute(connection, $"SET threads = 1; CREATE VIEW reference AS SELECT * FROM {Source(path)}");
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
        return new FileSchema(Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture), columns);
    }

    /// <summary>A value read from the file, or the one a window already read from the same file.</summary>
    private T Cached<T>(string what, Func<T> read, Func<T, long> bytes)
        where T : class
    {
        if (_profile is null)
        {
            return read();
        }

        return _profiles!.GetOrAdd(ReferenceProfiles.Profile, $"{_profile} {what}", () =>
        {
            var value = read();
            return (value, bytes(value));
        });
    }

    /// <summary>
    /// The table in <paramref name="source"/>'s file, as every dataset reference is read (a monitor's, a rollout's drift
    /// check's, a CUPAC covariate's): a dataset file read in place from the <paramref name="cache"/>'s verified copy,
    /// leased until the table is disposed, so the store is read once for every later use; copied into
    /// <paramref name="folder"/> now when there is no cache, the file is larger than its bound or is a run's artifact
    /// (the copy is deleted with the table).
    /// </summary>
    internal static async Task<ReferenceTable> OpenAsync(MonitorReferenceSource source, ReferenceCache? cache, string folder, CancellationToken cancellationToken, ReferenceProfiles? profiles = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(folder);
        IDisposable? lease = null;
        try
        {
            string path;
            if (cache is not null && source.Blob is { } blob && await cache.BlobAsync(blob, source.OpenAsync, cancellationToken).ConfigureAwait(false) is { } cached)
            {
                lease = cached;
                path = cached.Path;
            }
            else
            {
                path = Path.Combine(folder, $"reference-{Guid.NewGuid():N}{ReferenceCache.Extension(source.FilePath)}");
                lease = new LocalCopy(path);
                await using var stream = await source.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using var target = File.Create(path);
                await stream.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
            }

            return FromFile(source.Name, path, source.Blob, lease, profiles);
        }
        catch
        {
            lease?.Dispose();
            throw;
        }
    }

    public void Dispose() => _lease?.Dispose();

    public static ReferenceTable FromWindow(string name, WindowTable window) =>
        new(name, window.Rows, window.Inputs.Keys.ToHashSet(StringComparer.Ordinal), null, window);

    public bool Has(string column) => _columns.Contains(column);

    /// <summary>The feedback outcomes of a traffic reference, one per row (null without feedback); null for a dataset reference.</summary>
    public IReadOnlyList<string?>? Outcomes => _window?.Outcomes;

    /// <summary>
    /// One column's values, one per row (numbers as double, anything else as text, missing as null): an input or output
    /// of a traffic reference, or a dataset column; null when the reference has no such column.
    /// </summary>
    public IReadOnlyList<object?>? Values(string column)
    {
        ArgumentNullException.ThrowIfNull(column);
        if (_window is not null)
        {
            return _window.Inputs.GetValueOrDefault(column) ?? _window.Outputs.GetValueOrDefault(column);
        }

        if (!_columns.Contains(column))
        {
            return null;
        }

        return Cached("values " + column, () => Read<object>(DuckDbSql.Identifier(column), reader => reader.GetValue(0) switch
        {
            double number => number,
            float number => number,
            int or long or short or byte or decimal or sbyte or ushort or uint or ulong => Convert.ToDouble(reader.GetValue(0), CultureInfo.InvariantCulture),
            bool flag => flag ? "true" : "false",
            var other => Convert.ToString(other, CultureInfo.InvariantCulture),
        }), values => ReferenceProfiles.Estimate(values));
    }

    /// <summary>A dataset column's values as text, one per row in the order <see cref="Values"/> reads them (as DuckDB casts them to VARCHAR; missing as null); null without the column.</summary>
    public IReadOnlyList<string?>? Texts(string column)
    {
        ArgumentNullException.ThrowIfNull(column);
        if (_window is not null || !_columns.Contains(column))
        {
            return null;
        }

        return Cached("texts " + column, () => Read($"CAST({DuckDbSql.Identifier(column)} AS VARCHAR)", reader => reader.GetString(0)), values => ReferenceProfiles.Estimate(values));
    }

    /// <summary>One expression over the dataset file's rows, in file order, each value read by <paramref name="value"/> (missing as null).</summary>
    private List<T?> Read<T>(string expression, Func<System.Data.Common.DbDataReader, T?> value)
        where T : class
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        DuckDbSql.Execute(connection, "SET threads = 1");
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {expression} FROM {Source(_file!)}";
        using var reader = command.ExecuteReader();
        var values = new List<T?>();
        while (reader.Read())
        {
            values.Add(reader.IsDBNull(0) ? null : value(reader));
        }

        return values;
    }

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
        var path = Path.Combine(scratch, $"prediction-reference-{Guid.NewGuid():N}.parquet");
        if (_window is not null)
        {
            _window.WriteParquet(path, [(output, _window.Outputs[output])]);
            return path;
        }

        Copy([output], path);
        return path;
    }

    /// <summary>Writes the columns of the file to a Parquet file at <paramref name="path"/>, from the bytes a window already wrote when there are.</summary>
    private void Copy(IReadOnlyList<string> columns, string path)
    {
        if (_profile is null)
        {
            CopyFromFile(columns, path);
            return;
        }

        // Column names cannot hold NUL, so the key names the columns and their order exactly.
        var bytes = Cached("parquet " + string.Join('\0', columns), () =>
        {
            CopyFromFile(columns, path);
            return File.ReadAllBytes(path);
        }, bytes => 32 + bytes.LongLength);
        if (!File.Exists(path))
        {
            File.WriteAllBytes(path, bytes);
        }
    }

    private void CopyFromFile(IReadOnlyList<string> columns, string path)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        DuckDbSql.Execute(connection, $"SET threads = 1; COPY (SELECT {string.Join(", ", columns.Select(DuckDbSql.Identifier))} FROM {Source(_file!)}) TO {DuckDbSql.Literal(path)} (FORMAT parquet)");
    }

    /// <summary>A local copy of a reference file, deleted when the table that reads it is disposed.</summary>
    private sealed class LocalCopy(string path) : IDisposable
    {
        public void Dispose() => File.Delete(path);
    }

    private static string Source(string path) => Ballast.Datasets.DatasetProfiler.FormatOf(path) switch
    {
        "parquet" => $"read_parquet({DuckDbSql.Literal(path)})",
        "tsv" => $"read_csv({DuckDbSql.Literal(path)}, delim = '\\t', sample_size = -1)",
        _ => $"read_csv({DuckDbSql.Literal(path)}, sample_size = -1)",
    };
}
