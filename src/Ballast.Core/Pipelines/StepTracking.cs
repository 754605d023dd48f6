using System.Text.Json.Nodes;
using Ballast.Tracking;

namespace Ballast.Pipelines;

/// <summary>
/// Step runs as MLflow runs: one per step run in the experiment named after the pipeline (created on first use), with
/// the run's parameters and the step's scalar inputs as params, numeric outputs as metrics, and tags linking the
/// pipeline run, the step and the runs it read from.
/// </summary>
internal sealed class StepTracking(ExperimentStore experiments, RunStore runs, TimeProvider time)
{
    /// <summary>A tag or param value longer than this is cut (MLflow's limits are larger; these are summaries).</summary>
    private const int MaxValueLength = 500;

    public async Task<Run> CreateRunAsync(PipelineRun run, PipelineStepSpec spec, List<string> upstream, string? cachedFrom, CancellationToken cancellationToken)
    {
        string experimentId;
        try
        {
            experimentId = (await experiments.GetByNameAsync(run.Pipeline, cancellationToken).ConfigureAwait(false)).ExperimentId;
        }
        catch (TrackingException missing) when (missing.Code == TrackingException.ResourceDoesNotExist)
        {
            try
            {
                experimentId = await experiments.CreateAsync(run.Pipeline, tags: [new TrackingTag(PipelineRunner.PipelineTag, run.Pipeline)], cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (TrackingException raced) when (raced.Code == TrackingException.ResourceAlreadyExists)
            {
                experimentId = (await experiments.GetByNameAsync(run.Pipeline, cancellationToken).ConfigureAwait(false)).ExperimentId;
            }
        }

        List<TrackingTag> tags = [new(PipelineRunner.PipelineTag, run.Pipeline), new(PipelineRunner.PipelineRunTag, run.RunId), new(PipelineRunner.StepTag, spec.Name), new(PipelineRunner.KindTag, spec.Kind)];
        if (upstream.Count > 0)
        {
            tags.Add(new TrackingTag(PipelineRunner.UpstreamTag, string.Join(",", upstream)));
        }

        if (cachedFrom is not null)
        {
            tags.Add(new TrackingTag(PipelineRunner.CachedFromTag, cachedFrom));
        }

        var created = await runs.CreateAsync(experimentId, "ballast-pipelines", $"{spec.Name}-{run.RunId[..8]}", time.GetUtcNow().ToUnixTimeMilliseconds(), tags, cancellationToken).ConfigureAwait(false);
        var parameters = run.Parameters.Select(pair => new Param(pair.Key, Truncate(PipelineExpressions.Text(pair.Value, file => file.ToJsonString()))))
            .Concat((spec.With ?? []).Where(pair => pair.Value is JsonValue).Select(pair => new Param($"with.{pair.Key}", Truncate(PipelineExpressions.Text(pair.Value, file => file.ToJsonString())))))
            .ToList();
        await runs.LogBatchAsync(created.Info.RunId, [], parameters, [], cancellationToken).ConfigureAwait(false);
        return created;
    }

    /// <summary>Numeric outputs become metrics; every output's description becomes a tag <c>ballast.pipeline.output.NAME</c>.</summary>
    public async Task LogOutputsAsync(string trackingRunId, IReadOnlyDictionary<string, JsonNode?> outputs, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var metrics = outputs.Where(pair => StepOutputs.Number(pair.Value) is not null).Select(pair => new Metric(pair.Key, StepOutputs.Number(pair.Value)!.Value, now, 0)).ToList();
        var tags = outputs.Select(pair => new TrackingTag($"ballast.pipeline.output.{pair.Key}", Truncate(StepOutputs.Describe(pair.Value)))).ToList();
        await runs.LogBatchAsync(trackingRunId, metrics, [], tags, cancellationToken).ConfigureAwait(false);
    }

    private static string Truncate(string text) => text.Length <= MaxValueLength ? text : text[..(MaxValueLength - 3)] + "...";
}
