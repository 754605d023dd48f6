using Ballast.Training;

namespace Ballast.Tests.Training;

public sealed class DataSplitterTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ballast-split-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_random_split_puts_every_row_in_exactly_one_part_in_file_order()
    {
        var input = TrainingData.Binary(_folder, "loans.csv", 1000, seed: 1);

        var split = DataSplitter.Split(input, Path.Combine(_folder, "out"), new SplitSpec { TrainFraction = 0.6, ValidationFraction = 0.2, Seed = 7 });

        (split.TrainRows, split.ValidationRows, split.HoldoutRows).ShouldBe((600L, 200L, 200L));
        var train = Ids(split.TrainPath);
        var validation = Ids(split.ValidationPath!);
        var holdout = Ids(split.HoldoutPath);
        train.Intersect(validation).ShouldBeEmpty();
        train.Intersect(holdout).ShouldBeEmpty();
        validation.Intersect(holdout).ShouldBeEmpty();
        train.Concat(validation).Concat(holdout).Order(StringComparer.Ordinal).ShouldBe(Ids(input).Order(StringComparer.Ordinal));
        train.ShouldBe(train.Order(StringComparer.Ordinal).ToList(), "rows keep the file's order (ids increase)");
    }

    [Fact]
    public void The_same_seed_gives_the_same_files_and_another_seed_other_ones()
    {
        var input = TrainingData.Binary(_folder, "loans.csv", 500, seed: 1);
        var spec = new SplitSpec { Seed = 42 };

        var first = DataSplitter.Split(input, Path.Combine(_folder, "a"), spec);
        var second = DataSplitter.Split(input, Path.Combine(_folder, "b"), spec);
        var other = DataSplitter.Split(input, Path.Combine(_folder, "c"), spec with { Seed = 43 });

        File.ReadAllBytes(second.TrainPath).ShouldBe(File.ReadAllBytes(first.TrainPath));
        File.ReadAllBytes(second.HoldoutPath).ShouldBe(File.ReadAllBytes(first.HoldoutPath));
        Ids(other.HoldoutPath).ShouldNotBe(Ids(first.HoldoutPath));
    }

    [Fact]
    public void A_stratified_split_keeps_each_class_share_in_every_part()
    {
        var input = TrainingData.Binary(_folder, "loans.csv", 1000, seed: 1);

        var split = DataSplitter.Split(input, Path.Combine(_folder, "out"), new SplitSpec { TrainFraction = 0.5, ValidationFraction = 0.25, StratifyBy = SyntheticLoans.Label, Seed = 3 });

        var overall = Share(input);
        foreach (var part in new[] { split.TrainPath, split.ValidationPath!, split.HoldoutPath })
        {
            // Each class is split by the fractions rounded down, so a part's share is within a row or two of the whole's.
            Share(part).ShouldBe(overall, 0.01, part);
        }
    }

    [Fact]
    public void A_time_split_sends_the_oldest_rows_to_train_and_the_newest_to_holdout()
    {
        var input = TrainingData.Binary(_folder, "loans.csv", 100, seed: 1);
        var shuffled = Path.Combine(_folder, "shuffled.csv");
        var lines = File.ReadAllLines(input);
        File.WriteAllLines(shuffled, [lines[0], .. lines[1..].OrderBy(line => line.GetHashCode(StringComparison.Ordinal))]);

        var split = DataSplitter.Split(shuffled, Path.Combine(_folder, "out"), new SplitSpec { TrainFraction = 0.7, ValidationFraction = 0.1, TimeColumn = SyntheticLoans.TimeColumn });

        var train = Times(split.TrainPath);
        var validation = Times(split.ValidationPath!);
        var holdout = Times(split.HoldoutPath);
        (train.Count, validation.Count, holdout.Count).ShouldBe((70, 10, 20));
        train.Max().ShouldBeLessThan(validation.Min());
        validation.Max().ShouldBeLessThan(holdout.Min());
    }

    [Fact]
    public void Parquet_in_gives_parquet_out_and_no_validation_file_when_its_fraction_is_zero()
    {
        var csv = TrainingData.Binary(_folder, "loans.csv", 200, seed: 1);
        var parquet = Path.Combine(_folder, "loans.parquet");
        using (var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"COPY (SELECT * FROM read_csv('{csv}')) TO '{parquet}' (FORMAT PARQUET)";
            command.ExecuteNonQuery();
        }

        var split = DataSplitter.Split(parquet, Path.Combine(_folder, "out"), new SplitSpec { TrainFraction = 0.8, ValidationFraction = 0, Seed = 1 });

        Path.GetFileName(split.TrainPath).ShouldBe("train.parquet");
        split.ValidationPath.ShouldBeNull();
        (split.TrainRows, split.ValidationRows, split.HoldoutRows).ShouldBe((160L, 0L, 40L));
        File.Exists(Path.Combine(_folder, "out", "validation.parquet")).ShouldBeFalse();
    }

    [Fact]
    public void An_invalid_split_lists_every_problem_and_an_unknown_column_is_named()
    {
        var input = TrainingData.Binary(_folder, "loans.csv", 50, seed: 1);

        Should.Throw<TrainingInputException>(() => DataSplitter.Split(input, _folder, new SplitSpec { TrainFraction = 0.9, ValidationFraction = 0.2, StratifyBy = "a", TimeColumn = "b" }))
            .Message.ShouldBe("Invalid split: train_fraction + validation_fraction must leave a holdout (below 1), not 1.1; stratify_by and time_column cannot be combined: a time split orders rows by time alone.");
        Should.Throw<TrainingInputException>(() => DataSplitter.Split(input, _folder, new SplitSpec { StratifyBy = "label" }))
            .Message.ShouldBe("stratify_by names the column 'label', which is not in the input file");
        Should.Throw<TrainingInputException>(() => DataSplitter.Split(Path.Combine(_folder, "none.csv"), _folder, new SplitSpec()))
            .Message.ShouldBe($"there is no input file at {Path.Combine(_folder, "none.csv")}");
    }

    private static List<string> Ids(string path) => Column(path, 0);

    private static List<DateTime> Times(string path) => Column(path, 1).Select(value => DateTime.Parse(value, System.Globalization.CultureInfo.InvariantCulture)).ToList();

    private static double Share(string path)
    {
        var labels = Column(path, 10);
        return labels.Count(label => label == "true") / (double)labels.Count;
    }

    private static List<string> Column(string path, int index) => File.ReadAllLines(path).Skip(1).Select(line => line.Split(',')[index]).ToList();
}
