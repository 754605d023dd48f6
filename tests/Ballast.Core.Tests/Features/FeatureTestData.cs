using System.Text;
using Ballast.Datasets;
using Ballast.Features;
using Ballast.Metadata;
using Ballast.Storage;
using DuckDB.NET.Data;

namespace Ballast.Tests.Features;

/// <summary>A feature store on a real metadata database and a local artifact store, with datasets made from CSV text.</summary>
internal sealed class FeatureTestStack(MetadataDatabase database, TimeProvider time, string root)
{
    public IArtifactStore Artifacts { get; } = ArtifactStoreFactory.Create(Path.Combine(root, "artifacts"), null, null);

    public DatasetStore Datasets => field ??= new DatasetStore(database, Artifacts, time, new DatasetProfiler());

    public FeatureStore Definitions { get; } = new(database, time);

    /// <summary>How <see cref="Offline"/> joins training sets (pinned by the point-in-time tests to cover each way).</summary>
    public PointInTimeStrategy Strategy { get; init; } = PointInTimeStrategy.Auto;

    public OfflineStore Offline => field ??= new OfflineStore(Datasets, root) { Strategy = Strategy };

    public EmbeddedOnlineStore Online { get; } = new(database, time);

    public FeatureMaterializer Materializer => field ??= new FeatureMaterializer(Definitions, Datasets, Offline, Online, database, time);

    public async Task<DatasetVersion> AddCsvAsync(string name, string csv, string file = "data.csv")
    {
        var bytes = Encoding.UTF8.GetBytes(csv.ReplaceLineEndings("\n"));
        var sha = ContentAddressing.Sha256Hex(bytes);
        await Datasets.PutBlobAsync(sha, new MemoryStream(bytes), TestContext.Current.CancellationToken);
        return (await Datasets.AddVersionAsync(name, [new DatasetFile(file, bytes.Length, sha)], cancellationToken: TestContext.Current.CancellationToken)).Version;
    }

    /// <summary>A version of Parquet files, one per CSV text, in the given order (the later file wins a tie on key and time).</summary>
    public async Task<DatasetVersion> AddParquetAsync(string name, params IReadOnlyList<(string File, string Csv)> parts)
    {
        var files = new List<DatasetFile>();
        foreach (var (file, csv) in parts)
        {
            var bytes = await File.ReadAllBytesAsync(ToParquet(WriteFile(name + "-" + file + ".csv", csv)), TestContext.Current.CancellationToken);
            var sha = ContentAddressing.Sha256Hex(bytes);
            await Datasets.PutBlobAsync(sha, new MemoryStream(bytes), TestContext.Current.CancellationToken);
            files.Add(new DatasetFile(file, bytes.Length, sha));
        }

        return (await Datasets.AddVersionAsync(name, files, cancellationToken: TestContext.Current.CancellationToken)).Version;
    }

    /// <summary>Converts a CSV file to Parquet beside it (DuckDB's type detection); returns the Parquet file's path.</summary>
    public static string ToParquet(string csvPath)
    {
        var parquet = Path.ChangeExtension(csvPath, ".parquet");
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"COPY (SELECT * FROM read_csv('{csvPath.Replace("'", "''", StringComparison.Ordinal)}', header = true)) TO '{parquet.Replace("'", "''", StringComparison.Ordinal)}' (FORMAT parquet)";
        command.ExecuteNonQuery();
        return parquet;
    }

    public string WriteFile(string name, string text)
    {
        var path = Path.Combine(root, name);
        File.WriteAllText(path, text.ReplaceLineEndings("\n"));
        return path;
    }

    /// <summary>Every row of a Parquet file as column → value (DBNull as null), in file order.</summary>
    public static List<Dictionary<string, object?>> ReadParquet(string path)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM read_parquet('{path.Replace("'", "''", StringComparison.Ordinal)}')";
        using var reader = command.ExecuteReader();
        var rows = new List<Dictionary<string, object?>>();
        while (reader.Read())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }
}
