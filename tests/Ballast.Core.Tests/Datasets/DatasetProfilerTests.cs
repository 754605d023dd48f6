using System.IO.Compression;
using Ballast.Datasets;
using DuckDB.NET.Data;

namespace Ballast.Tests.Datasets;

/// <summary>
/// Profiles of real data: carData's Davis survey (fixtures/davis.csv, 200 rows, 17 missing reported weights).
/// Expected values computed independently with Python's statistics module (mean, stdev, and
/// quantiles(method='inclusive'), which is numpy's default linear interpolation) over the same file.
/// </summary>
public sealed class DatasetProfilerTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("ballast-profile-test-");
    private readonly DatasetProfiler _profiler = new(memoryLimitMegabytes: 256);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void A_csv_is_profiled_column_by_column()
    {
        var profile = _profiler.Profile(TestServices.Fixture("davis.csv"), "davis.csv", Cancel);

        profile.Error.ShouldBeNull();
        profile.Format.ShouldBe("csv");
        profile.Rows.ShouldBe(200);
        profile.Columns.Select(column => column.Name).ShouldBe(["rownames", "sex", "weight", "height", "repwt", "repht"]);

        var weight = profile.Columns.Single(column => column.Name == "weight");
        weight.Kind.ShouldBe("numeric");
        weight.Nulls.ShouldBe(0);
        weight.Distinct.ShouldBe(54);
        weight.Min.ShouldBe(39);
        weight.Max.ShouldBe(166);
        weight.Mean!.Value.ShouldBe(65.8, 1e-9);
        weight.Std!.Value.ShouldBe(15.095008992458801, 1e-9);
        weight.Quantiles!["p05"].ShouldBe(48.95, 1e-9);
        weight.Quantiles["p25"].ShouldBe(55);
        weight.Quantiles["p50"].ShouldBe(63);
        weight.Quantiles["p75"].ShouldBe(74);
        weight.Quantiles["p95"].ShouldBe(90, 1e-9);
        weight.Histogram!.Counts.ShouldBe([21, 90, 51, 27, 8, 1, 1, 0, 0, 1]);
        weight.Histogram.Edges.Count.ShouldBe(11);
        weight.Histogram.Edges[0].ShouldBe(39);
        weight.Histogram.Edges[^1].ShouldBe(166);

        var reported = profile.Columns.Single(column => column.Name == "repwt");
        reported.Nulls.ShouldBe(17);
        reported.Count.ShouldBe(183);
        reported.Mean!.Value.ShouldBe(65.62295081967213, 1e-9);
        reported.Std!.Value.ShouldBe(13.776669162858006, 1e-9);
        reported.Quantiles!["p75"].ShouldBe(73.5, 1e-9);
        reported.Histogram!.Counts.ShouldBe([10, 52, 40, 36, 23, 11, 6, 4, 0, 1]);

        var sex = profile.Columns.Single(column => column.Name == "sex");
        sex.Kind.ShouldBe("categorical");
        sex.Distinct.ShouldBe(2);
        sex.TopValues.ShouldBe([new ValueCount("F", 112), new ValueCount("M", 88)]);
        sex.OtherCount.ShouldBe(0);
        sex.Mean.ShouldBeNull();
    }

    [Fact]
    public void Parquet_and_gzipped_tsv_give_the_same_statistics_as_the_csv()
    {
        var parquet = Path.Combine(_folder.FullName, "davis.parquet");
        var tsv = Path.Combine(_folder.FullName, "davis.tsv.gz");
        using (var duck = new DuckDBConnection("Data Source=:memory:"))
        {
            duck.Open();
            using var command = duck.CreateCommand();
            command.CommandText = $"COPY (SELECT * FROM read_csv('{TestServices.Fixture("davis.csv")}')) TO '{parquet}' (FORMAT parquet)";
            command.ExecuteNonQuery();
        }

        using (var output = new GZipStream(File.Create(tsv), CompressionLevel.Fastest))
        using (var writer = new StreamWriter(output))
        {
            foreach (var line in File.ReadLines(TestServices.Fixture("davis.csv")))
            {
                writer.WriteLine(line.Replace(',', '\t'));
            }
        }

        var expected = _profiler.Profile(TestServices.Fixture("davis.csv"), "davis.csv", Cancel);
        foreach (var (file, name, format) in new[] { (parquet, "data/davis.parquet", "parquet"), (tsv, "davis.tsv.gz", "tsv") })
        {
            var profile = _profiler.Profile(file, name, Cancel);
            profile.Error.ShouldBeNull(name);
            profile.Format.ShouldBe(format);
            profile.Rows.ShouldBe(200);
            profile.Columns.ShouldBe(expected.Columns, (IEqualityComparer<IReadOnlyList<ColumnProfile>>)new ProfileComparer(), name);
        }
    }

    [Fact]
    public void Dates_odd_column_names_and_id_like_text_are_profiled_as_such()
    {
        var csv = Path.Combine(_folder.FullName, "events.csv");
        File.WriteAllLines(csv, ["\"user \"\"id\"\"\",day,flag,amount", .. Enumerable.Range(0, 300).Select(i =>
            $"u{i},2026-01-{1 + (i % 28):00},{(i % 3 == 0 ? "true" : "false")},{(i % 10 == 0 ? "" : (i * 0.5).ToString(System.Globalization.CultureInfo.InvariantCulture))}")]);

        var profile = _profiler.Profile(csv, "events.csv", Cancel);

        profile.Error.ShouldBeNull();
        var id = profile.Columns[0];
        id.Name.ShouldBe("user \"id\"");
        id.Distinct.ShouldBe(300);
        id.TopValues!.Count.ShouldBe(DatasetProfiler.TopValueCount, "300 distinct values is still under the top-values limit");
        var day = profile.Columns[1];
        day.Kind.ShouldBe("datetime");
        day.Earliest.ShouldBe("2026-01-01");
        day.Latest.ShouldBe("2026-01-28");
        var flag = profile.Columns[2];
        flag.Kind.ShouldBe("boolean");
        flag.TopValues.ShouldBe([new ValueCount("false", 200), new ValueCount("true", 100)]);
        var amount = profile.Columns[3];
        amount.Nulls.ShouldBe(30);
        amount.Min.ShouldBe(0.5);
        amount.Max.ShouldBe(149.5);
    }

    [Fact]
    public void A_wide_csv_is_profiled_within_the_memory_limit_with_the_statistics_of_each_column_alone()
    {
        // 250 columns × 5,000 rows, seeded: profiling every column in one query ran DuckDB out of its 512 MiB (the exact
        // distinct counts' hash tables). At 50,000 rows loading the CSV did too, before any statistic (checked by hand: ~50 s here).
        var wide = Path.Combine(_folder.FullName, "wide.csv");
        WriteWideCsv(wide, columns: 250, rows: 5_000, seed: 7);
        var profiler = new DatasetProfiler(memoryLimitMegabytes: 512);

        var profile = profiler.Profile(wide, "wide.csv", Cancel);

        profile.Error.ShouldBeNull();
        profile.Rows.ShouldBe(5_000);
        profile.Columns.Count.ShouldBe(250);
        profile.Columns.Select(column => column.Kind).Distinct().Order().ShouldBe(["categorical", "numeric"]);
        // The same statistics as a file of a few of its columns alone (profiled as before, in one query).
        var some = Path.Combine(_folder.FullName, "some.csv");
        int[] picked = [0, 1, 2, 3, 4, 249];
        File.WriteAllLines(some, File.ReadLines(wide).Select(line => string.Join(',', picked.Select(c => line.Split(',')[c]))));
        var alone = profiler.Profile(some, "some.csv", Cancel);
        alone.Error.ShouldBeNull();
        profile.Columns.Where((_, c) => picked.Contains(c)).ToList().ShouldBe(alone.Columns, (IEqualityComparer<IReadOnlyList<ColumnProfile>>)new ProfileComparer());
        profile.Columns.Where(column => column.Kind == "numeric").ShouldAllBe(column => column.Histogram != null && column.Quantiles != null && column.Quantiles.Count == 5);
        profile.Columns.Where(column => column.Kind == "categorical" && column.Distinct <= DatasetProfiler.TopValuesDistinctLimit).ShouldAllBe(column => column.TopValues != null);
    }

    [Theory]
    [InlineData(6, 122_880)]
    [InlineData(20, 104_448)]
    [InlineData(250, 8192)]
    [InlineData(1000, 2048)]
    [InlineData(50_000, 2048)]
    public void A_wide_csv_is_loaded_in_shorter_row_groups(long columns, int rows) => DatasetProfiler.RowGroupRows(columns).ShouldBe(rows);

    /// <summary>Columns cycle through doubles (some missing), integers, low-cardinality text, high-cardinality text and a bounded double.</summary>
    private static void WriteWideCsv(string path, int columns, int rows, int seed)
    {
        var random = new Random(seed);
        using var writer = new StreamWriter(path);
        writer.WriteLine(string.Join(',', Enumerable.Range(0, columns).Select(c => $"c{c}")));
        var line = new System.Text.StringBuilder();
        for (var row = 0; row < rows; row++)
        {
            line.Clear();
            for (var c = 0; c < columns; c++)
            {
                if (c > 0)
                {
                    line.Append(',');
                }

                switch (c % 5)
                {
                    case 0: line.Append(random.Next(20) == 0 ? "" : (random.NextDouble() * 1000 - 500).ToString("R", System.Globalization.CultureInfo.InvariantCulture)); break;
                    case 1: line.Append(random.Next(-1_000_000, 1_000_000)); break;
                    case 2: line.Append("cat").Append(random.Next(40)); break;
                    case 3: line.Append("id-").Append(random.Next(1_000_000)); break;
                    default: line.Append((random.Next(10_000) / 100.0).ToString("R", System.Globalization.CultureInfo.InvariantCulture)); break;
                }
            }

            writer.WriteLine(line);
        }
    }

    [Fact]
    public void A_file_that_is_not_what_its_name_says_gets_an_error_instead_of_statistics()
    {
        var fake = Path.Combine(_folder.FullName, "fake.parquet");
        File.WriteAllText(fake, "this is not parquet");

        var profile = _profiler.Profile(fake, "fake.parquet", Cancel);

        profile.Rows.ShouldBe(0);
        profile.Columns.ShouldBeEmpty();
        profile.Error.ShouldNotBeNullOrWhiteSpace();
    }

    [Theory]
    [InlineData("a/b/train.csv", "csv")]
    [InlineData("train.CSV.gz", "csv")]
    [InlineData("x.tsv", "tsv")]
    [InlineData("part-0.parquet", "parquet")]
    [InlineData("model.onnx", null)]
    [InlineData("notes", null)]
    public void Formats_come_from_file_names(string path, string? format) => DatasetProfiler.FormatOf(path).ShouldBe(format);

    /// <summary>Column profiles compared by value, doubles within rounding (Parquet stores what the CSV reader parsed).</summary>
    private sealed class ProfileComparer : IEqualityComparer<IReadOnlyList<ColumnProfile>>
    {
        public bool Equals(IReadOnlyList<ColumnProfile>? x, IReadOnlyList<ColumnProfile>? y) =>
            x is not null && y is not null && x.Count == y.Count && x.Zip(y).All(pair => Same(pair.First, pair.Second));

        public int GetHashCode(IReadOnlyList<ColumnProfile> obj) => obj.Count;

        private static bool Same(ColumnProfile a, ColumnProfile b) =>
            a.Name == b.Name && a.Kind == b.Kind && a.Count == b.Count && a.Nulls == b.Nulls && a.Distinct == b.Distinct
            && Close(a.Min, b.Min) && Close(a.Max, b.Max) && Close(a.Mean, b.Mean) && Close(a.Std, b.Std)
            && (a.Quantiles ?? new Dictionary<string, double>()).Count == (b.Quantiles ?? new Dictionary<string, double>()).Count
            && (a.Quantiles ?? new Dictionary<string, double>()).All(pair => b.Quantiles!.TryGetValue(pair.Key, out var other) && Close(pair.Value, other))
            && (a.Histogram?.Counts ?? []).SequenceEqual(b.Histogram?.Counts ?? [])
            && (a.TopValues ?? []).SequenceEqual(b.TopValues ?? []);

        // Relative: sums over a column in another order (another scan, another file format) differ in the last digits.
        private static bool Close(double? a, double? b) =>
            a is null ? b is null : b is not null && Math.Abs(a.Value - b.Value) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(a.Value), Math.Abs(b.Value)));
    }
}
