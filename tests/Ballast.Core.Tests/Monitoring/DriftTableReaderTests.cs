using Ballast.Monitoring;
using Ballast.Statistics.Drift;
using DuckDB.NET.Data;

namespace Ballast.Tests.Monitoring;

/// <summary>
/// <see cref="DriftTableReader"/> streams each column's sorted values from DuckDB instead of holding them: every method
/// must give the numbers the in-memory path gives (<see cref="DriftColumn.FromNumbers"/>, whose statistics are checked
/// against scipy and Evidently in the statistics tests), and several methods per column must come from one run.
/// </summary>
public sealed class DriftTableReaderTests : IDisposable
{
    private static readonly string[] NumericalMethods = ["ks", "wasserstein", "ed", "anderson", "cramer_von_mises", "hellinger", "psi", "jensenshannon", "t_test", "welch_t_test"];

    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-drift-reader-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Every_method_over_streamed_values_equals_the_in_memory_result()
    {
        var (reference, current, data) = Write(3000, 2000, seed: 7);

        var report = DriftTableReader.Compare(reference, current, new DriftOptions { Methods = [.. NumericalMethods, "chisquare"] }, TestContext.Current.CancellationToken);

        // smooth: nearly every value distinct (streamed as sorted rows); rounded: many repeats (streamed grouped).
        foreach (var name in new[] { "smooth", "rounded" })
        {
            var expected = DriftColumn.FromNumbers(name, data[name].Reference, data[name].Current);
            var results = report.Result.For(name).ToList();
            results.Select(result => result.Method).ShouldBe(NumericalMethods);
            foreach (var result in results)
            {
                var method = DriftMethods.Find(result.Method)!;
                result.ShouldBe(ColumnDriftDetector.Evaluate(expected, method), $"{name} {method.Name}");
            }
        }

        var plan = DriftColumn.FromCategories("plan", data["plan"].Reference.Select(Plan), data["plan"].Current.Select(Plan));
        report.Result.For("plan").Select(result => result.Method).ShouldBe(["hellinger", "psi", "jensenshannon", "chisquare"]);
        report.Result.For("plan").Last().ShouldBe(ColumnDriftDetector.Evaluate(plan, DriftMethods.ChiSquare));
    }

    [Fact]
    public void Several_methods_share_a_run_and_the_first_decides_each_columns_verdict()
    {
        var (reference, current, _) = Write(4000, 4000, seed: 11);
        var cancel = TestContext.Current.CancellationToken;

        var all = DriftTableReader.Compare(reference, current, new DriftOptions { Methods = ["psi", "ks", "chisquare"], Threshold = 0.2 }, cancel).Result;
        var psi = DriftTableReader.Compare(reference, current, new DriftOptions { Methods = ["psi"], Threshold = 0.2 }, cancel).Result;
        var tests = DriftTableReader.Compare(reference, current, new DriftOptions { Methods = ["ks", "chisquare"] }, cancel).Result;

        // PSI from DuckDB's histogram query (psi alone) and from the walk (with ks) bin every value alike.
        all.Features.ShouldBe(psi.Features);
        (all.DatasetDrift, all.DriftShare, all.DriftedFeatures).ShouldBe((psi.DatasetDrift, psi.DriftShare, psi.DriftedFeatures));
        all.Additional.ShouldBe(tests.Features);
        all.Additional.Select(result => result.Threshold).ShouldAllBe(threshold => threshold == 0.05);
        all.ByMethod.Select(method => (method.Method, method.Features)).ShouldBe([("psi", 3), ("ks", 2), ("chisquare", 1)]);
        all.ByMethod[1].DriftedFeatures.ShouldBe(tests.Features.Count(result => result.Method == "ks" && result.Drifted));
        psi.Additional.ShouldBeEmpty();
        psi.ByMethod.ShouldBeEmpty();
    }

    [Fact]
    public void A_column_too_large_for_one_sort_is_sorted_range_by_range_with_the_same_result()
    {
        var (reference, current, _) = Write(3000, 2000, seed: 13);
        var options = new DriftOptions { Methods = [.. NumericalMethods, "chisquare"] };
        var cancel = TestContext.Current.CancellationToken;

        var whole = DriftTableReader.Compare(reference, current, options, cancel);
        // 5000 values in ranges of about 700: 8 sorts per column, boundaries from sampled quantiles.
        var ranged = DriftTableReader.Compare(reference, current, options with { SortRangeRows = 700 }, cancel);

        ranged.Result.Features.ShouldBe(whole.Result.Features);
        ranged.Result.Additional.ShouldBe(whole.Result.Additional);
        ranged.Distributions.Select(Describe).ShouldBe(whole.Distributions.Select(Describe));
    }

    [Fact]
    public void Sort_ranges_have_a_size_set_by_the_memory_limit_whatever_the_rows()
    {
        // A quarter of the limit at 64 bytes a value: 512 MiB / 4 / 64. A column of 1 M values is one sort; of 10 M, five
        // sorts of about 2 M; of 30 M, fifteen: the same working set each time, so the peak does not grow with the rows.
        new DriftOptions().RowsPerSortRange.ShouldBe(2_097_152);
        new DriftOptions { MemoryLimitMegabytes = 256 }.RowsPerSortRange.ShouldBe(1_048_576);
        new DriftOptions { MemoryLimitMegabytes = DriftOptions.MinimumMemoryLimitMegabytes }.RowsPerSortRange.ShouldBe(262_144);
    }

    [Fact]
    public void DuckDB_gets_the_memory_limit_and_threads_spills_to_the_scratch_folder_and_caches_no_file()
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();

        DriftTableReader.Configure(connection, new DriftOptions { MemoryLimitMegabytes = 200, Threads = 1 }, _folder);

        // Not DuckDB's default (80% of the machine's memory): 200 MB as DuckDB counts them (10^6 bytes), shown in MiB.
        Setting(connection, "memory_limit").ShouldBe("190.7 MiB");
        Setting(connection, "threads").ShouldBe("1");
        Setting(connection, "temp_directory").ShouldBe(_folder);
        Setting(connection, "preserve_insertion_order").ShouldBe("false");
        // DuckDB's cache of Parquet bytes grows with the rows read (it is on by default).
        Setting(connection, "enable_external_file_cache").ShouldBe("false");
    }

    private static string Setting(DuckDBConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT current_setting('{name}')::VARCHAR";
        return (string)command.ExecuteScalar()!;
    }

    [Fact]
    public void A_method_named_twice_is_refused()
    {
        var (reference, current, _) = Write(50, 50, seed: 3);

        Should.Throw<DriftInputException>(() => DriftTableReader.Compare(reference, current, new DriftOptions { Methods = ["ks", "KS"] }, TestContext.Current.CancellationToken))
            .Message.ShouldBe("method 'ks' is given twice");
    }

    private static string Describe(FeatureDistribution distribution) =>
        $"{distribution.Name}: {string.Join(" ", distribution.Labels)} | {string.Join(" ", distribution.Reference.Select(share => share.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))} | "
        + string.Join(" ", distribution.Current.Select(share => share.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));

    private static string Plan(double code) => code switch
    {
        0 => "a",
        1 => "b",
        _ => "c",
    };

    /// <summary>Seeded Parquet files: smooth ~ N(0, 1) then N(0.2, 1); rounded, the same to 1 decimal; plan a/b/c (as codes 0-2 here), shifted.</summary>
    private (string Reference, string Current, Dictionary<string, (double[] Reference, double[] Current)> Data) Write(int referenceRows, int currentRows, int seed)
    {
        var random = new Random(seed);
        var data = new Dictionary<string, (double[] Reference, double[] Current)>(StringComparer.Ordinal);
        foreach (var name in new[] { "smooth", "rounded", "plan" })
        {
            data[name] = (new double[referenceRows], new double[currentRows]);
        }

        var paths = new List<string>();
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        foreach (var (side, rows, shift) in new[] { ("reference", referenceRows, 0.0), ("current", currentRows, 0.2) })
        {
            Execute(connection, "CREATE OR REPLACE TABLE t (smooth DOUBLE, rounded DOUBLE, plan VARCHAR)");
            using (var appender = connection.CreateAppender("t"))
            {
                for (var i = 0; i < rows; i++)
                {
                    var smooth = Normal(random) + shift;
                    var rounded = Math.Round(Normal(random) + shift, 1);
                    var code = random.NextDouble() < shift ? 2 : random.Next(3);
                    var reference = side == "reference";
                    (reference ? data["smooth"].Reference : data["smooth"].Current)[i] = smooth;
                    (reference ? data["rounded"].Reference : data["rounded"].Current)[i] = rounded;
                    (reference ? data["plan"].Reference : data["plan"].Current)[i] = code;
                    appender.CreateRow().AppendValue(smooth).AppendValue(rounded).AppendValue(Plan(code)).EndRow();
                }
            }

            var path = Path.Combine(_folder, $"{side}-{seed}.parquet");
            Execute(connection, $"COPY t TO '{path}' (FORMAT parquet)");
            paths.Add(path);
        }

        return (paths[0], paths[1], data);
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
