namespace Ballast.Monitoring.Quality;

/// <summary>Defaults of expectation inference, with their reasons.</summary>
public static class QualityDefaults
{
    /// <summary>A column with more distinct values than this is free text or an identifier, not a category (Evidently's categorical cut-off is similar).</summary>
    public const int MaxCategories = 20;
}
