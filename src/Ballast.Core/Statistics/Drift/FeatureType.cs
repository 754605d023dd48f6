namespace Ballast.Statistics.Drift;

/// <summary>How a column's values are compared: as numbers on a line, or as unordered categories.</summary>
public enum FeatureType
{
    Numerical,
    Categorical,
}
