using System.Globalization;
using System.Text.RegularExpressions;
using Ballast.Statistics.Drift;
using Ballast.Tracking;

namespace Ballast.Monitoring;

/// <summary>Checks a <see cref="MonitorSpec"/> (every problem at once) and fills its defaults.</summary>
public static partial class MonitorValidation
{
    /// <summary>Windows with fewer rows than this record <c>insufficient_data</c> unless the spec says otherwise.</summary>
    public const long DefaultMinRows = 30;

    /// <summary>A time window is closed this long after its end, so requests still in flight at the boundary are logged.</summary>
    public const string DefaultGrace = "30s";

    public const string Classification = "classification";
    public const string Regression = "regression";

    public static IReadOnlyList<string> ClassificationMetrics { get; } = ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"];

    public static IReadOnlyList<string> RegressionMetrics { get; } = ["mae", "rmse", "mape"];

    public static readonly TimeSpan MinDuration = TimeSpan.FromSeconds(10);
    public const long MaxRows = 1_000_000;

    public static MonitorSpec Validate(MonitorSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<string>();
        if (string.IsNullOrEmpty(spec.Name) || !NamePattern().IsMatch(spec.Name))
        {
            problems.Add($"name '{spec.Name}' must be 1 to 63 lowercase letters, digits or '-', starting with a letter");
        }

        if (string.IsNullOrEmpty(spec.Endpoint))
        {
            problems.Add("endpoint: name the endpoint whose traffic is monitored");
        }

        var window = spec.Window;
        if (window is null || (window.Duration is null) == (window.Rows is null))
        {
            problems.Add("window: give exactly one of duration (such as {\"duration\": \"10m\"}) or rows (such as {\"rows\": 5000})");
        }
        else if (window.Duration is { } duration && (Durations.Parse(duration) is not { } span || span < MinDuration))
        {
            problems.Add($"window.duration '{duration}' is not a duration of at least 10s such as 10m or 1h");
        }
        else if (window.Rows is < 10 or > MaxRows)
        {
            problems.Add($"window.rows {window.Rows} must be between 10 and {MaxRows}");
        }

        if (window?.Grace is { } grace && Durations.Parse(grace) is null)
        {
            problems.Add($"window.grace '{grace}' is not a duration such as 30s");
        }

        var reference = spec.Reference;
        var kinds = reference is null ? 0 : (reference.Dataset is null ? 0 : 1) + (reference.From is null && reference.To is null ? 0 : 1) + (reference.Run is null ? 0 : 1);
        if (reference is null || kinds != 1)
        {
            problems.Add("reference: give one of a dataset ({\"dataset\": NAME, \"version\": N}), a window of the endpoint's traffic ({\"from\": TIME, \"to\": TIME}) " +
                "or a run whose training dataset is the reference ({\"run\": RUN_ID})");
        }
        else if (reference.Run is not null)
        {
            if (reference.Version is not null)
            {
                problems.Add("reference: version goes with dataset, not run (the run names its dataset version)");
            }
        }
        else if (reference.Dataset is null)
        {
            var from = Time(reference.From, "reference.from", problems);
            var to = Time(reference.To, "reference.to", problems);
            if (from is { } f && to is { } t && f >= t)
            {
                problems.Add("reference: from must be before to");
            }
        }
        else if (reference.Version is < 1)
        {
            problems.Add($"reference.version {reference.Version} must be 1 or more (leave it out for the latest)");
        }

        MonitorHookValidation.Validate(spec, problems);

        if (spec.Columns is { Include: { Count: > 0 } include, Exclude: { Count: > 0 } exclude } && include.Intersect(exclude, StringComparer.Ordinal).Any())
        {
            problems.Add($"columns: {string.Join(", ", include.Intersect(exclude, StringComparer.Ordinal).Select(name => $"'{name}'"))} both included and excluded");
        }

        if (spec.Drift is { } drift)
        {
            problems.AddRange(DriftOptions(spec).Validate().Select(problem => "drift: " + problem));
        }

        if (spec.Prediction is { } prediction)
        {
            if (prediction.Method is { } method && DriftMethods.Find(method) is null)
            {
                problems.Add($"prediction: unknown drift method '{method}' (known: {string.Join(", ", DriftMethods.All.Select(known => known.Name))})");
            }

            if (prediction.Threshold is { } threshold && !(threshold >= 0 && double.IsFinite(threshold)))
            {
                problems.Add($"prediction.threshold must be a finite number, 0 or more (got {threshold})");
            }
        }

        if (spec.Performance is { } performance)
        {
            var known = performance.Task switch
            {
                Classification => ClassificationMetrics,
                Regression => RegressionMetrics,
                _ => null,
            };
            if (known is null)
            {
                problems.Add($"performance.task '{performance.Task}' is not classification or regression");
            }
            else
            {
                foreach (var metric in (performance.Metrics ?? []).Where(metric => !known.Contains(metric)))
                {
                    problems.Add($"performance: unknown {performance.Task} metric '{metric}' (known: {string.Join(", ", known)})");
                }

                if (performance.Task == Classification && performance.Probabilities is null && (performance.Metrics ?? []).Any(metric => metric is "roc_auc" or "log_loss"))
                {
                    problems.Add("performance: roc_auc and log_loss need probabilities (the name of the model's [N, C] probability output)");
                }

                if (performance.Classes is { Count: < 2 })
                {
                    problems.Add("performance.classes: name at least 2 classes (the probability output's columns, in order)");
                }
            }
        }

        foreach (var kpi in spec.Kpis ?? [])
        {
            if (!KpiPattern().IsMatch(kpi))
            {
                problems.Add($"kpis: '{kpi}' is not a KPI name (lowercase letters, digits, '_' or '-', starting with a letter)");
            }
        }

        if (spec.MinRows is < 1)
        {
            problems.Add($"min_rows {spec.MinRows} must be 1 or more");
        }

        if ((spec.Segments ?? []).Count > 5)
        {
            problems.Add("segments: at most 5 columns");
        }

        if (problems.Count > 0)
        {
            throw TrackingException.Invalid($"Invalid monitor '{spec.Name}'", problems);
        }

        return spec with
        {
            Window = window! with { Grace = window.Duration is null ? null : window.Grace ?? DefaultGrace },
            MinRows = spec.MinRows ?? DefaultMinRows,
            Segments = spec.Segments ?? [],
            Kpis = spec.Kpis ?? [],
            Performance = spec.Performance is { } chosen
                ? chosen with { Metrics = chosen.Metrics ?? DefaultMetrics(chosen) }
                : null,
        };
    }

    /// <summary>Every metric of the task; roc_auc and log_loss only when the probability output is named.</summary>
    private static IReadOnlyList<string> DefaultMetrics(MonitorPerformance performance) => performance.Task == Classification
        ? ClassificationMetrics.Where(metric => performance.Probabilities is not null || metric is not ("roc_auc" or "log_loss")).ToList()
        : RegressionMetrics;

    /// <summary>The drift options of a monitor, as <c>ballast drift</c> would take them.</summary>
    public static DriftOptions DriftOptions(MonitorSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var drift = spec.Drift ?? new MonitorDrift();
        return new DriftOptions
        {
            Methods = drift.Method is null ? [] : [drift.Method],
            ColumnMethods = drift.Methods ?? new Dictionary<string, string>(),
            Threshold = drift.Threshold,
            ColumnThresholds = drift.Thresholds ?? new Dictionary<string, double>(),
            Categorical = drift.Categorical ?? [],
            DatasetDriftShare = drift.DriftShare ?? DriftDefaults.DatasetDriftShare,
            Threads = 1,
            MemoryLimitMegabytes = 256,
        };
    }

    /// <summary>An ISO-8601 time or Unix milliseconds, as Unix milliseconds.</summary>
    public static long? Time(string? text, string field, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            return ms;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time.ToUnixTimeMilliseconds();
        }

        problems.Add($"{field} '{text}' is not a time such as 2026-12-01T00:00:00Z (or Unix milliseconds)");
        return null;
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,62}$")]
    private static partial Regex KpiPattern();
}
