namespace Ballast.Statistics;

/// <summary>How a treatment is compared with its control.</summary>
public enum DifferenceType
{
    /// <summary>(treatment − control) / control: the lift, 0.05 meaning 5 % better.</summary>
    Relative,

    /// <summary>treatment − control, in the metric's own unit.</summary>
    Absolute,
}
