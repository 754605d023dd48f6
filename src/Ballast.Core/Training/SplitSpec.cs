namespace Ballast.Training;

/// <summary>
/// How <see cref="DataSplitter"/> divides a file: fractions for train and validation (holdout gets the rest), a seed
/// for the random order, and optionally <see cref="StratifyBy"/> (keep each class's share in every part) or
/// <see cref="TimeColumn"/> (oldest rows train, newest holdout; no randomness).
/// </summary>
public sealed record SplitSpec
{
    public double TrainFraction { get; init; } = 0.7;

    public double ValidationFraction { get; init; } = 0.15;

    public int Seed { get; init; }

    /// <summary>A label column whose classes keep their proportions in every part (classification).</summary>
    public string? StratifyBy { get; init; }

    /// <summary>A timestamp (or numeric time) column: rows sorted by it, oldest to train, newest to holdout.</summary>
    public string? TimeColumn { get; init; }

    public double HoldoutFraction => 1 - TrainFraction - ValidationFraction;

    /// <summary>Every problem of the spec, or none.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!(TrainFraction > 0 && TrainFraction < 1))
        {
            problems.Add($"train_fraction must be between 0 and 1 (exclusive), not {TrainFraction}");
        }

        if (!(ValidationFraction >= 0 && ValidationFraction < 1))
        {
            problems.Add($"validation_fraction must be at least 0 and below 1, not {ValidationFraction}");
        }

        if (TrainFraction + ValidationFraction >= 1)
        {
            problems.Add($"train_fraction + validation_fraction must leave a holdout (below 1), not {TrainFraction + ValidationFraction}");
        }

        if (StratifyBy is not null && TimeColumn is not null)
        {
            problems.Add("stratify_by and time_column cannot be combined: a time split orders rows by time alone");
        }

        if (StratifyBy is { Length: 0 } || TimeColumn is { Length: 0 })
        {
            problems.Add("stratify_by and time_column must name a column when given");
        }

        return problems;
    }
}

/// <summary>The files a split wrote and their row counts; <see cref="ValidationPath"/> is null when the validation fraction is 0.</summary>
public sealed record SplitResult(string TrainPath, string? ValidationPath, string HoldoutPath, long TrainRows, long ValidationRows, long HoldoutRows);
