namespace Ballast.Statistics.Performance;

/// <summary>The rates of a binary confusion matrix (<see cref="ClassificationMetrics.FromConfusion"/>).</summary>
public sealed record ConfusionRates(double Accuracy, double Precision, double Recall, double Specificity, double F1);
