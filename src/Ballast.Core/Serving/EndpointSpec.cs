using System.Globalization;
using System.Text.RegularExpressions;
using Ballast.Tracking;

namespace Ballast.Serving;

/// <summary>
/// An endpoint as users write it (JSON body of <c>/api/v1/endpoints</c>): its policy (<c>split</c> by weights, or
/// <c>bandit</c> learning from rewards), variants, shadows, sticky routing, the fallback variant and the data-quality
/// expectations its requests must meet, the feature service that enriches them, and whether concurrent requests are
/// batched into one call of a variant's model.
/// </summary>
public sealed record EndpointSpec(
    string Name,
    string? Policy,
    IReadOnlyList<VariantSpec>? Variants,
    IReadOnlyList<ShadowSpec>? Shadows = null,
    StickySpec? Sticky = null,
    string? Fallback = null,
    BanditSpec? Bandit = null,
    RegimeSpec? Regime = null,
    EnsembleSpec? Ensemble = null,
    ExpectationsSpec? Expectations = null,
    EndpointFeaturesSpec? Features = null,
    BatchingSpec? Batching = null);

/// <summary>
/// A variant serves a registered model (<c>models:/name/version</c> or <c>models:/name@alias</c>), or a model on another
/// server speaking V2 (<see cref="Url"/>, e.g. <c>http://host:8080/v2/models/iris</c>) called with a per-attempt
/// <see cref="TimeoutMs"/> and <see cref="Retries"/> behind a circuit breaker.
/// </summary>
public sealed record VariantSpec(string Name, string? Model, int? Weight = null, string? Url = null, int? TimeoutMs = null, int? Retries = null);

/// <summary>A shadow gets a copy of <see cref="Percent"/>% of requests after the response is sent.</summary>
public sealed record ShadowSpec(string Name, string? Model, int? Percent = null);

/// <summary>Requests with the same value of this header always reach the same variant.</summary>
public sealed record StickySpec(string? Header);

/// <summary>A <c>models:/…</c> reference: a fixed version or an alias that the registry resolves.</summary>
public sealed partial record ModelReference(string Name, long? Version, string? Alias)
{
    public static ModelReference Parse(string? text, string where)
    {
        var match = text is null ? null : Pattern().Match(text);
        if (match is not { Success: true })
        {
            throw TrackingException.Invalid($"{where}: model '{text}' is not models:/NAME/VERSION or models:/NAME@ALIAS.");
        }

        return match.Groups["version"].Success
            ? new ModelReference(match.Groups["name"].Value, long.Parse(match.Groups["version"].Value, CultureInfo.InvariantCulture), null)
            : new ModelReference(match.Groups["name"].Value, null, match.Groups["alias"].Value);
    }

    public override string ToString() => Version is { } version ? $"models:/{Name}/{version}" : $"models:/{Name}@{Alias}";

    /// <summary>The registry version this reference points at now (an alias as it stands); RESOURCE_DOES_NOT_EXIST when there is none.</summary>
    public Task<Registry.ModelVersion> ResolveAsync(Registry.RegistryStore registry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return Version is { } number
            ? registry.GetVersionAsync(Name, number.ToString(CultureInfo.InvariantCulture), cancellationToken)
            : registry.GetVersionByAliasAsync(Name, Alias!, cancellationToken);
    }

    [GeneratedRegex(@"^models:/(?<name>[^/@]+)(/(?<version>[1-9][0-9]{0,17})|@(?<alias>[A-Za-z0-9_\-]+))$")]
    private static partial Regex Pattern();
}

public static partial class EndpointValidation
{
    public const string SplitPolicy = "split";
    public const string BanditPolicy = "bandit";
    public const string RegimePolicy = "regime";
    public const string EnsemblePolicy = "ensemble";
    public const string DefaultStickyHeader = "Ballast-Routing-Key";

    /// <summary>Checks a spec and fills its defaults (policy split; a single variant's weight 100); every problem at once.</summary>
    public static EndpointSpec Validate(EndpointSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<string>();
        if (string.IsNullOrEmpty(spec.Name) || !NamePattern().IsMatch(spec.Name))
        {
            problems.Add($"name '{spec.Name}' must be 1 to 63 lowercase letters, digits or '-', starting with a letter");
        }

        var policy = spec.Policy ?? (spec.Bandit is not null ? BanditPolicy : spec.Regime is not null ? RegimePolicy : spec.Ensemble is not null ? EnsemblePolicy : SplitPolicy);
        if (policy is not SplitPolicy and not BanditPolicy and not RegimePolicy and not EnsemblePolicy)
        {
            problems.Add($"policy '{policy}' is not one of split (weights, sticky keys, shadows, fallback), bandit (epsilon_greedy, thompson, ucb1), regime (rules and signals) or ensemble (mean, vote)");
        }

        if (policy == EnsemblePolicy || spec.Ensemble is not null)
        {
            ValidateEnsemble(problems, policy, spec);
        }

        if (policy == RegimePolicy || (spec.Regime is not null && policy != EnsemblePolicy))
        {
            ValidateRegime(problems, policy, spec);
        }

        var bandit = policy == BanditPolicy ? spec.Bandit ?? new BanditSpec() : spec.Bandit;
        if (bandit is not null)
        {
            ValidateBandit(problems, policy, bandit, spec);
        }

        var variants = spec.Variants ?? [];
        if (variants.Count == 0)
        {
            problems.Add("variants: at least one variant is needed");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var variant in variants)
        {
            if (string.IsNullOrEmpty(variant.Name) || !NamePattern().IsMatch(variant.Name))
            {
                problems.Add($"variant name '{variant.Name}' must be 1 to 63 lowercase letters, digits or '-', starting with a letter");
            }
            else if (!names.Add(variant.Name))
            {
                problems.Add($"variant '{variant.Name}' appears twice");
            }

            if (variant.Url is not null)
            {
                ValidateRemote(problems, variant);
            }
            else
            {
                Collect(problems, () => ModelReference.Parse(variant.Model, $"variant '{variant.Name}'"));
                if (variant.TimeoutMs is not null || variant.Retries is not null)
                {
                    problems.Add($"variant '{variant.Name}': timeout_ms and retries are for remote (url) variants");
                }
            }

            if (variant.Weight is < 0 or > 100)
            {
                problems.Add($"variant '{variant.Name}': weight {variant.Weight} must be between 0 and 100");
            }
        }

        // A bandit learns its own split and a regime picks by signal (weights are refused); a lone split variant takes all the traffic.
        var weighted = policy is BanditPolicy or RegimePolicy or EnsemblePolicy ? variants.ToList()
            : variants.Count == 1 && variants[0].Weight is null ? [variants[0] with { Weight = 100 }] : variants.ToList();
        if (policy == SplitPolicy && variants.Count > 0)
        {
            if (weighted.Any(variant => variant.Weight is null))
            {
                problems.Add("variants: give every variant a weight when there are several (integers summing to 100)");
            }
            else if (weighted.Sum(variant => variant.Weight ?? 0) != 100)
            {
                problems.Add($"variants: weights sum to {weighted.Sum(variant => variant.Weight ?? 0)}, not 100");
            }
        }

        foreach (var shadow in spec.Shadows ?? [])
        {
            if (string.IsNullOrEmpty(shadow.Name) || !NamePattern().IsMatch(shadow.Name) || !names.Add(shadow.Name))
            {
                problems.Add($"shadow name '{shadow.Name}' must be a new name of 1 to 63 lowercase letters, digits or '-'");
            }

            Collect(problems, () => ModelReference.Parse(shadow.Model, $"shadow '{shadow.Name}'"));
            if (shadow.Percent is < 1 or > 100)
            {
                problems.Add($"shadow '{shadow.Name}': percent {shadow.Percent} must be between 1 and 100");
            }
        }

        spec.Expectations?.Validate(problems);
        spec.Features?.Validate(problems);
        spec.Batching?.Validate(problems, policy);
        if (spec.Sticky?.Header is { } header && !HeaderNamePattern().IsMatch(header))
        {
            problems.Add($"sticky.header '{header}' is not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~, at most 128)");
        }

        if (spec.Fallback is { } fallback && variants.All(variant => variant.Name != fallback))
        {
            problems.Add($"fallback '{fallback}' is not one of the variants ({string.Join(", ", variants.Select(variant => variant.Name))})");
        }

        if (problems.Count > 0)
        {
            throw TrackingException.Invalid($"Invalid endpoint '{spec.Name}'", problems);
        }

        return spec with
        {
            Policy = policy,
            Variants = weighted,
            Shadows = (spec.Shadows ?? []).Select(shadow => shadow with { Percent = shadow.Percent ?? 100 }).ToList(),
            Sticky = spec.Sticky is null ? null : new StickySpec(spec.Sticky.Header ?? DefaultStickyHeader),
            Expectations = spec.Expectations is null ? null : spec.Expectations with { Mode = spec.Expectations.Mode ?? ExpectationsSpec.Reject },
            Features = spec.Features is null ? null : spec.Features with { OnMissing = spec.Features.OnMissing ?? EndpointFeaturesSpec.Reject },
            Batching = spec.Batching is null ? null : new BatchingSpec(spec.Batching.MaxBatchSize ?? BatchingSpec.DefaultMaxBatchSize, spec.Batching.MaxDelayMs ?? 0),
            Ensemble = policy == EnsemblePolicy ? new EnsembleSpec(spec.Ensemble?.Combine ?? EnsembleSpec.Mean, spec.Ensemble?.WeightsByRegime,
                spec.Ensemble?.Adapt is { } adapt ? new EnsembleAdaptSpec(adapt.Window ?? EnsembleAdaptSpec.DefaultWindow, adapt.MinFeedback ?? EnsembleAdaptSpec.DefaultMinFeedback) : null) : null,
            Bandit = bandit is null ? null : bandit with
            {
                Algorithm = bandit.Algorithm ?? BanditSpec.Thompson,
                Epsilon = (bandit.Algorithm ?? BanditSpec.Thompson) == BanditSpec.EpsilonGreedy ? bandit.Epsilon ?? BanditSpec.DefaultEpsilon : null,
            },
        };
    }

    /// <summary>The longest window an adaptive ensemble learns from: member predictions are kept as long as assignments (<see cref="AssignmentStore.Retention"/>).</summary>
    private static readonly TimeSpan MaxAdaptWindow = AssignmentStore.Retention;

    private static void ValidateEnsemble(List<string> problems, string policy, EndpointSpec spec)
    {
        if (policy != EnsemblePolicy)
        {
            problems.Add($"ensemble settings need policy 'ensemble', not '{policy}'");
            return;
        }

        if (spec.Ensemble?.Combine is { } combine && !EnsembleSpec.Combiners.Contains(combine))
        {
            problems.Add($"ensemble combine '{combine}' is not one of {string.Join(", ", EnsembleSpec.Combiners)}");
        }

        var variants = spec.Variants ?? [];
        if (variants.Count < 2)
        {
            problems.Add("an ensemble needs at least two variants");
        }

        if (variants.Count > 0 && variants.All(variant => variant.Weight == 0))
        {
            problems.Add("an ensemble's weights cannot all be 0 (leave them out for equal weights)");
        }

        if (spec.Sticky is not null)
        {
            problems.Add("every request reaches every variant of an ensemble; leave out sticky");
        }

        if (spec.Ensemble?.Adapt is { } adapt)
        {
            var window = adapt.Window is null ? TimeSpan.FromHours(1) : Durations.Parse(adapt.Window);
            if (window is null)
            {
                problems.Add($"ensemble.adapt.window '{adapt.Window}' is not a duration (e.g. 30m, 1h, 7d)");
            }
            else if (window <= TimeSpan.Zero || window > MaxAdaptWindow)
            {
                problems.Add($"ensemble.adapt.window must be more than 0 and at most 30d (member predictions are kept 30 days), not '{adapt.Window}'");
            }

            if (adapt.MinFeedback is < 1)
            {
                problems.Add($"ensemble.adapt.min_feedback must be at least 1, not {adapt.MinFeedback}");
            }
        }

        var rows = spec.Ensemble?.WeightsByRegime;
        if (rows is null != spec.Regime is null)
        {
            problems.Add("an ensemble's weights follow a regime with both regime settings (signal or detector, thresholds) and ensemble.weights_by_regime");
        }
        else if (rows is not null && spec.Regime is { } regime)
        {
            var thresholds = regime.Thresholds ?? [];
            if (thresholds.Count == 0 || (regime.Signal is null && regime.Detector is null) || regime.Variants is not null || regime.Rules is not null)
            {
                problems.Add("an ensemble's regime needs thresholds and a signal or a detector (no variants or rules: the weights choose)");
            }

            if (rows.Count != thresholds.Count + 1 || rows.Any(row => row.Count != variants.Count || row.Any(weight => !(weight >= 0 && double.IsFinite(weight))) || row.Sum() <= 0))
            {
                problems.Add($"ensemble.weights_by_regime needs {thresholds.Count + 1} rows (one per regime) of {variants.Count} non-negative weights, not all 0");
            }
        }
    }

    private static void ValidateRegime(List<string> problems, string policy, EndpointSpec spec)
    {
        if (policy != RegimePolicy || spec.Regime is not { } regime)
        {
            problems.Add(policy == RegimePolicy ? "policy 'regime' needs regime settings: rules, or thresholds and variants with a signal or a detector" : $"regime settings need policy 'regime', not '{policy}'");
            return;
        }

        var names = (spec.Variants ?? []).Select(variant => variant.Name).ToHashSet(StringComparer.Ordinal);
        var thresholds = regime.Thresholds ?? [];
        var regimeVariants = regime.Variants ?? [];
        if (thresholds.Count == 0 && (regime.Rules ?? []).Count == 0)
        {
            problems.Add("regime: give rules, or thresholds and variants (one more variant than thresholds)");
        }

        if (thresholds.Count > 0 || regimeVariants.Count > 0)
        {
            if (regimeVariants.Count != thresholds.Count + 1)
            {
                problems.Add($"regime: {thresholds.Count} thresholds make {thresholds.Count + 1} regimes, but {regimeVariants.Count} variants are named for them");
            }

            if (thresholds.Zip(thresholds.Skip(1)).Any(pair => !(pair.First < pair.Second)) || thresholds.Any(threshold => !double.IsFinite(threshold)))
            {
                problems.Add("regime: thresholds must be finite and strictly ascending");
            }

            if (regime.Signal is null && regime.Detector is null)
            {
                problems.Add("regime: thresholds need a signal name (values posted to /api/v1/endpoints/{name}/signals) or a detector");
            }
        }

        foreach (var name in regimeVariants.Concat((regime.Rules ?? []).Select(rule => rule.Variant ?? "")).Where(name => !names.Contains(name)).Distinct())
        {
            problems.Add($"regime: '{name}' is not one of the variants ({string.Join(", ", names)})");
        }

        foreach (var rule in regime.Rules ?? [])
        {
            if (string.IsNullOrEmpty(rule.Input) || rule.Op is null || !RegimeRule.Operators.Contains(rule.Op) || (rule.Value is null) == (rule.Text is null) || (rule.Text is not null && rule.Op is not ("==" or "!=")) || rule.Index is < 0)
            {
                problems.Add($"regime rule on '{rule.Input}': give input, op ({string.Join(" ", RegimeRule.Operators)}) and a numeric value, or a text with == or !=, and a column index ≥ 0");
            }
        }

        if (regime.Detector is { } detector)
        {
            if (string.IsNullOrEmpty(detector.Input) || detector.Statistic is not (null or RegimeDetectorSpec.Std or RegimeDetectorSpec.Mean) || detector.Window is < 2 or > 100_000 || detector.Index is < 0)
            {
                problems.Add("regime detector: give the input to watch, statistic std or mean, a window of 2 to 100000 rows and a column index ≥ 0");
            }
        }

        if (regime.Hysteresis is < 0 || regime.MinDwellSeconds is < 0)
        {
            problems.Add("regime: hysteresis and min_dwell_seconds cannot be negative");
        }

        if ((spec.Variants ?? []).Any(variant => variant.Weight is not null) || spec.Sticky is not null)
        {
            problems.Add("a regime endpoint routes by rules and signals; leave out weights and sticky");
        }
    }

    private static void ValidateRemote(List<string> problems, VariantSpec variant)
    {
        if (variant.Model is not null)
        {
            problems.Add($"variant '{variant.Name}': give a model or a url, not both");
        }

        if (!Uri.TryCreate(variant.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.Query) || url.AbsolutePath.EndsWith("/infer", StringComparison.Ordinal))
        {
            problems.Add($"variant '{variant.Name}': url '{variant.Url}' must be an http(s) V2 model address such as http://host:8080/v2/models/NAME (without /infer or a query)");
        }

        if (variant.TimeoutMs is < 1 or > 60_000)
        {
            problems.Add($"variant '{variant.Name}': timeout_ms {variant.TimeoutMs} must be between 1 and 60000");
        }

        if (variant.Retries is < 0 or > 5)
        {
            problems.Add($"variant '{variant.Name}': retries {variant.Retries} must be between 0 and 5");
        }
    }

    private static void ValidateBandit(List<string> problems, string policy, BanditSpec bandit, EndpointSpec spec)
    {
        if (policy != BanditPolicy)
        {
            problems.Add($"bandit settings need policy 'bandit', not '{policy}'");
            return;
        }

        var algorithm = bandit.Algorithm ?? BanditSpec.Thompson;
        if (!BanditSpec.Algorithms.Contains(algorithm))
        {
            problems.Add($"bandit algorithm '{algorithm}' is not one of {string.Join(", ", BanditSpec.Algorithms)}");
        }

        if (bandit.Epsilon is { } epsilon && (algorithm != BanditSpec.EpsilonGreedy || epsilon is < 0 or > 1 || double.IsNaN(epsilon)))
        {
            problems.Add(algorithm == BanditSpec.EpsilonGreedy ? $"bandit epsilon {epsilon} must be between 0 and 1" : $"bandit epsilon is only for epsilon_greedy, not {algorithm}");
        }

        if ((spec.Variants ?? []).Any(variant => variant.Weight is not null))
        {
            problems.Add("a bandit learns its traffic split from rewards; leave out the variants' weights");
        }

        if (spec.Sticky is not null)
        {
            problems.Add("sticky routing pins keys to variants, which a bandit must be free to move; leave out sticky");
        }
    }

    private static void Collect(List<string> problems, Action check)
    {
        try
        {
            check();
        }
        catch (TrackingException exception)
        {
            problems.Add(exception.Message.TrimEnd('.'));
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial Regex NamePattern();

    /// <summary>An HTTP field name: a token of RFC 9110's tchar.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,128}$")]
    private static partial Regex HeaderNamePattern();
}
