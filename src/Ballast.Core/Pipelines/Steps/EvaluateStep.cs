using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Registry;
using Ballast.Tracking;
using Ballast.Training;

namespace Ballast.Pipelines.Steps;

/// <summary>
/// <c>kind: evaluate</c>: measures <c>with.model</c> (a model.zip file output or URI, <c>runs:/RUN/model</c>,
/// <c>models:/NAME/VERSION</c> or <c>models:/NAME@ALIAS</c>) on <c>with.data</c> (the holdout) with
/// <see cref="ModelEvaluator"/>, and the same for <c>with.champion</c> when given (an alias that does not exist yet
/// means no champion: <c>champion_metrics</c> is null). Outputs: <c>metrics</c> and <c>champion_metrics</c> (objects
/// name → number, null for a metric undefined on the rows), each candidate metric as a scalar output (logged as an
/// MLflow metric; the champion's as <c>champion_NAME</c>), <c>champion_version</c>, and <c>report</c> (JSON: both
/// evaluations with calibration and per-segment metrics). Cached by the model versions <c>models:/</c> inputs resolve
/// to, so moving the champion alias misses the cache.
/// </summary>
public sealed class EvaluateStep(RegistryStore registry, RunStore runs) : IPipelineStep, IStepInputHashes
{
    private static readonly string[] ModelInputs = ["model", "champion"];
    private static readonly string[] Known = ["model", "data", "label", "task", "segment", "champion", "calibration_bins"];

    public string Kind => "evaluate";

    public IReadOnlyList<string> Validate(JsonObject inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var problems = new List<string>();
        StepInputs.CheckKnown(inputs, Known, Kind, problems);
        StepInputs.CheckRequired(inputs, "model", "a model.zip file output, runs:/RUN/model, models:/NAME/VERSION or models:/NAME@ALIAS", problems);
        StepInputs.CheckRequired(inputs, "data", "the holdout file output", problems);
        StepInputs.CheckRequired(inputs, "label", "the label column", problems);
        StepInputs.CheckText(inputs, "label", problems);
        StepInputs.CheckText(inputs, "task", problems, TrainingTasks.All);
        StepInputs.CheckText(inputs, "segment", problems);
        StepInputs.CheckText(inputs, "champion", problems);
        StepInputs.CheckNumber(inputs, "calibration_bins", problems, 1, 1000, whole: true);
        if (inputs["champion"] is JsonValue champion && champion.TryGetValue<string>(out var uri) && !StepInputs.IsReference(champion) && !uri.StartsWith("models:/", StringComparison.Ordinal))
        {
            problems.Add($"with.champion must be models:/NAME@ALIAS or models:/NAME/VERSION, not '{uri}'");
        }

        return problems;
    }

    public async Task<string> HashInputsAsync(JsonObject inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var content = new JsonObject();
        foreach (var name in ModelInputs)
        {
            if (inputs[name] is JsonValue value && value.TryGetValue<string>(out var uri) && uri.StartsWith("models:/", StringComparison.Ordinal))
            {
                try
                {
                    var version = await ResolveAsync(uri, name, cancellationToken).ConfigureAwait(false);
                    content[name] = $"{version.Name}/{version.Version} {version.Source}";
                }
                catch (Exception exception) when (exception is TrackingException or StepFailedException)
                {
                    content[name] = "missing";
                }
            }
        }

        return content.ToJsonString();
    }

    public async Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var spec = new EvaluationSpec
        {
            Label = context.RequiredText("label"),
            Task = context.Text("task") ?? TrainingTasks.Binary,
            Segment = context.Text("segment"),
            CalibrationBins = StepInputs.ReadInt(context, "calibration_bins", TrainingConstants.CalibrationBins),
        };
        if (spec.Validate() is { Count: > 0 } problems)
        {
            throw new StepFailedException(ProblemList.Join(problems));
        }

        var data = await StepInputs.LocalFileAsync(context, "data").ConfigureAwait(false);
        var candidateZip = (await ModelFileAsync(context, context.With["model"]!, "model").ConfigureAwait(false)).Path
            ?? throw new StepFailedException($"input 'model': {context.With["model"]!.ToJsonString()} does not exist");
        var candidate = await EvaluateAsync(candidateZip, data, spec, context.CancellationToken).ConfigureAwait(false);

        EvaluationResult? champion = null;
        string? championVersion = null;
        if (context.Text("champion") is { Length: > 0 } championUri)
        {
            if (await ModelFileAsync(context, JsonValue.Create(championUri), "champion").ConfigureAwait(false) is { Path: { } championZip } resolved)
            {
                championVersion = resolved.Version;
                champion = await EvaluateAsync(championZip, data, spec, context.CancellationToken).ConfigureAwait(false);
            }
            else
            {
                await context.Log.WriteLineAsync($"no champion: {championUri} does not exist yet (first model)").ConfigureAwait(false);
            }
        }

        var report = Path.Combine(context.WorkDirectory, "evaluation.json");
        var reportJson = new JsonObject
        {
            ["candidate"] = JsonNode.Parse(JsonSerializer.Serialize(candidate, TrainingJsonContext.Default.EvaluationResult)),
            ["champion"] = champion is null ? null : JsonNode.Parse(JsonSerializer.Serialize(champion, TrainingJsonContext.Default.EvaluationResult)),
            ["champion_version"] = championVersion,
        };
        await File.WriteAllTextAsync(report, reportJson.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), context.CancellationToken).ConfigureAwait(false);

        if (champion is not null)
        {
            var now = context.Time.GetUtcNow().ToUnixTimeMilliseconds();
            await runs.LogBatchAsync(context.TrackingRunId, champion.Metrics.Where(pair => double.IsFinite(pair.Value)).Select(pair => new Metric($"champion_{pair.Key}", pair.Value, now, 0)).ToList(),
                [], [], context.CancellationToken).ConfigureAwait(false);
        }

        await context.Log.WriteLineAsync($"candidate on {candidate.Rows} rows: {Describe(candidate.Metrics)}").ConfigureAwait(false);
        if (champion is not null)
        {
            await context.Log.WriteLineAsync($"champion (version {championVersion}): {Describe(champion.Metrics)}").ConfigureAwait(false);
        }

        var outputs = new Dictionary<string, JsonNode?>
        {
            ["metrics"] = StepInputs.MetricsObject(candidate.Metrics),
            ["champion_metrics"] = champion is null ? null : StepInputs.MetricsObject(champion.Metrics),
            ["champion_version"] = championVersion,
            ["report"] = await context.PutFileAsync("report", report).ConfigureAwait(false),
        };
        foreach (var (name, value) in candidate.Metrics)
        {
            outputs.TryAdd(name, double.IsFinite(value) ? JsonValue.Create(value) : null);
        }

        return outputs;
    }

    private static string Describe(IReadOnlyDictionary<string, double> metrics) =>
        string.Join(", ", metrics.Where(pair => pair.Key != MetricNames.Rows).Select(pair => $"{pair.Key} {StepInputs.F(pair.Value)}"));

    private static async Task<EvaluationResult> EvaluateAsync(string zip, string data, EvaluationSpec spec, CancellationToken cancellationToken)
    {
        try
        {
            return await ModelEvaluator.EvaluateAsync(zip, data, spec, cancellationToken).ConfigureAwait(false);
        }
        catch (TrainingInputException exception)
        {
            throw new StepFailedException(exception.Message);
        }
    }

    private Task<ModelVersion> ResolveAsync(string uri, string input, CancellationToken cancellationToken)
    {
        var reference = uri[8..];
        return reference.Split('@') is [var name, var alias] && name.Length > 0 && alias.Length > 0
            ? registry.GetVersionByAliasAsync(name, alias, cancellationToken)
            : reference.Split('/') is [var model, var number] && model.Length > 0 && number.Length > 0
                ? registry.GetVersionAsync(model, number, cancellationToken)
                : throw new StepFailedException($"input '{input}': '{uri}' is not models:/NAME/VERSION nor models:/NAME@ALIAS");
    }

    /// <summary>The model's zip in the work folder, or null when a <c>models:/</c> name or alias does not exist.</summary>
    private async Task<(string? Path, string? Version)> ModelFileAsync(StepContext context, JsonNode model, string input)
    {
        if (model is JsonObject file && StepOutputs.IsFile(file))
        {
            return (await context.DownloadAsync(file).ConfigureAwait(false), null);
        }

        if (model is JsonObject registered && StepOutputs.IsModel(registered))
        {
            model = JsonValue.Create(registered["uri"]!.GetValue<string>());
        }

        if (model is not JsonValue value || !value.TryGetValue<string>(out var uri))
        {
            throw new StepFailedException($"input '{input}' must be a model.zip file output or a model URI, not {model.ToJsonString()}");
        }

        if (uri.StartsWith("models:/", StringComparison.Ordinal))
        {
            ModelVersion version;
            try
            {
                version = await ResolveAsync(uri, input, context.CancellationToken).ConfigureAwait(false);
            }
            catch (TrackingException missing) when (missing.Code == TrackingException.ResourceDoesNotExist)
            {
                return (null, null);
            }

            return (await context.DownloadAsync(JsonValue.Create(version.Source)).ConfigureAwait(false), version.Version);
        }

        if (RunArtifactUri.HasScheme(uri))
        {
            if (!RunArtifactUri.TryParse(uri, out var runArtifact) || runArtifact.ArtifactPath is null)
            {
                throw new StepFailedException($"input '{input}': '{uri}' is not runs:/RUN_ID/PATH");
            }

            // The model.zip itself, or the folder a training step logged it in (runs:/RUN/model).
            var run = await runs.GetAsync(runArtifact.RunId, context.CancellationToken).ConfigureAwait(false);
            var path = runArtifact.Under(run.Info.ArtifactUri);
            return (await context.DownloadAsync(JsonValue.Create(path.EndsWith(".zip", StringComparison.Ordinal) ? path : $"{path}/{ModelTrainer.ModelFileName}")).ConfigureAwait(false), null);
        }

        return (uri.Contains(":/", StringComparison.Ordinal) ? await context.DownloadAsync(value).ConfigureAwait(false)
            : File.Exists(uri) ? System.IO.Path.GetFullPath(uri)
            : throw new StepFailedException($"input '{input}': there is no model file at {uri}"), null);
    }
}
