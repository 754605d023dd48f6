using Ballast.Monitoring.Quality;
using Ballast.Statistics.Performance;

namespace Ballast.Monitoring;

/// <summary>Checks the spec's quality, estimated, fairness and multivariate sections (every problem, each naming its field).</summary>
internal static class MonitorHookValidation
{
    public const string Reconstruction = "reconstruction";
    public const string DomainClassifier = "domain_classifier";

    public static void Validate(MonitorSpec spec, List<string> problems)
    {
        if (spec.Quality is { } quality)
        {
            if (quality.Suite is not null && quality.FromEndpoint is true)
            {
                problems.Add("quality: give a suite or from_endpoint: true, not both");
            }

            if (quality.Enabled is false && (quality.Suite is not null || quality.FromEndpoint is true))
            {
                problems.Add("quality: enabled: false turns data quality off; leave out the suite and from_endpoint");
            }

            problems.AddRange((quality.Suite?.Validate() ?? []).Select(problem => ExpectationSuite.Under("quality.suite", problem)));
        }

        if (spec.Estimated is { } estimated)
        {
            var multiclass = estimated.Classes is not null;
            if (string.IsNullOrEmpty(estimated.ProbabilityOutput))
            {
                problems.Add(multiclass
                    ? "estimated.probability_output: name the model's [N, C] output with the probability of each class"
                    : "estimated.probability_output: name the model's output with the probability of the positive class");
            }

            if (multiclass)
            {
                var classes = estimated.Classes!;
                if (classes.Count < 2 || classes.Any(string.IsNullOrEmpty) || classes.Distinct(StringComparer.Ordinal).Count() != classes.Count)
                {
                    problems.Add("estimated.classes: name at least 2 distinct classes, in the order of the probability output's columns");
                }

                if (estimated.PositiveClass is not null)
                {
                    problems.Add("estimated: give positive_class (binary) or classes (multiclass), not both");
                }

                if (estimated.Threshold is not null)
                {
                    problems.Add("estimated.threshold: a multiclass model predicts its most probable class; leave the threshold out");
                }
            }
            else if (string.IsNullOrEmpty(estimated.PositiveClass))
            {
                problems.Add("estimated.positive_class: name the positive class (as the labels of feedback and of the reference write it, such as 1 or true)");
            }

            if (estimated.Threshold is { } threshold && !(threshold is >= 0 and <= 1))
            {
                problems.Add($"estimated.threshold {threshold} must be between 0 and 1");
            }

            if (estimated.Label is "")
            {
                problems.Add("estimated.label: name the reference dataset's label column (or leave it out for 'label')");
            }

            if (ConfusionNormalizations.Parse(estimated.NormalizeConfusionMatrix) is null)
            {
                problems.Add($"estimated.normalize_confusion_matrix '{estimated.NormalizeConfusionMatrix}' is not one of {string.Join(", ", ConfusionNormalizations.Names)} " +
                    "(NannyML's: by the true class's row, the predicted class's column, or all rows); leave it out for expected counts");
            }
        }

        if (spec.Fairness is { } fairness)
        {
            if (fairness.Sensitive is not null && fairness.SensitiveFeatures is not null)
            {
                problems.Add("fairness: give sensitive (one column) or sensitive_features (the columns whose combinations are the groups), not both");
            }
            else if (fairness.SensitiveFeatures is { } features)
            {
                if (features.Count is 0 or > MonitorFairness.MaxSensitiveFeatures || features.Any(string.IsNullOrEmpty))
                {
                    problems.Add($"fairness.sensitive_features: name 1 to {MonitorFairness.MaxSensitiveFeatures} input columns");
                }
                else if (features.Distinct(StringComparer.Ordinal).Count() < features.Count)
                {
                    problems.Add($"fairness.sensitive_features: a column is named twice ({string.Join(", ", features)})");
                }
            }
            else if (string.IsNullOrEmpty(fairness.Sensitive))
            {
                problems.Add("fairness.sensitive: name the input column whose groups are compared (or sensitive_features for several)");
            }

            if (fairness.MaxGroups is < 1 or > MonitorFairness.MaxMaxGroups)
            {
                problems.Add($"fairness.max_groups {fairness.MaxGroups} must be between 1 and {MonitorFairness.MaxMaxGroups}");
            }

            if (string.IsNullOrEmpty(fairness.PositiveClass))
            {
                problems.Add("fairness.positive_class: name the favourable predicted label (such as 1 or true)");
            }
        }

        if (spec.Multivariate is { } multivariate)
        {
            if (multivariate.Method is not (Reconstruction or DomainClassifier))
            {
                problems.Add($"multivariate.method '{multivariate.Method}' is not reconstruction or domain_classifier");
            }
            else if (multivariate.Threshold is { } threshold)
            {
                if (multivariate.Method == Reconstruction)
                {
                    problems.Add("multivariate.threshold: reconstruction alerts outside the band the reference sets; give a threshold only for domain_classifier");
                }
                else if (!(threshold is > 0.5 and <= 1))
                {
                    problems.Add($"multivariate.threshold {threshold} must be above 0.5 and at most 1 (the ROC AUC above which the window drifted)");
                }
            }
        }
    }
}
