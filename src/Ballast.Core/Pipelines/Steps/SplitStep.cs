using System.Text.Json.Nodes;
using Ballast.Training;

namespace Ballast.Pipelines.Steps;

/// <summary>
/// <c>kind: split</c>: divides <c>with.data</c> (a CSV or Parquet file output) into train, validation and holdout files
/// with <see cref="DataSplitter"/> (<c>train_fraction</c> 0.7, <c>validation_fraction</c> 0.15, <c>seed</c> 42,
/// optional <c>stratify_by</c> or <c>time_column</c>). Outputs: <c>train</c>, <c>validation</c> (null when its fraction
/// is 0), <c>holdout</c> (files), <c>train_rows</c>, <c>validation_rows</c>, <c>holdout_rows</c>.
/// </summary>
public sealed class SplitStep : IPipelineStep
{
    public const double DefaultTrainFraction = 0.7;
    public const double DefaultValidationFraction = 0.15;
    public const int DefaultSeed = 42;

    private static readonly string[] Known = ["data", "train_fraction", "validation_fraction", "seed", "stratify_by", "time_column"];

    public string Kind => "split";

    public IReadOnlyList<string> Validate(JsonObject inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var problems = new List<string>();
        StepInputs.CheckKnown(inputs, Known, Kind, problems);
        StepInputs.CheckRequired(inputs, "data", "a CSV or Parquet file output", problems);
        StepInputs.CheckNumber(inputs, "train_fraction", problems, 0, 1, exclusiveMin: true);
        StepInputs.CheckNumber(inputs, "validation_fraction", problems, 0, 1);
        StepInputs.CheckNumber(inputs, "seed", problems, int.MinValue, int.MaxValue, whole: true);
        StepInputs.CheckText(inputs, "stratify_by", problems);
        StepInputs.CheckText(inputs, "time_column", problems);
        if (inputs["stratify_by"] is not null && inputs["time_column"] is not null)
        {
            problems.Add("with.stratify_by and with.time_column cannot be combined: a time split orders rows by time alone");
        }

        if (StepInputs.NumberOf(inputs["train_fraction"] ?? DefaultTrainFraction) is { } train && StepInputs.NumberOf(inputs["validation_fraction"] ?? DefaultValidationFraction) is { } validation
            && train + validation >= 1)
        {
            problems.Add($"with.train_fraction + with.validation_fraction must leave a holdout (below 1), not {StepInputs.F(train + validation)}");
        }

        return problems;
    }

    public async Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var spec = new SplitSpec
        {
            TrainFraction = StepInputs.ReadNumber(context, "train_fraction", DefaultTrainFraction),
            ValidationFraction = StepInputs.ReadNumber(context, "validation_fraction", DefaultValidationFraction),
            Seed = StepInputs.ReadInt(context, "seed", DefaultSeed),
            StratifyBy = context.Text("stratify_by"),
            TimeColumn = context.Text("time_column"),
        };
        var data = await StepInputs.LocalFileAsync(context, "data").ConfigureAwait(false);
        SplitResult split;
        try
        {
            split = await Task.Run(() => DataSplitter.Split(data, Path.Combine(context.WorkDirectory, "split"), spec), context.CancellationToken).ConfigureAwait(false);
        }
        catch (TrainingInputException exception)
        {
            throw new StepFailedException(exception.Message);
        }

        await context.Log.WriteLineAsync($"split {split.TrainRows + split.ValidationRows + split.HoldoutRows} rows: train {split.TrainRows}, validation {split.ValidationRows}, holdout {split.HoldoutRows}"
            + (spec.TimeColumn is { } time ? $" (by {time})" : spec.StratifyBy is { } label ? $" (stratified by {label}, seed {spec.Seed})" : $" (seed {spec.Seed})")).ConfigureAwait(false);
        return new Dictionary<string, JsonNode?>
        {
            ["train"] = await context.PutFileAsync("train", split.TrainPath).ConfigureAwait(false),
            ["validation"] = split.ValidationPath is null ? null : await context.PutFileAsync("validation", split.ValidationPath).ConfigureAwait(false),
            ["holdout"] = await context.PutFileAsync("holdout", split.HoldoutPath).ConfigureAwait(false),
            ["train_rows"] = split.TrainRows,
            ["validation_rows"] = split.ValidationRows,
            ["holdout_rows"] = split.HoldoutRows,
        };
    }
}
