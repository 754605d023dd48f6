using System.Globalization;
using System.Text.Json.Nodes;
using Ballast.Datasets;
using Ballast.Tracking;

namespace Ballast.Pipelines;

/// <summary>
/// Starts runs of stored pipelines: checks the parameters against their declared types (every problem at once), fills
/// defaults, pins a dataset parameter to a version (<c>churn</c> becomes <c>churn@7</c>, so a run and its cache key say
/// which bytes it read), and queues the run for the runner.
/// </summary>
public sealed class PipelineLauncher(PipelineStore store, DatasetStore datasets) : IPipelineLauncher
{
    /// <summary>
    /// Starts a run for a trigger (an alert, a schedule): a trigger passes all it knows (an alert: the window's endpoint,
    /// bounds, rule, metric, value…), and the pipeline takes the parameters it declares; the others are left out.
    /// </summary>
    public async Task<string> StartAsync(string pipeline, IReadOnlyDictionary<string, string> parameters, string trigger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var declared = ((await store.GetAsync(pipeline, cancellationToken).ConfigureAwait(false)).Spec.Parameters ?? []).Select(parameter => parameter.Name).ToHashSet(StringComparer.Ordinal);
        var taken = parameters.Where(parameter => declared.Contains(parameter.Key)).ToDictionary(StringComparer.Ordinal);
        return (await LaunchAsync(pipeline, taken, trigger, noCache: false, dedupeKey: null, cancellationToken).ConfigureAwait(false))!.RunId;
    }

    /// <summary>Queues a run; with a <paramref name="dedupeKey"/> null when a run with that key exists already.</summary>
    public async Task<PipelineRun?> LaunchAsync(string pipeline, IReadOnlyDictionary<string, string> parameters, string trigger, bool noCache, string? dedupeKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(trigger);
        var spec = (await store.GetAsync(pipeline, cancellationToken).ConfigureAwait(false)).Spec;
        var resolved = await ResolveAsync(spec, parameters, cancellationToken).ConfigureAwait(false);
        return await store.CreateRunAsync(spec, resolved, trigger, noCache, dedupeKey, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Dictionary<string, JsonNode?>> ResolveAsync(PipelineSpec spec, IReadOnlyDictionary<string, string> given, CancellationToken cancellationToken)
    {
        var declared = spec.Parameters ?? [];
        var problems = given.Keys.Where(name => declared.All(parameter => parameter.Name != name))
            .Select(name => $"'{name}' is not a parameter of the pipeline (declared: {(declared.Count == 0 ? "none" : string.Join(", ", declared.Select(parameter => parameter.Name)))})").ToList();
        var resolved = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var parameter in declared)
        {
            var type = parameter.Type ?? PipelineValidation.StringType;
            string text;
            if (given.TryGetValue(parameter.Name, out var value))
            {
                text = value;
            }
            else if (parameter.Default is { } fallback)
            {
                text = fallback is JsonValue scalar && scalar.TryGetValue<string>(out var defaultText) ? defaultText : fallback.ToJsonString();
            }
            else
            {
                problems.Add($"parameter '{parameter.Name}' ({type}) is required: it has no default");
                continue;
            }

            if (PipelineValidation.CheckValue(type, text) is { } problem)
            {
                problems.Add($"parameter '{parameter.Name}' ({type}): '{text}' {problem}");
                continue;
            }

            try
            {
                resolved[parameter.Name] = type switch
                {
                    PipelineValidation.IntType => JsonValue.Create(long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)),
                    PipelineValidation.NumberType => JsonValue.Create(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)),
                    PipelineValidation.BoolType => JsonValue.Create(text == "true"),
                    PipelineValidation.DatasetType => JsonValue.Create((await datasets.GetVersionAsync(DatasetReference.Parse(text), cancellationToken).ConfigureAwait(false)).Reference),
                    _ => JsonValue.Create(text),
                };
            }
            catch (TrackingException exception)
            {
                problems.Add($"parameter '{parameter.Name}' ({type}): {exception.Message.TrimEnd('.')}");
            }
        }

        return problems.Count == 0 ? resolved : throw TrackingException.Invalid($"Cannot run pipeline '{spec.Name}'", problems);
    }
}
