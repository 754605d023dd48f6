using System.Text.Json.Nodes;
using Ballast.Registry;
using Ballast.Storage;

namespace Ballast.Pipelines;

/// <summary>
/// What one attempt of a step sees: its resolved inputs, the run's parameters, a log (kept as an artifact), a scratch
/// folder, and the artifact store where its file outputs go (under its tracking run's artifacts).
/// </summary>
public sealed class StepContext
{
    private readonly IArtifactStore _artifacts;
    private readonly Func<PipelineReference, JsonNode?> _lookup;

    internal StepContext(string pipeline, string runId, string step, int attempt, JsonObject with, IReadOnlyDictionary<string, JsonNode?> parameters,
        Func<PipelineReference, JsonNode?> lookup, IArtifactStore artifacts, string artifactRoot, string artifactUri, string trackingRunId,
        string workDirectory, TextWriter log, TimeProvider time, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        Pipeline = pipeline;
        RunId = runId;
        Step = step;
        Attempt = attempt;
        RawWith = with;
        Parameters = parameters;
        _lookup = lookup;
        _artifacts = artifacts;
        ArtifactRoot = artifactRoot;
        ArtifactUri = artifactUri;
        TrackingRunId = trackingRunId;
        WorkDirectory = workDirectory;
        Log = log;
        Time = time;
        Timeout = timeout;
        CancellationToken = cancellationToken;
        With = (JsonObject)PipelineExpressions.Resolve(with, lookup, file => file["uri"]!.GetValue<string>())!;
    }

    public string Pipeline { get; }

    public string RunId { get; }

    public string Step { get; }

    /// <summary>1 for the first attempt.</summary>
    public int Attempt { get; }

    /// <summary>The inputs with references resolved: a whole-string reference is the referenced value itself; file outputs inside text become their URI.</summary>
    public JsonObject With { get; }

    /// <summary>The inputs as written, for steps that resolve references their own way (<see cref="Resolve"/>).</summary>
    public JsonObject RawWith { get; }

    public IReadOnlyDictionary<string, JsonNode?> Parameters { get; }

    /// <summary>The artifact store folder of this step's tracking run (<c>mlflow-artifacts/EXP/RUN/artifacts</c>).</summary>
    public string ArtifactRoot { get; }

    /// <summary>The tracking run's artifact URI (<c>mlflow-artifacts:/EXP/RUN/artifacts</c>).</summary>
    public string ArtifactUri { get; }

    public string TrackingRunId { get; }

    /// <summary>An empty folder of this attempt, deleted afterwards.</summary>
    public string WorkDirectory { get; }

    /// <summary>The step's log; what is written here is readable with <c>ballast pipelines logs</c>.</summary>
    public TextWriter Log { get; }

    public TimeProvider Time { get; }

    /// <summary>The step's timeout per attempt, if it has one (a Kubernetes Job gets it as its deadline).</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>Cancelled on timeout, on cancellation of the run and on shutdown.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The inputs resolved with file outputs inside text written as <paramref name="fileText"/> says.</summary>
    public JsonObject Resolve(Func<JsonNode, string> fileText) => (JsonObject)PipelineExpressions.Resolve(RawWith, _lookup, fileText)!;

    /// <summary>A string input, or null when absent; throws when it is not a string.</summary>
    public string? Text(string name) => With[name] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonValue value => value.ToJsonString(),
        var other => throw new StepFailedException($"input '{name}' must be text, not {other.ToJsonString()}"),
    };

    public string RequiredText(string name) => Text(name) is { Length: > 0 } text ? text : throw new StepFailedException($"input '{name}' is empty");

    /// <summary>Stores a local file as an output under the run's artifacts (<c>outputs/NAME/FILE</c>) and returns its output object.</summary>
    public async Task<JsonObject> PutFileAsync(string output, string localPath)
    {
        ArgumentNullException.ThrowIfNull(localPath);
        var fileName = Path.GetFileName(localPath);
        var relative = $"outputs/{output}/{fileName}";
        await using var stream = new FileStream(localPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81_920, FileOptions.Asynchronous);
        var entry = await _artifacts.PutAsync(ArtifactPath.Combine(ArtifactRoot, relative), stream, CancellationToken).ConfigureAwait(false);
        return StepOutputs.File(fileName, ArtifactPath.Combine(ArtifactRoot, relative), $"{ArtifactUri}/{relative}", entry.Sha256 ?? "", entry.Size ?? new FileInfo(localPath).Length);
    }

    /// <summary>Opens a file output (or an <c>mlflow-artifacts:/</c> URI) from the artifact store.</summary>
    public Task<Stream> OpenFileAsync(JsonNode file)
    {
        var path = file is JsonObject obj && StepOutputs.IsFile(obj) ? obj["path"]!.GetValue<string>()
            : file is JsonValue value && value.TryGetValue<string>(out var uri) && ModelRegistration.StorePathOf(uri) is { } stored ? stored
            : throw new StepFailedException($"{file.ToJsonString()} is not a file output nor an mlflow-artifacts:/ URI");
        return _artifacts.OpenReadAsync(path, CancellationToken);
    }

    /// <summary>Copies a file output into the work folder (<c>inputs/…</c>) and returns its local path.</summary>
    public async Task<string> DownloadAsync(JsonNode file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var name = file is JsonObject obj && obj["name"] is { } fileName ? fileName.GetValue<string>() : Path.GetFileName(file.GetValue<string>());
        var folder = Path.Combine(WorkDirectory, "inputs", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var local = Path.Combine(folder, name);
        await using var source = await OpenFileAsync(file).ConfigureAwait(false);
        await using var target = new FileStream(local, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81_920, FileOptions.Asynchronous);
        await source.CopyToAsync(target, CancellationToken).ConfigureAwait(false);
        return local;
    }
}
