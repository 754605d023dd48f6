using System.Globalization;
using Ballast.Storage;
using DuckDB.NET.Data;

namespace Ballast.Training;

/// <summary>
/// Splits a CSV or Parquet file into train, validation and holdout files of the same format (<c>train.csv</c>,
/// <c>validation.csv</c>, <c>holdout.csv</c> in the output folder), every row in exactly one part and in its original
/// order within it. Random splits shuffle row numbers with <c>new Random(seed)</c> (the same seed, file and fractions
/// give the same files); part sizes are the fractions of the row count rounded down, holdout taking the remainder.
/// A stratified split does this per class; a time split sorts by the time column (ties by file order).
/// </summary>
public static class DataSplitter
{
    public const string Train = "train";
    public const string Validation = "validation";
    public const string Holdout = "holdout";

    public static SplitResult Split(string inputPath, string outputFolder, SplitSpec spec)
    {
        ArgumentNullException.ThrowIfNull(inputPath);
        ArgumentNullException.ThrowIfNull(outputFolder);
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Validate() is { Count: > 0 } problems)
        {
            throw new TrainingInputException("Invalid split: " + ProblemList.Join(problems) + ".");
        }

        var format = TrainingFiles.FormatOf(inputPath, "input");
        using var connection = TrainingFiles.Open();
        TrainingFiles.Load(connection, inputPath, "input_rows", "input");
        var rows = TrainingFiles.Scalar<long>(connection, "SELECT count(*) FROM input_rows");
        if (rows < 3)
        {
            throw new TrainingInputException($"the input file {inputPath} has {rows} rows; a split needs at least 3");
        }

        var parts = spec.TimeColumn is { } time ? ByTime(connection, time, rows, spec)
            : spec.StratifyBy is { } label ? Stratified(connection, label, rows, spec)
            : Random(Enumerable.Range(0, checked((int)rows)).ToArray(), spec, new Random(spec.Seed));

        DuckDbSql.Execute(connection, "CREATE TABLE split_parts (row_number BIGINT, part VARCHAR)");
        using (var appender = connection.CreateAppender("split_parts"))
        {
            for (var row = 0; row < parts.Length; row++)
            {
                appender.CreateRow().AppendValue((long)row).AppendValue(parts[row]).EndRow();
            }
        }

        Directory.CreateDirectory(outputFolder);
        var extension = format == "parquet" ? ".parquet" : format == "tsv" ? ".tsv" : ".csv";
        var counts = new Dictionary<string, long>();
        string? Write(string part)
        {
            counts[part] = parts.LongCount(value => value == part);
            if (counts[part] == 0 && part == Validation)
            {
                return null;
            }

            var path = Path.Combine(outputFolder, part + extension);
            TrainingFiles.Write(connection, $"SELECT input_rows.* FROM input_rows JOIN split_parts ON input_rows.rowid = split_parts.row_number WHERE part = {DuckDbSql.Literal(part)} ORDER BY input_rows.rowid", path);
            return path;
        }

        var train = Write(Train)!;
        var validation = Write(Validation);
        var holdout = Write(Holdout)!;
        return new SplitResult(train, validation, holdout, counts[Train], counts[Validation], counts[Holdout]);
    }

    /// <summary>Shuffles <paramref name="rows"/> and gives the first to train, the next to validation, the rest to holdout.</summary>
    private static string[] Random(int[] rows, SplitSpec spec, Random random, string[]? parts = null)
    {
        parts ??= new string[rows.Length];
        random.Shuffle(rows);
        var train = (int)Math.Floor(rows.Length * spec.TrainFraction);
        var validation = (int)Math.Floor(rows.Length * spec.ValidationFraction);
        for (var i = 0; i < rows.Length; i++)
        {
            parts[rows[i]] = i < train ? Train : i < train + validation ? Validation : Holdout;
        }

        return parts;
    }

    private static string[] Stratified(DuckDBConnection connection, string label, long rows, SplitSpec spec)
    {
        Require(connection, label, "stratify_by");
        var classes = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT CAST({DuckDbSql.Identifier(label)} AS VARCHAR) FROM input_rows ORDER BY rowid";
            using var reader = command.ExecuteReader();
            var row = 0;
            while (reader.Read())
            {
                var value = reader.IsDBNull(0) ? "" : reader.GetString(0);
                if (!classes.TryGetValue(value, out var members))
                {
                    classes[value] = members = [];
                }

                members.Add(row++);
            }
        }

        var parts = new string[rows];
        var random = new Random(spec.Seed);
        foreach (var members in classes.Values)
        {
            var shuffled = members.ToArray();
            var local = new string[shuffled.Length];
            Random(Enumerable.Range(0, shuffled.Length).ToArray(), spec, random, local);
            for (var i = 0; i < shuffled.Length; i++)
            {
                parts[shuffled[i]] = local[i];
            }
        }

        return parts;
    }

    private static string[] ByTime(DuckDBConnection connection, string column, long rows, SplitSpec spec)
    {
        Require(connection, column, "time_column");
        var name = DuckDbSql.Identifier(column);
        var missing = TrainingFiles.Scalar<long>(connection, $"SELECT count(*) FROM input_rows WHERE {name} IS NULL");
        if (missing > 0)
        {
            throw new TrainingInputException($"the time column '{column}' is empty in {missing} rows; a time split needs a time on every row");
        }

        var order = new int[rows];
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT rowid FROM input_rows ORDER BY {name}, rowid";
            using var reader = command.ExecuteReader();
            var i = 0;
            while (reader.Read())
            {
                order[i++] = checked((int)Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
            }
        }

        var parts = new string[rows];
        var train = (int)Math.Floor(rows * spec.TrainFraction);
        var validation = (int)Math.Floor(rows * spec.ValidationFraction);
        for (var i = 0; i < order.Length; i++)
        {
            parts[order[i]] = i < train ? Train : i < train + validation ? Validation : Holdout;
        }

        return parts;
    }

    private static void Require(DuckDBConnection connection, string column, string option)
    {
        var found = TrainingFiles.Scalar<long>(connection, $"SELECT count(*) FROM information_schema.columns WHERE table_name = 'input_rows' AND column_name = {DuckDbSql.Literal(column)}");
        if (found == 0)
        {
            throw new TrainingInputException($"{option} names the column '{column}', which is not in the input file");
        }
    }
}
