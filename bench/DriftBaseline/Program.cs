using System.Globalization;
using DuckDB.NET.Data;

// bench/drift/run.sh's helper, two modes:
//   generate DIR ROWS_REF ROWS_CUR   seeded Parquet files DIR/reference.parquet and DIR/current.parquet: 15 numerical
//                                    columns (x0..x14, normal, some shifted in current) and 5 categorical (c0..c4).
//   histograms REF CUR               the baseline: DuckDB computing just the histograms PSI needs (Sturges bins over
//                                    both files for each numerical column, counts per value for each categorical),
//                                    with the same reader settings as `ballast drift`, printing one line per column.
if (args.Length >= 4 && args[0] == "generate")
{
    Generate(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
}
else if (args.Length >= 3 && args[0] == "histograms")
{
    Histograms(args[1], args[2]);
}
else
{
    Console.Error.WriteLine("usage: DriftBaseline generate DIR ROWS_REF ROWS_CUR | histograms REF CUR");
    return 2;
}

return 0;

static void Generate(string folder, int referenceRows, int currentRows)
{
    Directory.CreateDirectory(folder);
    using var connection = new DuckDBConnection("Data Source=:memory:");
    connection.Open();
    foreach (var (name, rows, seed, shifted) in new[] { ("reference", referenceRows, 1, false), ("current", currentRows, 2, true) })
    {
        var columns = string.Join(", ", Enumerable.Range(0, 15).Select(i => $"x{i} DOUBLE").Concat(Enumerable.Range(0, 5).Select(i => $"c{i} VARCHAR")));
        Execute(connection, $"CREATE OR REPLACE TABLE t ({columns})");
        var random = new Random(seed);
        using (var appender = connection.CreateAppender("t"))
        {
            for (var r = 0; r < rows; r++)
            {
                var row = appender.CreateRow();
                for (var i = 0; i < 15; i++)
                {
                    // Columns 0-4 shift by 0.2 sd in the current data; the rest keep their distribution.
                    var value = (Normal(random) * (1 + i)) + (i * 10) + (shifted && i < 5 ? 0.2 * (1 + i) : 0);
                    row.AppendValue(i % 3 == 2 ? Math.Round(value, 2) : value);
                }

                for (var i = 0; i < 5; i++)
                {
                    var categories = 3 + (i * 5);
                    var u = random.NextDouble();
                    var k = shifted && i == 0 ? (int)(Math.Sqrt(u) * categories) : (int)(u * categories);
                    row.AppendValue($"cat{i}_{k}");
                }

                row.EndRow();
            }
        }

        Execute(connection, $"COPY t TO '{Path.Combine(folder, name + ".parquet")}' (FORMAT parquet)");
    }
}

static void Histograms(string reference, string current)
{
    using var connection = new DuckDBConnection("Data Source=:memory:");
    connection.Open();
    Execute(connection, $"SET memory_limit = '512MB'; SET threads = {Environment.ProcessorCount}; SET preserve_insertion_order = false;");
    Execute(connection, $"CREATE VIEW r AS SELECT * FROM read_parquet('{reference}')");
    Execute(connection, $"CREATE VIEW c AS SELECT * FROM read_parquet('{current}')");
    var numerical = new List<string>();
    var categorical = new List<string>();
    using (var command = connection.CreateCommand())
    {
        command.CommandText = "DESCRIBE r";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            (reader.GetString(1) == "VARCHAR" ? categorical : numerical).Add(reader.GetString(0));
        }
    }

    // Range and count of every numerical column over both files: one pass per file.
    var ranges = numerical.ToDictionary(name => name, _ => (Min: double.PositiveInfinity, Max: double.NegativeInfinity, Count: 0L));
    foreach (var table in new[] { "r", "c" })
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT " + string.Join(", ", numerical.Select(name => $"min({name}), max({name}), count({name})")) + $" FROM {table}";
        using var reader = command.ExecuteReader();
        reader.Read();
        for (var i = 0; i < numerical.Count; i++)
        {
            var (min, max, count) = ranges[numerical[i]];
            ranges[numerical[i]] = (Math.Min(min, reader.GetDouble(3 * i)), Math.Max(max, reader.GetDouble((3 * i) + 1)), count + reader.GetInt64((3 * i) + 2));
        }
    }

    // Sturges bins (numpy's rule) and per-value counts, one grouped query per file.
    var parts = new List<string>();
    foreach (var name in numerical)
    {
        var (min, max, count) = ranges[name];
        var bins = (int)Math.Ceiling((max - min) / ((max - min) / (Math.Log2(count) + 1)));
        // DOUBLE literals: a bare 21.68171263405234 is a DECIMAL to DuckDB, and its range check fails on wide data.
        var (lo, hi) = (min.ToString("R", CultureInfo.InvariantCulture) + "::DOUBLE", max.ToString("R", CultureInfo.InvariantCulture) + "::DOUBLE");
        parts.Add($"SELECT '{name}' AS col, least(greatest(floor(({name} - {lo}) / ({hi} - {lo}) * {bins}), 0), {bins - 1})::VARCHAR AS k, count(*) AS n FROM {{0}} WHERE {name} IS NOT NULL GROUP BY k");
    }

    parts.AddRange(categorical.Select(name => $"SELECT '{name}' AS col, {name} AS k, count(*) AS n FROM {{0}} WHERE {name} IS NOT NULL GROUP BY k"));
    foreach (var table in new[] { "r", "c" })
    {
        using var command = connection.CreateCommand();
        command.CommandText = string.Join(" UNION ALL ", parts.Select(part => string.Format(CultureInfo.InvariantCulture, part, table)));
        using var reader = command.ExecuteReader();
        var cells = 0;
        while (reader.Read())
        {
            cells++;
        }

        Console.WriteLine($"{table}: {cells} histogram cells over {numerical.Count} numerical and {categorical.Count} categorical columns");
    }
}

static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

static void Execute(DuckDBConnection connection, string sql)
{
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    command.ExecuteNonQuery();
}
