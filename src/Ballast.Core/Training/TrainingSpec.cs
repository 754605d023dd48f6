using System.Globalization;

namespace Ballast.Training;

/// <summary>
/// What <see cref="ModelTrainer"/> trains: the label and task, the trainer and its hyperparameters by name, and how
/// the file's columns become features. Every column but the label, <see cref="Exclude"/> and timestamps is a feature:
/// numbers as they are (missing values replaced by the column's mean), booleans as 0/1, strings one-hot encoded
/// (hashed into 2^<see cref="HashBits"/> slots when they have more than <see cref="MaxOneHotCategories"/> values) and
/// <see cref="TextColumns"/> as bags of words and character n-grams.
/// </summary>
public sealed record TrainingSpec
{
    public required string Label { get; init; }

    /// <summary>binary, multiclass or regression (<see cref="TrainingTasks"/>).</summary>
    public string Task { get; init; } = TrainingTasks.Binary;

    /// <summary>fasttree, lightgbm, sdca or logistic_regression (<see cref="TrainerNames"/>).</summary>
    public string Trainer { get; init; } = TrainerNames.FastTree;

    /// <summary>By name (num_trees, num_leaves, learning_rate, min_examples_per_leaf, l1, l2, max_iterations); which a trainer takes: <see cref="TrainerNames.Hyperparameters"/>.</summary>
    public IReadOnlyDictionary<string, double> Hyperparameters { get; init; } = new Dictionary<string, double>();

    /// <summary>String columns holding free text (FeaturizeText) rather than categories.</summary>
    public IReadOnlyList<string> TextColumns { get; init; } = [];

    /// <summary>Columns that are not features (identifiers, the segment, leaks).</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>The MLContext seed: the same seed, data and spec give the same model.</summary>
    public int Seed { get; init; }

    public int MaxOneHotCategories { get; init; } = TrainingConstants.MaxOneHotCategories;

    public int HashBits { get; init; } = TrainingConstants.HashBits;

    /// <summary>Every problem of the spec, or none (columns are checked against the file when training).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Label))
        {
            problems.Add("label must name the label column");
        }

        if (!TrainingTasks.All.Contains(Task))
        {
            problems.Add($"task '{Task}' is not one of {string.Join(", ", TrainingTasks.All)}");
        }

        if (!TrainerNames.Hyperparameters.TryGetValue(Trainer, out var accepted))
        {
            problems.Add($"trainer '{Trainer}' is not one of {string.Join(", ", TrainerNames.Hyperparameters.Keys)}");
        }
        else
        {
            if (Trainer == TrainerNames.LogisticRegression && Task == TrainingTasks.Regression)
            {
                problems.Add("trainer logistic_regression classifies; for regression use sdca, fasttree or lightgbm");
            }

            foreach (var (name, value) in Hyperparameters)
            {
                if (!accepted.Contains(name))
                {
                    problems.Add($"hyperparameter '{name}' is not one {Trainer} takes ({string.Join(", ", accepted)})");
                }
                else if (TrainerNames.WholeNumbers.Contains(name) && (value < 1 || value != Math.Floor(value) || value > int.MaxValue))
                {
                    problems.Add($"hyperparameter '{name}' must be a whole number of at least 1, not {value.ToString(CultureInfo.InvariantCulture)}");
                }
                else if (!double.IsFinite(value) || value < 0 || (name == "learning_rate" && value == 0))
                {
                    problems.Add($"hyperparameter '{name}' must be a finite number above {(name == "learning_rate" ? "0" : "or equal to 0")}, not {value.ToString(CultureInfo.InvariantCulture)}");
                }
            }
        }

        if (Exclude.Contains(Label) || TextColumns.Contains(Label))
        {
            problems.Add($"the label '{Label}' cannot be excluded or declared as text");
        }

        foreach (var text in TextColumns.Where(Exclude.Contains))
        {
            problems.Add($"column '{text}' is declared as text and excluded");
        }

        if (MaxOneHotCategories < 1)
        {
            problems.Add($"max_one_hot_categories must be at least 1, not {MaxOneHotCategories}");
        }

        if (HashBits is < 1 or > 24)
        {
            problems.Add($"hash_bits must be between 1 and 24, not {HashBits}");
        }

        return problems;
    }
}

/// <summary>The built-in trainers and the hyperparameters each takes.</summary>
public static class TrainerNames
{
    public const string FastTree = "fasttree";
    public const string LightGbm = "lightgbm";
    public const string Sdca = "sdca";
    public const string LogisticRegression = "logistic_regression";

    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Hyperparameters { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        [FastTree] = ["num_trees", "num_leaves", "learning_rate", "min_examples_per_leaf"],
        [LightGbm] = ["num_trees", "num_leaves", "learning_rate", "min_examples_per_leaf", "l1", "l2"],
        [Sdca] = ["l1", "l2", "max_iterations"],
        [LogisticRegression] = ["l1", "l2", "max_iterations"],
    };

    public static IReadOnlySet<string> WholeNumbers { get; } = new HashSet<string>(StringComparer.Ordinal) { "num_trees", "num_leaves", "min_examples_per_leaf", "max_iterations" };
}

/// <summary>Defaults of the training library, with the reason for each.</summary>
public static class TrainingConstants
{
    /// <summary>One-hot vectors wider than this make linear models slow and trees sparse; above it, strings are hashed.</summary>
    public const int MaxOneHotCategories = 100;

    /// <summary>4096 hash slots: few collisions for the thousands of values a high-cardinality column has.</summary>
    public const int HashBits = 12;

    /// <summary>Ten equal-width bins, the usual reliability diagram (Guo et al. 2017).</summary>
    public const int CalibrationBins = 10;
}
