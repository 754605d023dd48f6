using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Ballast.Datasets;
using Ballast.Monitoring;
using Ballast.Serving;
using Ballast.Storage;
using Ballast.Tracking;
using Ballast.Training;

namespace Ballast.Pipelines.Steps;

/// <summary>
/// <c>kind: ingest</c>: brings data into a run from one source:
/// <c>dataset: NAME[@VERSION]</c> (+ <c>table</c> when the version has several tabular files);
/// <c>path</c> (a local file or folder, an <c>s3://bucket/key</c> object or prefix read with the server's S3 endpoint and
/// credentials, a file output or an <c>mlflow-artifacts:/</c> URI), registered as a new version
/// of <c>register_as</c> when given; or <c>endpoint</c> with <c>from</c>/<c>to</c> (Unix ms or ISO 8601; <c>to</c>
/// defaults to now) and <c>label</c>: the prediction-log window joined with feedback as a flat Parquet table (one
/// column per input feature, named as monitors name them or by <c>feature_names</c>, and the outcome as the label
/// column; rows without feedback are dropped), registered as a version of <c>register_as</c> (default
/// <c>ENDPOINT-feedback</c>); or <c>feature_service</c> with <c>entities</c> (a dataset <c>NAME[@VERSION]</c>, a local
/// path, an <c>s3://</c> URI, a file output or an <c>mlflow-artifacts:/</c> URI: the entity rows with the join key and
/// <c>timestamp_column</c>, default <c>event_timestamp</c>): the service's point-in-time correct training set from the
/// offline store, registered as a version of <c>register_as</c> (default <c>SERVICE-training-set</c>).
/// Fewer than <c>min_rows</c> (50) rows fail the step.
/// Outputs: <c>data</c> (file), <c>rows</c>, <c>dataset</c> (NAME@VERSION or null); with a feature service also
/// <c>feature_service</c> (for <c>register</c>'s <c>with.feature_service</c>) and <c>sources</c> (what its views read).
/// Cached by what it reads: the dataset version's digest (so <c>NAME</c> alone misses when a new version arrives), the
/// bytes of a local path, the window (a window ending now is never reused); for a feature service, its set's revision,
/// each view's dataset digest or stream content (new predictions or KPI values miss the cache) and the entities' content.
/// </summary>
public sealed class IngestStep(DatasetStore datasets, PredictionExport export, TimeProvider time, Func<string, IArtifactStore>? openS3 = null,
    Features.FeatureStore? features = null, Features.OfflineStore? offline = null) : IPipelineStep, IStepInputHashes
{
    public const int DefaultMinRows = 50;
    public const string FeedbackSuffix = "-feedback";

    public const string TrainingSetSuffix = "-training-set";

    private static readonly string[] Sources = ["dataset", "path", "endpoint", "feature_service"];
    private static readonly string[] WindowOnly = ["from", "to", "label", "feature_names"];
    private static readonly string[] ServiceOnly = ["entities", "timestamp_column"];
    private static readonly string[] Bounds = ["from", "to"];
    private static readonly string[] Known = ["dataset", "table", "path", "register_as", "endpoint", "from", "to", "label", "feature_names", "min_rows",
        "feature_service", "entities", "timestamp_column"];

    /// <summary>
    /// Whether an ingest step's inputs read files on the server or with its S3 credentials: a <c>path</c>, or
    /// feature-service <c>entities</c>, that is not an artifact, another step's output or (for entities) a dataset
    /// version; a parameter may hold anything, so it counts. Storing such a step needs the admin role.
    /// </summary>
    public static bool ReadsServerFiles(JsonObject? inputs) =>
        (inputs?["path"] is JsonValue path && path.TryGetValue<string>(out var text) && !text.StartsWith("mlflow-artifacts:", StringComparison.Ordinal)
            && !text.TrimStart().StartsWith("${{ steps.", StringComparison.Ordinal))
        || (inputs?["entities"] is JsonValue entities && entities.TryGetValue<string>(out var where) && !where.TrimStart().StartsWith("${{ steps.", StringComparison.Ordinal)
            && (where.Contains("${{", StringComparison.Ordinal) || EntitiesKind(where) is EntitiesSource.LocalPath or EntitiesSource.S3));

    private enum EntitiesSource
    {
        Dataset,
        LocalPath,
        S3,
        Artifact,
    }

    /// <summary>What an <c>entities</c> text names: an S3 URI, an artifact URI, a local path (it has a slash), else a dataset.</summary>
    private static EntitiesSource EntitiesKind(string text) =>
        text.StartsWith("s3://", StringComparison.Ordinal) ? EntitiesSource.S3
        : text.Contains(":/", StringComparison.Ordinal) ? EntitiesSource.Artifact
        : text.Contains('/', StringComparison.Ordinal) || text.Contains('\\', StringComparison.Ordinal) ? EntitiesSource.LocalPath
        : EntitiesSource.Dataset;

    public string Kind => "ingest";

    public IReadOnlyList<string> Validate(JsonObject inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var problems = new List<string>();
        StepInputs.CheckKnown(inputs, Known, Kind, problems);
        var sources = Sources.Where(name => inputs[name] is not null).ToList();
        if (sources.Count != 1)
        {
            problems.Add(sources.Count == 0
                ? "give one source: with.dataset (NAME or NAME@VERSION), with.path (a file, folder or URI), with.endpoint (a prediction-log window with feedback) or with.feature_service (a training set, with entities)"
                : $"give one source, not {string.Join(" and ", sources.Select(source => "with." + source))}");
        }

        StepInputs.CheckText(inputs, "dataset", problems);
        StepInputs.CheckText(inputs, "table", problems);
        StepInputs.CheckText(inputs, "endpoint", problems);
        StepInputs.CheckText(inputs, "register_as", problems);
        StepInputs.CheckText(inputs, "label", problems);
        StepInputs.CheckNumber(inputs, "min_rows", problems, 1, whole: true);
        if (inputs["path"] is { } path && !StepInputs.IsReference(path) && !StepOutputs.IsFile(path) && !(path is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0))
        {
            problems.Add($"with.path must be a file, folder, URI or file output, not {path.ToJsonString()}");
        }

        if (inputs["dataset"] is JsonValue dataset && dataset.TryGetValue<string>(out var reference) && !StepInputs.IsReference(dataset))
        {
            try
            {
                DatasetReference.Parse(reference);
            }
            catch (TrackingException exception)
            {
                problems.Add($"with.dataset: {exception.Message}");
            }
        }

        if (inputs["table"] is not null && inputs["dataset"] is null)
        {
            problems.Add("with.table chooses a file of with.dataset; it is not used with other sources");
        }

        if (inputs["register_as"] is not null && inputs["dataset"] is not null)
        {
            problems.Add("with.register_as is for with.path, with.endpoint and with.feature_service; a dataset is already registered");
        }

        if (inputs["feature_service"] is not null)
        {
            StepInputs.CheckText(inputs, "feature_service", problems);
            StepInputs.CheckText(inputs, "timestamp_column", problems);
            StepInputs.CheckRequired(inputs, "entities", "the entity rows: a dataset NAME[@VERSION], a path, an s3:// URI or a file output", problems);
            if (inputs["entities"] is JsonValue entities && !StepInputs.IsReference(entities))
            {
                if (!entities.TryGetValue<string>(out var where))
                {
                    problems.Add($"with.entities must be a dataset NAME[@VERSION], a path, an s3:// URI or a file output, not {entities.ToJsonString()}");
                }
                else if (where.Length > 0 && EntitiesKind(where) == EntitiesSource.Dataset)
                {
                    try
                    {
                        DatasetReference.Parse(where);
                    }
                    catch (TrackingException exception)
                    {
                        problems.Add($"with.entities: {exception.Message}");
                    }
                }
            }
            else if (inputs["entities"] is { } other && !StepInputs.IsReference(other) && !StepOutputs.IsFile(other))
            {
                problems.Add($"with.entities must be a dataset NAME[@VERSION], a path, an s3:// URI or a file output, not {other.ToJsonString()}");
            }
        }
        else
        {
            foreach (var name in ServiceOnly.Where(name => inputs[name] is not null))
            {
                problems.Add($"with.{name} is for with.feature_service (a training set); it is not used with other sources");
            }
        }

        var fromEndpoint = inputs["endpoint"] is not null;
        if (fromEndpoint)
        {
            StepInputs.CheckRequired(inputs, "label", "the column the feedback outcome becomes", problems);
            StepInputs.CheckRequired(inputs, "from", "the window's start: Unix ms or ISO 8601", problems);
            foreach (var bound in Bounds)
            {
                if (inputs[bound] is { } node && !StepInputs.IsReference(node) && !TryTime(node, out _))
                {
                    problems.Add($"with.{bound} must be Unix milliseconds or an ISO 8601 time, not {node.ToJsonString()}");
                }
            }

            if (inputs["feature_names"] is { } names && !StepInputs.IsReference(names) && WindowTable.ReadFeatureNames(names) is null)
            {
                problems.Add($"with.feature_names must map input tensors to lists of column names ({{\"features\": [\"age\", \"income\"]}}), not {names.ToJsonString()}");
            }
        }
        else
        {
            foreach (var name in WindowOnly.Where(name => inputs[name] is not null))
            {
                problems.Add($"with.{name} is for with.endpoint (a prediction-log window); it is not used with other sources");
            }
        }

        return problems;
    }

    public async Task<string> HashInputsAsync(JsonObject inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var content = new JsonObject();
        if (inputs["dataset"] is JsonValue dataset && dataset.TryGetValue<string>(out var reference))
        {
            try
            {
                content["dataset"] = (await datasets.GetVersionAsync(DatasetReference.Parse(reference), cancellationToken).ConfigureAwait(false)).Digest;
            }
            catch (TrackingException)
            {
                content["dataset"] = "missing"; // the run fails and says why
            }
        }
        else if (inputs["path"] is JsonValue path && path.TryGetValue<string>(out var text) && !text.Contains(":/", StringComparison.Ordinal))
        {
            var files = Directory.Exists(text) ? Directory.GetFiles(text, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
                : File.Exists(text) ? [text] : [];
            foreach (var file in files)
            {
                await using var stream = File.OpenRead(file);
                content[Path.GetRelativePath(Directory.Exists(text) ? text : Path.GetDirectoryName(Path.GetFullPath(text))!, file)] =
                    Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
            }
        }
        else if (inputs["endpoint"] is not null && inputs["to"] is null)
        {
            content["to"] = time.GetUtcNow().ToUnixTimeMilliseconds();
        }
        else if (inputs["feature_service"] is JsonValue service && service.TryGetValue<string>(out var name))
        {
            content["feature_service"] = await FeatureContentAsync(name, cancellationToken).ConfigureAwait(false);
            if (inputs["entities"] is JsonValue entities && entities.TryGetValue<string>(out var where))
            {
                content["entities"] = EntitiesKind(where) switch
                {
                    EntitiesSource.Dataset => await DigestOrMissingAsync(where, cancellationToken).ConfigureAwait(false),
                    EntitiesSource.LocalPath when File.Exists(where) => await HashFileAsync(where, cancellationToken).ConfigureAwait(false),
                    _ => null, // an S3 object is read as it is at run time; a file output's digest is in the inputs already
                };
            }
        }

        return content.ToJsonString();
    }

    /// <summary>The feature service's definition revision and what each of its views reads now (dataset digests, stream fingerprints).</summary>
    private async Task<JsonNode> FeatureContentAsync(string name, CancellationToken cancellationToken)
    {
        if (features is null)
        {
            return "no feature store";
        }

        var catalog = await features.RefreshAsync(cancellationToken).ConfigureAwait(false);
        if (!catalog.Services.TryGetValue(name, out var service))
        {
            return "missing"; // the run fails and says why
        }

        var content = new JsonObject { ["set"] = $"{service.Set}#{(await features.GetAsync(service.Set, cancellationToken).ConfigureAwait(false)).Revision}" };
        foreach (var (view, _) in service.ByView)
        {
            var source = view.Spec.Source!;
            content[view.Name] = source.IsStream
                ? offline?.Streams is { } streams ? await streams.FingerprintAsync(source, cancellationToken).ConfigureAwait(false) : "no streams"
                : await DigestOrMissingAsync(source.Dataset!, cancellationToken).ConfigureAwait(false);
        }

        return content;
    }

    private async Task<string> DigestOrMissingAsync(string reference, CancellationToken cancellationToken)
    {
        try
        {
            return (await datasets.GetVersionAsync(DatasetReference.Parse(reference), cancellationToken).ConfigureAwait(false)).Digest;
        }
        catch (TrackingException)
        {
            return "missing"; // the run fails and says why
        }
    }

    private static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    public async Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var minRows = StepInputs.ReadInt(context, "min_rows", DefaultMinRows);
        var extra = new Dictionary<string, JsonNode?>();
        var (local, dataset, rows, source) = context.With["dataset"] is not null ? await FromDatasetAsync(context).ConfigureAwait(false)
            : context.With["path"] is not null ? await FromPathAsync(context).ConfigureAwait(false)
            : context.With["endpoint"] is not null ? await FromEndpointAsync(context).ConfigureAwait(false)
            : context.With["feature_service"] is not null ? await FromFeatureServiceAsync(context, extra).ConfigureAwait(false)
            : throw new StepFailedException("give one source: input 'dataset', 'path', 'endpoint' or 'feature_service'");
        if (rows < minRows)
        {
            throw new StepFailedException($"{source} has {rows} rows, fewer than min_rows ({minRows}): not enough to train on");
        }

        await context.Log.WriteLineAsync($"ingested {rows} rows from {source}" + (dataset is null ? "" : $" as {dataset}")).ConfigureAwait(false);
        var outputs = new Dictionary<string, JsonNode?>
        {
            ["data"] = await context.PutFileAsync("data", local).ConfigureAwait(false),
            ["rows"] = rows,
            ["dataset"] = dataset,
        };
        foreach (var (name, value) in extra)
        {
            outputs[name] = value;
        }

        return outputs;
    }

    private async Task<(string Local, string? Dataset, long Rows, string Source)> FromFeatureServiceAsync(StepContext context, Dictionary<string, JsonNode?> extra)
    {
        var name = context.RequiredText("feature_service");
        if (features is null || offline is null)
        {
            throw new StepFailedException("input 'feature_service': this server has no feature store");
        }

        var catalog = await features.RefreshAsync(context.CancellationToken).ConfigureAwait(false);
        if (!catalog.Services.TryGetValue(name, out var service))
        {
            throw new StepFailedException($"input 'feature_service': feature service '{name}' does not exist");
        }

        var (entities, described) = await EntitiesAsync(context).ConfigureAwait(false);
        var folder = Path.Combine(context.WorkDirectory, "training-set");
        Directory.CreateDirectory(folder);
        var output = Path.Combine(folder, $"{service.Name}.parquet");
        Features.TrainingSetResult result;
        try
        {
            result = await offline.TrainingSetAsync(service, entities, Path.GetFileName(entities), output, context.Text("timestamp_column"), context.CancellationToken).ConfigureAwait(false);
        }
        catch (TrackingException exception)
        {
            throw new StepFailedException($"feature service '{service.Name}' over {described}: {exception.Message}");
        }

        await context.Log.WriteLineAsync($"training set of {service.Name}: {result.Rows} rows over {described}, features from {string.Join(", ", result.Sources)}").ConfigureAwait(false);
        extra["feature_service"] = service.Name;
        extra["sources"] = new JsonArray([.. result.Sources.Select(item => (JsonNode?)JsonValue.Create(item))]);
        var dataset = result.Rows == 0 ? null
            : await RegisterAsync(context, context.Text("register_as") ?? service.Name + TrainingSetSuffix, [(output, "data.parquet")],
                $"Training set of feature service {service.Name} over {described} (features from {string.Join(", ", result.Sources)}), by pipeline {context.Pipeline}, run {context.RunId}").ConfigureAwait(false);
        return (output, dataset, result.Rows, $"feature service {service.Name} over {described}");
    }

    /// <summary>The entity rows as one local CSV, TSV or Parquet file, and how to name them in messages.</summary>
    private async Task<(string Local, string Described)> EntitiesAsync(StepContext context)
    {
        var node = context.With["entities"] ?? throw new StepFailedException("input 'entities' is empty");
        if (node is JsonObject)
        {
            return (await context.DownloadAsync(node).ConfigureAwait(false), StepOutputs.Describe(node));
        }

        var text = context.RequiredText("entities");
        switch (EntitiesKind(text))
        {
            case EntitiesSource.Dataset:
                var (local, reference) = await DatasetTableAsync(context, text, null, "entities").ConfigureAwait(false);
                return (local, $"dataset {reference}");
            case EntitiesSource.LocalPath:
                return File.Exists(text) ? (Path.GetFullPath(text), text) : throw new StepFailedException($"input 'entities': there is no file at {text}");
            case EntitiesSource.S3:
                var files = (await FromS3Async(context, text, "entities").ConfigureAwait(false)).Where(file => DatasetProfiler.FormatOf(file.Local) is not null).ToList();
                return files.Count == 1 ? (files[0].Local, text) : throw new StepFailedException(files.Count == 0
                    ? $"input 'entities': {text} holds no CSV, TSV or Parquet file"
                    : $"input 'entities': {text} holds {files.Count} tables ({string.Join(", ", files.Select(file => file.Relative))}); give the URI of one");
            default:
                return (await context.DownloadAsync(node).ConfigureAwait(false), text);
        }
    }

    private async Task<(string Local, string? Dataset, long Rows, string Source)> FromDatasetAsync(StepContext context)
    {
        var (local, reference, version, file) = await CopyTableAsync(context, context.RequiredText("dataset"), context.Text("table"), "dataset").ConfigureAwait(false);
        var rows = version.Profile?.Tables.FirstOrDefault(profile => profile.Path == file.Path && profile.Error is null)?.Rows ?? CountRows(local);
        return (local, reference, rows, $"dataset {reference} ({file.Path})");
    }

    private async Task<(string Local, string Reference)> DatasetTableAsync(StepContext context, string text, string? table, string input)
    {
        var (local, reference, _, _) = await CopyTableAsync(context, text, table, input).ConfigureAwait(false);
        return (local, reference);
    }

    /// <summary>Copies the one table (or <paramref name="table"/>) of a dataset version into the work folder.</summary>
    private async Task<(string Local, string Reference, DatasetVersion Version, DatasetFile File)> CopyTableAsync(StepContext context, string text, string? table, string input)
    {
        var reference = Parse(text, input);
        DatasetVersion version;
        try
        {
            version = await datasets.GetVersionAsync(reference, context.CancellationToken).ConfigureAwait(false);
        }
        catch (TrackingException exception) when (exception.Code == TrackingException.ResourceDoesNotExist)
        {
            throw new StepFailedException(exception.Message);
        }

        var tables = version.Files!.Where(file => DatasetProfiler.FormatOf(file.Path) is not null).ToList();
        var file = table is not null
            ? version.Files!.FirstOrDefault(candidate => candidate.Path == table)
                ?? throw new StepFailedException($"dataset {version.Reference} has no file '{table}' (its tables: {string.Join(", ", tables.Select(candidate => candidate.Path))})")
            : tables.Count == 1 ? tables[0]
            : throw new StepFailedException(tables.Count == 0
                ? $"dataset {version.Reference} has no CSV, TSV or Parquet file"
                : $"dataset {version.Reference} has {tables.Count} tables; choose one with table: ({string.Join(", ", tables.Select(candidate => candidate.Path))})");
        var folder = Path.Combine(context.WorkDirectory, input);
        Directory.CreateDirectory(folder);
        var local = Path.Combine(folder, Path.GetFileName(file.Path));
        await using (var blob = await datasets.OpenBlobAsync(file.Sha256, context.CancellationToken).ConfigureAwait(false))
        await using (var target = new FileStream(local, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81_920, FileOptions.Asynchronous))
        {
            await blob.CopyToAsync(target, context.CancellationToken).ConfigureAwait(false);
        }

        return (local, version.Reference, version, file);
    }

    private async Task<(string Local, string? Dataset, long Rows, string Source)> FromPathAsync(StepContext context)
    {
        var path = context.With["path"]!;
        List<(string Local, string Relative)> files;
        string described;
        if (path is JsonValue value && value.TryGetValue<string>(out var text) && !text.Contains(":/", StringComparison.Ordinal))
        {
            described = text;
            if (Directory.Exists(text))
            {
                files = Directory.GetFiles(text, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                    .Select(file => (Path.GetFullPath(file), Path.GetRelativePath(text, file).Replace('\\', '/'))).ToList();
            }
            else if (File.Exists(text))
            {
                files = [(Path.GetFullPath(text), Path.GetFileName(text))];
            }
            else
            {
                throw new StepFailedException($"input 'path': there is no file or folder at {text}");
            }
        }
        else if (path is JsonValue uri && uri.TryGetValue<string>(out var address) && address.StartsWith("s3://", StringComparison.Ordinal))
        {
            described = address;
            files = await FromS3Async(context, address).ConfigureAwait(false);
        }
        else
        {
            described = StepOutputs.Describe(path);
            var local = await context.DownloadAsync(path).ConfigureAwait(false);
            files = [(local, Path.GetFileName(local))];
        }

        var tables = files.Where(file => DatasetProfiler.FormatOf(file.Local) is not null).ToList();
        if (tables.Count != 1)
        {
            throw new StepFailedException(tables.Count == 0
                ? $"input 'path': {described} holds no CSV, TSV or Parquet file"
                : $"input 'path': {described} holds {tables.Count} tables ({string.Join(", ", tables.Select(file => file.Relative))}); give the path of one");
        }

        string? dataset = null;
        if (context.Text("register_as") is { Length: > 0 } name)
        {
            dataset = await RegisterAsync(context, name, files, $"Ingested from {described} by pipeline {context.Pipeline}, run {context.RunId}").ConfigureAwait(false);
        }

        return (tables[0].Local, dataset, CountRows(tables[0].Local), described);
    }

    private async Task<(string Local, string? Dataset, long Rows, string Source)> FromEndpointAsync(StepContext context)
    {
        var endpoint = context.RequiredText("endpoint");
        var label = context.RequiredText("label");
        var from = TryTime(context.With["from"], out var start) ? start : throw new StepFailedException($"input 'from' must be Unix milliseconds or an ISO 8601 time, not {context.With["from"]?.ToJsonString() ?? "nothing"}");
        var to = context.With["to"] is null ? context.Time.GetUtcNow().ToUnixTimeMilliseconds()
            : TryTime(context.With["to"], out var end) ? end : throw new StepFailedException($"input 'to' must be Unix milliseconds or an ISO 8601 time, not {context.With["to"]!.ToJsonString()}");
        if (to < from)
        {
            throw new StepFailedException($"the window ends ({to}) before it starts ({from})");
        }

        var featureNames = context.With["feature_names"] is { } names
            ? WindowTable.ReadFeatureNames(names) ?? throw new StepFailedException($"input 'feature_names' must map input tensors to lists of column names, not {names.ToJsonString()}")
            : null;
        var window = await export.QueryAsync(endpoint, from, to, connection => WindowTable.Read(connection, featureNames), context.CancellationToken).ConfigureAwait(false);
        if (window.UnnamedInputs.Count > 0)
        {
            // Columns named x[0], x[1]… where the step asked for names would register a dataset of other columns than meant.
            throw new StepFailedException($"input 'feature_names' does not fit {endpoint}'s logged inputs: {ProblemList.Join(window.FeatureNameProblems())}");
        }

        // Column names are one case-insensitively to DuckDB (and to the steps reading the table): a clash fails here, named.
        if (window.Inputs.Keys.FirstOrDefault(name => string.Equals(name, label, StringComparison.OrdinalIgnoreCase)) is { } input)
        {
            throw new StepFailedException($"the label column '{label}' is also an input feature of {endpoint}{(input == label ? "" : $" ('{input}'; column names are compared without case)")}; choose another name");
        }

        if (window.Inputs.Keys.GroupBy(name => name, StringComparer.OrdinalIgnoreCase).Where(names => names.Count() > 1).Select(names => string.Join(" and ", names.Select(name => $"'{name}'"))).ToList() is [_, ..] clashes)
        {
            throw new StepFailedException($"input columns of {endpoint} differ only in case ({string.Join("; ", clashes)}), and column names are compared without case; name them apart with feature_names");
        }

        var columns = window.Inputs.Select(pair => (pair.Key, pair.Value)).Append((label, window.OutcomeValues())).ToList();
        var folder = Path.Combine(context.WorkDirectory, "window");
        Directory.CreateDirectory(folder);
        var local = Path.Combine(folder, $"{endpoint}-{from}-{to}.parquet");
        window.WriteParquet(local, columns, row => window.Outcomes[row] is not null);
        var rows = window.Outcomes.LongCount(outcome => outcome is not null);
        await context.Log.WriteLineAsync($"{endpoint}: {window.Rows} predictions in [{from}, {to}], {rows} with feedback ({window.Rows - rows} without, dropped)").ConfigureAwait(false);
        var described = $"endpoint {endpoint} [{from}, {to}]";
        var dataset = rows == 0 ? null
            : await RegisterAsync(context, context.Text("register_as") ?? endpoint + FeedbackSuffix, [(local, "data.parquet")], $"Predictions of {endpoint} in [{from}, {to}] joined with feedback ({label}), by pipeline {context.Pipeline}, run {context.RunId}").ConfigureAwait(false);
        return (local, dataset, rows, described);
    }

    private async Task<string> RegisterAsync(StepContext context, string name, IReadOnlyList<(string Local, string Relative)> files, string message)
    {
        var manifest = new List<DatasetFile>();
        foreach (var (local, relative) in files)
        {
            string sha256;
            await using (var stream = File.OpenRead(local))
            {
                sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, context.CancellationToken).ConfigureAwait(false));
            }

            await using (var stream = File.OpenRead(local))
            {
                await datasets.PutBlobAsync(sha256, stream, context.CancellationToken).ConfigureAwait(false);
            }

            manifest.Add(new DatasetFile(relative, new FileInfo(local).Length, sha256));
        }

        try
        {
            var added = await datasets.AddVersionAsync(name, manifest, message, $"pipeline:{context.Pipeline}", context.CancellationToken).ConfigureAwait(false);
            await context.Log.WriteLineAsync(added.Created ? $"registered dataset {added.Version.Reference}" : $"same files as dataset {added.Version.Reference}").ConfigureAwait(false);
            return added.Version.Reference;
        }
        catch (TrackingException exception) when (exception.Code == TrackingException.InvalidParameterValue)
        {
            throw new StepFailedException($"cannot register dataset '{name}': {exception.Message}");
        }
    }

    private static DatasetReference Parse(string text, string input)
    {
        try
        {
            return DatasetReference.Parse(text);
        }
        catch (TrackingException exception)
        {
            throw new StepFailedException($"input '{input}': {exception.Message}");
        }
    }

    /// <summary>
    /// Copies an S3 object (<c>s3://bucket/key</c>), or every object under a prefix, into the work folder, with the
    /// server's S3 endpoint and credentials.
    /// </summary>
    private async Task<List<(string Local, string Relative)>> FromS3Async(StepContext context, string address, string input = "path")
    {
        if (openS3 is null)
        {
            throw new StepFailedException($"input '{input}': {address} is on S3, which this server cannot reach (no S3 access configured)");
        }

        var rest = address["s3://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var (bucket, key) = slash < 0 ? (rest, "") : (rest[..slash], rest[(slash + 1)..].TrimEnd('/'));
        if (bucket.Length == 0)
        {
            throw new StepFailedException($"input '{input}': {address} names no bucket (s3://BUCKET/KEY)");
        }

        var store = openS3($"s3://{bucket}");
        try
        {
            var keys = key.Length > 0 && await store.ExistsAsync(key, context.CancellationToken).ConfigureAwait(false)
                ? [(Key: key, Relative: key[(key.LastIndexOf('/') + 1)..])]
                : await ListAsync(store, key, context.CancellationToken).ConfigureAwait(false);
            if (keys.Count == 0)
            {
                throw new StepFailedException($"input '{input}': there is no object at or under {address}");
            }

            var folder = Path.Combine(context.WorkDirectory, "s3");
            var files = new List<(string Local, string Relative)>(keys.Count);
            foreach (var (objectKey, relative) in keys)
            {
                var local = Path.Combine(folder, relative.Replace('/', Path.DirectorySeparatorChar));
                Directory.CreateDirectory(Path.GetDirectoryName(local)!);
                await using var source = await store.OpenReadAsync(objectKey, context.CancellationToken).ConfigureAwait(false);
                await using var target = new FileStream(local, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81_920, FileOptions.Asynchronous);
                await source.CopyToAsync(target, context.CancellationToken).ConfigureAwait(false);
                files.Add((local, relative));
            }

            await context.Log.WriteLineAsync($"copied {files.Count} object(s) from {address}").ConfigureAwait(false);
            return files;
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }

        static async Task<List<(string Key, string Relative)>> ListAsync(IArtifactStore store, string prefix, CancellationToken cancellationToken)
        {
            var found = new List<(string Key, string Relative)>();
            await foreach (var entry in store.ListAsync(prefix, recursive: true, cancellationToken).ConfigureAwait(false))
            {
                if (!entry.IsDirectory)
                {
                    found.Add((entry.Path, prefix.Length == 0 ? entry.Path : entry.Path[(prefix.Length + 1)..]));
                }
            }

            return [.. found.OrderBy(item => item.Key, StringComparer.Ordinal)];
        }
    }

    private static long CountRows(string path)
    {
        try
        {
            using var connection = TrainingFiles.Open();
            TrainingFiles.Load(connection, path, "input_rows", "ingested");
            return TrainingFiles.Scalar<long>(connection, "SELECT count(*) FROM input_rows");
        }
        catch (TrainingInputException exception)
        {
            throw new StepFailedException(exception.Message);
        }
    }

    internal static bool TryTime(JsonNode? node, out long milliseconds)
    {
        milliseconds = 0;
        if (node is not JsonValue value)
        {
            return false;
        }

        if (value.TryGetValue<long>(out milliseconds) || (value.TryGetValue<double>(out var number) && number == Math.Floor(number) && (milliseconds = (long)number) == number))
        {
            return milliseconds >= 0;
        }

        if (value.TryGetValue<string>(out var text))
        {
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out milliseconds))
            {
                return true;
            }

            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            {
                milliseconds = time.ToUnixTimeMilliseconds();
                return true;
            }
        }

        return false;
    }
}
