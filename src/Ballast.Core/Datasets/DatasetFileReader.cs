using DuckDB.NET.Data;
using static Ballast.Storage.DuckDbSql;

namespace Ballast.Datasets;

/// <summary>
/// DuckDB's reader expression for one tabular file of a dataset version (CSV, TSV, gzipped or not, or Parquet, by the
/// format its dataset path names), copied or found locally: what the feature store's views and training sets, and an
/// experiment's CUPED covariates, read a dataset's files with.
/// </summary>
internal static class DatasetFileReader
{
    /// <summary>A relation of <paramref name="localFile"/>'s rows, read by the format <paramref name="datasetPath"/> names.</summary>
    public static string Relation(string localFile, string datasetPath)
    {
        var format = DatasetProfiler.FormatOf(datasetPath);
        if (format == "parquet")
        {
            return $"read_parquet({Literal(localFile)})";
        }

        var compression = datasetPath.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? "gzip" : "none";
        return $"read_csv({Literal(localFile)}, header = true, compression = '{compression}'{(format == "tsv" ? ", delim = '\\t'" : "")})";
    }

    /// <summary>
    /// A relation of the file's rows with their position in it as <paramref name="rowColumn"/> (from 0 for Parquet, 1
    /// for CSV; only the order counts). Parquet gives the position as it reads, in parallel; CSV rows are numbered by a
    /// window over the whole file, which DuckDB computes in one thread.
    /// </summary>
    public static string NumberedRelation(DuckDBConnection connection, string localFile, string datasetPath, string rowColumn)
    {
        var reader = Relation(localFile, datasetPath);
        if (DatasetProfiler.FormatOf(datasetPath) == "parquet" && !Columns(connection, reader).Contains("file_row_number"))
        {
            return $"(SELECT * EXCLUDE (file_row_number), file_row_number AS {rowColumn} FROM read_parquet({Literal(localFile)}, file_row_number = true))";
        }

        return $"(SELECT *, row_number() OVER () AS {rowColumn} FROM {reader})";
    }
}
