namespace Ballast.Training;

/// <summary>The kinds of model the built-in trainer makes, by their spec names.</summary>
public static class TrainingTasks
{
    public const string Binary = "binary";
    public const string Multiclass = "multiclass";
    public const string Regression = "regression";

    public static IReadOnlyList<string> All { get; } = [Binary, Multiclass, Regression];
}
