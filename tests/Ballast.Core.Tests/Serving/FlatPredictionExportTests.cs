using System.Globalization;
using Ballast.Metadata;
using Ballast.Runtime;
using Ballast.Serving;
using Ballast.Storage;
using Ballast.Tests.Metadata;
using Ballast.Tracking;
using DuckDB.NET.Data;

namespace Ballast.Tests.Serving;

/// <summary>
/// The export's flat layout on a real prediction log with feedback, on SQLite and PostgreSQL: one row per scored row,
/// a column per feature named as monitors and the ingest step name them, in the log's order, as CSV and Parquet.
/// </summary>
public abstract class FlatPredictionExportTests(DatabaseEngine engine) : FolderDatabaseTest(engine, "ballast-flat-export-")
{
    /// <summary>Titanic's five named inputs (the fixture's signature: pclass INT64, sex and embarked BYTES, age and fare FP32, each [N, 1]).</summary>
    private static Tensor[] Titanic(long[] pclass, string[] sex, float[] age, float[] fare, string[] embarked) =>
    [
        new("pclass", TensorDatatypes.Int64, [pclass.Length, 1], pclass),
        new("sex", TensorDatatypes.Bytes, [sex.Length, 1], sex),
        new("age", TensorDatatypes.Fp32, [age.Length, 1], age),
        new("fare", TensorDatatypes.Fp32, [fare.Length, 1], fare),
        new("embarked", TensorDatatypes.Bytes, [embarked.Length, 1], embarked),
    ];

    /// <summary>Titanic's outputs: label (INT64 [N]) and probabilities (FP32 [N, 2]).</summary>
    private static Tensor[] Answers(long[] label, float[] probabilities) =>
        [new("label", TensorDatatypes.Int64, [label.Length], label), new("probabilities", TensorDatatypes.Fp32, [label.Length, 2], probabilities)];

    [Fact]
    public async Task A_mixed_string_and_number_model_exports_one_row_per_scored_row_with_outcomes_in_csv_and_parquet()
    {
        var artifacts = LocalArtifacts();
        var log = await OpenLogAsync(artifacts);
        var start = Time.GetUtcNow().ToUnixTimeMilliseconds();
        async Task AppendAsync(string id, Tensor[] inputs, Tensor[] outputs, string kind = PredictionRecord.Primary)
        {
            (await log.AppendAsync(new PredictionRecord(id, "titanic", "main", "titanic/1", Time.GetUtcNow().ToUnixTimeMilliseconds(), 2.5, null, inputs, outputs, kind), Cancel)).ShouldBeTrue();
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        // Two rows, a shadow's copy of them (no answer anybody got), then one row; a later request outside the range.
        await AppendAsync("p1", Titanic([1, 3], ["female", "male"], [29, 40], [211.3f, 7.9f], ["S", "Q"]), Answers([1, 0], [0.125f, 0.875f, 0.75f, 0.25f]));
        await AppendAsync("s1", Titanic([1, 3], ["female", "male"], [29, 40], [211.3f, 7.9f], ["S", "Q"]), Answers([0, 0], [0.5f, 0.5f, 0.5f, 0.5f]), PredictionRecord.Shadow);
        await AppendAsync("p2", Titanic([2], ["male"], [35], [13], ["C"]), Answers([0], [0.625f, 0.375f]));
        var end = Time.GetUtcNow().ToUnixTimeMilliseconds() - 1;
        Time.Advance(TimeSpan.FromSeconds(1));
        await AppendAsync("p3", Titanic([3], ["female"], [2], [21], ["S"]), Answers([1], [0.25f, 0.75f]));
        var feedback = new FeedbackStore(Database, Time);
        await feedback.AddAsync([new Feedback("p1", "[1, 1]", 0.5), new Feedback("p2", "0", null)], Cancel);
        var export = new PredictionExport(log, artifacts, feedback);

        var csv = PathIn("titanic.csv");
        await export.ExportFlatAsync("titanic", start, end, "csv", csv, null, Cancel);
        var lines = await File.ReadAllLinesAsync(csv, Cancel);
        lines.ShouldBe([
            "prediction_id,row,timestamp,variant,model,pclass,sex,age,fare,embarked,label,probabilities[0],probabilities[1],outcome,reward",
            $"p1,0,{start},main,titanic/1,1.0,female,29.0,211.3,S,1,0.125,0.875,1.0,0.5",
            $"p1,1,{start},main,titanic/1,3.0,male,40.0,7.9,Q,0,0.75,0.25,1.0,0.5",
            $"p2,0,{start + 2},main,titanic/1,2.0,male,35.0,13.0,C,0,0.625,0.375,0.0,",
        ]);

        var parquet = PathIn("titanic.parquet");
        await export.ExportFlatAsync("titanic", start, end, "parquet", parquet, null, Cancel);
        Query($"SELECT column_name || ':' || column_type FROM (DESCRIBE SELECT * FROM read_parquet('{parquet}'))").ShouldBe([
            "prediction_id:VARCHAR", "row:BIGINT", "timestamp:BIGINT", "variant:VARCHAR", "model:VARCHAR", "pclass:DOUBLE", "sex:VARCHAR", "age:DOUBLE", "fare:DOUBLE",
            "embarked:VARCHAR", "label:VARCHAR", "probabilities[0]:DOUBLE", "probabilities[1]:DOUBLE", "outcome:DOUBLE", "reward:DOUBLE"]);
        Query($"SELECT prediction_id || '/' || row || ':' || sex || ':' || label || ':' || coalesce(outcome::VARCHAR, '-') FROM read_parquet('{parquet}')")
            .ShouldBe(["p1/0:female:1:1.0", "p1/1:male:0:1.0", "p2/0:male:0:0.0"]);

        // Without a range every answer is in, the later one last; records stay as stored in the default layout.
        var all = PathIn("all.csv");
        await export.ExportFlatAsync("titanic", null, null, "csv", all, null, Cancel);
        (await File.ReadAllLinesAsync(all, Cancel)).Skip(1).Select(line => line.Split(',')[0] + "/" + line.Split(',')[1]).ShouldBe(["p1/0", "p1/1", "p2/0", "p3/0"]);
        var records = PathIn("records.csv");
        await export.ExportAsync("titanic", null, null, "csv", records, Cancel);
        (await File.ReadAllLinesAsync(records, Cancel)).Length.ShouldBe(5, "one row per record, the shadow's too");
    }

    [Fact]
    public async Task Feature_names_name_a_wide_tensors_columns_and_a_wrong_count_or_unknown_tensor_is_refused()
    {
        var artifacts = LocalArtifacts();
        var log = await OpenLogAsync(artifacts);
        for (var i = 0; i < 5; i++)
        {
            // Requests of 1 to 5 rows of four features (iris' float_input [N, 4]), a label each.
            var rows = i + 1;
            var data = Enumerable.Range(0, rows * 4).Select(j => (float)((i * 100) + j)).ToArray();
            (await log.AppendAsync(new PredictionRecord($"r{i}", "iris", "a", "iris/1", Time.GetUtcNow().ToUnixTimeMilliseconds(), 1, null,
                [new Tensor("float_input", TensorDatatypes.Fp32, [rows, 4], data)], [new Tensor("output_label", TensorDatatypes.Int64, [rows], Enumerable.Repeat((long)i, rows).ToArray())]), Cancel))
                .ShouldBeTrue();
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var feedback = new FeedbackStore(Database, Time);
        await feedback.AddAsync([new Feedback("r0", "1", null), new Feedback("r3", "[true, false, true, false]", 1)], Cancel);
        var export = new PredictionExport(log, artifacts, feedback);
        var names = Ballast.Monitoring.WindowTable.ParseFeatureNames("""{"float_input": ["sepal_length", "sepal_width", "petal_length", "petal_width"]}""");
        var csv = PathIn("iris.csv");
        await export.ExportFlatAsync("iris", null, null, "csv", csv, names, Cancel);
        var lines = await File.ReadAllLinesAsync(csv, Cancel);
        lines[0].ShouldEndWith(",model,sepal_length,sepal_width,petal_length,petal_width,output_label,outcome,reward");
        lines.Length.ShouldBe(1 + 1 + 2 + 3 + 4 + 5);
        lines[^1].Split(',')[..9].ShouldBe(["r4", "4", lines[^1].Split(',')[2], "a", "iris/1", "416.0", "417.0", "418.0", "419.0"]);

        // Flattened a request or two at a time, the file is the same: chunks keep the order and the columns.
        var chunked = PathIn("chunked.csv");
        await export.QueryAsync("iris", null, null, connection =>
        {
            FlatPredictions.Write(connection, names, "csv", chunked, chunkValues: 20);
            return true;
        }, Cancel);
        (await File.ReadAllLinesAsync(chunked, Cancel)).ShouldBe(lines);
        lines.Skip(1).Select(line => line.Split(',')[^2]).ShouldBe(["1.0", "", "", "", "", "", "1.0", "0.0", "1.0", "0.0", "", "", "", "", ""],
            "numbers in every chunk, though most chunks have none");

        // One text outcome makes every outcome text, in every chunk alike (not 1.0 where a chunk had numbers only).
        await feedback.AddAsync([new Feedback("r1", "[\"virginica\", \"setosa\"]", null)], Cancel);
        await export.ExportFlatAsync("iris", null, null, "csv", csv, names, Cancel);
        lines = await File.ReadAllLinesAsync(csv, Cancel);
        lines.Skip(1).Select(line => line.Split(',')[^2]).Take(8).ShouldBe(["1", "virginica", "setosa", "", "", "", "true", "false"]);
        await export.QueryAsync("iris", null, null, connection =>
        {
            FlatPredictions.Write(connection, names, "csv", chunked, chunkValues: 20);
            return true;
        }, Cancel);
        (await File.ReadAllLinesAsync(chunked, Cancel)).ShouldBe(lines);
        var unnamed = PathIn("unnamed.parquet");
        await export.ExportFlatAsync("iris", null, null, "parquet", unnamed, null, Cancel);
        Query($"SELECT count(*) || ':' || sum(\"float_input[3]\") FROM read_parquet('{unnamed}')").ShouldBe([
            $"15:{Enumerable.Range(0, 5).Sum(i => Enumerable.Range(0, i + 1).Sum(row => (i * 100) + (row * 4) + 3)).ToString(CultureInfo.InvariantCulture)}.0"]);

        var wrong = await Should.ThrowAsync<TrackingException>(() => export.ExportFlatAsync("iris", null, null, "csv", PathIn("wrong.csv"),
            Ballast.Monitoring.WindowTable.ParseFeatureNames("""{"float_input": ["a", "b", "c"]}"""), Cancel));
        wrong.Code.ShouldBe(TrackingException.InvalidParameterValue);
        wrong.Message.ShouldBe("feature_names does not fit the logged inputs: 'float_input' has 4 value(s) a row, but feature_names gives it 3 name(s).");
        File.Exists(PathIn("wrong.csv")).ShouldBeFalse();
        var unknown = await Should.ThrowAsync<TrackingException>(() => export.ExportFlatAsync("iris", null, null, "csv", PathIn("unknown.csv"),
            Ballast.Monitoring.WindowTable.ParseFeatureNames("""{"features": ["a", "b", "c", "d"]}"""), Cancel));
        unknown.Message.ShouldBe("feature_names names 'features', which no logged request has as an input (its inputs: float_input).");
        var clash = await Should.ThrowAsync<TrackingException>(() => export.ExportFlatAsync("iris", null, null, "csv", PathIn("clash.csv"),
            Ballast.Monitoring.WindowTable.ParseFeatureNames("""{"float_input": ["Timestamp", "b", "output_label", "d"]}"""), Cancel));
        clash.Message.ShouldBe("The flat layout cannot give every value a column of its own: input column 'Timestamp' has the name of the export's own column 'timestamp' " +
            "(name the tensor's columns with feature_names); output column 'output_label' has the name of input column 'output_label'.");
        Should.Throw<TrackingException>(() => Ballast.Monitoring.WindowTable.ParseFeatureNames("""{"float_input": "a"}""")).Message
            .ShouldBe("""feature_names must map input tensors to lists of column names ({"features": ["age", "income"]}), not {"float_input": "a"}""");

        // An empty range is a file with the columns that do not depend on the model.
        var empty = PathIn("empty.csv");
        await export.ExportFlatAsync("iris", 0, 1, "csv", empty, names, Cancel);
        (await File.ReadAllLinesAsync(empty, Cancel)).ShouldBe(["prediction_id,row,timestamp,variant,model,outcome,reward"]);
    }

    private static List<string> Query(string sql)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!);
        }

        return values;
    }
}

public sealed class SqliteFlatPredictionExportTests() : FlatPredictionExportTests(DatabaseEngine.Sqlite);

public sealed class PostgresFlatPredictionExportTests() : FlatPredictionExportTests(DatabaseEngine.Postgres);
