namespace Ballast.Monitoring.Quality;

/// <summary>How expectations are inferred from reference data.</summary>
public sealed record InferenceOptions
{
    /// <summary>Ranges are widened by this share of (max − min) on each side; 0 keeps the reference's own range.</summary>
    public double Margin { get; init; }

    /// <summary>Text and boolean columns with at most this many distinct values get an <c>allowed</c> list.</summary>
    public int MaxCategories { get; init; } = QualityDefaults.MaxCategories;

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!(Margin >= 0 && double.IsFinite(Margin)))
        {
            problems.Add($"--margin {Margin} must be 0 or more");
        }

        if (MaxCategories < 0)
        {
            problems.Add($"--max-categories {MaxCategories} must be 0 or more");
        }

        return problems;
    }
}
