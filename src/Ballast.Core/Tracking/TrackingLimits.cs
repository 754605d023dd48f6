namespace Ballast.Tracking;

/// <summary>MLflow's limits (mlflow/utils/validation.py), enforced identically so clients see the same errors.</summary>
public static class TrackingLimits
{
    public const int MaxEntityKeyLength = 250;
    public const int MaxTagValueLength = 5000;
    public const int MaxExperimentNameLength = 500;
    public const int SearchMaxResultsDefault = 1000;
    public const int SearchMaxResultsThreshold = 50000;
}
