using System.Text.Json.Nodes;
using Ballast.Tracking;
using Ballast.Training;

namespace Ballast.Pipelines.Steps;

/// <summary>
/// <c>kind: train</c>: trains an ML.NET model with <see cref="ModelTrainer"/> on <c>with.train</c> (and measures it on
/// <c>with.validation</c> when given): <c>label</c>, <c>task</c> (binary, multiclass, regression), <c>trainer</c>
/// (fasttree, lightgbm, sdca, logistic_regression), <c>hyperparameters</c>, <c>exclude</c>, <c>text_columns</c>,
/// <c>seed</c>. The MLflow-style model folder becomes the tracking run's artifacts under <c>model/</c>; the trainer,
/// task, label and hyperparameters are logged as params and the metrics as <c>training_NAME</c> and
/// <c>validation_NAME</c>. Outputs: <c>model</c> (the model.zip file, registrable), <c>model_uri</c>
/// (<c>runs:/RUN/model</c>), <c>size_bytes</c>.
/// </summary>
public sealed class TrainStep(ModelTrainer trainer, RunStore runs) : IPipelineStep
{
    public const string ModelFolder = "model";

    private static readonly string[] Known = ["train", "validation", "label", "task", "trainer", "hyperparameters", "exclude", "text_columns", "seed"];

    public string Kind => "train";

    public IReadOnlyList<string> Validate(JsonObject inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var problems = new List<string>();
        StepInputs.CheckKnown(inputs, Known, Kind, problems);
        StepInputs.CheckRequired(inputs, "train", "the training file output", problems);
        StepInputs.CheckRequired(inputs, "label", "the label column", problems);
        StepInputs.CheckText(inputs, "label", problems);
        StepInputs.CheckText(inputs, "task", problems, TrainingTasks.All);
        StepInputs.CheckText(inputs, "trainer", problems, TrainerNames.Hyperparameters.Keys.ToList());
        StepInputs.CheckObject(inputs, "hyperparameters", problems);
        StepInputs.CheckTextList(inputs, "exclude", problems);
        StepInputs.CheckTextList(inputs, "text_columns", problems);
        StepInputs.CheckNumber(inputs, "seed", problems, int.MinValue, int.MaxValue, whole: true);
        if (inputs["hyperparameters"] is JsonObject hyperparameters)
        {
            foreach (var (name, value) in hyperparameters)
            {
                if (!StepInputs.IsReference(value) && StepInputs.NumberOf(value) is null)
                {
                    problems.Add($"with.hyperparameters.{name} must be a number, not {value?.ToJsonString() ?? "null"}");
                }
            }
        }

        // The library's own checks (hyperparameters a trainer takes, trainer/task pairs) when nothing is a reference.
        if (problems.Count == 0 && !inputs.Any(pair => StepInputs.IsReference(pair.Value) && pair.Key is "label" or "task" or "trainer" or "hyperparameters")
            && !(inputs["hyperparameters"] is JsonObject hp && hp.Any(pair => StepInputs.IsReference(pair.Value))))
        {
            problems.AddRange(Spec(inputs, seed: 0).Validate().Select(problem => "with." + problem));
        }

        return problems;
    }

    public async Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var spec = Spec(context.With, StepInputs.ReadInt(context, "seed", 0)) with
        {
            Exclude = StepInputs.ReadTextList(context, "exclude"),
            TextColumns = StepInputs.ReadTextList(context, "text_columns"),
        };
        if (spec.Validate() is { Count: > 0 } problems)
        {
            throw new StepFailedException(ProblemList.Join(problems));
        }

        var train = await StepInputs.LocalFileAsync(context, "train").ConfigureAwait(false);
        var validation = context.With["validation"] is null ? null : await StepInputs.LocalFileAsync(context, "validation").ConfigureAwait(false);
        TrainedModel model;
        try
        {
            model = await trainer.TrainAsync(spec, train, validation, Path.Combine(context.WorkDirectory, ModelFolder), context.CancellationToken).ConfigureAwait(false);
        }
        catch (TrainingInputException exception)
        {
            throw new StepFailedException(exception.Message);
        }

        JsonObject? zip = null;
        foreach (var file in Directory.GetFiles(model.ModelFolder).Order(StringComparer.Ordinal))
        {
            var stored = await context.PutArtifactAsync($"{ModelFolder}/{Path.GetFileName(file)}", file).ConfigureAwait(false);
            if (Path.GetFullPath(file) == Path.GetFullPath(model.ModelPath))
            {
                zip = stored;
            }
        }

        var now = context.Time.GetUtcNow().ToUnixTimeMilliseconds();
        List<Param> parameters = [new("trainer", spec.Trainer), new("task", spec.Task), new("label", spec.Label), new("seed", spec.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        parameters.AddRange(model.Hyperparameters.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => new Param(pair.Key, StepInputs.F(pair.Value))));
        var metrics = model.TrainingMetrics.Where(pair => double.IsFinite(pair.Value)).Select(pair => new Metric($"training_{pair.Key}", pair.Value, now, 0))
            .Concat((model.ValidationMetrics ?? new Dictionary<string, double>()).Where(pair => double.IsFinite(pair.Value)).Select(pair => new Metric($"validation_{pair.Key}", pair.Value, now, 0)))
            .ToList();
        await runs.LogBatchAsync(context.TrackingRunId, metrics, parameters.DistinctBy(param => param.Key).ToList(), [], context.CancellationToken).ConfigureAwait(false);

        var headline = model.ValidationMetrics ?? model.TrainingMetrics;
        await context.Log.WriteLineAsync($"trained {spec.Trainer} ({spec.Task}) on {Path.GetFileName(train)}: {model.Features.Count} features, {model.SizeBytes} bytes; "
            + (model.ValidationMetrics is null ? "training " : "validation ") + string.Join(", ", headline.Where(pair => pair.Key != MetricNames.Rows).Select(pair => $"{pair.Key} {StepInputs.F(pair.Value)}"))).ConfigureAwait(false);
        return new Dictionary<string, JsonNode?>
        {
            ["model"] = zip ?? throw new StepFailedException($"the trainer wrote no {ModelTrainer.ModelFileName}"),
            ["model_uri"] = $"runs:/{context.TrackingRunId}/{ModelFolder}",
            ["run_id"] = context.TrackingRunId,
            ["size_bytes"] = model.SizeBytes,
        };
    }

    private static TrainingSpec Spec(JsonObject inputs, int seed)
    {
        var hyperparameters = new Dictionary<string, double>(StringComparer.Ordinal);
        if (inputs["hyperparameters"] is JsonObject given)
        {
            foreach (var (name, value) in given)
            {
                hyperparameters[name] = StepInputs.NumberOf(value) ?? throw new StepFailedException($"input 'hyperparameters': {name} must be a number, not {value?.ToJsonString() ?? "null"}");
            }
        }
        else if (inputs["hyperparameters"] is { } other)
        {
            throw new StepFailedException($"input 'hyperparameters' must be an object, not {other.ToJsonString()}");
        }

        string? Text(string name) => inputs[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        return new TrainingSpec
        {
            Label = Text("label") ?? "",
            Task = Text("task") ?? TrainingTasks.Binary,
            Trainer = Text("trainer") ?? TrainerNames.FastTree,
            Hyperparameters = hyperparameters,
            Seed = seed,
        };
    }
}
