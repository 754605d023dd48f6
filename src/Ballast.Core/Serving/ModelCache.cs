using System.Collections.Concurrent;
using Ballast.Registry;
using Ballast.Runtime;
using Ballast.Storage;
using Ballast.Tracking;

namespace Ballast.Serving;

/// <summary>
/// A registered model version loaded in its runtime, shared by every endpoint that routes to it;
/// <see cref="FeatureService"/> is the feature service it was registered as trained on, when one was recorded.
/// </summary>
public sealed record LoadedModel(string Name, long Version, string Flavor, IModelRuntime Runtime, string? Display = null, string? FeatureService = null)
{
    /// <summary>What answered, as response headers and the prediction log name it: <c>iris/3</c>, a remote model's URL, an ensemble's members.</summary>
    public string Reference => Display ?? (_reference ??= $"{Name}/{Version}");

    // Made once: every scored request names its model three times (headers, response, log).
    private string? _reference;

    // A copy made with `with` may change the name or version: it makes its own reference.
    private LoadedModel(LoadedModel original)
    {
        (Name, Version, Flavor, Runtime, Display, FeatureService) = (original.Name, original.Version, original.Flavor, original.Runtime, original.Display, original.FeatureService);
    }
}

/// <summary>Hears what the model cache does, for metrics: a model loaded (and warmed) and how long it took; a remote's circuit breaker moved.</summary>
public interface IModelCacheObserver
{
    void Loaded(LoadedModel model, TimeSpan elapsed);

    void CircuitChanged(Uri url, string transition);
}

/// <summary>
/// Loads each model version once (from the artifact store: in place for a local store, through a local copy for
/// S3), warms it with one request, and disposes it when no routing snapshot uses it any more (or, for a version an
/// endpoint's dry run loaded only to check it, when the check is done: <see cref="Release"/>).
/// </summary>
public sealed class ModelCache(RegistryStore registry, RunStore runs, IArtifactStore artifacts, TimeProvider? time = null, IModelCacheObserver? observer = null) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly ConcurrentDictionary<(string Name, long Version), Lazy<Task<LoadedModel>>> _models = new();
    private readonly List<(IModelRuntime Runtime, long RetiredAt)> _retired = [];
    private readonly string _downloads = Path.Combine(Path.GetTempPath(), "ballast-models-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>The version a reference points at now (aliases move).</summary>
    public async Task<long> ResolveAsync(ModelReference reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var version = await reference.ResolveAsync(registry, cancellationToken).ConfigureAwait(false);
        return long.Parse(version.Version, System.Globalization.CultureInfo.InvariantCulture);
    }

    public Task<LoadedModel> GetAsync(string name, long version) => GetAsync(name, version, out _);

    /// <summary>
    /// The version, loaded once; <paramref name="started"/> is true when this call started its load (nobody had asked
    /// for it since it was last retired), so that a caller that only looks at it can <see cref="Release"/> it after.
    /// </summary>
    public Task<LoadedModel> GetAsync(string name, long version, out bool started)
    {
        var mine = new Lazy<Task<LoadedModel>>(() => LoadAsync(name, version));
        var entry = _models.GetOrAdd((name, version), mine);
        started = ReferenceEquals(entry, mine);
        var task = entry.Value;
        if (task.IsFaulted)
        {
            // A failed load is not cached: the next refresh tries again (the artifact may have been uploaded since).
            _models.TryRemove(new KeyValuePair<(string, long), Lazy<Task<LoadedModel>>>((name, version), entry));
        }

        return task;
    }

    /// <summary>
    /// A remote model (a variant with a url), connected once per address and options: its V2 metadata is read as the
    /// signature. Kept and retired like a loaded version (its cache name holds the options, its version is 0).
    /// </summary>
    public Task<LoadedModel> GetRemoteAsync(Uri url, RemoteOptions options) => GetRemoteAsync(url, options, out _);

    /// <inheritdoc cref="GetRemoteAsync(Uri, RemoteOptions)"/>
    /// <param name="started">True when this call connected it (see <see cref="GetAsync(string, long, out bool)"/>).</param>
    public Task<LoadedModel> GetRemoteAsync(Uri url, RemoteOptions options, out bool started)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(options);
        var key = $"remote {url} timeout={options.Timeout.TotalMilliseconds} retries={options.Retries}";
        var mine = new Lazy<Task<LoadedModel>>(async () =>
        {
            var began = System.Diagnostics.Stopwatch.GetTimestamp();
            var runtime = await RemoteModelRuntime.ConnectAsync(_http, url, options, time ?? TimeProvider.System, transition => observer?.CircuitChanged(url, transition)).ConfigureAwait(false);
            var loaded = new LoadedModel(key, 0, ModelFlavors.Remote, runtime, url.ToString());
            observer?.Loaded(loaded, System.Diagnostics.Stopwatch.GetElapsedTime(began));
            return loaded;
        });
        var entry = _models.GetOrAdd((key, 0), mine);
        started = ReferenceEquals(entry, mine);
        var task = entry.Value;
        if (task.IsFaulted)
        {
            _models.TryRemove(new KeyValuePair<(string, long), Lazy<Task<LoadedModel>>>((key, 0), entry));
        }

        return task;
    }

    /// <summary>How long a version no snapshot uses stays loaded, for requests still running on an older snapshot.</summary>
    public static TimeSpan RetireAfter { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether the version is loaded and kept (not retired): a routing snapshot or a check is using it.</summary>
    public bool IsLoaded(string name, long version) =>
        _models.TryGetValue((name, version), out var entry) && entry.IsValueCreated && entry.Value.IsCompletedSuccessfully;

    /// <summary>
    /// Retires each of <paramref name="loaded"/> that is not in <paramref name="inUse"/> and still the cache's copy of
    /// its version (not retired and loaded again since), as <see cref="Retain"/> retires what no snapshot uses: disposed
    /// <see cref="RetireAfter"/> later, so a request or a check still holding it finishes. For a caller that loaded
    /// versions only to look at them (an endpoint's dry run); <paramref name="inUse"/> must be what the routing snapshot
    /// serves, read where no refresh is building the next one.
    /// </summary>
    public void Release(IEnumerable<LoadedModel> loaded, IReadOnlySet<(string Name, long Version)> inUse)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentNullException.ThrowIfNull(inUse);
        lock (_retired)
        {
            var now = Environment.TickCount64;
            foreach (var model in loaded)
            {
                var key = (model.Name, model.Version);
                if (!inUse.Contains(key) && _models.TryGetValue(key, out var entry) && entry.IsValueCreated && entry.Value.IsCompletedSuccessfully
                    && ReferenceEquals(entry.Value.Result, model) && _models.TryRemove(new KeyValuePair<(string, long), Lazy<Task<LoadedModel>>>(key, entry)))
                {
                    _retired.Add((model.Runtime, now));
                }
            }
        }
    }

    /// <summary>Retires the loaded versions that are not in <paramref name="inUse"/>, and disposes those retired long enough ago.</summary>
    public void Retain(IReadOnlySet<(string Name, long Version)> inUse)
    {
        ArgumentNullException.ThrowIfNull(inUse);
        lock (_retired)
        {
            var now = Environment.TickCount64;
            foreach (var (key, entry) in _models)
            {
                if (!inUse.Contains(key) && _models.TryRemove(key, out _) && entry.IsValueCreated && entry.Value.IsCompletedSuccessfully)
                {
                    _retired.Add((entry.Value.Result.Runtime, now));
                }
            }

            foreach (var retired in _retired.Where(retired => now - retired.RetiredAt >= RetireAfter.TotalMilliseconds).ToList())
            {
                retired.Runtime.Dispose();
                _retired.Remove(retired);
            }
        }
    }

    public void Dispose()
    {
        Retain(new HashSet<(string, long)>());
        lock (_retired)
        {
            _retired.ForEach(retired => retired.Runtime.Dispose());
            _retired.Clear();
        }

        _http.Dispose();
        try
        {
            Directory.Delete(_downloads, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was downloaded.
        }
    }

    private async Task<LoadedModel> LoadAsync(string name, long version)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var modelVersion = await registry.GetVersionAsync(name, version.ToString(System.Globalization.CultureInfo.InvariantCulture)).ConfigureAwait(false);
        var tagged = modelVersion.Tags.FirstOrDefault(tag => tag.Key == ModelRegistration.FlavorTag)?.Value;
        var storePath = await StorePathAsync(modelVersion, tagged).ConfigureAwait(false);
        var flavor = tagged
                     ?? ModelFlavors.FromFileName(storePath)
                     ?? throw new ModelLoadException($"model {name}/{version} at '{modelVersion.Source}' has no flavor tag and no .onnx or .zip name");
        var local = await LocalFileAsync(storePath).ConfigureAwait(false);
        var runtime = ModelFlavors.Load(flavor, local);
        Warm(runtime);
        var loaded = new LoadedModel(name, version, flavor, runtime, FeatureService: ModelRegistration.FeatureServiceOf(modelVersion));
        observer?.Loaded(loaded, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return loaded;
    }

    /// <summary>
    /// The model file in the store: the source itself, or the one model file of the flavor in the folder it names (an
    /// MLflow model folder; without a flavor tag, an .onnx file, else an ML.NET .zip).
    /// </summary>
    private async Task<string> StorePathAsync(ModelVersion version, string? flavor)
    {
        // A version of an MLflow 3 logged model reads the model's artifact location, not its models:/ source.
        var source = version.DownloadUri;
        if (RunArtifactUri.TryParse(source, out var runArtifact))
        {
            var run = await runs.GetAsync(runArtifact.RunId).ConfigureAwait(false);
            source = runArtifact.Under(run.Info.ArtifactUri);
        }
        else if (RunArtifactUri.HasScheme(source))
        {
            throw new ModelLoadException($"model {version.Name}/{version.Version} comes from '{version.Source}', which is not runs:/RUN_ID/PATH");
        }

        var path = ModelRegistration.StorePathOf(source)
                   ?? throw new ModelLoadException($"model {version.Name}/{version.Version} comes from '{version.Source}', outside this server's artifact store; register the file with `ballast models register`");
        if (await artifacts.ExistsAsync(path).ConfigureAwait(false))
        {
            return path;
        }

        var files = new List<(string Path, string? Flavor)>();
        await foreach (var entry in artifacts.ListAsync(path, recursive: true).ConfigureAwait(false))
        {
            if (!entry.IsDirectory)
            {
                files.Add((entry.Path, ModelFlavors.FromFileName(entry.Path)));
            }
        }

        var wanted = flavor ?? (files.Any(file => file.Flavor == ModelFlavors.Onnx) ? ModelFlavors.Onnx : ModelFlavors.MlNet);
        var candidates = files.Where(file => file.Flavor == wanted).Select(file => file.Path).ToList();
        var extension = wanted == ModelFlavors.MlNet ? ".zip" : ".onnx";
        return candidates.Count == 1 ? candidates[0]
            : throw new ModelLoadException(candidates.Count == 0
                // Without a flavor tag either kind would have done: say so, not that a .zip was expected.
                ? $"model {version.Name}/{version.Version}: no {(flavor is null ? ".onnx or .zip" : extension)} model file at '{version.Source}'"
                : $"model {version.Name}/{version.Version}: '{version.Source}' holds {candidates.Count} {extension} files; register the one to serve");
    }

    private Task<string> LocalFileAsync(string storePath)
    {
        Directory.CreateDirectory(_downloads);
        return artifacts.LocalFileAsync(storePath, Path.Combine(_downloads, Guid.NewGuid().ToString("N") + Path.GetExtension(storePath)));
    }

    /// <summary>One request with a batch of one (zeros, empty strings) so the first real request pays no lazy initialisation.</summary>
    private static void Warm(IModelRuntime runtime)
    {
        try
        {
            runtime.Infer(runtime.Signature.Inputs.Select(spec =>
            {
                var shape = spec.Shape.Select(dimension => dimension < 0 ? 1L : dimension).ToArray();
                var count = (int)Tensor.ElementCount(shape);
                var data = Array.CreateInstance(TensorDatatypes.ElementType(spec.Datatype), count);
                if (data is string[] strings)
                {
                    Array.Fill(strings, "");
                }

                return new Tensor(spec.Name, spec.Datatype, shape, data);
            }).ToList());
        }
        catch (Exception exception) when (exception is ModelInputException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            // A model that refuses zeros (a categorical input with an unknown "" category, say) is still loaded.
        }
    }
}
