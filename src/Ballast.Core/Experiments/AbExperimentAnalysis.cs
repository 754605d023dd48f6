using System.Globalization;
using Ballast.Statistics;

namespace Ballast.Experiments;

/// <summary>
/// What the log and feedback hold for one variant: its units (predictions), its metric's summary and its latency;
/// with CUPED, the metric's and the pre-period covariate's sums over the measured units, and how many of them had a
/// pre-period value; with several covariates, their sums in <see cref="Covariates"/>, how many units had any of them
/// (<see cref="WithCovariate"/>) and how many had each.
/// </summary>
public sealed record VariantData(string Variant, long Units, SampleSummary Metric, double LatencyMeanMs = 0, double LatencyP99Ms = 0, double ErrorRate = 0,
    CupedSums? Covariate = null, long WithCovariate = 0, CovariateSums? Covariates = null, IReadOnlyList<long>? WithEachCovariate = null)
{
    public double Guardrail(string metric) => metric switch
    {
        GuardrailSpec.LatencyP99 => LatencyP99Ms,
        GuardrailSpec.LatencyMean => LatencyMeanMs,
        _ => ErrorRate,
    };
}

/// <summary>One variant's result against the control (null fields for the control itself).</summary>
public sealed record VariantResult(
    string Variant,
    long Units,
    long Samples,
    double Mean,
    double MeanLower,
    double MeanUpper,
    double? RelativeLift = null,
    double? RelativeLower = null,
    double? RelativeUpper = null,
    double? AbsoluteLift = null,
    double? AbsoluteLower = null,
    double? AbsoluteUpper = null,
    double? PValue = null,
    double? ChanceToWin = null,
    string? Verdict = null,
    double Share = 0,
    IReadOnlyList<string>? GuardrailsBroken = null,
    double? AdjustedPValue = null,
    double? UnadjustedMean = null);

/// <summary>
/// CUPED as applied: the covariate (<c>kpi:revenue</c>, <c>dataset:customers@3:spend</c>, <c>outcome</c>, <c>reward</c>), its
/// lookback (null for a dataset read whole), the pooled θ,
/// the share of the metric's variance removed, and how many measured units had a pre-period value. With several
/// covariates (<c>cuped: {covariates: [...]}</c>) each one's name, lookback and θ are in <see cref="Covariates"/> instead,
/// and <see cref="UnitsWithCovariate"/> counts the units with any of them.
/// </summary>
public sealed record CupedReport(string? Covariate, string? Lookback, double? Theta, double VarianceReduction, long UnitsWithCovariate, IReadOnlyList<CupedCovariateReport>? Covariates = null);

/// <summary>
/// One of several covariates as applied: its name and lookback, its coefficient θ in the regression adjustment, the
/// measured units with a pre-period value of it, and why it was left out (θ 0), if it was: <c>no variance</c> or
/// <c>collinear</c> (the covariates before it determine it).
/// </summary>
public sealed record CupedCovariateReport(string Covariate, string? Lookback, double Theta, long UnitsWithCovariate, string? Dropped = null);

/// <summary>
/// A secondary metric's or a metric guardrail's results per variant; a secondary metric's p-values adjusted across
/// every secondary metric and treatment. <see cref="Inverse"/> (a guardrail where lower is better) when the verdicts
/// and chances to win read that way: a significantly higher treatment is <c>worse</c>; lifts keep their sign.
/// </summary>
public sealed record MetricResult(string Metric, string Type, string Source, IReadOnlyList<VariantResult> Variants, CupedReport? Cuped = null, bool? Inverse = null);

/// <summary>The sample-ratio check of the units against the endpoint's weights (null weights: equal).</summary>
public sealed record SrmStatus(double PValue, bool Mismatch, IReadOnlyList<double> ExpectedShares);

/// <summary>An experiment's results: per variant, the SRM status, the plan, and a plain-language decision.</summary>
public sealed record AbExperimentResults(
    string Experiment,
    string Endpoint,
    string Metric,
    string Engine,
    string Control,
    long PlannedSamples,
    bool Provisional,
    SrmStatus? Srm,
    IReadOnlyList<VariantResult> Variants,
    string Decision,
    double? Regret = null,
    CupedReport? Cuped = null,
    IReadOnlyList<MetricResult>? SecondaryMetrics = null,
    string? Correction = null,
    IReadOnlyList<MetricResult>? GuardrailMetrics = null);

/// <summary>
/// The analysis of an A/B experiment, pure: variant data in, results and a decision out. Relative and absolute lifts
/// with their confidence intervals come from the frequentist (Welch), sequential (GrowthBook's always-valid
/// confidence sequences) or Bayesian engine; a sample-ratio mismatch invalidates the results. Before the planned
/// sample size, only the sequential engine may decide; the others report provisional results.
/// </summary>
public static class AbExperimentAnalysis
{
    /// <param name="weights">The expected traffic shares of the variants (a split's weights), or null for no sample-ratio check (a bandit).</param>
    /// <param name="secondary">Each secondary metric's data, in the spec's order.</param>
    /// <param name="guarded">Each metric guardrail's data (those with a source), in the spec's order.</param>
    public static AbExperimentResults Analyze(AbExperimentSpec spec, IReadOnlyList<VariantData> data, IReadOnlyList<double>? weights,
        IReadOnlyList<(MetricSpec Metric, IReadOnlyList<VariantData> Data)>? secondary = null, IReadOnlyList<IReadOnlyList<VariantData>>? guarded = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(data);
        var alpha = spec.Alpha ?? StatisticsDefaults.Alpha;
        var metric = spec.Metric!;
        var engine = spec.Engine!;
        var (adjusted, cuped) = ApplyCuped(spec, data);
        var unadjusted = cuped is null ? null : data.ToDictionary(variant => variant.Variant, variant => variant.Metric.Mean, StringComparer.Ordinal);
        data = adjusted;
        var control = data.FirstOrDefault(variant => variant.Variant == spec.Control) ?? data[0];
        var planned = spec.PlannedSamples ?? Plan(spec, control);

        SrmStatus? srm = null;
        // Over the variants that get traffic: one at weight 0 (a blue/green preview, a loser after `conclude --apply`)
        // has no expected share to test against, and a chi-square term with an expectation of 0 is undefined.
        var weighted = weights is { Count: > 0 } && weights.Count == data.Count ? Enumerable.Range(0, data.Count).Where(i => weights[i] > 0).ToList() : [];
        if (weighted.Count >= 2 && weighted.Sum(i => data[i].Units) > 0)
        {
            var total = weighted.Sum(i => weights![i]);
            var shares = weights!.Select(weight => weight / total).ToList();
            var check = SampleRatioMismatch.Check(weighted.Select(i => data[i].Units).ToList(), weighted.Select(i => shares[i]).ToList());
            srm = new SrmStatus(check.PValue, check.Mismatch, shares);
        }

        var reached = data.All(variant => variant.Metric.Count >= planned);
        var units = Math.Max(1, data.Sum(variant => variant.Units));
        var results = new List<VariantResult> { Describe(control, alpha) };
        foreach (var treatment in data.Where(variant => variant != control))
        {
            results.Add(Compare(control, treatment, metric, engine, alpha, reached));
        }

        results = AdjustForMultipleTreatments(results, alpha);
        var guardrailResults = GuardrailMetrics(spec, guarded, planned);
        results = results.Select(result =>
        {
            var variant = data.First(item => item.Variant == result.Variant);
            var broken = Broken(spec.Guardrails ?? [], variant).Concat(Broken(spec.Guardrails ?? [], guardrailResults ?? [], result.Variant)).ToList();
            return result with { Share = (double)variant.Units / units, GuardrailsBroken = broken.Count > 0 ? broken : null, UnadjustedMean = unadjusted?[result.Variant] };
        }).ToList();
        var provisional = engine != AbExperimentValidation.Sequential && !reached;
        var secondaryResults = secondary is { Count: > 0 } ? Secondary(spec, secondary, planned, alpha) : null;
        return new AbExperimentResults(spec.Name, spec.Endpoint!, metric.Name!, engine, control.Variant, planned, provisional, srm, results,
            Decide(results, control, srm, planned, reached, engine), weights is null ? Regret(data) : null, cuped, secondaryResults,
            secondaryResults is null ? null : spec.Correction ?? AbExperimentValidation.BenjaminiHochberg, guardrailResults);
    }

    /// <summary>
    /// Each metric guardrail analysed as the primary metric is (same engine, α, plan and CUPED; with several treatments
    /// Holm-adjusted against the control, as the primary metric; not adjusted across guardrails, so that a guardrail
    /// errs towards stopping a ship). An inverse guardrail's verdicts and chances to win are turned round, so that a
    /// treatment that raised a lower-is-better metric significantly reads <c>worse</c>.
    /// </summary>
    private static List<MetricResult>? GuardrailMetrics(AbExperimentSpec spec, IReadOnlyList<IReadOnlyList<VariantData>>? guarded, long planned)
    {
        var metrics = (spec.Guardrails ?? []).Where(guardrail => guardrail.Source is not null).ToList();
        if (metrics.Count == 0 || guarded is null)
        {
            return null;
        }

        return [.. metrics.Select((guardrail, i) =>
        {
            var metric = guardrail.AsMetric()!;
            var result = Analyze(spec with { Metric = metric, SecondaryMetrics = null, Guardrails = null, PlannedSamples = planned }, guarded[i], null);
            return guardrail.Inverse == true
                ? new MetricResult(metric.Name!, metric.Type!, metric.Source!, [.. result.Variants.Select(LowerIsBetter)], result.Cuped, Inverse: true)
                : new MetricResult(metric.Name!, metric.Type!, metric.Source!, result.Variants, result.Cuped);
        })];
    }

    /// <summary>A result on a metric where lower is better: <c>better</c> and <c>worse</c> swapped, the chance to win that of being lower.</summary>
    private static VariantResult LowerIsBetter(VariantResult result) => result with
    {
        Verdict = result.Verdict switch { "better" => "worse", "worse" => "better", var verdict => verdict },
        ChanceToWin = 1 - result.ChanceToWin,
    };

    /// <summary>The metric guardrails <paramref name="variant"/> breaks: its verdict on one is <c>worse</c> (lower, or higher for an inverse metric, whose verdicts are turned round already).</summary>
    private static IEnumerable<string> Broken(IReadOnlyList<GuardrailSpec> guardrails, IReadOnlyList<MetricResult> results, string variant) =>
        guardrails.Where(guardrail => guardrail.Source is not null).Zip(results).Select(pair =>
        {
            var (guardrail, result) = pair;
            var verdict = result.Variants.FirstOrDefault(item => item.Variant == variant)?.Verdict;
            var inverse = guardrail.Inverse == true;
            if (verdict != "worse")
            {
                return null;
            }

            var name = guardrail.Source == MetricSpec.Kpi ? $"kpi:{guardrail.Metric}" : guardrail.Metric;
            var item = result.Variants.First(item => item.Variant == variant);
            var lift = item.RelativeLift is { } relative ? string.Create(CultureInfo.InvariantCulture, $"{relative:+0.##%;-0.##%}") : string.Create(CultureInfo.InvariantCulture, $"{item.AbsoluteLift:+0.####;-0.####}");
            return $"{name} {lift} against the control, significantly {(inverse ? "higher (lower is better)" : "lower")}";
        }).OfType<string>();

    /// <summary>
    /// CUPED when the spec asks for it and every variant has covariate sums: θ and the covariate's mean pooled over
    /// every variant's measured units, each variant's summary replaced by the adjusted one. Nothing to adjust
    /// (fewer than 2 units, or no pre-period value at all) leaves the data as it is.
    /// </summary>
    private static (IReadOnlyList<VariantData> Data, CupedReport? Report) ApplyCuped(AbExperimentSpec spec, IReadOnlyList<VariantData> data)
    {
        if (spec.Cuped is { Covariates: { } covariates })
        {
            return ApplyRegression(covariates, data);
        }

        if (spec.Cuped is not { } settings || data.Any(variant => variant.Covariate is null) || data.Sum(variant => variant.Covariate!.Value.Count) < 2
            || data.Sum(variant => variant.WithCovariate) == 0)
        {
            return (data, null);
        }

        var adjustment = Cuped.FromSums(data.Select(variant => variant.Covariate!.Value).ToList());
        return (data.Select((variant, i) => variant with { Metric = adjustment.Groups[i] }).ToList(),
            new CupedReport(settings.Covariate(), settings.Lookback, adjustment.Theta, adjustment.VarianceReduction, data.Sum(variant => variant.WithCovariate)));
    }

    /// <summary>
    /// CUPED with several covariates (regression adjustment): θ pooled over every variant's measured units, each
    /// variant's summary replaced by the adjusted one; a covariate without variance or collinear with the ones before it
    /// is left out (θ 0) and the report says so. Nothing to adjust (fewer than 2 units, or no unit with any pre-period
    /// value) leaves the data as it is.
    /// </summary>
    private static (IReadOnlyList<VariantData> Data, CupedReport? Report) ApplyRegression(IReadOnlyList<CupedSpec> covariates, IReadOnlyList<VariantData> data)
    {
        if (data.Any(variant => variant.Covariates is null || variant.Covariates.Covariates != covariates.Count) || data.Sum(variant => variant.Covariates!.Count) < 2
            || data.Sum(variant => variant.WithCovariate) == 0)
        {
            return (data, null);
        }

        var regression = CupedRegressions.FromSums(data.Select(variant => variant.Covariates!).ToList());
        var each = covariates.Select((covariate, j) => new CupedCovariateReport(covariate.Covariate(), covariate.Lookback, regression.Theta[j],
            data.Sum(variant => variant.WithEachCovariate?[j] ?? 0), regression.Fits[j] switch
            {
                CovariateFit.NoVariance => "no variance",
                CovariateFit.Collinear => "collinear",
                _ => null,
            })).ToList();
        return (data.Select((variant, i) => variant with { Metric = regression.Groups[i] }).ToList(),
            new CupedReport(null, null, null, regression.VarianceReduction, data.Sum(variant => variant.WithCovariate), each));
    }

    /// <summary>
    /// Each secondary metric analysed as the primary one is (same engine, α and plan; no guardrails), then every
    /// treatment's p-value across all secondary metrics adjusted together (Benjamini–Hochberg by default, or Holm),
    /// so that many metrics do not make a chance "better" likely; verdicts follow the adjusted values.
    /// </summary>
    private static List<MetricResult> Secondary(AbExperimentSpec spec, IReadOnlyList<(MetricSpec Metric, IReadOnlyList<VariantData> Data)> secondary, long planned, double alpha)
    {
        var analysed = secondary.Select(item =>
        {
            var result = Analyze(spec with { Metric = item.Metric, SecondaryMetrics = null, Guardrails = null, PlannedSamples = planned }, item.Data, null);
            return new MetricResult(item.Metric.Name!, item.Metric.Type!, item.Metric.Source!, result.Variants.Select(variant => variant with { AdjustedPValue = null }).ToList(), result.Cuped);
        }).ToList();
        var tested = analysed.SelectMany((metric, m) => metric.Variants.Select((variant, v) => (m, v, variant)).Skip(1)).Where(item => item.variant.PValue is not null).ToList();
        if (tested.Count == 0)
        {
            return analysed;
        }

        var pValues = tested.Select(item => item.variant.PValue!.Value).ToArray();
        var adjusted = spec.Correction == AbExperimentValidation.Holm ? MultipleTesting.Holm(pValues) : MultipleTesting.BenjaminiHochberg(pValues);
        return analysed.Select((metric, m) => metric with
        {
            Variants = metric.Variants.Select((variant, v) =>
            {
                var index = tested.FindIndex(item => item.m == m && item.v == v);
                return index < 0 || variant.Verdict == "not enough data" ? variant : variant with
                {
                    AdjustedPValue = adjusted[index],
                    Verdict = adjusted[index] >= alpha ? "inconclusive" : variant.AbsoluteLift > 0 ? "better" : "worse",
                };
            }).ToList(),
        }).ToList();
    }

    /// <summary>
    /// A bandit's cumulative regret estimate: what its pulls lost against always pulling the arm with the best observed
    /// mean, Σ nᵢ (μ* − μᵢ) over the measured samples.
    /// </summary>
    public static double Regret(IReadOnlyList<VariantData> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var measured = data.Where(variant => variant.Metric.Count > 0).ToList();
        if (measured.Count == 0)
        {
            return 0;
        }

        var best = measured.Max(variant => variant.Metric.Mean);
        return measured.Sum(variant => variant.Metric.Count * (best - variant.Metric.Mean));
    }

    /// <summary>
    /// With two or more treatments, each compared with the control, Holm's step-down adjustment keeps the chance of any
    /// false "better" or "worse" at α; verdicts then follow the adjusted p-values.
    /// </summary>
    private static List<VariantResult> AdjustForMultipleTreatments(List<VariantResult> results, double alpha)
    {
        var tested = results.Skip(1).Where(result => result.PValue is not null).ToList();
        if (tested.Count < 2)
        {
            return results;
        }

        var adjusted = MultipleTesting.Holm(tested.Select(result => result.PValue!.Value).ToArray());
        return results.Select(result =>
        {
            var index = tested.IndexOf(result);
            return index < 0 ? result : result with
            {
                AdjustedPValue = adjusted[index],
                Verdict = adjusted[index] >= alpha ? "inconclusive" : result.AbsoluteLift > 0 ? "better" : "worse",
            };
        }).ToList();
    }

    private static List<string> Broken(IReadOnlyList<GuardrailSpec> guardrails, VariantData variant) =>
        guardrails.Where(guardrail => guardrail.Source is null && variant.Guardrail(guardrail.Metric!) > guardrail.Max)
            .Select(guardrail => string.Create(CultureInfo.InvariantCulture, $"{guardrail.Metric} {variant.Guardrail(guardrail.Metric!):0.####} > {guardrail.Max}"))
            .ToList();

    /// <summary>
    /// Units per variant to detect the relative MDE with 80% power at α: the two-proportion formula on the control's
    /// observed rate for a binomial metric (10% before any data), and 2 (z₁₋α/₂ + z₀.₈)² σ² / δ² for a mean.
    /// </summary>
    public static long Plan(AbExperimentSpec spec, VariantData control)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(control);
        var alpha = spec.Alpha ?? StatisticsDefaults.Alpha;
        var mde = spec.MinimumDetectableEffect ?? AbExperimentValidation.DefaultMinimumDetectableEffect;
        if (spec.Metric?.Type == MetricSpec.Binomial)
        {
            var baseline = control.Metric.Count > 0 && control.Metric.Mean is > 0 and < 1 ? control.Metric.Mean : 0.1;
            return baseline * (1 + mde) >= 1 ? 2 : SampleSize.TwoProportions(baseline, mde, relative: true, alpha).PerVariant;
        }

        var delta = mde * Math.Abs(control.Metric.Mean);
        if (control.Metric.Count < 2 || delta == 0 || control.Metric.Variance == 0)
        {
            return 1000;
        }

        var z = Distributions.NormalQuantile(1 - (alpha / 2)) + Distributions.NormalQuantile(StatisticsDefaults.Power);
        return Math.Max(2, (long)Math.Ceiling(2 * z * z * control.Metric.Variance / (delta * delta)));
    }

    private static VariantResult Describe(VariantData variant, double alpha)
    {
        var half = variant.Metric.Count > 1 ? Distributions.NormalQuantile(1 - (alpha / 2)) * Math.Sqrt(variant.Metric.Variance / variant.Metric.Count) : double.NaN;
        return new VariantResult(variant.Variant, variant.Units, variant.Metric.Count, variant.Metric.Mean, variant.Metric.Mean - half, variant.Metric.Mean + half);
    }

    /// <summary>
    /// One treatment against the control. The verdict follows the sign of the absolute difference; the test is on the
    /// relative lift when the control's mean is positive (the known answers' case), and on the absolute difference when
    /// it is 0 or negative, where a relative lift is undefined or points the wrong way (-10 to -5 is +5, not -50%).
    /// Two samples without variance differ for certain, or not at all.
    /// </summary>
    private static VariantResult Compare(VariantData control, VariantData treatment, MetricSpec metric, string engine, double alpha, bool reached)
    {
        var described = Describe(treatment, alpha);
        if (control.Metric.Count < 2 || treatment.Metric.Count < 2)
        {
            return described with { Verdict = "not enough data" };
        }

        var difference = treatment.Metric.Mean - control.Metric.Mean;
        var relativeDefined = control.Metric.Mean > 0;
        if (control.Metric.Variance == 0 && treatment.Metric.Variance == 0)
        {
            double? relative = relativeDefined ? difference / control.Metric.Mean : null;
            return described with
            {
                RelativeLift = relative, RelativeLower = relative, RelativeUpper = relative,
                AbsoluteLift = difference, AbsoluteLower = difference, AbsoluteUpper = difference,
                PValue = engine == AbExperimentValidation.Bayesian ? null : difference == 0 ? 1 : 0,
                ChanceToWin = engine == AbExperimentValidation.Bayesian ? (difference > 0 ? 1 : difference < 0 ? 0 : 0.5) : null,
                Verdict = difference > 0 ? "better" : difference < 0 ? "worse" : "inconclusive",
            };
        }

        if (engine == AbExperimentValidation.Bayesian)
        {
            var absolute = GaussianBayesianTest.Analyze(control.Metric, treatment.Metric, DifferenceType.Absolute, alpha: alpha);
            var relative = relativeDefined ? GaussianBayesianTest.Analyze(control.Metric, treatment.Metric, DifferenceType.Relative, alpha: alpha) : null;
            var chance = metric.Type == MetricSpec.Binomial
                ? BetaBinomialTest.Analyze(Successes(control), control.Metric.Count, Successes(treatment), treatment.Metric.Count).ChanceToWin
                : (relative ?? absolute).ChanceToWin;
            return described with
            {
                RelativeLift = relative?.Expected, RelativeLower = relative?.Lower, RelativeUpper = relative?.Upper,
                AbsoluteLift = absolute.Expected, AbsoluteLower = absolute.Lower, AbsoluteUpper = absolute.Upper,
                ChanceToWin = chance,
                Verdict = chance >= 1 - alpha ? "better" : chance <= alpha ? "worse" : "inconclusive",
            };
        }

        EffectResult Test(DifferenceType type) => engine == AbExperimentValidation.Sequential
            ? SequentialTest.TwoSided(control.Metric, treatment.Metric, type, alpha)
            : FrequentistTest.TwoSided(control.Metric, treatment.Metric, type, alpha);
        var absoluteResult = Test(DifferenceType.Absolute);
        var relativeResult = relativeDefined ? Test(DifferenceType.Relative) : null;
        var tested = relativeResult ?? absoluteResult;
        return described with
        {
            RelativeLift = relativeResult?.Estimate, RelativeLower = relativeResult?.Lower, RelativeUpper = relativeResult?.Upper,
            AbsoluteLift = absoluteResult.Estimate, AbsoluteLower = absoluteResult.Lower, AbsoluteUpper = absoluteResult.Upper,
            PValue = tested.PValue,
            Verdict = !tested.IsSignificant ? "inconclusive" : difference > 0 ? "better" : "worse",
        };
    }

    private static long Successes(VariantData variant) => (long)Math.Round(variant.Metric.Mean * variant.Metric.Count);

    private static string Decide(List<VariantResult> results, VariantData control, SrmStatus? srm, long planned, bool reached, string engine)
    {
        if (srm is { Mismatch: true })
        {
            return "invalid: sample ratio mismatch";
        }

        var smallest = results.Min(result => result.Samples);
        var running = $"keep running ({smallest.ToString(CultureInfo.InvariantCulture)} of {planned.ToString(CultureInfo.InvariantCulture)})";
        var canDecide = reached || engine == AbExperimentValidation.Sequential;
        if (!canDecide)
        {
            return running;
        }

        // A variant that breaks a guardrail is never shipped, however much better its metric.
        var best = results.Skip(1).Where(result => result.Verdict == "better" && result.GuardrailsBroken is null).OrderByDescending(result => result.AbsoluteLift).FirstOrDefault();
        if (best is not null)
        {
            return $"ship {best.Variant}";
        }

        return reached || results.Skip(1).All(result => result.Verdict == "worse") ? $"keep {control.Variant}" : running;
    }
}
