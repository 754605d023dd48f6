using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ballast.Tracking;
using Cronos;

namespace Ballast.Pipelines;

/// <summary>
/// Checks a pipeline before it is stored and lists every problem at once: names, parameter types and defaults, step
/// kinds, references to unknown parameters, steps or outputs, cycles, durations, the cron expression and time zone.
/// </summary>
public static partial class PipelineValidation
{
    public const string StringType = "string";
    public const string IntType = "int";
    public const string NumberType = "number";
    public const string BoolType = "bool";
    public const string DatasetType = "dataset";
    public const string ModelType = "model";
    public static readonly IReadOnlyList<string> Types = [StringType, IntType, NumberType, BoolType, DatasetType, ModelType];

    /// <summary>Most retries a step may ask for (a retry storm against a broken dependency helps nobody).</summary>
    public const int MaxRetries = 10;

    /// <summary>Validates <paramref name="spec"/>; <paramref name="steps"/> are the known step kinds (null: kinds are not checked, as in the CLI).</summary>
    public static PipelineSpec Validate(PipelineSpec spec, IReadOnlyDictionary<string, IPipelineStep>? steps = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<string>();
        if (spec.Name is null || !NamePattern().IsMatch(spec.Name))
        {
            problems.Add($"name '{spec.Name}' must be 1 to 63 letters, digits, '-' or '_', starting with a letter or digit");
        }

        var parameters = spec.Parameters ?? [];
        for (var i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[i];
            var where = $"parameters[{i}]";
            if (parameter.Name is null || !IdentifierPattern().IsMatch(parameter.Name))
            {
                problems.Add($"{where}: name '{parameter.Name}' must be letters, digits, '_' or '-', starting with a letter or '_'");
            }
            else if (parameters.Take(i).Any(other => other.Name == parameter.Name))
            {
                problems.Add($"{where}: parameter '{parameter.Name}' is declared twice");
            }

            var type = parameter.Type ?? StringType;
            if (!Types.Contains(type))
            {
                problems.Add($"{where}: type '{type}' is not one of {string.Join(", ", Types)}");
            }
            else if (parameter.Default is { } value && CheckValue(type, value is JsonValue scalar && scalar.TryGetValue<string>(out var text) ? text : value.ToJsonString()) is { } problem)
            {
                problems.Add($"{where}: default {value.ToJsonString()} {problem}");
            }
        }

        var stepList = spec.Steps ?? [];
        if (stepList.Count == 0)
        {
            problems.Add("steps: a pipeline needs at least one step");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < stepList.Count; i++)
        {
            var step = stepList[i];
            var where = $"steps[{i}]";
            if (step.Name is null || !IdentifierPattern().IsMatch(step.Name) || step.Name.Length > 63)
            {
                problems.Add($"{where}: name '{step.Name}' must be up to 63 letters, digits, '_' or '-', starting with a letter or '_'");
            }
            else if (!names.Add(step.Name))
            {
                problems.Add($"{where}: step '{step.Name}' is declared twice");
            }
        }

        for (var i = 0; i < stepList.Count; i++)
        {
            var step = stepList[i];
            var where = $"steps[{i}] ({step.Name})";
            if (string.IsNullOrEmpty(step.Kind))
            {
                problems.Add($"{where}: kind is missing");
            }
            else if (steps is not null && !steps.ContainsKey(step.Kind))
            {
                problems.Add($"{where}: kind '{step.Kind}' is not known; known kinds: {string.Join(", ", steps.Keys.Order(StringComparer.Ordinal))}");
            }
            else if (steps is not null)
            {
                problems.AddRange(steps[step.Kind].Validate(step.With ?? []).Select(problem => $"{where}: {problem}"));
            }

            foreach (var reference in PipelineExpressions.References(step.With, problems, $"{where}.with"))
            {
                if (reference.Step is null && parameters.All(parameter => parameter.Name != reference.Name))
                {
                    problems.Add($"{where}.with: ${{{{ {reference} }}}} names no parameter; declared: {string.Join(", ", parameters.Select(parameter => parameter.Name))}");
                }
                else if (reference.Step is not null && !names.Contains(reference.Step))
                {
                    problems.Add($"{where}.with: ${{{{ {reference} }}}} names no step of this pipeline");
                }
                else if (reference.Step == step.Name)
                {
                    problems.Add($"{where}.with: ${{{{ {reference} }}}} refers to the step itself");
                }
            }

            foreach (var need in step.Needs ?? [])
            {
                if (!names.Contains(need))
                {
                    problems.Add($"{where}.needs: '{need}' is not a step of this pipeline");
                }
            }

            if (step.Retries is < 0 or > MaxRetries)
            {
                problems.Add($"{where}: retries {step.Retries} must be between 0 and {MaxRetries}");
            }

            if (step.RetryBackoff is { } backoff && Duration(backoff) is null)
            {
                problems.Add($"{where}: retry_backoff '{backoff}' is not a positive duration such as 10s, 5m or 1h");
            }

            if (step.Timeout is { } timeout)
            {
                if (Duration(timeout) is not { } limit)
                {
                    problems.Add($"{where}: timeout '{timeout}' is not a positive duration such as 10s, 5m or 1h");
                }
                else if (limit > MaxTimeout)
                {
                    problems.Add($"{where}: timeout '{timeout}' is longer than {Durations.Format(MaxTimeout)}");
                }
            }
        }

        // Looked for whatever else is wrong: a misspelt step name or a bad field does not hide a cycle.
        if (Cycle(stepList) is { } cycle)
        {
            problems.Add($"steps: there is a cycle: {string.Join(" -> ", cycle)}");
        }

        if (spec.Schedule is { } schedule)
        {
            Schedule(schedule, problems);
        }

        var triggers = spec.Triggers ?? [];
        for (var i = 0; i < triggers.Count; i++)
        {
            var trigger = triggers[i];
            if (string.IsNullOrEmpty(trigger.Dataset))
            {
                problems.Add($"triggers[{i}]: dataset is missing (the dataset whose new versions start a run)");
            }

            if (trigger.Parameter is { } parameter && parameters.FirstOrDefault(p => p.Name == parameter) is not { Type: DatasetType })
            {
                problems.Add($"triggers[{i}]: parameter '{parameter}' is not a parameter of type dataset");
            }
        }

        // Scheduled and triggered runs have nobody to pass parameters: each needs a default (a trigger fills its own).
        foreach (var parameter in parameters.Where(parameter => parameter.Default is null && parameter.Name is not null))
        {
            if (spec.Schedule is not null)
            {
                problems.Add($"parameter '{parameter.Name}' needs a default: scheduled runs pass no parameters");
            }
            else if (triggers.Count > 0 && triggers.Any(trigger => (trigger.Parameter ?? parameters.FirstOrDefault(p => p.Type == DatasetType)?.Name) != parameter.Name))
            {
                problems.Add($"parameter '{parameter.Name}' needs a default: a dataset trigger passes only its dataset parameter");
            }
        }

        if (spec.MaxParallel is < 1)
        {
            problems.Add($"max_parallel {spec.MaxParallel} must be at least 1");
        }

        if (spec.MaxActiveRuns is < 1)
        {
            problems.Add($"max_active_runs {spec.MaxActiveRuns} must be at least 1 (leave it out for no limit)");
        }

        return problems.Count == 0 ? spec : throw TrackingException.Invalid($"Invalid pipeline '{spec.Name}'", problems);
    }

    /// <summary>The steps a step waits for: those its inputs reference, and its <c>needs</c>.</summary>
    public static IReadOnlyList<string> Dependencies(PipelineStepSpec step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return PipelineExpressions.References(step.With, [], "").Where(reference => reference.Step is not null).Select(reference => reference.Step!)
            .Concat(step.Needs ?? []).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The steps in an order where every step comes after its dependencies (stable: declaration order among ready steps).</summary>
    public static IReadOnlyList<PipelineStepSpec> Order(IReadOnlyList<PipelineStepSpec> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var ordered = new List<PipelineStepSpec>();
        while (ordered.Count < steps.Count)
        {
            var next = steps.FirstOrDefault(step => !done.Contains(step.Name) && Dependencies(step).All(done.Contains))
                       ?? throw TrackingException.Invalid("The steps have a cycle.");
            done.Add(next.Name);
            ordered.Add(next);
        }

        return ordered;
    }

    /// <summary>The value's problem for a parameter of <paramref name="type"/>, or null when it fits.</summary>
    public static string? CheckValue(string type, string value) => type switch
    {
        IntType when !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) => "is not an integer",
        NumberType when !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number) => "is not a number",
        BoolType when value is not ("true" or "false") => "is not true or false",
        DatasetType when value.Length == 0 => "is not a dataset (NAME or NAME@VERSION)",
        ModelType when !value.StartsWith("models:/", StringComparison.Ordinal) => "is not a model URI (models:/NAME/VERSION or models:/NAME@ALIAS)",
        _ => null,
    };

    /// <summary>The schedule's cron expression and time zone; throws with the reasons when either is bad.</summary>
    public static (CronExpression Cron, TimeZoneInfo Zone) Cron(PipelineSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var problems = new List<string>();
        return Schedule(schedule, problems) is { } parsed ? parsed : throw TrackingException.Invalid(ProblemList.Join(problems));
    }

    /// <summary>The schedule's cron expression and time zone, each checked whatever the other is; null with the reasons added to <paramref name="problems"/>.</summary>
    private static (CronExpression Cron, TimeZoneInfo Zone)? Schedule(PipelineSchedule schedule, List<string> problems)
    {
        var text = schedule.Cron?.Trim() ?? "";
        CronExpression? cron = null;
        try
        {
            var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            cron = CronExpression.Parse(text, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException exception)
        {
            problems.Add($"schedule.cron '{schedule.Cron}' is not a cron expression (5 fields, or 6 with seconds): {exception.Message.Replace("The given cron expression has an invalid format. ", "", StringComparison.Ordinal).TrimEnd('.')}");
        }

        TimeZoneInfo? zone = null;
        try
        {
            zone = schedule.TimeZone is null ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZone);
        }
        catch (Exception exception) when (exception is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            problems.Add($"schedule.time_zone '{schedule.TimeZone}' is not a known time zone (an IANA id such as Europe/Paris)");
        }

        return cron is not null && zone is not null ? (cron, zone) : null;
    }

    /// <summary>
    /// The longest step timeout (and rollout poll interval): a timer cannot run longer than ~49.7 days, and a step that
    /// may run for a month is already an outlier.
    /// </summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(30);

    /// <summary>
    /// A step's timeout, retry backoff or poll interval (<see cref="Durations"/>): null when it is not a duration or not
    /// positive. The upper bound is each field's own (<see cref="MaxTimeout"/>).
    /// </summary>
    public static TimeSpan? Duration(string? text) => Durations.Parse(text) is { } duration && duration > TimeSpan.Zero ? duration : null;

    /// <summary>
    /// A cycle among the steps, as the path that closes it; null when there is none. Works on a pipeline with other
    /// problems too: steps without a name or declared twice (after the first) and dependencies on unknown steps are left
    /// out, as is a step's reference to itself under <c>with</c> (reported on its own).
    /// </summary>
    private static List<string>? Cycle(IReadOnlyList<PipelineStepSpec> steps)
    {
        var byName = new Dictionary<string, PipelineStepSpec>(StringComparer.Ordinal);
        foreach (var step in steps.Where(step => step.Name is not null))
        {
            byName.TryAdd(step.Name, step);
        }

        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var path = new List<string>();

        List<string>? Visit(string name)
        {
            state[name] = 1;
            path.Add(name);
            var step = byName[name];
            foreach (var dependency in Dependencies(step).Where(dependency => byName.ContainsKey(dependency) && (dependency != name || (step.Needs ?? []).Contains(dependency))))
            {
                if (state.GetValueOrDefault(dependency) == 1)
                {
                    return [.. path.Skip(path.IndexOf(dependency)), dependency];
                }

                if (state.GetValueOrDefault(dependency) == 0 && Visit(dependency) is { } found)
                {
                    return found;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[name] = 2;
            return null;
        }

        foreach (var name in byName.Keys)
        {
            if (state.GetValueOrDefault(name) == 0 && Visit(name) is { } cycle)
            {
                return cycle;
            }
        }

        return null;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_-]*$")]
    private static partial Regex IdentifierPattern();
}
