using Ballast.Statistics.Drift;

namespace Ballast.Monitoring;

/// <summary>
/// Multivariate drift of the compared input columns per window: <c>reconstruction</c> (<see cref="ReconstructionDrift"/>,
/// fitted on the reference cut into chunks the size of the window, at most half the reference) gives
/// <c>multivariate.reconstruction_error</c> with its band <c>.lower</c>/<c>.upper</c>; <c>domain_classifier</c>
/// (<see cref="DomainClassifierDrift"/>, on at most <see cref="MaxClassifierRows"/> seeded rows of each side, numbers with
/// missing values as the reference mean, categories as their reference share) gives <c>multivariate.domain_auc</c>.
/// Both give <c>multivariate.drifted</c> (1 or 0).
/// </summary>
public sealed class MultivariateWindowEstimator : IWindowEstimator
{
    /// <summary>Rows of each side the domain classifier trains on (a seeded sample above it): 5-fold FastTree stays a few seconds.</summary>
    public const int MaxClassifierRows = 5_000;

    public string Name => "multivariate";

    public Task<WindowHookResult> EstimateAsync(MonitorWindowContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Spec.Multivariate is not { } multivariate)
        {
            return Task.FromResult(WindowHookResult.None);
        }

        var columns = context.Columns.Select(name => (Name: name, Reference: context.Reference.Values(name)!, Current: (IReadOnlyList<object?>)context.Window.Inputs[name])).ToList();
        try
        {
            return Task.FromResult(multivariate.Method == MonitorHookValidation.Reconstruction
                ? Reconstruction(columns, context.Window.Rows)
                : DomainClassifier(columns, multivariate.Threshold));
        }
        catch (ArgumentException exception)
        {
            return Task.FromResult(WindowHookResult.Note($"no multivariate drift: {exception.Message}"));
        }
    }

    private static bool IsNumeric(IReadOnlyList<object?> reference, IReadOnlyList<object?> current) =>
        reference.All(value => value is null or double) && current.All(value => value is null or double);

    private static ReconstructionColumn Column(string name, IReadOnlyList<object?> values, bool numeric) => numeric
        ? ReconstructionColumn.Numeric(name, values.Select(value => value is double number && double.IsFinite(number) ? number : double.NaN).ToArray())
        : ReconstructionColumn.Categorical(name, values.Select(WindowValues.Text).ToArray());

    private static WindowHookResult Reconstruction(List<(string Name, IReadOnlyList<object?> Reference, IReadOnlyList<object?> Current)> columns, int windowRows)
    {
        var numeric = columns.Select(column => IsNumeric(column.Reference, column.Current)).ToList();
        var referenceRows = columns[0].Reference.Count;
        var chunk = Math.Max(2, Math.Min(windowRows, referenceRows / 2));
        var drift = ReconstructionDrift.Fit(columns.Select((column, i) => Column(column.Name, column.Reference, numeric[i])).ToList(), chunk);
        var result = drift.Evaluate(columns.Select((column, i) => Column(column.Name, column.Current, numeric[i])).ToList());
        return new WindowHookResult(new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MonitorMetricNames.ReconstructionError] = result.Error,
            [MonitorMetricNames.ReconstructionErrorLower] = result.LowerThreshold,
            [MonitorMetricNames.ReconstructionErrorUpper] = result.UpperThreshold,
            [MonitorMetricNames.MultivariateDrifted] = result.Alert ? 1 : 0,
        }, []);
    }

    private static WindowHookResult DomainClassifier(List<(string Name, IReadOnlyList<object?> Reference, IReadOnlyList<object?> Current)> columns, double? threshold)
    {
        var random = new Random(new DomainClassifierOptions().Seed);
        var encoders = columns.Select(column => Encoder(column.Reference, IsNumeric(column.Reference, column.Current))).ToList();
        double[][] Rows(Func<(string Name, IReadOnlyList<object?> Reference, IReadOnlyList<object?> Current), IReadOnlyList<object?>> side)
        {
            var count = side(columns[0]).Count;
            var chosen = Enumerable.Range(0, count).ToArray();
            if (count > MaxClassifierRows)
            {
                random.Shuffle(chosen);
                chosen = chosen[..MaxClassifierRows];
                Array.Sort(chosen);
            }

            return chosen.Select(row => columns.Select((column, j) => encoders[j](side(column)[row])).ToArray()).ToArray();
        }

        var options = new DomainClassifierOptions { Threshold = threshold ?? new DomainClassifierOptions().Threshold };
        var result = DomainClassifierDrift.Detect(Rows(column => column.Reference), Rows(column => column.Current), options);
        return new WindowHookResult(new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MonitorMetricNames.DomainAuc] = result.RocAuc,
            [MonitorMetricNames.MultivariateDrifted] = result.Drift ? 1 : 0,
        }, []);
    }

    /// <summary>Numbers as they are (missing: the reference mean); categories as their share of the reference rows (unseen: 0).</summary>
    private static Func<object?, double> Encoder(IReadOnlyList<object?> reference, bool numeric)
    {
        if (numeric)
        {
            var present = reference.OfType<double>().Where(double.IsFinite).ToList();
            var mean = present.Count == 0 ? 0 : present.Average();
            return value => value is double number && double.IsFinite(number) ? number : mean;
        }

        var shares = reference.GroupBy(value => WindowValues.Text(value) ?? "", StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => (double)group.Count() / reference.Count, StringComparer.Ordinal);
        return value => shares.GetValueOrDefault(WindowValues.Text(value) ?? "");
    }
}
