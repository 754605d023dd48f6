using System.Collections.Frozen;
using System.Text;
using Ballast.Rollouts;
using Ballast.Runtime;
using Ballast.Tracking;

namespace Ballast.Serving;

/// <summary>
/// A variant ready to serve: what its spec names (<c>models:/…</c> or a remote URL), its model loaded, its share of
/// traffic as the bucket range [from, to) of 100.
/// </summary>
public sealed record RoutedVariant(string Name, string Source, LoadedModel Model, int Weight, int BucketFrom, int BucketTo, InferenceBatcher? Batcher = null)
{
    /// <summary>Runs the variant's model: through its batcher when the endpoint batches, else alone.</summary>
    public ValueTask<IReadOnlyList<Tensor>> InferAsync(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs, CancellationToken cancellationToken = default) =>
        Batcher is { } batcher ? batcher.InferAsync(inputs, outputs) : Model.Runtime.InferAsync(inputs, outputs, cancellationToken);
}

/// <summary>
/// What one request got: the variant that answered (the fallback when the chosen one failed), its model and outputs;
/// for an ensemble that adapts its weights, each member's own outputs (<see cref="Members"/>, in member order).
/// </summary>
public sealed record Invocation(RoutedVariant Variant, IReadOnlyList<Tensor> Outputs, RoutedVariant? FailedVariant = null, string? Failure = null,
    IReadOnlyList<(string Member, IReadOnlyList<Tensor> Outputs)>? Members = null);

/// <summary>An endpoint as the hot path sees it: immutable, every model loaded; a bandit's arm statistics are swapped in whole.</summary>
public sealed class RoutedEndpoint(StoredEndpoint endpoint, IReadOnlyList<RoutedVariant> variants, IReadOnlyList<RoutedVariant> shadows, TimeProvider? time = null)
{
    private volatile ArmStats[] _arms = variants.Select(variant => new ArmStats(variant.Name, 0, 0, 0, 0)).ToArray();

    public StoredEndpoint Endpoint { get; } = endpoint;

    /// <summary>The bandit settings when the policy is <c>bandit</c>.</summary>
    public BanditSpec? Bandit { get; } = endpoint.Spec.Policy == EndpointValidation.BanditPolicy ? endpoint.Spec.Bandit ?? new BanditSpec() : null;

    /// <summary>
    /// When the policy is <c>ensemble</c>: the variant that answers every request by combining all the others, one per
    /// regime when the weights follow a regime signal.
    /// </summary>
    public IReadOnlyList<RoutedVariant> Ensembles { get; } = endpoint.Spec.Policy == EndpointValidation.EnsemblePolicy ? EnsemblesOf(endpoint.Spec, variants) : [];

    /// <summary>An ensemble's adaptive settings when its weights learn from feedback (<see cref="UpdateEnsembleWeights"/>).</summary>
    public EnsembleAdaptSpec? EnsembleAdapt { get; } = endpoint.Spec.Policy == EndpointValidation.EnsemblePolicy ? endpoint.Spec.Ensemble?.Adapt : null;

    /// <summary>The members' record behind an adaptive ensemble's weights, as this replica last read it (empty before).</summary>
    public IReadOnlyList<MemberAccuracy> MemberAccuracy => _memberAccuracy;

    private volatile IReadOnlyList<MemberAccuracy> _memberAccuracy = [];

    /// <summary>The regime state when the policy is <c>regime</c>, or an ensemble's weights follow one (kept while the endpoint's revision stays).</summary>
    public RegimeState? Regime { get; } = endpoint.Spec is { Policy: EndpointValidation.RegimePolicy or EndpointValidation.EnsemblePolicy, Regime: { } regime } ? new RegimeState(regime, time ?? TimeProvider.System) : null;

    /// <summary>The endpoint's data-quality expectations compiled for rows (regexes included), or null when it has none.</summary>
    public Monitoring.Quality.RowValidator? Expectations { get; } = endpoint.Spec.Expectations?.Suite is { } suite ? Monitoring.Quality.RowValidator.Compile(suite) : null;

    /// <summary>Whether a request failing <see cref="Expectations"/> is refused (<c>reject</c>) rather than scored and flagged.</summary>
    public bool RejectsFailedExpectations => Endpoint.Spec.Expectations?.Mode != ExpectationsSpec.Flag;

    /// <summary>The bandit's arms, one per variant in order, as last read from the store.</summary>
    public IReadOnlyList<ArmStats> Arms => _arms;

    public string Name => Endpoint.Spec.Name;

    public IReadOnlyList<RoutedVariant> Variants { get; } = variants;

    public IReadOnlyList<RoutedVariant> Shadows { get; } = shadows;

    public string? StickyHeader => Endpoint.Spec.Sticky?.Header;

    /// <summary>
    /// Whether serving records which variant made each prediction (<see cref="AssignmentStore"/>), for what reads it: a
    /// bandit's arms, and a rollout's feedback conditions, which compare the variants of an endpoint under a rollout
    /// (its canary, preview or previous beside stable). Other endpoints record nothing, a static split included: A/B
    /// experiments read the prediction log (which has each record's variant), and the rows cost a static split about 4%
    /// of its CPU at serving rates and the metadata database a row per prediction that nothing would read.
    /// </summary>
    public bool RecordsAssignments { get; } = endpoint.Spec.Policy == EndpointValidation.BanditPolicy
        || variants.Any(variant => variant.Name is RolloutController.CanaryVariant or RolloutController.PreviewVariant or RolloutController.PreviousVariant);

    public RoutedVariant? Fallback => Endpoint.Spec.Fallback is { } name ? Variants.First(variant => variant.Name == name) : null;

    public RoutedVariant? Find(string name) => Variants.FirstOrDefault(variant => variant.Name == name);

    /// <summary>
    /// The variant for a request: a bandit's choice from its arms' statistics; an ensemble (the current regime's
    /// weights); a regime's rule or regime; else by the routing key's stable hash (the same key, the same variant on
    /// every replica and after restarts); else at random in proportion to the weights.
    /// </summary>
    public RoutedVariant Choose(string? routingKey, Random random, IReadOnlyList<Tensor>? inputs = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (Bandit is { } bandit)
        {
            return Variants[BanditPolicy.Choose(bandit, _arms, random)];
        }

        if (Ensembles.Count > 0)
        {
            Regime?.Observe(inputs ?? []);
            return Ensembles[Math.Min(Regime?.Regime ?? 0, Ensembles.Count - 1)];
        }

        if (Regime is { } regime)
        {
            return ChooseByRegime(regime, inputs ?? []);
        }

        var bucket = routingKey is null ? random.Next(100) : Bucket(routingKey);
        foreach (var variant in Variants)
        {
            if (bucket >= variant.BucketFrom && bucket < variant.BucketTo)
            {
                return variant;
            }
        }

        return Variants[^1];
    }

    /// <summary>
    /// Runs the variant's model; when it fails or times out (not for bad inputs, nor when the caller went away), the
    /// fallback variant answers instead and <see cref="Invocation.Failure"/> says why.
    /// </summary>
    public async ValueTask<Invocation> InvokeAsync(RoutedVariant variant, IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(variant);
        try
        {
            if (EnsembleAdapt is not null && variant.Model.Runtime is EnsembleRuntime ensemble)
            {
                var (combined, answers) = await ensemble.InferMembersAsync(inputs, outputs, cancellationToken).ConfigureAwait(false);
                return new Invocation(variant, combined, Members: [.. ensemble.Members.Select((member, i) => (member, answers[i]))]);
            }

            return new Invocation(variant, await variant.InferAsync(inputs, outputs, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception exception) when (exception is not ModelInputException && !cancellationToken.IsCancellationRequested && Fallback is { } fallback && fallback != variant)
        {
            return new Invocation(fallback, await fallback.InferAsync(inputs, outputs, cancellationToken).ConfigureAwait(false), variant, exception.Message);
        }
    }

    private static List<RoutedVariant> EnsemblesOf(EndpointSpec spec, IReadOnlyList<RoutedVariant> variants) =>
        EnsembleRuntime.WeightRows(spec, [.. variants.Select(variant => variant.Name)]).Select(row => EnsembleOf(spec, variants, row)).ToList();

    private static RoutedVariant EnsembleOf(EndpointSpec spec, IReadOnlyList<RoutedVariant> variants, IReadOnlyList<double> weights)
    {
        var runtime = EnsembleRuntime.Of(spec, [.. variants.Select(variant => (variant.Name, variant.Model.Runtime))], weights);
        var members = string.Join(",", variants.Select((variant, i) => $"{variant.Name}={variant.Model.Reference}" + (weights[i] == 1 ? "" : $"*{weights[i]}")));
        var model = new LoadedModel("ensemble", 0, runtime.Flavor, runtime, $"ensemble({members})");
        return new RoutedVariant("ensemble", "ensemble", model, 100, 0, 100);
    }

    /// <summary>A regime endpoint's variant: the first rule the request matches, else the regime's (the first variant without thresholds).</summary>
    private RoutedVariant ChooseByRegime(RegimeState state, IReadOnlyList<Tensor> inputs)
    {
        var spec = Endpoint.Spec.Regime!;
        foreach (var rule in spec.Rules ?? [])
        {
            if (rule.Matches(inputs))
            {
                return Find(rule.Variant!)!;
            }
        }

        state.Observe(inputs);
        return spec.Variants is { Count: > 0 } regimes ? Find(regimes[Math.Min(state.Regime, regimes.Count - 1)])! : Variants[0];
    }

    /// <summary>
    /// Takes an adaptive ensemble's members' record read from the store (predictions of its window with an outcome, how
    /// many right, and how many distinct outcomes: the classes) and re-weights each of its ensembles (one per regime).
    /// </summary>
    public void UpdateEnsembleWeights(IReadOnlyList<MemberAccuracy> accuracy, long classes)
    {
        ArgumentNullException.ThrowIfNull(accuracy);
        var minFeedback = EnsembleAdapt?.MinFeedback ?? EnsembleAdaptSpec.DefaultMinFeedback;
        foreach (var ensemble in Ensembles.Select(variant => (EnsembleRuntime)variant.Model.Runtime))
        {
            ensemble.Adapt(EnsembleWeights.Adapted(ensemble.Members, accuracy, classes, minFeedback));
        }

        _memberAccuracy = accuracy;
    }

    /// <summary>Takes the arms' statistics read from the store (variants with no prediction yet start at zero).</summary>
    public void UpdateArms(IReadOnlyList<ArmStats> stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        _arms = Variants.Select(variant => stored.FirstOrDefault(arm => arm.Variant == variant.Name) ?? new ArmStats(variant.Name, 0, 0, 0, 0)).ToArray();
    }

    /// <summary>FNV-1a over the key's UTF-8 bytes, mod 100: stable across processes and versions, unlike string.GetHashCode.</summary>
    public static int Bucket(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return (int)(hash % 100);
    }
}

/// <summary>
/// Why an endpoint is not (fully) served: the model it names could not be resolved or loaded, or a routed version was
/// trained on another feature service than the endpoint's (<see cref="FeatureServiceMismatches"/>, refused: the
/// previous models keep serving).
/// </summary>
public sealed record EndpointProblem(string Endpoint, string Message, IReadOnlyList<FeatureServiceMismatch>? FeatureServiceMismatches = null);

/// <summary>
/// The routing snapshot: every endpoint with its variants' models loaded, read by the hot path without a lock and
/// replaced as a whole by <see cref="RefreshAsync"/> (after a change here, and on a timer so that other replicas'
/// changes and alias moves arrive). A new snapshot is built, with its models loaded and warmed, before it replaces
/// the old one, so moving an alias fails no request; versions no snapshot uses any more are unloaded.
/// </summary>
/// <remarks><paramref name="batchObserver"/> gives, for an endpoint and variant that batch, what hears each batch's rows (metrics).</remarks>
public sealed class EndpointRouter(EndpointStore endpoints, ModelCache models, AssignmentStore? assignments = null, TimeProvider? time = null, Func<string, string, Action<int>>? batchObserver = null) : IDisposable
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Snapshot _snapshot = new(FrozenDictionary<string, RoutedEndpoint>.Empty, [], false);

    public IReadOnlyDictionary<string, RoutedEndpoint> Endpoints => _snapshot.Endpoints;

    /// <summary>Endpoints that could not be (re)loaded in the last refresh; an endpoint that was served before keeps its previous snapshot.</summary>
    public IReadOnlyList<EndpointProblem> Problems => _snapshot.Problems;

    /// <summary>True once a refresh has run and every stored endpoint is served with every model loaded.</summary>
    public bool Ready => _snapshot.Loaded && _snapshot.Problems.Count == 0;

    public RoutedEndpoint? Find(string name) => _snapshot.Endpoints.GetValueOrDefault(name);

    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var previous = _snapshot;
            var next = new Dictionary<string, RoutedEndpoint>(StringComparer.Ordinal);
            var problems = new List<EndpointProblem>();
            foreach (var endpoint in await endpoints.ListAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    next[endpoint.Spec.Name] = await BuildAsync(endpoint, previous.Endpoints.GetValueOrDefault(endpoint.Spec.Name), cancellationToken).ConfigureAwait(false);
                }
                catch (FeatureServiceMismatchException exception)
                {
                    // Never serve a model with features it was not trained on: the re-point (an alias move) is refused and
                    // the previous models keep serving; with none (a restart), the endpoint is not served until it is fixed.
                    var served = previous.Endpoints.GetValueOrDefault(endpoint.Spec.Name);
                    problems.Add(new EndpointProblem(endpoint.Spec.Name, $"refused: {exception.Message}; "
                        + (served is null ? "the endpoint is not served until the alias or the endpoint is changed"
                            : $"still serving {string.Join(", ", served.Variants.Concat(served.Shadows).Select(variant => $"{variant.Name}={variant.Model.Reference}"))}"),
                        exception.Mismatches));
                    if (served is not null)
                    {
                        next[endpoint.Spec.Name] = served;
                    }
                }
                catch (Exception exception) when (exception is TrackingException or ModelLoadException or Storage.ArtifactNotFoundException)
                {
                    problems.Add(new EndpointProblem(endpoint.Spec.Name, exception.Message));
                    if (previous.Endpoints.GetValueOrDefault(endpoint.Spec.Name) is { } served)
                    {
                        next[endpoint.Spec.Name] = served;
                    }
                }
            }

            // What endpoints learned (arms, ensemble weights) and signals first, so that a new bandit, adaptive ensemble or regime endpoint starts from its stored state.
            await RefreshLearnedAsync(next.Values, cancellationToken).ConfigureAwait(false);
            await RefreshSignalsAsync(next.Values, cancellationToken).ConfigureAwait(false);
            _snapshot = new Snapshot(next.ToFrozenDictionary(StringComparer.Ordinal), problems, true);
            models.Retain(InUse(next.Values));
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Re-reads every bandit endpoint's arm statistics and every adaptive ensemble's members' record (after feedback arrives, and with every refresh).</summary>
    public Task RefreshLearnedAsync(CancellationToken cancellationToken = default) => RefreshLearnedAsync(_snapshot.Endpoints.Values, cancellationToken);

    public void Dispose() => _refresh.Dispose();

    /// <summary>Applies the latest posted signal of every regime endpoint that listens to one (posts through other replicas arrive this way).</summary>
    private async Task RefreshSignalsAsync(IEnumerable<RoutedEndpoint> routed, CancellationToken cancellationToken)
    {
        foreach (var endpoint in routed.Where(endpoint => endpoint.Regime is not null && endpoint.Endpoint.Spec.Regime?.Signal is not null))
        {
            if (await endpoints.GetSignalAsync(endpoint.Name, endpoint.Endpoint.Spec.Regime!.Signal!, cancellationToken).ConfigureAwait(false) is { } signal)
            {
                endpoint.Regime!.Post(signal.Value, signal.PostedAt);
            }
        }
    }

    private async Task RefreshLearnedAsync(IEnumerable<RoutedEndpoint> routed, CancellationToken cancellationToken)
    {
        if (assignments is null)
        {
            return;
        }

        foreach (var endpoint in routed)
        {
            if (endpoint.Bandit is not null)
            {
                endpoint.UpdateArms(await assignments.ArmsAsync(endpoint.Name, cancellationToken).ConfigureAwait(false));
            }
            else if (endpoint.EnsembleAdapt is { } adapt)
            {
                var since = (time ?? TimeProvider.System).GetUtcNow() - adapt.WindowSpan();
                var (accuracy, classes) = await assignments.MemberAccuracyAsync(endpoint.Name, since.ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);
                endpoint.UpdateEnsembleWeights(accuracy, classes);
            }
        }
    }

    /// <summary>
    /// Why <paramref name="spec"/> (validated) would not be served, checked as a refresh checks a stored endpoint: its
    /// models resolved and loaded, their feature services, an ensemble's members, every variant's and shadow's inputs
    /// against the endpoint's (<see cref="EndpointSignatureCheck"/>), the expectations' columns; null when
    /// it would be served. Nothing is served or changed: the models the check itself loaded are released right after it
    /// unless an endpoint routes to them (see <see cref="ReleaseAsync"/>). <paramref name="serving"/> names the model
    /// version each variant and shadow would serve.
    /// </summary>
    public async Task<string?> CheckAsync(EndpointSpec spec, List<(string Variant, string Model)> serving, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(serving);
        var started = new List<LoadedModel>();
        try
        {
            var (variants, shadows) = await RouteAllAsync(spec, batched: false, cancellationToken, started).ConfigureAwait(false);
            serving.AddRange(variants.Concat(shadows).Select(variant => (variant.Name, variant.Model.Reference)));
            Check(spec, variants, shadows);
            if (spec.Expectations?.Suite is { } suite)
            {
                CheckExpectations(Monitoring.Quality.RowValidator.Compile(suite), variants);
            }

            return null;
        }
        catch (FeatureServiceMismatchException exception)
        {
            return $"refused: {exception.Message}";
        }
        catch (Exception exception) when (exception is TrackingException or ModelLoadException or Storage.ArtifactNotFoundException)
        {
            return exception.Message;
        }
        finally
        {
            await ReleaseAsync(started, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Releases the models a check loaded itself (<paramref name="started"/>), but none an endpoint routes to. Under the
    /// refresh lock, so that the snapshot read is the one being served: a refresh or an apply that routes to one of them
    /// has either swapped it in already (and it is kept) or not yet begun (and loads it again); a check running beside
    /// this one that uses the same model holds it until it is disposed, <see cref="ModelCache.RetireAfter"/> later.
    /// </summary>
    private async Task ReleaseAsync(List<LoadedModel> started, CancellationToken cancellationToken)
    {
        if (started.Count == 0)
        {
            return;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            models.Release(started, InUse(_snapshot.Endpoints.Values));
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The model versions (and remote models) the endpoints' variants and shadows serve.</summary>
    private static HashSet<(string Name, long Version)> InUse(IEnumerable<RoutedEndpoint> routed) =>
        routed.SelectMany(endpoint => endpoint.Variants.Concat(endpoint.Shadows)).Select(variant => (variant.Model.Name, variant.Model.Version)).ToHashSet();

    private async Task<RoutedEndpoint> BuildAsync(StoredEndpoint endpoint, RoutedEndpoint? previous, CancellationToken cancellationToken)
    {
        var (variants, shadows) = await RouteAllAsync(endpoint.Spec, batched: true, cancellationToken).ConfigureAwait(false);
        Check(endpoint.Spec, variants, shadows);

        // Unchanged endpoint and models: keep the same object (and its identity) in the new snapshot.
        if (previous is not null && previous.Endpoint.Revision == endpoint.Revision
            && previous.Variants.Concat(previous.Shadows).Select(variant => variant.Model).SequenceEqual(variants.Concat(shadows).Select(variant => variant.Model)))
        {
            return previous;
        }

        var routed = new RoutedEndpoint(endpoint, variants, shadows, time);
        if (routed.Expectations is { } expectations)
        {
            CheckExpectations(expectations, variants);
        }

        return routed;
    }

    /// <summary>
    /// Each variant and shadow with its model loaded (variants batched when <paramref name="batched"/> and the spec asks
    /// for it); the models whose load this started are added to <paramref name="started"/> when given.
    /// </summary>
    private async Task<(List<RoutedVariant> Variants, List<RoutedVariant> Shadows)> RouteAllAsync(EndpointSpec spec, bool batched, CancellationToken cancellationToken, List<LoadedModel>? started = null)
    {
        var variants = new List<RoutedVariant>();
        var from = 0;
        foreach (var variant in spec.Variants ?? [])
        {
            // An ensemble member without a weight weighs 1 (EnsemblesOf); elsewhere weights are split shares.
            var weight = variant.Weight ?? (spec.Policy == EndpointValidation.EnsemblePolicy ? 1 : 0);
            variants.Add(variant.Url is { } url
                ? await RouteRemoteAsync(variant, new Uri(url), weight, from, cancellationToken, started).ConfigureAwait(false)
                : await RouteAsync(variant.Name, variant.Model!, weight, from, cancellationToken, batched ? spec : null, started).ConfigureAwait(false));
            from += weight;
        }

        var shadows = new List<RoutedVariant>();
        foreach (var shadow in spec.Shadows ?? [])
        {
            shadows.Add(await RouteAsync(shadow.Name, shadow.Model!, shadow.Percent ?? 100, 0, cancellationToken, started: started).ConfigureAwait(false));
        }

        return (variants, shadows);
    }

    /// <summary>
    /// Never serve a model with features it was not trained on; an ensemble's members must fit together; every variant,
    /// shadow and the fallback must take the endpoint's inputs (<see cref="EndpointSignatureCheck"/>).
    /// </summary>
    private static void Check(EndpointSpec spec, List<RoutedVariant> variants, List<RoutedVariant> shadows)
    {
        if (FeatureServiceCheck.Mismatches(spec, variants, shadows) is { Count: > 0 } mismatches)
        {
            throw new FeatureServiceMismatchException(mismatches);
        }

        if (spec.Policy == EndpointValidation.EnsemblePolicy)
        {
            CheckEnsembleMembers(variants);
        }

        if (EndpointSignatureCheck.Problem(spec, variants, shadows) is { } problem)
        {
            throw TrackingException.Invalid(problem);
        }
    }

    /// <summary>Every column the expectations name must be an input of every variant's model.</summary>
    private static void CheckExpectations(Monitoring.Quality.RowValidator expectations, List<RoutedVariant> variants)
    {
        foreach (var variant in variants)
        {
            var inputs = variant.Model.Runtime.Signature.Inputs;
            if (expectations.UnknownColumns(inputs) is { Count: > 0 } unknown)
            {
                throw TrackingException.Invalid($"expectations name {string.Join(", ", unknown.Select(column => $"'{column}'"))}, which {variant.Model.Reference} (variant '{variant.Name}') "
                    + $"does not take as an input; its inputs are {string.Join(", ", inputs.Select(input => $"'{input.Name}' {input}"))} (name column i of an [N, K] input NAME[i])");
            }
        }
    }

    /// <summary>A variant of a registered model; batched when <paramref name="endpoint"/> asks for it and the model's rows are independent (shadows pass no endpoint).</summary>
    private async Task<RoutedVariant> RouteAsync(string name, string model, int weight, int from, CancellationToken cancellationToken, EndpointSpec? endpoint = null, List<LoadedModel>? started = null)
    {
        var reference = ModelReference.Parse(model, $"variant '{name}'");
        var version = await models.ResolveAsync(reference, cancellationToken).ConfigureAwait(false);
        var loaded = await models.GetAsync(reference.Name, version, out var mine).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (mine)
        {
            started?.Add(loaded);
        }

        var batcher = endpoint is { Batching: { } batching } && InferenceBatcher.CanBatch(loaded.Runtime.Signature)
            ? new InferenceBatcher(loaded.Runtime, batching, time, batchObserver?.Invoke(endpoint.Name, name))
            : null;
        return new RoutedVariant(name, model, loaded, weight, from, from + weight, batcher);
    }

    private async Task<RoutedVariant> RouteRemoteAsync(VariantSpec spec, Uri url, int weight, int from, CancellationToken cancellationToken, List<LoadedModel>? started = null)
    {
        var options = new RemoteOptions(spec.TimeoutMs is { } timeout ? TimeSpan.FromMilliseconds(timeout) : RemoteOptions.DefaultTimeout, spec.Retries ?? RemoteOptions.DefaultRetries);
        var loaded = await models.GetRemoteAsync(url, options, out var mine).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (mine)
        {
            started?.Add(loaded);
        }

        return new RoutedVariant(spec.Name, url.ToString(), loaded, weight, from, from + weight);
    }

    /// <summary>
    /// An ensemble's members are called with the same request and their answers combined output by output: they must
    /// agree on both, names, datatypes and shapes (a dimension of any size, -1, fits any).
    /// </summary>
    private static void CheckEnsembleMembers(List<RoutedVariant> members)
    {
        static string Describe(IEnumerable<TensorSpec> specs) => string.Join(", ", specs.OrderBy(spec => spec.Name, StringComparer.Ordinal).Select(spec => $"{spec.Name} {spec.Datatype}"));
        static string DescribeShapes(IEnumerable<TensorSpec> specs) => string.Join(", ", specs.OrderBy(spec => spec.Name, StringComparer.Ordinal).Select(spec => $"{spec.Name} {spec}"));
        // A remote model's metadata may leave a shape out: nothing to compare then.
        static bool ShapesFit(IReadOnlyList<TensorSpec> mine, IReadOnlyList<TensorSpec> theirs) => mine.All(spec =>
            theirs.FirstOrDefault(other => other.Name == spec.Name) is not { } other || spec.Shape.Count == 0 || other.Shape.Count == 0
            || (spec.Shape.Count == other.Shape.Count && spec.Shape.Zip(other.Shape).All(pair => pair.First < 0 || pair.Second < 0 || pair.First == pair.Second)));
        var first = members[0];
        foreach (var member in members.Skip(1))
        {
            foreach (var (what, mine, theirs) in new[] { ("takes", first.Model.Runtime.Signature.Inputs, member.Model.Runtime.Signature.Inputs), ("gives", first.Model.Runtime.Signature.Outputs, member.Model.Runtime.Signature.Outputs) })
            {
                // A remote model's metadata may leave its outputs out: nothing to compare then.
                if (mine.Count > 0 && theirs.Count > 0 && Describe(mine) != Describe(theirs))
                {
                    throw TrackingException.Invalid($"ensemble members must take the same inputs and give the same outputs: '{first.Name}' ({first.Model.Reference}) {what} {Describe(mine)}; '{member.Name}' ({member.Model.Reference}) {what} {Describe(theirs)}");
                }

                // Same names and datatypes, but shapes that no one request (or combination) fits: [-1,4] beside [-1,2].
                if (!ShapesFit(mine, theirs))
                {
                    throw TrackingException.Invalid($"ensemble members must take the same inputs and give the same outputs: '{first.Name}' ({first.Model.Reference}) {what} {DescribeShapes(mine)}; '{member.Name}' ({member.Model.Reference}) {what} {DescribeShapes(theirs)}");
                }
            }
        }
    }

    private sealed record Snapshot(FrozenDictionary<string, RoutedEndpoint> Endpoints, IReadOnlyList<EndpointProblem> Problems, bool Loaded);
}
