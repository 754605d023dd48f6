namespace Ballast.Statistics.Drift;

/// <summary>One method's verdicts over the columns it was computed for.</summary>
public sealed record MethodDriftSummary(string Method, int Features, int DriftedFeatures, double DriftShare, bool DatasetDrift);
