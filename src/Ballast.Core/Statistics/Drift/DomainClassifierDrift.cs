using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;

namespace Ballast.Statistics.Drift;

/// <summary>Settings of <see cref="DomainClassifierDrift"/>; the defaults follow the sources named on each.</summary>
public sealed record DomainClassifierOptions
{
    /// <summary>Stratified cross-validation folds (NannyML <c>cv_folds_num=5</c>).</summary>
    public int Folds { get; init; } = 5;

    /// <summary>Drift when the cross-validated ROC AUC is above this (Evidently's domain-classifier threshold 0.55).</summary>
    public double Threshold { get; init; } = 0.55;

    /// <summary>
    /// When set (Evidently's <c>perc_text_content_drift</c> uses 0.95), the threshold is instead this percentile of the
    /// ROC AUCs of 1,000 classifiers that score at random on the same labels (<c>roc_auc_random_classifier_percentile</c>),
    /// which adapts to small samples where 0.55 is within chance.
    /// </summary>
    public double? RandomPercentile { get; init; }

    /// <summary>Random classifiers drawn for <see cref="RandomPercentile"/> (Evidently: 1,000).</summary>
    public int RandomClassifiers { get; init; } = 1_000;

    /// <summary>Seeds the fold assignment, ML.NET and the random classifiers, so the same data give the same result.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Boosted trees as NannyML's LightGBM defaults: 100 trees of 31 leaves, 20 rows a leaf, learning rate 0.1.</summary>
    public int Trees { get; init; } = 100;

    public int Leaves { get; init; } = 31;

    public int MinimumRowsPerLeaf { get; init; } = 20;

    public double LearningRate { get; init; } = 0.1;
}

/// <summary>
/// The domain classifier's cross-validated ROC AUC for telling current rows from reference rows, and whether that is
/// drift (AUC above the threshold). 0.5 means the two sets cannot be told apart.
/// </summary>
public sealed record DomainClassifierResult(double RocAuc, double Threshold, bool Drift, int ReferenceRows, int CurrentRows, int Folds);

/// <summary>
/// Multivariate drift by a domain classifier, as NannyML's <c>DomainClassifierCalculator</c>
/// (<c>nannyml/drift/multivariate/domain_classifier/calculator.py</c>): label reference rows 0 and current rows 1, train
/// gradient-boosted trees in stratified k-fold cross-validation, and compute the ROC AUC of the pooled out-of-fold
/// scores. Trees are ML.NET FastTree (NannyML uses LightGBM with the same sizes). Drift is flagged, as in Evidently's
/// domain-classifier drift (<c>calculate_text_drift_score</c>, <c>threshold=0.55</c>, <c>roc_auc &gt; threshold</c>),
/// when the AUC is strictly above the threshold, or above a percentile of random classifiers' AUCs
/// (<see cref="DomainClassifierOptions.RandomPercentile"/>). NannyML instead alerts outside a band [0.45, 0.65]. Features are
/// numbers; encode categories before calling. Unlike NannyML, rows present in both sets are kept, not dropped.
/// </summary>
public static class DomainClassifierDrift
{
    public static DomainClassifierResult Detect(IReadOnlyList<double[]> reference, IReadOnlyList<double[]> current, DomainClassifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        options ??= new DomainClassifierOptions();
        Validate(reference, current, options);

        var features = reference[0].Length;
        var rows = new List<DomainRow>(reference.Count + current.Count);
        rows.AddRange(reference.Select(r => new DomainRow { Label = false, Features = ToSingle(r) }));
        rows.AddRange(current.Select(r => new DomainRow { Label = true, Features = ToSingle(r) }));

        var folds = AssignFolds(reference.Count, current.Count, options.Folds, new Random(options.Seed));
        var ml = new MLContext(seed: options.Seed);
        var schema = SchemaDefinition.Create(typeof(DomainRow));
        schema[nameof(DomainRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features);
        var trainer = ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
        {
            LabelColumnName = nameof(DomainRow.Label),
            FeatureColumnName = nameof(DomainRow.Features),
            NumberOfTrees = options.Trees,
            NumberOfLeaves = options.Leaves,
            MinimumExampleCountPerLeaf = options.MinimumRowsPerLeaf,
            LearningRate = options.LearningRate,
            NumberOfThreads = 1,
        });

        var scores = new double[rows.Count];
        for (var fold = 0; fold < options.Folds; fold++)
        {
            var train = new List<DomainRow>();
            var test = new List<int>();
            for (var i = 0; i < rows.Count; i++)
            {
                if (folds[i] == fold)
                {
                    test.Add(i);
                }
                else
                {
                    train.Add(rows[i]);
                }
            }

            var model = trainer.Fit(ml.Data.LoadFromEnumerable(train, schema));
            var scored = model.Transform(ml.Data.LoadFromEnumerable(test.Select(i => rows[i]), schema));
            var k = 0;
            foreach (var prediction in ml.Data.CreateEnumerable<DomainScore>(scored, reuseRowObject: false))
            {
                scores[test[k++]] = prediction.Score;
            }
        }

        var labels = rows.Select(r => r.Label).ToArray();
        var auc = Performance.ClassificationMetrics.RocAuc(labels, scores);
        var threshold = options.RandomPercentile is { } percentile
            ? RandomClassifierPercentile(labels, percentile, options.RandomClassifiers, new Random(options.Seed))
            : options.Threshold;
        return new DomainClassifierResult(auc, threshold, auc > threshold, reference.Count, current.Count, options.Folds);
    }

    /// <summary>
    /// The <paramref name="percentile"/> quantile (linear interpolation, numpy's default) of the ROC AUCs that
    /// <paramref name="classifiers"/> classifiers scoring uniformly at random reach on <paramref name="labels"/>.
    /// </summary>
    public static double RandomClassifierPercentile(bool[] labels, double percentile, int classifiers, Random random)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(random);
        if (!(percentile > 0 && percentile < 1) || classifiers < 2)
        {
            throw new ArgumentException($"the percentile must be between 0 and 1, exclusive (got {percentile}), with at least 2 random classifiers (got {classifiers}).");
        }

        if (!labels.Contains(true) || !labels.Contains(false))
        {
            throw new ArgumentException("the labels need both reference (false) and current (true) rows.");
        }

        var aucs = new double[classifiers];
        var scores = new double[labels.Length];
        for (var c = 0; c < classifiers; c++)
        {
            for (var i = 0; i < scores.Length; i++)
            {
                scores[i] = random.NextDouble();
            }

            aucs[c] = Performance.ClassificationMetrics.RocAuc(labels, scores);
        }

        Array.Sort(aucs);
        var position = percentile * (classifiers - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, classifiers - 1);
        return aucs[lower] + (position - lower) * (aucs[upper] - aucs[lower]);
    }

    private static void Validate(IReadOnlyList<double[]> reference, IReadOnlyList<double[]> current, DomainClassifierOptions options)
    {
        var problems = new List<string>();
        if (options.Folds < 2)
        {
            problems.Add($"folds must be at least 2 (got {options.Folds})");
        }

        if (!(options.Threshold >= 0 && options.Threshold <= 1))
        {
            problems.Add($"threshold must be between 0 and 1 (got {options.Threshold})");
        }

        if (options.RandomPercentile is { } percentile && !(percentile > 0 && percentile < 1))
        {
            problems.Add($"the random-classifier percentile must be between 0 and 1, exclusive (got {percentile})");
        }

        if (options.RandomClassifiers < 2)
        {
            problems.Add($"at least 2 random classifiers are needed (got {options.RandomClassifiers})");
        }

        if (options.Trees < 1 || options.Leaves < 2 || options.MinimumRowsPerLeaf < 1 || !(options.LearningRate > 0))
        {
            problems.Add($"trees ({options.Trees}) and minimum rows per leaf ({options.MinimumRowsPerLeaf}) must be at least 1, leaves ({options.Leaves}) at least 2 and the learning rate ({options.LearningRate}) positive");
        }

        if (reference.Count < Math.Max(options.Folds, 2) || current.Count < Math.Max(options.Folds, 2))
        {
            problems.Add($"each set needs at least one row per fold: reference has {reference.Count} rows, current {current.Count}, folds {options.Folds}");
        }

        if (problems.Count == 0)
        {
            var features = reference[0]?.Length ?? 0;
            if (features == 0)
            {
                problems.Add("rows need at least one feature");
            }

            foreach (var (set, name) in new[] { (reference, "reference"), (current, "current") })
            {
                for (var i = 0; i < set.Count && problems.Count == 0; i++)
                {
                    var row = set[i];
                    if (row is null || row.Length != features)
                    {
                        problems.Add($"{name} row {i} has {row?.Length ?? 0} features but reference row 0 has {features}");
                    }
                    else if (row.Any(v => !double.IsFinite(v)))
                    {
                        problems.Add($"{name} row {i} has a value that is not a finite number");
                    }
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"Invalid domain classifier input: {ProblemList.Join(problems)}.");
        }
    }

    /// <summary>Stratified folds: each set shuffled on its own and dealt round the folds.</summary>
    private static int[] AssignFolds(int referenceRows, int currentRows, int folds, Random random)
    {
        var assignment = new int[referenceRows + currentRows];
        foreach (var (start, count) in new[] { (0, referenceRows), (referenceRows, currentRows) })
        {
            var indices = Enumerable.Range(start, count).ToArray();
            random.Shuffle(indices);
            for (var k = 0; k < indices.Length; k++)
            {
                assignment[indices[k]] = k % folds;
            }
        }

        return assignment;
    }

    private static float[] ToSingle(double[] row) => [.. row.Select(v => (float)v)];

    internal sealed class DomainRow
    {
        public bool Label { get; set; }

        public float[] Features { get; set; } = [];
    }

    internal sealed class DomainScore
    {
        public float Score { get; set; }
    }
}
