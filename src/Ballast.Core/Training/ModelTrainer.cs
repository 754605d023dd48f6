using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Ballast.Registry;
using Ballast.Runtime;
using Ballast.Storage;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Ballast.Training;

/// <summary>
/// Trains an ML.NET model from a CSV or Parquet file (<see cref="TrainingSpec"/> says which columns become which
/// features and which trainer learns from them) and writes it as an MLflow-style model folder that Ballast serves:
/// <c>model.zip</c> saved with its input schema (the feature columns and the label, under their file names) and an
/// <c>MLmodel</c> file. Training is seeded and single-threaded, so a rerun gives the same model.
/// </summary>
public sealed class ModelTrainer(TimeProvider time)
{
    public const string ModelFileName = "model.zip";
    public const string MlModelFileName = "MLmodel";
    private const string Features = "Features";

    /// <summary>ML.NET's own default number of LightGBM boosting rounds.</summary>
    private const int LightGbmDefaultTrees = 100;

    public Task<TrainedModel> TrainAsync(TrainingSpec spec, string trainFile, string? validationFile, string outputFolder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(trainFile);
        ArgumentNullException.ThrowIfNull(outputFolder);
        if (spec.Validate() is { Count: > 0 } problems)
        {
            throw new TrainingInputException("Invalid training spec: " + ProblemList.Join(problems) + ".");
        }

        return Task.Run(() => Train(spec, trainFile, validationFile, outputFolder, cancellationToken), cancellationToken);
    }

    private TrainedModel Train(TrainingSpec spec, string trainFile, string? validationFile, string outputFolder, CancellationToken cancellationToken)
    {
        var table = TrainingFiles.ReadTable(trainFile, "train");
        if (table.Rows < 2)
        {
            throw new TrainingInputException($"the train file {trainFile} has {table.Rows} rows; training needs at least 2");
        }

        var (schema, features) = Plan(spec, table);
        var data = TableDataView.Build(table, schema, "train");
        var ml = new MLContext(seed: spec.Seed);
        var pipeline = Pipeline(ml, spec, features);
        cancellationToken.ThrowIfCancellationRequested();
        ITransformer model;
        try
        {
            model = pipeline.Fit(data);
        }
        catch (Exception exception) when (exception is InvalidOperationException or ArgumentException or FormatException)
        {
            throw new TrainingInputException($"{spec.Trainer} could not train on {trainFile}: {DuckDbSql.FirstLine(exception.Message)}", exception);
        }

        cancellationToken.ThrowIfCancellationRequested();
        Directory.CreateDirectory(outputFolder);
        var modelPath = Path.Combine(outputFolder, ModelFileName);
        var temporary = modelPath + ".tmp";
        ml.Model.Save(model, schema, temporary);
        File.Move(temporary, modelPath, overwrite: true);

        var evaluation = new EvaluationSpec { Label = spec.Label, Task = spec.Task };
        var trainingMetrics = ModelEvaluator.Evaluate(model, schema, table, evaluation, "train").Metrics;
        var validationMetrics = validationFile is null ? null : ModelEvaluator.Evaluate(model, schema, TrainingFiles.ReadTable(validationFile, "validation"), evaluation, "validation").Metrics;
        (model as IDisposable)?.Dispose();

        ModelSignature signature;
        using (var runtime = MlNetModelRuntime.Load(modelPath))
        {
            signature = runtime.Signature;
        }

        var size = new FileInfo(modelPath).Length;
        string sha256;
        using (var stream = File.OpenRead(modelPath))
        {
            sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        File.WriteAllText(Path.Combine(outputFolder, MlModelFileName), MlModel(signature, size, sha256, spec));
        var ignored = table.Columns.Where(column => spec.Exclude.Contains(column.Name) || (column.Kind == ColumnKind.Timestamp && column.Name != spec.Label))
            .Select(column => new IgnoredColumn(column.Name, spec.Exclude.Contains(column.Name) ? "excluded" : "timestamp")).ToList();
        return new TrainedModel(outputFolder, modelPath, size, sha256, spec.Task, spec.Trainer, spec.Hyperparameters, features, ignored, signature, trainingMetrics, validationMetrics);
    }

    /// <summary>The input schema (features then the label) and how each feature is encoded.</summary>
    private static (DataViewSchema Schema, List<FeatureColumn> Features) Plan(TrainingSpec spec, Table table)
    {
        var problems = new List<string>();
        foreach (var name in spec.Exclude.Concat(spec.TextColumns).Append(spec.Label).Where(name => table.Find(name) is null))
        {
            problems.Add($"column '{name}' is not in the train file");
        }

        foreach (var name in spec.TextColumns.Where(name => table.Find(name) is { Kind: not ColumnKind.Text }))
        {
            problems.Add($"column '{name}' is declared as text but holds {table.Find(name)!.Kind} values");
        }

        if (problems.Count > 0)
        {
            throw new TrainingInputException("Cannot train: " + ProblemList.Join(problems) + $" (columns: {string.Join(", ", table.Columns.Select(column => column.Name))}).");
        }

        var builder = new DataViewSchema.Builder();
        var features = new List<FeatureColumn>();
        foreach (var column in table.Columns.Where(column => column.Name != spec.Label && !spec.Exclude.Contains(column.Name) && column.Kind != ColumnKind.Timestamp))
        {
            var encoding = column.Kind switch
            {
                ColumnKind.Numeric => "numeric",
                ColumnKind.Boolean => "boolean",
                _ when spec.TextColumns.Contains(column.Name) => "text",
                _ => column.Texts.Where(text => text is not null).Distinct(StringComparer.Ordinal).Take(spec.MaxOneHotCategories + 1).Count() > spec.MaxOneHotCategories ? "hashed" : "one_hot",
            };
            builder.AddColumn(column.Name, column.Kind == ColumnKind.Text ? TextDataViewType.Instance : NumberDataViewType.Single);
            features.Add(new FeatureColumn(column.Name, encoding));
        }

        if (features.Count == 0)
        {
            throw new TrainingInputException("Cannot train: no feature columns are left after the label, exclude and timestamp columns.");
        }

        var label = table.Get(spec.Label, "label");
        builder.AddColumn(spec.Label, spec.Task switch
        {
            TrainingTasks.Binary => BooleanDataViewType.Instance,
            TrainingTasks.Multiclass => TextDataViewType.Instance,
            _ when label.Kind == ColumnKind.Numeric => NumberDataViewType.Single,
            _ => throw new TrainingInputException($"Cannot train: the regression label '{spec.Label}' holds {label.Kind} values, not numbers."),
        });
        return (builder.ToSchema(), features);
    }

    private static IEstimator<ITransformer> Pipeline(MLContext ml, TrainingSpec spec, List<FeatureColumn> features)
    {
        IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
        var encoded = new List<string>();
        var numeric = features.Where(feature => feature.Encoding is "numeric" or "boolean").Select(feature => new InputOutputColumnPair("__numeric_" + feature.Name, feature.Name)).ToArray();
        if (numeric.Length > 0)
        {
            pipeline = pipeline.Append(ml.Transforms.ReplaceMissingValues(numeric, Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean));
            encoded.AddRange(numeric.Select(pair => pair.OutputColumnName));
        }

        foreach (var feature in features.Where(feature => feature.Encoding is "one_hot" or "hashed" or "text"))
        {
            var output = "__" + feature.Encoding + "_" + feature.Name;
            pipeline = feature.Encoding switch
            {
                "one_hot" => pipeline.Append(ml.Transforms.Categorical.OneHotEncoding(output, feature.Name)),
                "hashed" => pipeline.Append(ml.Transforms.Categorical.OneHotHashEncoding(output, feature.Name, numberOfBits: spec.HashBits)),
                _ => pipeline.Append(ml.Transforms.Text.FeaturizeText(output, feature.Name)),
            };
            encoded.Add(output);
        }

        pipeline = pipeline.Append(ml.Transforms.Concatenate(Features, [.. encoded]));
        if (spec.Trainer is TrainerNames.Sdca or TrainerNames.LogisticRegression)
        {
            // Linear models need features on one scale; trees do not.
            pipeline = pipeline.Append(ml.Transforms.NormalizeMinMax(Features));
        }

        if (spec.Task == TrainingTasks.Multiclass)
        {
            pipeline = pipeline.Append(ml.Transforms.Conversion.MapValueToKey(spec.Label));
        }

        var hyper = new Hyperparameters(spec.Hyperparameters);
        pipeline = spec.Task switch
        {
            TrainingTasks.Binary => pipeline.Append(BinaryTrainer(ml, spec, hyper)),
            TrainingTasks.Multiclass => pipeline.Append(MulticlassTrainer(ml, spec, hyper)).Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel")),
            _ => pipeline.Append(RegressionTrainer(ml, spec, hyper)),
        };
        return pipeline;
    }

    private static IEstimator<ITransformer> BinaryTrainer(MLContext ml, TrainingSpec spec, Hyperparameters hyper) => spec.Trainer switch
    {
        TrainerNames.FastTree => ml.BinaryClassification.Trainers.FastTree(Trees(new FastTreeBinaryTrainer.Options(), spec, hyper)),
        TrainerNames.LightGbm => ml.BinaryClassification.Trainers.LightGbm(Boosting(new LightGbmBinaryTrainer.Options(), spec, hyper)),
        TrainerNames.Sdca => ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
        {
            LabelColumnName = spec.Label, FeatureColumnName = Features, NumberOfThreads = 1,
            L1Regularization = hyper.Single("l1"), L2Regularization = hyper.Single("l2"), MaximumNumberOfIterations = hyper.Int("max_iterations"),
        }),
        _ => ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
        {
            LabelColumnName = spec.Label, FeatureColumnName = Features, NumberOfThreads = 1,
            L1Regularization = hyper.Single("l1") ?? 1f, L2Regularization = hyper.Single("l2") ?? 1f, MaximumNumberOfIterations = hyper.Int("max_iterations") ?? int.MaxValue,
        }),
    };

    private static IEstimator<ITransformer> MulticlassTrainer(MLContext ml, TrainingSpec spec, Hyperparameters hyper) => spec.Trainer switch
    {
        // FastTree has no multiclass trainer of its own: one binary FastTree per class, probabilities normalized.
        TrainerNames.FastTree => ml.MulticlassClassification.Trainers.OneVersusAll(
            ml.BinaryClassification.Trainers.FastTree(Trees(new FastTreeBinaryTrainer.Options { LabelColumnName = spec.Label }, spec, hyper)), labelColumnName: spec.Label),
        TrainerNames.LightGbm => ml.MulticlassClassification.Trainers.LightGbm(Boosting(new LightGbmMulticlassTrainer.Options(), spec, hyper)),
        TrainerNames.Sdca => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
        {
            LabelColumnName = spec.Label, FeatureColumnName = Features, NumberOfThreads = 1,
            L1Regularization = hyper.Single("l1"), L2Regularization = hyper.Single("l2"), MaximumNumberOfIterations = hyper.Int("max_iterations"),
        }),
        _ => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            LabelColumnName = spec.Label, FeatureColumnName = Features, NumberOfThreads = 1,
            L1Regularization = hyper.Single("l1") ?? 1f, L2Regularization = hyper.Single("l2") ?? 1f, MaximumNumberOfIterations = hyper.Int("max_iterations") ?? int.MaxValue,
        }),
    };

    private static IEstimator<ITransformer> RegressionTrainer(MLContext ml, TrainingSpec spec, Hyperparameters hyper) => spec.Trainer switch
    {
        TrainerNames.FastTree => ml.Regression.Trainers.FastTree(Trees(new FastTreeRegressionTrainer.Options(), spec, hyper)),
        TrainerNames.LightGbm => ml.Regression.Trainers.LightGbm(Boosting(new LightGbmRegressionTrainer.Options(), spec, hyper)),
        _ => ml.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options
        {
            LabelColumnName = spec.Label, FeatureColumnName = Features, NumberOfThreads = 1,
            L1Regularization = hyper.Single("l1"), L2Regularization = hyper.Single("l2"), MaximumNumberOfIterations = hyper.Int("max_iterations"),
        }),
    };

    private static TOptions Trees<TOptions>(TOptions options, TrainingSpec spec, Hyperparameters hyper)
        where TOptions : BoostedTreeOptions
    {
        options.LabelColumnName = spec.Label;
        options.FeatureColumnName = Features;
        options.NumberOfThreads = 1;
        options.NumberOfTrees = hyper.Int("num_trees") ?? options.NumberOfTrees;
        options.NumberOfLeaves = hyper.Int("num_leaves") ?? options.NumberOfLeaves;
        options.LearningRate = hyper.Double("learning_rate") ?? options.LearningRate;
        options.MinimumExampleCountPerLeaf = hyper.Int("min_examples_per_leaf") ?? options.MinimumExampleCountPerLeaf;
        return options;
    }

    private static LightGbmBinaryTrainer.Options Boosting(LightGbmBinaryTrainer.Options options, TrainingSpec spec, Hyperparameters hyper)
    {
        Boosting(options, spec, hyper, (o, value) => o.NumberOfIterations = value, (o, value) => o.NumberOfLeaves = value, (o, value) => o.LearningRate = value, (o, value) => o.MinimumExampleCountPerLeaf = value);
        options.NumberOfThreads = 1;
        options.Seed = spec.Seed;
        options.Booster = Booster(hyper);
        return options;
    }

    private static LightGbmMulticlassTrainer.Options Boosting(LightGbmMulticlassTrainer.Options options, TrainingSpec spec, Hyperparameters hyper)
    {
        Boosting(options, spec, hyper, (o, value) => o.NumberOfIterations = value, (o, value) => o.NumberOfLeaves = value, (o, value) => o.LearningRate = value, (o, value) => o.MinimumExampleCountPerLeaf = value);
        options.NumberOfThreads = 1;
        options.Seed = spec.Seed;
        options.Booster = Booster(hyper);
        return options;
    }

    private static LightGbmRegressionTrainer.Options Boosting(LightGbmRegressionTrainer.Options options, TrainingSpec spec, Hyperparameters hyper)
    {
        Boosting(options, spec, hyper, (o, value) => o.NumberOfIterations = value, (o, value) => o.NumberOfLeaves = value, (o, value) => o.LearningRate = value, (o, value) => o.MinimumExampleCountPerLeaf = value);
        options.NumberOfThreads = 1;
        options.Seed = spec.Seed;
        options.Booster = Booster(hyper);
        return options;
    }

    /// <summary>The tree settings every LightGBM task shares (declared on a generic base the three options classes do not share).</summary>
    private static void Boosting<TOptions>(TOptions options, TrainingSpec spec, Hyperparameters hyper, Action<TOptions, int> trees, Action<TOptions, int?> leaves, Action<TOptions, double?> rate, Action<TOptions, int?> minimum)
        where TOptions : TrainerInputBaseWithGroupId
    {
        options.LabelColumnName = spec.Label;
        options.FeatureColumnName = Features;
        trees(options, hyper.Int("num_trees") ?? LightGbmDefaultTrees);
        leaves(options, hyper.Int("num_leaves"));
        rate(options, hyper.Double("learning_rate"));
        minimum(options, hyper.Int("min_examples_per_leaf"));
    }

    private static GradientBooster.Options Booster(Hyperparameters hyper)
    {
        var booster = new GradientBooster.Options();
        if (hyper.Double("l1") is { } l1)
        {
            booster.L1Regularization = l1;
        }

        if (hyper.Double("l2") is { } l2)
        {
            booster.L2Regularization = l2;
        }

        return booster;
    }

    /// <summary>An MLflow <c>MLmodel</c> file: the mlnet flavor, the model's V2 signature, its size and hash.</summary>
    private string MlModel(ModelSignature signature, long size, string sha256, TrainingSpec spec)
    {
        var mlnet = typeof(MLContext).Assembly.GetName().Version?.ToString(3) ?? "unknown";
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"""
            artifact_path: model
            flavors:
              mlnet:
                model_file: {ModelFileName}
                mlnet_version: {mlnet}
                task: {spec.Task}
                trainer: {spec.Trainer}
            model_size_bytes: {size}
            ballast:
              sha256: {sha256}
              signature: '{ModelRegistration.SignatureToJson(signature).Replace("'", "''", StringComparison.Ordinal)}'
            signature:
              inputs: '{MlflowColumns(signature.Inputs)}'
              outputs: '{MlflowColumns(signature.Outputs)}'
            utc_time_created: '{time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}'

            """);
        return builder.ToString();
    }

    /// <summary>A column-based MLflow signature: scalar columns as "float"/"string"/…, vectors as tensors.</summary>
    private static string MlflowColumns(IReadOnlyList<TensorSpec> specs) =>
        "[" + string.Join(", ", specs.Select(spec => spec.Shape.Count == 1
            ? $"{{\"type\": \"{MlflowType(spec.Datatype)}\", \"name\": \"{spec.Name}\", \"required\": true}}"
            : $"{{\"type\": \"tensor\", \"tensor-spec\": {{\"dtype\": \"{NumpyType(spec.Datatype)}\", \"shape\": [{string.Join(", ", spec.Shape)}]}}, \"name\": \"{spec.Name}\"}}")) + "]";

    private static string MlflowType(string datatype) => datatype switch
    {
        TensorDatatypes.Fp32 => "float",
        TensorDatatypes.Fp64 => "double",
        TensorDatatypes.Bool => "boolean",
        TensorDatatypes.Int64 => "long",
        TensorDatatypes.Bytes => "string",
        _ => "integer",
    };

    private static string NumpyType(string datatype) => datatype switch
    {
        TensorDatatypes.Fp32 => "float32",
        TensorDatatypes.Fp64 => "float64",
        TensorDatatypes.Bool => "bool",
        TensorDatatypes.Bytes => "str",
        _ => datatype.ToLowerInvariant(),
    };

    private sealed class Hyperparameters(IReadOnlyDictionary<string, double> values)
    {
        public double? Double(string name) => values.TryGetValue(name, out var value) ? value : null;

        public float? Single(string name) => values.TryGetValue(name, out var value) ? (float)value : null;

        public int? Int(string name) => values.TryGetValue(name, out var value) ? checked((int)value) : null;
    }
}
