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

            problems.AddRange((quality.Suite?.Validate() ?? []).Select(problem => "quality.suite." + problem));
        }

        if (spec.Estimated is { } estimated)
        {
            if (string.IsNullOrEmpty(estimated.ProbabilityOutput))
            {
                problems.Add("estimated.probability_output: name the model's output with the probability of the positive class");
            }

            if (string.IsNullOrEmpty(estimated.PositiveClass))
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
        }

        if (spec.Fairness is { } fairness)
        {
            if (string.IsNullOrEmpty(fairness.Sensitive))
            {
                problems.Add("fairness.sensitive: name the input column whose groups are compared");
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
