using System.Text.RegularExpressions;
using Ballast.Tracking;

namespace Ballast.Experiments;

/// <summary>
/// An A/B experiment on an endpoint's variants: the <see cref="Control"/> (default: the endpoint's first variant) against every
/// other variant, on a primary <see cref="Metric"/> from feedback, analysed by <see cref="Engine"/> at level
/// <see cref="Alpha"/>. <see cref="PlannedSamples"/> per variant is computed from <see cref="MinimumDetectableEffect"/>
/// (relative) when not given. <see cref="SecondaryMetrics"/> are reported beside the primary one, their p-values
/// adjusted together by <see cref="Correction"/>; <see cref="Cuped"/> adjusts the metrics with a pre-period covariate.
/// </summary>
public sealed record AbExperimentSpec(
    string Name,
    string? Endpoint,
    MetricSpec? Metric,
    string? Control = null,
    string? Engine = null,
    double? Alpha = null,
    double? MinimumDetectableEffect = null,
    long? PlannedSamples = null,
    IReadOnlyList<GuardrailSpec>? Guardrails = null,
    IReadOnlyList<MetricSpec>? SecondaryMetrics = null,
    string? Correction = null,
    CupedSpec? Cuped = null);

/// <summary>
/// CUPED's pre-period covariate, per routing key (the unit that exists before the experiment): with source <c>kpi</c>
/// the sum of the KPI <see cref="Name"/> recorded in the <see cref="Lookback"/> before the start for the key (posted by
/// routing key, or by the prediction id of one of its predictions); with <c>outcome</c> or <c>reward</c> the mean of
/// the numeric outcomes or rewards of the key's predictions in that period. A unit without a routing key or without
/// pre-period data has the covariate 0. With source <c>dataset</c> the covariate comes from a table outside Ballast (a
/// warehouse export registered as a dataset version): <see cref="Name"/> is the version (<c>customers@3</c>; a bare name
/// is pinned to the latest version when the experiment is created), the sum of <see cref="Column"/> over the rows whose
/// <see cref="Key"/> is the routing key; with <see cref="Timestamp"/> only the rows of the <see cref="Lookback"/> before the
/// start count, without it every row does (a table of pre-experiment values, one row per unit). With source <c>model</c>
/// (CUPAC) the covariate is a registered <see cref="Model"/>'s prediction: the dataset's rows scored by that version
/// (an alias is pinned to its version when the experiment is created), the sum of <see cref="Output"/> (<c>NAME</c> or
/// <c>NAME[k]</c>) over the rows whose key is the routing key; its inputs are read from columns named as monitors read
/// them (<see cref="FeatureNames"/> for [N, k] inputs, else <c>NAME[0]</c> …). With
/// <see cref="Covariates"/> instead (and none of the other fields), several covariates at once: regression adjustment.
/// </summary>
public sealed record CupedSpec(string? Source = null, string? Name = null, string? Lookback = null, string? Key = null, string? Column = null, string? Timestamp = null,
    IReadOnlyList<CupedSpec>? Covariates = null, string? Model = null, string? Output = null, IReadOnlyDictionary<string, IReadOnlyList<string>>? FeatureNames = null)
{
    public const string Dataset = "dataset";

    /// <summary>CUPAC: a model's prediction from a dataset's pre-experiment features.</summary>
    public const string ModelSource = "model";

    public const string DefaultLookback = "14d";

    /// <summary>The most covariates at once: each adds a join to the results query and k² sums, and more rarely remove more variance.</summary>
    public const int MaxCovariates = 10;

    /// <summary>The covariates adjusted for: the list of <see cref="Covariates"/>, or this one.</summary>
    public IReadOnlyList<CupedSpec> Each() => Covariates ?? [this];

    /// <summary>
    /// The covariate as results name it (methods, not properties: they are not fields of the spec's JSON): <c>kpi:spend</c>,
    /// <c>dataset:customers@3:spend_90d</c>, <c>model:ltv/3@customers@3:probabilities[1]</c> (the model version, the dataset
    /// version it scored, the output), <c>outcome</c> or <c>reward</c>.
    /// </summary>
    public string Covariate() => Source switch
    {
        MetricSpec.Kpi => $"kpi:{Name}",
        Dataset => $"dataset:{Name}:{Column}",
        ModelSource => $"model:{(Model is { } model && model.StartsWith("models:/", StringComparison.Ordinal) ? model["models:/".Length..] : Model)}@{Name}:{Output}",
        _ => Source!,
    };

    /// <summary>Whether the covariate is read from a pre-period before the start (a dataset without a timestamp is pre-experiment as a whole).</summary>
    public bool HasLookback() => Source is not (Dataset or ModelSource) || (Source == Dataset && Timestamp is not null);

    /// <summary>An output as <c>NAME</c> or <c>NAME[k]</c>: the output's name and the column index (null without one); null when it is neither.</summary>
    public static (string Name, int? Index)? ParseOutput(string? output)
    {
        if (string.IsNullOrEmpty(output))
        {
            return null;
        }

        if (!output.EndsWith(']'))
        {
            return output.Contains('[', StringComparison.Ordinal) ? null : (output, null);
        }

        var open = output.LastIndexOf('[');
        return open > 0 && int.TryParse(output.AsSpan(open + 1, output.Length - open - 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
            ? (output[..open], index)
            : null;
    }
}

/// <summary>
/// A limit no shipped variant may break: <c>latency_p99_ms</c> or <c>latency_mean_ms</c> (of its logged predictions) or
/// <c>error_rate</c> (server errors over requests, from every replica's traffic counters) at most <see cref="Max"/>;
/// or, with a <see cref="Source"/> (<c>kpi</c>, <c>outcome</c>, <c>reward</c>), a metric analysed as the primary one
/// is (<see cref="Type"/> binomial or mean), which a treatment breaks when it is significantly worse than the control:
/// lower, or higher when <see cref="Inverse"/> (lower is better, as for refunds or complaints).
/// </summary>
public sealed record GuardrailSpec(string? Metric, double? Max = null, string? Source = null, string? Type = null, bool? Inverse = null)
{
    public const string LatencyP99 = "latency_p99_ms";
    public const string LatencyMean = "latency_mean_ms";
    public const string ErrorRate = "error_rate";

    public static IReadOnlyList<string> Metrics { get; } = [LatencyP99, LatencyMean, ErrorRate];

    /// <summary>The metric a guardrail with a source analyses (the spec is validated first); null for a limit.</summary>
    public MetricSpec? AsMetric() => Source is null ? null : new MetricSpec(Metric, Type, Source);
}

/// <summary>
/// The primary metric: <c>binomial</c> (a unit converts when its feedback <c>outcome</c> is true or a positive number;
/// every prediction is a unit) or <c>mean</c> (the numeric <c>outcome</c> or the <c>reward</c> of the predictions that
/// got feedback), or with source <c>kpi</c> the values of the KPI named <see cref="Name"/> (posted to <c>/api/v1/kpis</c>).
/// </summary>
public sealed record MetricSpec(string? Name = null, string? Type = null, string? Source = null)
{
    public const string Binomial = "binomial";
    public const string Mean = "mean";
    public const string Outcome = "outcome";
    public const string Reward = "reward";
    public const string Kpi = "kpi";
}

/// <summary>
/// A stored experiment: its spec, when it started (only predictions from then on count), and how it ended: when data
/// collection stopped and by whom (results are computed over [start, stop] from then on, under the <see cref="Split"/>
/// it ran with), and the <see cref="Conclusion"/> that decided it.
/// </summary>
public sealed record StoredAbExperiment(AbExperimentSpec Spec, long StartedAt, long? StoppedAt = null, string? StoppedBy = null, ExperimentSplit? Split = null,
    AbExperimentConclusion? Conclusion = null)
{
    /// <summary><c>running</c>, <c>stopped</c> (no more data counts) or <c>concluded</c> (a decision is recorded).</summary>
    public string Status => Conclusion is not null ? AbExperimentStatuses.Concluded : StoppedAt is not null ? AbExperimentStatuses.Stopped : AbExperimentStatuses.Running;
}

public static class AbExperimentStatuses
{
    public const string Running = "running";
    public const string Stopped = "stopped";
    public const string Concluded = "concluded";
}

/// <summary>The endpoint's variants as the experiment saw them, in order, with their expected shares (null: a bandit, no sample-ratio check).</summary>
public sealed record ExperimentSplit(IReadOnlyList<string> Variants, IReadOnlyList<double>? Weights);

/// <summary>
/// The decision that concluded an experiment: the winning variant (null: no winner, keep things as they are), why, who
/// decided and when, whether all traffic was to go to the winner (<see cref="Apply"/>) and when the endpoint was
/// changed so (<see cref="AppliedAt"/>), and the results as they were at that moment.
/// </summary>
public sealed record AbExperimentConclusion(string? Winner, string Reason, bool Apply, long? AppliedAt, string ConcludedBy, long ConcludedAt, AbExperimentResults Results);

public static partial class AbExperimentValidation
{
    public const string Frequentist = "frequentist";
    public const string Sequential = "sequential";
    public const string Bayesian = "bayesian";
    public const double DefaultMinimumDetectableEffect = 0.1;

    public static IReadOnlyList<string> Engines { get; } = [Frequentist, Sequential, Bayesian];

    public const string Holm = "holm";
    public const string BenjaminiHochberg = "benjamini_hochberg";
    public const int MaxSecondaryMetrics = 20;

    /// <summary>The longest CUPED lookback: older data predicts this period's metric less, and the query reads every prediction in it.</summary>
    public static readonly TimeSpan MaxLookback = TimeSpan.FromDays(90);

    /// <summary>Checks a spec and fills its defaults (sequential engine, α 0.05, binomial metric on outcomes, MDE 10%).</summary>
    public static AbExperimentSpec Validate(AbExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<string>();
        if (string.IsNullOrEmpty(spec.Name) || !NamePattern().IsMatch(spec.Name))
        {
            problems.Add($"name '{spec.Name}' must be 1 to 63 lowercase letters, digits or '-', starting with a letter");
        }

        if (string.IsNullOrEmpty(spec.Endpoint))
        {
            problems.Add("endpoint: name the endpoint whose variants are compared");
        }

        var metric = Normalize(spec.Metric ?? new MetricSpec(), "metric", problems);
        var secondary = (spec.SecondaryMetrics ?? []).Select((item, i) => Normalize(item, $"secondary_metrics[{i}]", problems)).ToList();
        if (secondary.Count > MaxSecondaryMetrics)
        {
            problems.Add($"secondary_metrics: at most {MaxSecondaryMetrics}, not {secondary.Count}");
        }

        foreach (var duplicate in secondary.Select(item => item.Name).Prepend(metric.Name).GroupBy(name => name, StringComparer.Ordinal).Where(group => group.Count() > 1))
        {
            problems.Add($"secondary_metrics: the metric name '{duplicate.Key}' is used {duplicate.Count()} times; give each metric its own name");
        }

        var correction = spec.Correction ?? BenjaminiHochberg;
        if (correction is not (Holm or BenjaminiHochberg))
        {
            problems.Add($"correction '{correction}' is not holm or benjamini_hochberg");
        }

        if (spec.Cuped is { } cuped)
        {
            if (cuped.Covariates is { } covariates)
            {
                if (cuped.Source is not null || cuped.Name is not null || cuped.Lookback is not null || cuped.Key is not null || cuped.Column is not null || cuped.Timestamp is not null
                    || cuped.Model is not null || cuped.Output is not null || cuped.FeatureNames is not null)
                {
                    problems.Add("cuped: give one covariate (source, name, ...) or a list of them as covariates, not both");
                }

                if (covariates.Count is 0 or > CupedSpec.MaxCovariates)
                {
                    problems.Add($"cuped.covariates: give 1 to {CupedSpec.MaxCovariates} covariates, not {covariates.Count}");
                }

                foreach (var (covariate, i) in covariates.Select((covariate, i) => (covariate, i)))
                {
                    if (covariate is null)
                    {
                        problems.Add($"cuped.covariates[{i}]: give source and name");
                        continue;
                    }

                    if (covariate.Covariates is not null)
                    {
                        problems.Add($"cuped.covariates[{i}]: a covariate has no covariates of its own");
                    }

                    ValidateCovariate(covariate, $"cuped.covariates[{i}]", problems);
                }

                foreach (var duplicate in covariates.OfType<CupedSpec>().Where(covariate => covariate.Covariates is null).Select(Defaulted)
                    .GroupBy(covariate => (covariate.Covariate(), covariate.Lookback)).Where(group => group.Count() > 1))
                {
                    problems.Add($"cuped.covariates: {duplicate.Key.Item1}{(duplicate.Key.Lookback is { } lookback ? $" over {lookback}" : "")} is given {duplicate.Count()} times; give each covariate once");
                }
            }
            else
            {
                ValidateCovariate(cuped, "cuped", problems);
            }

            if ((spec.Engine ?? Sequential) == Bayesian)
            {
                problems.Add("cuped needs the frequentist or sequential engine (the Bayesian engine works on raw counts)");
            }
        }

        var engine = spec.Engine ?? Sequential;
        if (!Engines.Contains(engine))
        {
            problems.Add($"engine '{engine}' is not one of {string.Join(", ", Engines)}");
        }

        if (spec.Alpha is { } alpha && !(alpha > 0 && alpha < 0.5))
        {
            problems.Add($"alpha {alpha} must be between 0 and 0.5");
        }

        if (spec.MinimumDetectableEffect is { } mde && !(mde > 0 && double.IsFinite(mde)))
        {
            problems.Add($"minimum_detectable_effect {mde} must be a positive relative effect (0.05 = 5%)");
        }

        var guardrails = new List<GuardrailSpec>();
        foreach (var (guardrail, i) in (spec.Guardrails ?? []).Select((guardrail, i) => (guardrail, i)))
        {
            if (guardrail.Source is not null || guardrail.Type is not null || guardrail.Inverse is not null)
            {
                // A metric guardrail: analysed like a secondary metric, broken by a significantly worse treatment.
                var checkedMetric = Normalize(new MetricSpec(guardrail.Metric, guardrail.Type, guardrail.Source ?? MetricSpec.Outcome), $"guardrails[{i}]", problems);
                if (guardrail.Max is not null)
                {
                    problems.Add($"guardrails[{i}] '{checkedMetric.Name}': a metric guardrail is broken by a significantly worse treatment, not by a max (max is for {string.Join(", ", GuardrailSpec.Metrics)})");
                }

                guardrails.Add(new GuardrailSpec(checkedMetric.Name, null, checkedMetric.Source, checkedMetric.Type, guardrail.Inverse ?? false));
            }
            else if (LimitProblems(guardrail, $"guardrails[{i}]") is { Count: > 0 } limitProblems)
            {
                problems.AddRange(limitProblems);
            }
            else
            {
                guardrails.Add(guardrail);
            }
        }

        if (spec.PlannedSamples is < 2)
        {
            problems.Add($"planned_samples {spec.PlannedSamples} must be at least 2 per variant");
        }

        if (problems.Count > 0)
        {
            throw TrackingException.Invalid($"Invalid experiment '{spec.Name}'", problems);
        }

        return spec with
        {
            Metric = metric,
            SecondaryMetrics = secondary.Count > 0 ? secondary : null,
            Guardrails = spec.Guardrails is null ? null : guardrails,
            Correction = secondary.Count > 0 ? correction : spec.Correction,
            Cuped = spec.Cuped is { } given ? given.Covariates is { } list ? given with { Covariates = list.Select(Defaulted).ToList() } : Defaulted(given) : null,
            Engine = engine,
            Alpha = spec.Alpha ?? Statistics.StatisticsDefaults.Alpha,
            MinimumDetectableEffect = spec.MinimumDetectableEffect ?? DefaultMinimumDetectableEffect,
        };
    }

    /// <summary>
    /// A limit guardrail's checks, named by its position: a metric it knows, and a max that a variant can keep to (at least
    /// 0, and at most 1 for the error rate, a share of requests): a negative one would be broken by every variant.
    /// </summary>
    private static List<string> LimitProblems(GuardrailSpec guardrail, string where)
    {
        var problems = new List<string>();
        if (guardrail.Metric is null || !GuardrailSpec.Metrics.Contains(guardrail.Metric))
        {
            problems.Add($"{where}.metric '{guardrail.Metric}' is not one of {string.Join(", ", GuardrailSpec.Metrics)} (or give a source, kpi, outcome or reward, for a metric guardrail)");
        }

        if (guardrail.Max is not { } max)
        {
            problems.Add($"{where}.max: give the most a shipped variant may have");
        }
        else if (!double.IsFinite(max) || max < 0)
        {
            problems.Add($"{where}.max {max} must be a number at least 0");
        }
        else if (guardrail.Metric == GuardrailSpec.ErrorRate && max > 1)
        {
            problems.Add($"{where}.max {max} must be between 0 and 1 for error_rate (a share of requests: 0.01 is 1%)");
        }

        return problems;
    }

    /// <summary>A covariate with its default lookback (none for a dataset read whole).</summary>
    private static CupedSpec Defaulted(CupedSpec covariate) => covariate with { Lookback = covariate.HasLookback() ? covariate.Lookback ?? CupedSpec.DefaultLookback : null };

    /// <summary>One covariate's checks: its source, a KPI's name, a dataset's columns, and its lookback; problems named after <paramref name="where"/>.</summary>
    private static void ValidateCovariate(CupedSpec cuped, string where, List<string> problems)
    {
        if (cuped.Source is not (MetricSpec.Kpi or MetricSpec.Outcome or MetricSpec.Reward or CupedSpec.Dataset or CupedSpec.ModelSource))
        {
            problems.Add($"{where}.source '{cuped.Source}' must be kpi, outcome, reward, dataset or model");
        }

        if (cuped.Source == MetricSpec.Kpi && string.IsNullOrEmpty(cuped.Name))
        {
            problems.Add($"{where}: a kpi covariate needs the KPI's name as name");
        }

        if (cuped.Source == CupedSpec.ModelSource)
        {
            ValidateModelCovariate(cuped, where, problems);
        }
        else if (cuped.Model is not null || cuped.Output is not null || cuped.FeatureNames is not null)
        {
            problems.Add($"{where}: model, output and feature_names are for source model");
        }

        if (cuped.Source == CupedSpec.Dataset)
        {
            ValidateDatasetCovariate(cuped, where, problems);
        }
        else if (cuped.Source == CupedSpec.ModelSource)
        {
            if (cuped.Column is not null || cuped.Timestamp is not null)
            {
                problems.Add($"{where}: column and timestamp are for source dataset (a model covariate sums its output over every row of the table)");
            }
        }
        else if (cuped.Key is not null || cuped.Column is not null || cuped.Timestamp is not null)
        {
            problems.Add($"{where}: key, column and timestamp are for source dataset");
        }

        if (!cuped.HasLookback())
        {
            if (cuped.Lookback is not null)
            {
                problems.Add(cuped.Source == CupedSpec.ModelSource
                    ? $"{where}.lookback: a model covariate scores every row of the table (the table is the pre-period); leave lookback out"
                    : $"{where}.lookback needs {where}.timestamp with source dataset (without a timestamp every row of the table is the pre-period)");
            }
        }
        else if (Durations.Parse(cuped.Lookback ?? CupedSpec.DefaultLookback) is not { } lookback || lookback <= TimeSpan.Zero || lookback > MaxLookback)
        {
            problems.Add($"{where}.lookback '{cuped.Lookback}' must be a duration such as 14d or 36h, at most {Durations.Format(MaxLookback)}");
        }
    }

    /// <summary>
    /// A model covariate (CUPAC) names the model (<c>models:/NAME/VERSION</c> or <c>models:/NAME@ALIAS</c>), the dataset it
    /// scores with its key column (as a dataset covariate does), and the output summed per key (<c>NAME</c> or <c>NAME[k]</c>).
    /// </summary>
    private static void ValidateModelCovariate(CupedSpec cuped, string where, List<string> problems)
    {
        if (string.IsNullOrEmpty(cuped.Model))
        {
            problems.Add($"{where}: a model covariate needs model, the model that predicts the metric (models:/ltv/3 or models:/ltv@champion)");
        }
        else
        {
            try
            {
                ModelReferenceOf(cuped.Model, where);
            }
            catch (TrackingException exception)
            {
                problems.Add(exception.Message.TrimEnd('.'));
            }
        }

        if (string.IsNullOrEmpty(cuped.Output))
        {
            problems.Add($"{where}: a model covariate needs output, the model's output summed per key (NAME, or NAME[k] for a column of an [N, k] output)");
        }
        else if (CupedSpec.ParseOutput(cuped.Output) is null)
        {
            problems.Add($"{where}.output '{cuped.Output}' must be an output's name, or NAME[k] for a column of an [N, k] output");
        }

        foreach (var (input, names) in cuped.FeatureNames ?? new Dictionary<string, IReadOnlyList<string>>())
        {
            if (names is not { Count: > 0 } || names.Any(string.IsNullOrEmpty))
            {
                problems.Add($"{where}.feature_names.{input}: give the input's columns, in order");
            }
        }

        ValidateDatasetCovariate(cuped, where, problems, "model");
    }

    /// <summary>The covariate's model reference; a <see cref="TrackingException"/> naming <paramref name="where"/><c>.model</c> when it is not one.</summary>
    internal static Serving.ModelReference ModelReferenceOf(string model, string where) => Serving.ModelReference.Parse(model, $"{where}.model");

    /// <summary>A dataset covariate names a dataset version (<c>name</c> or <c>name@3</c>), the key column and the value column (a model covariate: no value column).</summary>
    private static void ValidateDatasetCovariate(CupedSpec cuped, string where, List<string> problems, string kind = CupedSpec.Dataset)
    {
        if (string.IsNullOrEmpty(cuped.Name))
        {
            problems.Add($"{where}: a {kind} covariate needs the dataset as name (customers or customers@3)");
        }
        else
        {
            try
            {
                Datasets.DatasetReference.Parse(cuped.Name);
            }
            catch (TrackingException exception)
            {
                problems.Add($"{where}.name: {exception.Message.TrimEnd('.')}");
            }
        }

        if (string.IsNullOrEmpty(cuped.Key))
        {
            problems.Add($"{where}: a {kind} covariate needs key, the column that holds the routing key");
        }

        if (kind == CupedSpec.Dataset && string.IsNullOrEmpty(cuped.Column))
        {
            problems.Add($"{where}: a dataset covariate needs column, the numeric column summed per key");
        }
    }

    /// <summary>
    /// A metric's checks (type, source, a KPI's name) and defaults: binomial, on outcomes (a mean's too, as
    /// docs/experiments.md says: rewards only with source reward), named after its type.
    /// </summary>
    private static MetricSpec Normalize(MetricSpec metric, string where, List<string> problems)
    {
        var type = metric.Type ?? MetricSpec.Binomial;
        var source = metric.Source ?? MetricSpec.Outcome;
        if (type is not (MetricSpec.Binomial or MetricSpec.Mean))
        {
            problems.Add($"{where} type '{type}' is not binomial or mean");
        }

        if (source is not (MetricSpec.Outcome or MetricSpec.Reward or MetricSpec.Kpi) || (type == MetricSpec.Binomial && source == MetricSpec.Reward))
        {
            problems.Add($"{where} source '{source}' must be outcome, reward or kpi (a binomial metric counts outcomes or KPI values)");
        }

        if (source == MetricSpec.Kpi && string.IsNullOrEmpty(metric.Name))
        {
            problems.Add($"a kpi {where} needs the KPI's name as its name");
        }

        return new MetricSpec(metric.Name ?? type, type, source);
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial Regex NamePattern();
}
