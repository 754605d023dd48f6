using System.IO.Compression;
using Ballast.Datasets;
using Ballast.Storage;
using DuckDB.NET.Data;

namespace Ballast.Tests.Datasets;

/// <summary>The reader expressions the feature store and CUPED covariates read a dataset version's files with.</summary>
public sealed class DatasetFileReaderTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("ballast-file-reader-test-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void Csv_gzipped_tsv_and_parquet_read_the_same_rows_in_file_order()
    {
        using var duck = new DuckDBConnection("Data Source=:memory:");
        duck.Open();
        // A local copy is named without its dataset path's extension (ballast-features-<guid>): the format is the dataset path's.
        var csv = Path.Combine(_folder.FullName, "copy-csv");
        File.WriteAllText(csv, "id,x\nc,3\na,1\nb,2\n");
        var tsv = Path.Combine(_folder.FullName, "copy-tsv");
        using (var output = new GZipStream(File.Create(tsv), CompressionLevel.Fastest))
        using (var writer = new StreamWriter(output))
        {
            writer.Write("id\tx\nc\t3\na\t1\nb\t2\n");
        }

        var parquet = Path.Combine(_folder.FullName, "copy-parquet");
        DuckDbSql.Execute(duck, $"COPY (SELECT * FROM read_csv('{csv}', header = true)) TO '{parquet}' (FORMAT parquet)");
        // A Parquet file that has a column named file_row_number of its own keeps it; the position is numbered instead.
        var own = Path.Combine(_folder.FullName, "copy-own");
        DuckDbSql.Execute(duck, $"COPY (SELECT *, 7 AS file_row_number FROM read_csv('{csv}', header = true)) TO '{own}' (FORMAT parquet)");

        foreach (var (file, path) in new[] { (csv, "data/a.csv"), (tsv, "a.tsv.gz"), (parquet, "part-0.parquet"), (own, "own.parquet") })
        {
            DuckDbSql.Query(duck, $"SELECT id, CAST(x AS INTEGER) FROM {DatasetFileReader.Relation(file, path)}", reader => Rows(reader, r => $"{r.GetString(0)}{r.GetInt32(1)}"))
                .ShouldBe(["c3", "a1", "b2"], path);
            DuckDbSql.Query(duck, $"SELECT id FROM {DatasetFileReader.NumberedRelation(duck, file, path, "__row")} ORDER BY __row", reader => Rows(reader, r => r.GetString(0)))
                .ShouldBe(["c", "a", "b"], path);
        }

        DuckDbSql.Columns(duck, DatasetFileReader.NumberedRelation(duck, parquet, "part-0.parquet", "__row")).ShouldBe(["id", "x", "__row"], ignoreOrder: true);
        DuckDbSql.Query(duck, $"SELECT DISTINCT file_row_number FROM {DatasetFileReader.NumberedRelation(duck, own, "own.parquet", "__row")}", reader => Rows(reader, r => r.GetInt32(0)))
            .ShouldBe([7]);
    }

    private static List<T> Rows<T>(System.Data.Common.DbDataReader reader, Func<System.Data.Common.DbDataReader, T> read)
    {
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
