using System.Globalization;
using Ballast.Datasets;
using Ballast.Storage;
using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Monitoring.Quality;

/// <summary>
/// A CSV, TSV (optionally .gz) or Parquet file opened in a scratch DuckDB database as the table <see cref="Table"/>,
/// as <see cref="DriftTableReader"/> reads them: a CSV is parsed once (types from a sample, then from the whole file if
/// the sample guessed wrong) under a memory limit; a Parquet file is read in place. Disposing removes the scratch folder.
/// </summary>
internal sealed class DataFile : IDisposable
{
    public const string Table = "quality_data";

    private readonly string _scratch;

    private DataFile(string scratch, DuckDBConnection connection)
    {
        _scratch = scratch;
        Connection = connection;
    }

    public DuckDBConnection Connection { get; }

    public static DataFile Open(string path, string what, int memoryLimitMegabytes = 1024)
    {
        if (!File.Exists(path))
        {
            throw new ExpectationSuiteException($"there is no {what} file at {path}");
        }

        // DuckDB reads an empty CSV as one column named column0: refuse it rather than check or infer a column nobody wrote.
        if (new FileInfo(path).Length == 0)
        {
            throw new ExpectationSuiteException($"the {what} file {path} is empty (0 bytes): no header names its columns");
        }

        var format = DatasetProfiler.FormatOf(path) ?? throw new ExpectationSuiteException($"the {what} file {path} is not CSV, TSV or Parquet (by its extension)");
        var scratch = Path.Combine(Path.GetTempPath(), "ballast-quality-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        var connection = new DuckDBConnection("Data Source=" + Path.Combine(scratch, "quality.duckdb"));
        var file = new DataFile(scratch, connection);
        try
        {
            connection.Open();
            Execute(connection, string.Create(CultureInfo.InvariantCulture,
                $"SET memory_limit = '{memoryLimitMegabytes}MB'; SET preserve_insertion_order = false; SET temp_directory = {DuckDbSql.Literal(scratch)};"));
            var full = DuckDbSql.Literal(Path.GetFullPath(path));
            if (format == "parquet")
            {
                Execute(connection, $"CREATE VIEW {Table} AS SELECT * FROM read_parquet({full})");
                return file;
            }

            var options = (format == "tsv" ? ", delim = '\\t'" : "") + (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? ", compression = 'gzip'" : ", compression = 'none'");
            try
            {
                Execute(connection, $"CREATE TABLE {Table} AS SELECT * FROM read_csv({full}{options})");
            }
            catch (DuckDBException)
            {
                Execute(connection, $"CREATE OR REPLACE TABLE {Table} AS SELECT * FROM read_csv({full}{options}, sample_size = -1)");
            }

            return file;
        }
        catch (DuckDBException exception)
        {
            file.Dispose();
            throw new ExpectationSuiteException($"cannot read the {what} file {path}: {DuckDbSql.FirstLine(exception.Message)}", exception);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Connection.Dispose();
        try
        {
            Directory.Delete(_scratch, recursive: true);
        }
        catch (IOException)
        {
            // Scratch space in the temporary folder; the OS cleans it if a handle is still open.
        }
    }
}
