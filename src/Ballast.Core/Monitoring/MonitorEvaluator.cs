using System.Globalization;
using Ballast.Datasets;
using Ballast.Experiments;
using Ballast.Serving;
using Ballast.Statistics.Drift;
using Ballast.Statistics.Performance;
using DuckDB.NET.Data;

namespace Ballast.Monitoring;

/// <summary>
/// Computes one window of a monitor: reads the endpoint's logged predictions in [start, end) with their feedback,
/// compares the input columns (and the prediction) with the reference as <c>ballast drift</c> does, and adds
/// performance from feedback, per-segment numbers, latency and error rate, and the KPIs posted in the window.
/// </summary>
public sealed class MonitorEvaluator(
    PredictionExport export,
    DatasetStore datasets,
    KpiStore kpis,
    TrafficStats traffic,
    IEnumerable<IWindowEstimator>? estimators = null,
    IEnumerable<IWindowQualityCheck>? qualityChecks = null,
    Tracking.RunStore? runs = null,
    Storage.IArtifactStore? artifacts = null,
    ReferenceCache? cache = null,
    ReferenceProfiles? profiles = null)
{
    /// <summary>Segments report at most this many values per column (the most frequent).</summary>
    public const int MaxSegmentValues = 10;

    /// <summary>A computed window: its rows, status and results, and the log position of its last record (null when it has none).</summary>
    public sealed record Outcome(long Rows, string Status, MonitorResults Results, LogPosition? Last = null);

    public Task<Outcome> EvaluateAsync(MonitorSpec spec, long start, long end, CancellationToken cancellationToken = default) =>
        EvaluateAsync(spec, start, end, null, null, cancellationToken);

    /// <summary>
    /// Computes the window of the records logged in [<paramref name="start"/>, <paramref name="end"/>) (Unix ms) that sort
    /// after <paramref name="after"/> and at or before <paramref name="through"/> when given: a row window's exact bounds.
    /// A row monitor's outcome has the window's last record (<paramref name="through"/>, or the last one read).
    /// </summary>
    public async Task<Outcome> EvaluateAsync(MonitorSpec spec, long start, long end, LogPosition? after, LogPosition? through, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        // Time windows keep no position: no second pass over a window of millions of rows for one.
        var rows = spec.Window?.Rows is not null;
        var (window, last) = await export.QueryAsync(spec.Endpoint!, start, end - 1, after, through,
            connection => (WindowTable.Read(connection, spec.FeatureNames), rows ? through ?? LastPosition(connection) : null), cancellationToken).ConfigureAwait(false);
        var outcome = await EvaluateAsync(spec, start, end, window, cancellationToken).ConfigureAwait(false);
        return outcome with { Last = last };
    }

    private async Task<Outcome> EvaluateAsync(MonitorSpec spec, long start, long end, WindowTable window, CancellationToken cancellationToken)
    {
        var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal) { [MonitorMetricNames.Rows] = window.Rows };
        AddLatency(metrics, window.Latencies);
        var variants = await traffic.WindowAsync(spec.Endpoint!, start, end - 1, cancellationToken).ConfigureAwait(false);
        var requests = variants.Sum(variant => variant.Requests);
        metrics[MonitorMetricNames.ErrorRate] = requests == 0 ? 0 : (double)variants.Sum(variant => variant.Errors) / requests;
        foreach (var name in spec.Kpis ?? [])
        {
            var values = (await kpis.SinceAsync(name, start, cancellationToken).ConfigureAwait(false)).Where(kpi => kpi.RecordedAt < end).Select(kpi => kpi.Value).ToList();
            metrics[MonitorMetricNames.Kpi(name, MonitorMetricNames.KpiCount)] = values.Count;
            metrics[MonitorMetricNames.Kpi(name, MonitorMetricNames.KpiSum)] = values.Sum();
            if (values.Count > 0)
            {
                metrics[MonitorMetricNames.Kpi(name, MonitorMetricNames.KpiMean)] = values.Average();
            }
        }

        if (window.Rows < spec.MinRows)
        {
            return new Outcome(window.Rows, MonitorWindowStatus.InsufficientData,
                new MonitorResults(metrics, Message: $"{window.Rows} rows in the window, fewer than min_rows {spec.MinRows}: no verdict"));
        }

        var scratch = Path.Combine(Path.GetTempPath(), "ballast-monitor-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            using var reference = await ReferenceAsync(spec, scratch, cancellationToken).ConfigureAwait(false);
            if (reference.Rows < spec.MinRows)
            {
                return new Outcome(window.Rows, MonitorWindowStatus.InsufficientData,
                    new MonitorResults(metrics, Message: $"the reference ({reference.Name}) has {reference.Rows} rows, fewer than min_rows {spec.MinRows}: no verdict"));
            }

            var (report, columns) = InputDrift(spec, window, reference, scratch, cancellationToken);
            report = report with { Current = $"{spec.Endpoint} {Iso(start)} to {Iso(end)}" };
            var options = MonitorValidation.DriftOptions(spec);
            foreach (var feature in report.Result.Features)
            {
                metrics[MonitorMetricNames.ColumnDrift(feature.Name)] = feature.Score;
                metrics[MonitorMetricNames.ColumnDrifted(feature.Name)] = feature.Drifted ? 1 : 0;
            }

            metrics[MonitorMetricNames.DriftShare] = report.Result.DriftShare;
            metrics[MonitorMetricNames.DatasetDrift] = report.Result.DatasetDrift ? 1 : 0;
            metrics[MonitorMetricNames.DriftedColumns] = report.Result.DriftedFeatures;

            // Columns named x[0], x[1]… where the monitor names them: drift is then measured on the columns the reference shares, if any.
            var notes = window.UnnamedInputs.Count == 0 ? new List<string>()
                : [$"feature_names does not fit the logged inputs, whose columns are named NAME[i] instead: {ProblemList.Join(window.FeatureNameProblems())}"];
            var prediction = PredictionDrift(spec, window, reference, scratch, notes, cancellationToken);
            if (prediction is not null)
            {
                metrics[MonitorMetricNames.PredictionDrift] = prediction.Score;
                metrics[MonitorMetricNames.PredictionDrifted] = prediction.Drifted ? 1 : 0;
            }

            if (spec.Performance is { } performance)
            {
                var measured = Performance(performance, window, row => true, spec.MinRows ?? 1);
                foreach (var (name, value) in measured)
                {
                    metrics[MonitorMetricNames.Performance(name)] = value;
                }

                if (!measured.TryGetValue(MonitorMetricNames.LabelledRows, out var labelled))
                {
                    notes.Add($"no performance: the window has no output '{performance.Output ?? "(one value per row)"}' (outputs: {string.Join(", ", window.Outputs.Keys)})");
                }
                else if (labelled < spec.MinRows)
                {
                    notes.Add($"no performance: {labelled} rows have feedback, fewer than min_rows {spec.MinRows}");
                }
                else if ((performance.Metrics ?? []).FirstOrDefault(metric => metric is "roc_auc" or "log_loss" && !measured.ContainsKey(metric)) is { } missing)
                {
                    notes.Add($"no {missing}: the output '{performance.Probabilities}' does not have one probability per class ({string.Join(", ", performance.Classes ?? [])}), " +
                        "no labelled row's label is one of the classes, or (roc_auc) only one class has feedback");
                }
            }

            Segments(spec, window, reference, columns, options, scratch, metrics, notes, cancellationToken);
            var context = new MonitorWindowContext(spec, window, reference, columns, start, end, scratch);
            var hooks = (qualityChecks ?? []).Select(check => ("quality", (Func<Task<WindowHookResult>>)(() => check.CheckAsync(context, cancellationToken))))
                .Concat((estimators ?? []).Select(estimator => (estimator.Name, (Func<Task<WindowHookResult>>)(() => estimator.EstimateAsync(context, cancellationToken)))));
            foreach (var (hookName, hook) in hooks)
            {
                WindowHookResult result;
                try
                {
                    result = await hook().ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // One hook's failure (a model library's error on odd data, say) is the window's message, not a lost window.
                    notes.Add($"{hookName} failed: {exception.Message}");
                    continue;
                }

                foreach (var (name, value) in result.Metrics)
                {
                    metrics[name] = value;
                }

                notes.AddRange(result.Notes);
            }

            return new Outcome(window.Rows, MonitorWindowStatus.Ok, new MonitorResults(metrics, report, prediction, notes.Count == 0 ? null : string.Join("; ", notes)));
        }
        catch (Exception exception) when (exception is DriftInputException or Tracking.TrackingException or DuckDBException)
        {
            return new Outcome(window.Rows, MonitorWindowStatus.Failed, new MonitorResults(metrics, Message: exception.Message));
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
                // Scratch space in the temporary folder; the OS cleans it.
            }
        }
    }

    /// <inheritdoc cref="PredictionExport.WatermarkAsync"/>
    public Task<long?> WatermarkAsync(CancellationToken cancellationToken = default) => export.WatermarkAsync(cancellationToken);

    /// <summary>
    /// How many answered predictions (primary and forced) the endpoint logged from <paramref name="from"/> (Unix ms,
    /// inclusive) after the record at <paramref name="after"/> when given, up to <paramref name="until"/> (Unix ms,
    /// inclusive; null for no bound), and the log position of the <paramref name="rows"/>-th of them in the log's order.
    /// </summary>
    public Task<(long Count, LogPosition? Nth)> CountAfterAsync(string endpoint, long from, LogPosition? after, long rows, long? until = null, CancellationToken cancellationToken = default) =>
        export.QueryAsync(endpoint, from, until, after, null, connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT count(*) FROM predictions WHERE {PredictionSegments.Answered}";
            var count = (long)command.ExecuteScalar()!;
            if (count < rows)
            {
                return (count, (LogPosition?)null);
            }

            command.CommandText = $"SELECT {LogPosition.Columns} FROM predictions WHERE {PredictionSegments.Answered} ORDER BY {PredictionSegments.Order} LIMIT 1 OFFSET "
                + (rows - 1).ToString(CultureInfo.InvariantCulture);
            using var reader = command.ExecuteReader();
            return (count, reader.Read() ? LogPosition.Read(reader, 0) : null);
        }, cancellationToken);

    /// <summary>The log position of the last answered record of the <c>predictions</c> view, or null when it has none.</summary>
    private static LogPosition? LastPosition(DuckDBConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {LogPosition.Columns} FROM predictions WHERE {PredictionSegments.Answered} ORDER BY {PredictionSegments.ReverseOrder} LIMIT 1";
        using var reader = command.ExecuteReader();
        return reader.Read() ? LogPosition.Read(reader, 0) : null;
    }

    private static string Iso(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static void AddLatency(SortedDictionary<string, double> metrics, List<double> latencies)
    {
        if (latencies.Count == 0)
        {
            return;
        }

        var sorted = latencies.Order().ToArray();
        foreach (var (name, quantile) in new[] { (MonitorMetricNames.LatencyP50, 0.5), (MonitorMetricNames.LatencyP95, 0.95), (MonitorMetricNames.LatencyP99, 0.99) })
        {
            // Linear interpolation between closest ranks, as numpy.quantile's default.
            var position = quantile * (sorted.Length - 1);
            var low = (int)Math.Floor(position);
            var high = Math.Min(low + 1, sorted.Length - 1);
            metrics[name] = sorted[low] + ((position - low) * (sorted[high] - sorted[low]));
        }
    }

    /// <summary>
    /// The drift of a window's input columns against the reference, with the monitor's columns and drift options (as
    /// <c>ballast drift</c> compares two files); columns the reference lacks are reported as skipped. Also the rollout
    /// analysis's <c>drift_share</c>, for one variant's traffic.
    /// </summary>
    internal static (DriftReport Report, List<string> Columns) InputDrift(MonitorSpec spec, WindowTable window, ReferenceTable reference, string scratch, CancellationToken cancellationToken)
    {
        var skipped = new List<SkippedColumn>();
        var columns = Columns(spec, window, reference, skipped);
        if (NotCompared(spec, window, reference, columns) is { } problem)
        {
            throw new DriftInputException(problem);
        }

        var current = Path.Combine(scratch, $"current-{Guid.NewGuid():N}.parquet");
        window.WriteParquet(current, columns.Select(name => (name, window.Inputs[name])).ToList());
        var report = DriftTableReader.Compare(reference.Write(scratch, columns), current, MonitorValidation.DriftOptions(spec), cancellationToken);
        return (report with { Reference = reference.Name, Skipped = [.. report.Skipped, .. skipped] }, columns);
    }

    /// <summary>The compared columns: included ones (or every input column the reference also has), less excluded ones.</summary>
    private static List<string> Columns(MonitorSpec spec, WindowTable window, ReferenceTable reference, List<SkippedColumn> skipped)
    {
        var include = spec.Columns?.Include is { Count: > 0 } named ? named : window.Inputs.Keys.ToList();
        var exclude = spec.Columns?.Exclude ?? [];
        var missing = include.Where(name => !window.Inputs.ContainsKey(name) || !reference.Has(name)).ToList();
        if (spec.Columns?.Include is { Count: > 0 } && missing.Count > 0)
        {
            throw new DriftInputException($"columns.include: {string.Join(", ", missing.Select(name => $"'{name}'"))} not in both the window's inputs ({string.Join(", ", window.Inputs.Keys)}) and the reference");
        }

        foreach (var name in missing)
        {
            skipped.Add(new SkippedColumn(name, "not in the reference"));
        }

        var columns = include.Where(name => !exclude.Contains(name) && !missing.Contains(name)).ToList();
        return columns.Count > 0 ? columns : throw new DriftInputException($"no input column of the window ({string.Join(", ", window.Inputs.Keys)}) is in the reference ({reference.Name})");
    }

    /// <summary>
    /// The columns the drift options name (a method, a threshold, categorical) that are not compared, each with why (the
    /// window's inputs, the reference, <c>columns</c>), so the message names the monitor's field, not the comparison's
    /// file of compared columns; null when every one is compared.
    /// </summary>
    private static string? NotCompared(MonitorSpec spec, WindowTable window, ReferenceTable reference, List<string> columns)
    {
        var problems = new List<string>();
        void Check(string field, IEnumerable<string>? names)
        {
            foreach (var name in (names ?? []).Where(name => !columns.Contains(name)))
            {
                var why = !window.Inputs.ContainsKey(name) ? $"the window has no input '{name}' (its inputs: {string.Join(", ", window.Inputs.Keys)})"
                    : !reference.Has(name) ? $"the reference ({reference.Name}) has no column '{name}'"
                    : spec.Columns?.Exclude?.Contains(name) == true ? "columns.exclude leaves it out"
                    : "columns.include does not name it";
                problems.Add($"drift.{field} names '{name}', which is not compared: {why}");
            }
        }

        Check("methods", spec.Drift?.Methods?.Keys);
        Check("thresholds", spec.Drift?.Thresholds?.Keys);
        Check("categorical", spec.Drift?.Categorical);
        return problems.Count == 0 ? null : ProblemList.Join(problems);
    }

    internal static string? PredictionOutput(MonitorSpec spec, WindowTable window) =>
        spec.Prediction?.Output ?? spec.Performance?.Output ?? window.Outputs.Keys.FirstOrDefault(name => !name.EndsWith(']'));

    /// <summary>The drift of the model's output (<see cref="PredictionOutput"/>) against the reference's; null with a note when there is none to compare.</summary>
    internal static FeatureDrift? PredictionDrift(MonitorSpec spec, WindowTable window, ReferenceTable reference, string scratch, List<string> notes, CancellationToken cancellationToken)
    {
        if (spec.Prediction?.Enabled is false)
        {
            return null;
        }

        if (PredictionOutput(spec, window) is not { } output || !window.Outputs.TryGetValue(output, out var values))
        {
            notes.Add($"no prediction drift: the window has no output {(PredictionOutput(spec, window) is { } named ? $"'{named}'" : "with one value per row")} (outputs: {string.Join(", ", window.Outputs.Keys)})");
            return null;
        }

        if (!reference.HasOutput(output))
        {
            notes.Add($"no prediction drift: the reference ({reference.Name}) has no column '{output}'");
            return null;
        }

        var options = new DriftOptions
        {
            Methods = spec.Prediction?.Method is { } method ? [method] : [],
            Threshold = spec.Prediction?.Threshold,
            Categorical = values.Any(value => value is string) ? [output] : [],
            Threads = 1,
            MemoryLimitMegabytes = 256,
        };
        var current = Path.Combine(scratch, $"prediction-current-{Guid.NewGuid():N}.parquet");
        window.WriteParquet(current, [(output, values)]);
        return DriftTableReader.Compare(reference.WriteOutput(scratch, output), current, options, cancellationToken).Result.Features.Single();
    }

    private static Dictionary<string, double> Performance(MonitorPerformance performance, WindowTable window, Func<int, bool> keep, long minRows)
    {
        var results = new Dictionary<string, double>(StringComparer.Ordinal);
        var output = performance.Output ?? window.Outputs.Keys.FirstOrDefault(name => !name.EndsWith(']'));
        if (output is null || !window.Outputs.TryGetValue(output, out var predicted))
        {
            return results;
        }

        var rows = Enumerable.Range(0, window.Rows).Where(row => keep(row) && window.Outcomes[row] is not null && predicted[row] is not null).ToList();
        results[MonitorMetricNames.LabelledRows] = rows.Count;
        if (rows.Count < minRows)
        {
            return results;
        }

        var metrics = performance.Metrics ?? [];
        if (performance.Task == MonitorValidation.Regression)
        {
            var truth = rows.Select(row => double.Parse(window.Outcomes[row]!, CultureInfo.InvariantCulture)).ToList();
            var values = rows.Select(row => Convert.ToDouble(predicted[row], CultureInfo.InvariantCulture)).ToList();
            foreach (var metric in metrics)
            {
                results[metric] = metric switch
                {
                    "mae" => RegressionMetrics.MeanAbsoluteError(truth, values),
                    "rmse" => RegressionMetrics.RootMeanSquaredError(truth, values),
                    _ => RegressionMetrics.MeanAbsolutePercentageError(truth, values),
                };
            }

            return results;
        }

        var labels = rows.Select(row => window.Outcomes[row]!).ToList();
        var guesses = rows.Select(row => Convert.ToString(predicted[row], CultureInfo.InvariantCulture)!).ToList();
        var (precision, recall, f1) = ClassificationMetrics.PrecisionRecallF1(labels, guesses, performance.PositiveClass);
        var probabilities = Probabilities(performance, window, rows);
        foreach (var metric in metrics)
        {
            switch (metric)
            {
                case "accuracy":
                    results[metric] = ClassificationMetrics.Accuracy(labels, guesses);
                    break;
                case "precision":
                    results[metric] = precision;
                    break;
                case "recall":
                    results[metric] = recall;
                    break;
                case "f1":
                    results[metric] = f1;
                    break;
                case "roc_auc" when probabilities is { } p:
                    var positive = performance.PositiveClass is { } label ? [p.Classes.IndexOf(label)] : Enumerable.Range(0, p.Classes.Count).ToList();
                    var aucs = positive.Where(k => k >= 0)
                        .Select(k => ClassificationMetrics.RocAuc(p.Truth.Select(t => t == k).ToList(), p.Rows.Select(r => r[k]).ToList())).Where(double.IsFinite).ToList();
                    if (aucs.Count > 0)
                    {
                        results[metric] = aucs.Average();
                    }

                    break;
                case "log_loss" when probabilities is { } p:
                    results[metric] = ClassificationMetrics.LogLoss(p.Truth, p.Rows);
                    break;
            }
        }

        return results;
    }

    /// <summary>The probability rows of the labelled rows whose label is one of the classes, with the label's index.</summary>
    private static (List<string> Classes, List<int> Truth, List<IReadOnlyList<double>> Rows)? Probabilities(MonitorPerformance performance, WindowTable window, List<int> rows)
    {
        if (performance.Probabilities is not { } name)
        {
            return null;
        }

        var columns = window.Outputs.Keys.Where(key => key.StartsWith(name + "[", StringComparison.Ordinal)).OrderBy(key => key.Length).ThenBy(key => key, StringComparer.Ordinal).ToList();
        var classes = performance.Classes?.ToList() ?? Enumerable.Range(0, columns.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        if (columns.Count != classes.Count || columns.Count < 2)
        {
            return null;
        }

        var truth = new List<int>();
        var probabilities = new List<IReadOnlyList<double>>();
        foreach (var row in rows)
        {
            var index = classes.IndexOf(window.Outcomes[row]!);
            var values = columns.Select(column => window.Outputs[column][row] is double value ? value : double.NaN).ToArray();
            if (index >= 0 && values.All(double.IsFinite))
            {
                truth.Add(index);
                probabilities.Add(values);
            }
        }

        return truth.Count == 0 ? null : (classes, truth, probabilities);
    }

    private static void Segments(MonitorSpec spec, WindowTable window, ReferenceTable reference, List<string> columns, DriftOptions options, string scratch,
        SortedDictionary<string, double> metrics, List<string> notes, CancellationToken cancellationToken)
    {
        var referenceFile = reference.Write(scratch, columns);
        foreach (var segment in spec.Segments ?? [])
        {
            if (!window.Inputs.TryGetValue(segment, out var values))
            {
                notes.Add($"segment column '{segment}' is not among the window's inputs ({string.Join(", ", window.Inputs.Keys)})");
                continue;
            }

            var groups = Enumerable.Range(0, window.Rows).Where(row => values[row] is not null)
                .GroupBy(row => Convert.ToString(values[row], CultureInfo.InvariantCulture)!, StringComparer.Ordinal)
                .OrderByDescending(group => group.Count()).ThenBy(group => group.Key, StringComparer.Ordinal).Take(MaxSegmentValues);
            foreach (var group in groups)
            {
                var rows = group.ToHashSet();
                metrics[MonitorMetricNames.Segment(segment, group.Key, MonitorMetricNames.Rows)] = rows.Count;
                if (rows.Count < spec.MinRows)
                {
                    continue;
                }

                var current = Path.Combine(scratch, $"segment-{Guid.NewGuid():N}.parquet");
                window.WriteParquet(current, columns.Select(name => (name, window.Inputs[name])).ToList(), rows.Contains);
                try
                {
                    var result = DriftTableReader.Compare(referenceFile, current, options, cancellationToken).Result;
                    metrics[MonitorMetricNames.Segment(segment, group.Key, MonitorMetricNames.DriftShare)] = result.DriftShare;
                }
                catch (DriftInputException)
                {
                    // A segment with a column empty in it (all missing) has no drift share; its rows are still counted.
                }

                if (spec.Performance is { } performance)
                {
                    foreach (var (name, value) in Performance(performance, window, rows.Contains, spec.MinRows ?? 1))
                    {
                        metrics[MonitorMetricNames.Segment(segment, group.Key, MonitorMetricNames.Performance(name))] = value;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The monitor's reference: its dataset version's file (or run's) as <see cref="ReferenceTable.OpenAsync"/> reads it
    /// (in place from the <see cref="ReferenceCache"/>, else copied into <paramref name="scratch"/>), or its window of the
    /// endpoint's traffic. The caller disposes it (releasing the cached file).
    /// </summary>
    internal async Task<ReferenceTable> ReferenceAsync(MonitorSpec spec, string scratch, CancellationToken cancellationToken)
    {
        var reference = spec.Reference!;
        if (reference.Dataset is not null || reference.Run is not null)
        {
            MonitorReferenceSource source;
            if (reference.Run is { } run)
            {
                source = await MonitorRunReference.ResolveAsync(runs, datasets, artifacts, run, reference.File, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var version = await datasets.GetVersionAsync(new DatasetReference(reference.Dataset!, reference.Version), cancellationToken).ConfigureAwait(false);
                var chosen = MonitorReferenceFile.Choose(version, reference.File);
                source = MonitorReferenceSource.OfDatasetFile(datasets, $"{version.Reference} {chosen.Path}", chosen);
            }

            return await ReferenceTable.OpenAsync(source, cache, scratch, cancellationToken, profiles).ConfigureAwait(false);
        }

        var problems = new List<string>();
        var from = MonitorValidation.Time(reference.From, "reference.from", problems)!.Value;
        var to = MonitorValidation.Time(reference.To, "reference.to", problems)!.Value;
        var table = await TrafficReferenceAsync(spec, from, to, cancellationToken).ConfigureAwait(false);
        return ReferenceTable.FromWindow($"{spec.Endpoint} {Iso(from)} to {Iso(to)}", table);
    }

    /// <summary>
    /// A traffic reference's predictions in [<paramref name="from"/>, <paramref name="to"/>): from the <see cref="ReferenceProfiles"/>
    /// once the range is over (the clock past it by the watermark margin, every replica's records up to it in the log:
    /// they no longer change), with its feedback joined again (labels arrive late); read from the log while it is open.
    /// </summary>
    private async Task<WindowTable> TrafficReferenceAsync(MonitorSpec spec, long from, long to, CancellationToken cancellationToken)
    {
        var closed = profiles is not null && profiles.MaxBytes > 0
            && profiles.Time.GetUtcNow().ToUnixTimeMilliseconds() >= to + (long)PredictionExport.WatermarkMargin.TotalMilliseconds
            && (await export.WatermarkAsync(cancellationToken).ConfigureAwait(false) ?? long.MaxValue) >= to;
        if (!closed)
        {
            return await export.QueryAsync(spec.Endpoint!, from, to - 1, connection => WindowTable.Read(connection, spec.FeatureNames), cancellationToken).ConfigureAwait(false);
        }

        // Each name as length:text, so no name can pass for another's (feature names decide the columns).
        static string Exact(string text) => string.Create(CultureInfo.InvariantCulture, $"{text.Length}:{text}");
        var names = string.Concat((spec.FeatureNames ?? new Dictionary<string, IReadOnlyList<string>>()).OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => Exact(pair.Key) + string.Concat(pair.Value.Select(Exact)) + ";"));
        var key = string.Create(CultureInfo.InvariantCulture, $"{Exact(spec.Endpoint!)} {from} {to} {names}");
        if (profiles!.TryGet<WindowTable>(ReferenceProfiles.Traffic, key) is not { } predictions)
        {
            predictions = await export.QueryAsync(spec.Endpoint!, from, to - 1, connection => WindowTable.Read(connection, spec.FeatureNames), cancellationToken).ConfigureAwait(false);
            profiles.Add(ReferenceProfiles.Traffic, key, predictions, predictions.EstimateBytes());
            return predictions;
        }

        return predictions.WithOutcomes(await export.OutcomesAsync(predictions.PredictionIds(), from, cancellationToken).ConfigureAwait(false));
    }
}
