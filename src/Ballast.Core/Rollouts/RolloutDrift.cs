using System.Globalization;
using Ballast.Monitoring;
using Ballast.Serving;
using Ballast.Statistics.Drift;
using Ballast.Tracking;

namespace Ballast.Rollouts;

/// <summary>What a measurement's drift conditions saw: the variant's values, stable's (for <c>stable</c> comparisons), and the conditions that could not be judged, with why.</summary>
public sealed record DriftMeasurement(IReadOnlyDictionary<string, double> Values, IReadOnlyDictionary<string, double> Stable, IReadOnlyList<string> Lacking);

/// <summary>
/// The drift conditions of a rollout's analysis (<c>drift_share</c>, <c>drift.COLUMN</c>, <c>drifted.COLUMN</c>,
/// <c>prediction_drift</c>, <c>prediction_drifted</c>), with the monitors' drift engine: the analysed variant's primary predictions logged in the interval are compared with
/// the reference of the monitor watching the endpoint (its reference, columns, feature names and drift options), or,
/// when no monitor watches it, with the stable variant's traffic over the same interval. The prediction's drift is
/// always against stable's predictions over the interval, with the monitor's prediction settings. One prediction-log
/// query per measurement reads both variants. Fewer logged rows than <c>minRequests</c> (or the monitor's
/// <c>min_rows</c>; 30 without a monitor) leave a condition unjudged: inconclusive, never a pass.
/// </summary>
public sealed class RolloutDrift(PredictionExport export, MonitorEvaluator evaluator, MonitorStore monitors)
{
    /// <summary>
    /// Checks a validated rollout's drift conditions against the endpoint's monitors and fixes the reference for the
    /// whole rollout: every drift metric names the monitor it uses (the one given, or the only one watching the
    /// endpoint), or none when the stable variant's traffic is the reference. Every problem at once, as a 400.
    /// </summary>
    public async Task<RolloutSpec> ResolveAsync(RolloutSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var metrics = spec.Analysis?.Metrics ?? [];
        var drift = metrics.Where(metric => Condition.Parse(metric.FailureCondition, metric.Name ?? "metric").OnDrift).ToList();
        if (drift.Count == 0)
        {
            return spec;
        }

        var problems = new List<string>();
        var monitor = drift.Select(metric => metric.Monitor).OfType<string>().FirstOrDefault();
        if (monitor is not null)
        {
            var named = drift.First(metric => metric.Monitor == monitor).Name;
            try
            {
                var watched = (await monitors.GetAsync(monitor, cancellationToken).ConfigureAwait(false)).Spec.Endpoint;
                if (watched != spec.Endpoint)
                {
                    problems.Add($"analysis metric '{named}': monitor '{monitor}' watches endpoint '{watched}', not '{spec.Endpoint}'");
                }
            }
            catch (TrackingException exception) when (exception.Code == TrackingException.ResourceDoesNotExist)
            {
                problems.Add($"analysis metric '{named}': monitor '{monitor}' does not exist");
            }
        }
        else
        {
            var watching = (await monitors.ListAsync(cancellationToken).ConfigureAwait(false)).Where(stored => stored.Spec.Endpoint == spec.Endpoint).Select(stored => stored.Spec.Name).ToList();
            if (watching.Count > 1)
            {
                problems.Add($"analysis: several monitors watch endpoint '{spec.Endpoint}' ({string.Join(", ", watching)}); name the one whose reference the drift metrics use with \"monitor\": NAME");
            }

            monitor = watching.Count == 1 ? watching[0] : null;
        }

        // Without a monitor the reference is stable's traffic; prediction drift always is: stable must have traffic
        // (judged once the monitor is settled: an unknown or ambiguous one is the problem to fix first).
        List<string?> needsStable = problems.Count > 0 ? [] : drift.Where(metric => monitor is null || Condition.Parse(metric.FailureCondition, "metric").OnPredictionDrift).Select(metric => metric.Name).ToList();
        if (needsStable.Count > 0)
        {
            var weight = 0;
            for (var i = 0; i < spec.Steps!.Count; i++)
            {
                weight = spec.Steps[i].SetWeight ?? weight;
                var step = spec.Steps[i].Analysis;
                var why = step is null ? null
                    : step.Variant == AnalysisStep.Stable ? "analyses the stable variant itself"
                    : step.Variant is null or AnalysisStep.Canary && weight == 100 ? "analyses the canary at weight 100, when the stable variant has no traffic"
                    : null;
                if (why is not null)
                {
                    problems.Add($"step {i} {why}: {string.Join(", ", needsStable.Select(name => $"'{name}'"))} compare{(needsStable.Count == 1 ? "s" : "")} with the stable variant's traffic " +
                        (monitor is null ? $"(no monitor watches endpoint '{spec.Endpoint}' to give a reference)" : "(prediction_drift always does)"));
                }
            }
        }

        return problems.Count > 0
            ? throw TrackingException.Invalid($"Invalid rollout '{spec.Name}'", problems)
            : spec with
            {
                Analysis = spec.Analysis! with { Metrics = metrics.Select(metric => drift.Contains(metric) ? metric with { Monitor = monitor } : metric).ToList() },
            };
    }

    /// <summary>
    /// The drift of <paramref name="target"/>'s primary predictions logged in [<paramref name="from"/>, <paramref name="to"/>)
    /// for the drift <paramref name="conditions"/>: <c>drift_share</c> and <c>drift.COLUMN</c> (and stable's, for
    /// <c>stable</c> comparisons: 0 when stable is the reference), <c>prediction_drift</c>, <c>logged_rows</c>,
    /// <c>stable_logged_rows</c> and <c>reference_rows</c>.
    /// </summary>
    public async Task<DriftMeasurement> MeasureAsync(RolloutSpec spec, IReadOnlyList<(string Name, Condition Condition)> conditions, string target, string stableVariant, long from, long to,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(conditions);
        var drift = conditions.Where(condition => condition.Condition.OnDrift).ToList();
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        var stable = new Dictionary<string, double>(StringComparer.Ordinal);
        var lacking = new List<string>();
        if (drift.Count == 0)
        {
            return new DriftMeasurement(values, stable, lacking);
        }

        var monitorName = spec.Analysis!.Metrics!.Where(metric => metric.Monitor is not null).Select(metric => metric.Monitor).FirstOrDefault();
        var monitor = monitorName is null ? null : (await monitors.GetAsync(monitorName, cancellationToken).ConfigureAwait(false)).Spec;
        if (monitor is not null && monitor.Endpoint != spec.Endpoint)
        {
            throw TrackingException.Invalid($"monitor '{monitor.Name}' now watches endpoint '{monitor.Endpoint}', not '{spec.Endpoint}'");
        }

        // Without a monitor: the comparison as a monitor with every default would make it.
        var settings = monitor ?? new MonitorSpec("rollout", spec.Endpoint, null, null);
        var minRows = Math.Max(spec.Analysis.MinRequests ?? 0, monitor?.MinRows ?? MonitorValidation.DefaultMinRows);
        var inputs = drift.Where(condition => !condition.Condition.OnPredictionDrift).ToList();
        var predictions = drift.Where(condition => condition.Condition.OnPredictionDrift).ToList();
        var stableInputs = inputs.Any(condition => condition.Condition.StableArithmetic is not null);
        var readStable = target != stableVariant && (monitor is null || predictions.Count > 0 || stableInputs);
        // A blue/green preview's mirrored copies of production requests count with its pinned requests, as for its traffic metrics.
        var mirror = target == RolloutController.PreviewVariant && spec.BlueGreen?.PreviewMirrorPercent is not null ? RolloutController.PreviewMirrorShadow : null;
        var (mine, theirs) = await export.QueryAsync(spec.Endpoint!, from, to - 1, connection => (
                WindowTable.Read(connection, settings.FeatureNames, variant: target, mirror: mirror),
                readStable ? WindowTable.Read(connection, settings.FeatureNames, variant: stableVariant) : null),
            cancellationToken).ConfigureAwait(false);
        values["logged_rows"] = mine.Rows;
        if (theirs is not null)
        {
            values["stable_logged_rows"] = theirs.Rows;
        }

        void Lack(IEnumerable<(string Name, Condition Condition)> which, string why) =>
            lacking.AddRange(which.Select(condition => $"{condition.Name}: {why}").Where(reason => !lacking.Contains(reason)));

        if (mine.Rows < minRows)
        {
            Lack(drift, $"{mine.Rows} logged rows < {minRows} ({(monitor is null ? "minRequests, and at least 30 for a drift test" : $"minRequests or monitor '{monitor.Name}' min_rows")})");
            return new DriftMeasurement(values, stable, lacking);
        }

        var stableLacks = theirs is null || theirs.Rows < minRows;
        var stableWhy = target == stableVariant ? "the analysed variant is the stable one, so there is no stable traffic to compare with" : $"stable has {theirs?.Rows ?? 0} logged rows < {minRows}";
        var scratch = Path.Combine(Path.GetTempPath(), "ballast-rollout-drift-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            var stableTraffic = theirs is null ? null : ReferenceTable.FromWindow($"{spec.Endpoint} variant {stableVariant} {Iso(from)} to {Iso(to)}", theirs);
            if (inputs.Count > 0)
            {
                using var monitorReference = monitor is null ? null : await evaluator.ReferenceAsync(monitor, scratch, cancellationToken).ConfigureAwait(false);
                var reference = monitor is null ? stableLacks ? null : stableTraffic : monitorReference;
                if (reference is not null)
                {
                    values["reference_rows"] = reference.Rows;
                }

                if (reference is null)
                {
                    Lack(inputs, $"no reference: {stableWhy}");
                }
                else if (reference.Rows < minRows)
                {
                    Lack(inputs, $"the reference ({reference.Name}) has {reference.Rows} rows < {minRows}");
                }
                else
                {
                    var current = MonitorEvaluator.InputDrift(settings, mine, reference, scratch, cancellationToken).Report.Result;
                    AddInputDrift(values, current);
                    if (stableInputs && monitor is null)
                    {
                        // Stable is the reference: compared with itself, nothing drifted (a test's p-value is 1, a distance 0).
                        AddInputDrift(stable, new DriftResult(false, 0, 0, [.. current.Features.Select(feature => feature with
                        {
                            Score = feature.PValue is null ? 0 : 1,
                            Drifted = false,
                        })]));
                    }
                    else if (stableInputs && stableLacks)
                    {
                        Lack(inputs.Where(condition => condition.Condition.StableArithmetic is not null), stableWhy);
                    }
                    else if (stableInputs)
                    {
                        AddInputDrift(stable, MonitorEvaluator.InputDrift(settings, theirs!, reference, scratch, cancellationToken).Report.Result);
                    }

                    if (stable.TryGetValue(Condition.DriftShare, out var share))
                    {
                        values["stable_" + Condition.DriftShare] = share;
                    }

                    foreach (var (name, condition) in inputs.Where(condition => !values.ContainsKey(condition.Condition.Metric)))
                    {
                        Lack([(name, condition)], $"{condition.DriftColumn} is not a compared input column ({string.Join(", ", current.Features.Select(feature => feature.Name))})");
                    }
                }
            }

            if (predictions.Count > 0)
            {
                var notes = new List<string>();
                if (stableLacks)
                {
                    Lack(predictions, stableWhy);
                }
                else if (MonitorEvaluator.PredictionDrift(settings, mine, stableTraffic!, scratch, notes, cancellationToken) is { } prediction)
                {
                    values[Condition.PredictionDrift] = prediction.Score;
                    values[Condition.PredictionDrifted] = prediction.Drifted ? 1 : 0;
                }
                else
                {
                    Lack(predictions, notes.Count > 0 ? string.Join("; ", notes) : $"monitor '{settings.Name}' turns prediction drift off");
                }
            }
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

        return new DriftMeasurement(values, stable, lacking);
    }

    private static void AddInputDrift(Dictionary<string, double> values, DriftResult result)
    {
        values[Condition.DriftShare] = result.DriftShare;
        foreach (var feature in result.Features)
        {
            values[Condition.ColumnDriftPrefix + feature.Name] = feature.Score;
            values[Condition.ColumnDriftedPrefix + feature.Name] = feature.Drifted ? 1 : 0;
        }
    }

    private static string Iso(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
