using MathNet.Numerics.LinearAlgebra;

namespace Ballast.Statistics.Drift;

/// <summary>
/// One input column for <see cref="ReconstructionDrift"/>: numbers (NaN is missing) or categories (null is missing).
/// </summary>
public sealed class ReconstructionColumn
{
    private ReconstructionColumn(string name, double[]? numbers, string?[]? categories)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("a column needs a name.");
        }

        Name = name;
        Numbers = numbers;
        Categories = categories;
    }

    public string Name { get; }

    public double[]? Numbers { get; }

    public string?[]? Categories { get; }

    public bool IsCategorical => Categories is not null;

    public int Length => Numbers?.Length ?? Categories!.Length;

    public static ReconstructionColumn Numeric(string name, double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        for (var i = 0; i < values.Length; i++)
        {
            if (double.IsInfinity(values[i]))
            {
                throw new ArgumentException($"column '{name}' row {i} is {values[i]}; numbers must be finite (NaN marks a missing value).");
            }
        }

        return new ReconstructionColumn(name, values, null);
    }

    public static ReconstructionColumn Categorical(string name, string?[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new ReconstructionColumn(name, null, values);
    }
}

/// <summary>The mean reconstruction error of one chunk against the reference's alert band.</summary>
public sealed record ReconstructionDriftResult(int Rows, double Error, double LowerThreshold, double UpperThreshold, bool Alert);

/// <summary>
/// Multivariate drift by PCA reconstruction error, NannyML's <c>DataReconstructionDriftCalculator</c>
/// (<c>nannyml/drift/multivariate/data_reconstruction/calculator.py</c>; docs/how_it_works/data_reconstruction.rst).
/// Fitted on the reference: missing numbers are imputed with the reference mean and missing categories with the most
/// frequent one; a category becomes its share of the reference rows (category_encoders <c>CountEncoder(normalize=True)</c>;
/// a category the reference never saw is 0); every column is standardized with the reference mean and population
/// standard deviation (scikit-learn <c>StandardScaler</c>); PCA keeps the fewest components whose explained variance
/// exceeds 65 % (<c>PCA(n_components=0.65)</c>). A row's error is the Euclidean distance between its standardized
/// values and their reconstruction from those components; a chunk's error is the mean over its rows. The reference is
/// cut into chunks of the given size (a remainder joins the last chunk) and the alert band is the mean of their errors
/// ± 3 sample standard deviations, the lower limit floored at 0. A chunk outside the band is an alert.
/// Because the components carry the correlations of the reference, a change in how features move together raises the
/// error even when every feature's own distribution is unchanged.
/// </summary>
public sealed class ReconstructionDrift
{
    /// <summary>NannyML's default share of variance the kept components must explain.</summary>
    public const double DefaultVarianceExplained = 0.65;

    /// <summary>NannyML's alert band: the reference chunks' mean ± 3 standard deviations.</summary>
    public const double ThresholdDeviations = 3;

    private readonly ColumnEncoding[] _columns;
    private readonly double[] _pcaMean;
    private readonly double[,] _components; // features × kept components

    private ReconstructionDrift(ColumnEncoding[] columns, double[] pcaMean, double[,] components, double[] explainedRatio)
    {
        _columns = columns;
        _pcaMean = pcaMean;
        _components = components;
        ExplainedVarianceRatio = explainedRatio;
    }

    /// <summary>How many principal components are kept.</summary>
    public int Components => _components.GetLength(1);

    /// <summary>The share of variance each principal component explains, largest first.</summary>
    public IReadOnlyList<double> ExplainedVarianceRatio { get; }

    public IReadOnlyList<double> ReferenceChunkErrors { get; private set; } = [];

    public double LowerThreshold { get; private set; }

    public double UpperThreshold { get; private set; }

    public static ReconstructionDrift Fit(IReadOnlyList<ReconstructionColumn> reference, int chunkSize, double varianceExplained = DefaultVarianceExplained)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (reference.Count == 0)
        {
            throw new ArgumentException("give at least one column.");
        }

        if (!(varianceExplained > 0 && varianceExplained < 1))
        {
            throw new ArgumentException($"the variance to explain must be between 0 and 1, exclusive (got {varianceExplained}).");
        }

        var rows = reference[0].Length;
        var duplicate = reference.GroupBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"column '{duplicate.Key}' is given twice.");
        }

        CheckLengths(reference, "reference");
        if (chunkSize < 2)
        {
            throw new ArgumentException($"the chunk size must be at least 2 rows (got {chunkSize}).");
        }

        if (rows < 2 * chunkSize)
        {
            throw new ArgumentException($"the reference has {rows} rows; thresholds need at least 2 chunks of {chunkSize} rows.");
        }

        var columns = reference.Select(ColumnEncoding.Fit).ToArray();
        var d = columns.Length;
        var z = new double[rows, d];
        for (var j = 0; j < d; j++)
        {
            columns[j].Standardize(reference[j], z, j);
        }

        var mean = new double[d];
        for (var j = 0; j < d; j++)
        {
            for (var i = 0; i < rows; i++)
            {
                mean[j] += z[i, j];
            }

            mean[j] /= rows;
        }

        var covariance = new double[d, d];
        for (var a = 0; a < d; a++)
        {
            for (var b = a; b < d; b++)
            {
                double sum = 0;
                for (var i = 0; i < rows; i++)
                {
                    sum += (z[i, a] - mean[a]) * (z[i, b] - mean[b]);
                }

                covariance[a, b] = covariance[b, a] = sum / (rows - 1);
            }
        }

        var evd = Matrix<double>.Build.DenseOfArray(covariance).Evd(Symmetricity.Symmetric);
        var order = Enumerable.Range(0, d).OrderByDescending(k => evd.EigenValues[k].Real).ToArray();
        var eigenvalues = order.Select(k => Math.Max(0, evd.EigenValues[k].Real)).ToArray();
        var total = eigenvalues.Sum();
        if (total <= 0)
        {
            throw new ArgumentException("every reference column is constant; there is no variance to model.");
        }

        var ratios = eigenvalues.Select(v => v / total).ToArray();

        // scikit-learn: n_components = searchsorted(cumsum(ratios), 0.65, side="right") + 1.
        var kept = 0;
        double cumulative = 0;
        while (kept < d)
        {
            cumulative += ratios[kept];
            kept++;
            if (cumulative > varianceExplained)
            {
                break;
            }
        }

        var components = new double[d, kept];
        for (var c = 0; c < kept; c++)
        {
            for (var j = 0; j < d; j++)
            {
                components[j, c] = evd.EigenVectors[j, order[c]];
            }
        }

        var model = new ReconstructionDrift(columns, mean, components, ratios);
        var errors = model.RowErrors(z);
        var chunks = rows / chunkSize;
        var chunkErrors = new double[chunks];
        for (var c = 0; c < chunks; c++)
        {
            var end = c == chunks - 1 ? rows : (c + 1) * chunkSize;
            double sum = 0;
            for (var i = c * chunkSize; i < end; i++)
            {
                sum += errors[i];
            }

            chunkErrors[c] = sum / (end - c * chunkSize);
        }

        var chunkMean = chunkErrors.Average();
        var deviation = Math.Sqrt(chunkErrors.Sum(e => (e - chunkMean) * (e - chunkMean)) / (chunks - 1));
        model.ReferenceChunkErrors = chunkErrors;
        model.UpperThreshold = chunkMean + ThresholdDeviations * deviation;
        model.LowerThreshold = Math.Max(0, chunkMean - ThresholdDeviations * deviation);
        return model;
    }

    /// <summary>The reconstruction error of each row; columns are matched to the reference by name.</summary>
    public double[] RowErrors(IReadOnlyList<ReconstructionColumn> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var byName = new Dictionary<string, ReconstructionColumn>(StringComparer.Ordinal);
        foreach (var column in data)
        {
            if (!byName.TryAdd(column.Name, column))
            {
                throw new ArgumentException($"column '{column.Name}' is given twice.");
            }
        }

        var missing = _columns.Where(c => !byName.ContainsKey(c.Name)).Select(c => c.Name).ToArray();
        var extra = byName.Keys.Where(n => !_columns.Any(c => c.Name == n)).ToArray();
        if (missing.Length > 0 || extra.Length > 0)
        {
            throw new ArgumentException("the columns must be those of the reference: "
                + (missing.Length > 0 ? $"missing {string.Join(", ", missing)}" : "")
                + (missing.Length > 0 && extra.Length > 0 ? "; " : "")
                + (extra.Length > 0 ? $"not in the reference {string.Join(", ", extra)}" : "")
                + ".");
        }

        CheckLengths(data, "data");
        var rows = data[0].Length;
        if (rows == 0)
        {
            throw new ArgumentException("there are no rows to score.");
        }

        var z = new double[rows, _columns.Length];
        for (var j = 0; j < _columns.Length; j++)
        {
            var column = byName[_columns[j].Name];
            if (column.IsCategorical != _columns[j].IsCategorical)
            {
                throw new ArgumentException($"column '{column.Name}' is {(column.IsCategorical ? "categorical" : "numeric")} here but {(_columns[j].IsCategorical ? "categorical" : "numeric")} in the reference.");
            }

            _columns[j].Standardize(column, z, j);
        }

        return RowErrors(z);
    }

    /// <summary>Scores one chunk: its mean reconstruction error and whether it leaves the reference band.</summary>
    public ReconstructionDriftResult Evaluate(IReadOnlyList<ReconstructionColumn> chunk)
    {
        var errors = RowErrors(chunk);
        var error = errors.Average();
        return new ReconstructionDriftResult(errors.Length, error, LowerThreshold, UpperThreshold, error > UpperThreshold || error < LowerThreshold);
    }

    private double[] RowErrors(double[,] z)
    {
        var rows = z.GetLength(0);
        var d = z.GetLength(1);
        var k = Components;
        var errors = new double[rows];
        var centered = new double[d];
        var projection = new double[k];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < d; j++)
            {
                centered[j] = z[i, j] - _pcaMean[j];
            }

            for (var c = 0; c < k; c++)
            {
                double sum = 0;
                for (var j = 0; j < d; j++)
                {
                    sum += centered[j] * _components[j, c];
                }

                projection[c] = sum;
            }

            double squared = 0;
            for (var j = 0; j < d; j++)
            {
                var reconstructed = 0.0;
                for (var c = 0; c < k; c++)
                {
                    reconstructed += projection[c] * _components[j, c];
                }

                var residual = centered[j] - reconstructed;
                squared += residual * residual;
            }

            errors[i] = Math.Sqrt(squared);
        }

        return errors;
    }

    private static void CheckLengths(IReadOnlyList<ReconstructionColumn> columns, string what)
    {
        var rows = columns[0].Length;
        var uneven = columns.FirstOrDefault(c => c.Length != rows);
        if (uneven is not null)
        {
            throw new ArgumentException($"every {what} column needs the same number of rows: '{columns[0].Name}' has {rows}, '{uneven.Name}' has {uneven.Length}.");
        }
    }

    /// <summary>A column's imputation, encoding and standardization, as fitted on the reference.</summary>
    private sealed class ColumnEncoding
    {
        private double _impute;
        private string? _mode;
        private Dictionary<string, double>? _shares;
        private double _mean;
        private double _scale = 1;

        public required string Name { get; init; }

        public bool IsCategorical => _shares is not null;

        public static ColumnEncoding Fit(ReconstructionColumn column)
        {
            var encoding = new ColumnEncoding { Name = column.Name };
            if (column.Categories is { } categories)
            {
                var counts = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var value in categories)
                {
                    if (value is not null)
                    {
                        counts[value] = counts.GetValueOrDefault(value) + 1;
                    }
                }

                if (counts.Count == 0)
                {
                    throw new ArgumentException($"reference column '{column.Name}' has no values; every value is missing.");
                }

                encoding._mode = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).First().Key;
                counts[encoding._mode] += categories.Count(v => v is null);
                encoding._shares = counts.ToDictionary(kv => kv.Key, kv => (double)kv.Value / categories.Length, StringComparer.Ordinal);
            }
            else
            {
                var present = column.Numbers!.Where(v => !double.IsNaN(v)).ToArray();
                if (present.Length == 0)
                {
                    throw new ArgumentException($"reference column '{column.Name}' has no values; every value is missing.");
                }

                encoding._impute = present.Average();
            }

            var encoded = new double[column.Length];
            for (var i = 0; i < encoded.Length; i++)
            {
                encoded[i] = encoding.Encode(column, i);
            }

            encoding._mean = encoded.Average();
            var variance = encoded.Sum(v => (v - encoding._mean) * (v - encoding._mean)) / encoded.Length;
            encoding._scale = variance > 0 ? Math.Sqrt(variance) : 1;
            return encoding;
        }

        public void Standardize(ReconstructionColumn column, double[,] into, int j)
        {
            for (var i = 0; i < column.Length; i++)
            {
                into[i, j] = (Encode(column, i) - _mean) / _scale;
            }
        }

        private double Encode(ReconstructionColumn column, int i)
        {
            if (column.Categories is { } categories)
            {
                return _shares!.GetValueOrDefault(categories[i] ?? _mode!);
            }

            var value = column.Numbers![i];
            return double.IsNaN(value) ? _impute : value;
        }
    }
}
