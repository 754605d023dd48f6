using System.Text.Json;
using System.Text.Json.Nodes;
using Ballast.Storage;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Ballast.Pipelines.Kubernetes;

/// <summary>
/// Runs the kinds in <see cref="KubernetesExecutorOptions.Kinds"/> as Kubernetes Jobs (others in-process): creates the
/// attempt's Job, reads its status until it succeeds or fails, copies its pod's log into the step's log, and reads the
/// outputs the pod stored (<see cref="OutputsPath"/>). Cancellation and timeouts delete the Job (and its pod).
/// </summary>
public sealed class KubernetesStepExecutor(IKubernetes client, KubernetesExecutorOptions options, IArtifactStore artifacts) : IStepExecutor
{
    /// <summary>Where <c>ballast pipelines step</c> stores an attempt's outputs, under the step's tracking run artifacts.</summary>
    public static string OutputsPath(string artifactRoot, int attempt) => ArtifactPath.Combine(artifactRoot, $"step-outputs/attempt-{attempt}.json");

    public async Task<IReadOnlyDictionary<string, JsonNode?>> ExecuteAsync(IPipelineStep kind, StepContext context)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(context);
        if (!options.Kinds.Contains(kind.Kind))
        {
            return await kind.RunAsync(context).ConfigureAwait(false);
        }

        var job = StepJobs.Build(options, context.RunId, context.Step, context.Attempt, context.Timeout);
        var name = job.Metadata.Name;
        try
        {
            await client.BatchV1.CreateNamespacedJobAsync(job, options.Namespace, cancellationToken: context.CancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException exception) when (exception.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            // Created by an earlier runner of this attempt (a restart between create and the status write): follow it.
        }
        catch (HttpOperationException exception)
        {
            throw new StepFailedException($"Kubernetes refused Job {name} in {options.Namespace}: {exception.Response.StatusCode} {exception.Response.Content}");
        }

        await context.Log.WriteLineAsync($"created Job {options.Namespace}/{name} ({options.Image})").ConfigureAwait(false);
        try
        {
            while (true)
            {
                await Task.Delay(options.PollInterval, context.Time, context.CancellationToken).ConfigureAwait(false);
                var status = (await client.BatchV1.ReadNamespacedJobStatusAsync(name, options.Namespace, cancellationToken: context.CancellationToken).ConfigureAwait(false)).Status;
                var failed = status?.Conditions?.FirstOrDefault(condition => condition.Type == "Failed" && condition.Status == "True");
                if ((status?.Succeeded ?? 0) >= 1 || failed is not null || (status?.Failed ?? 0) >= 1)
                {
                    await CopyLogsAsync(name, context).ConfigureAwait(false);
                    if (failed is not null || (status?.Succeeded ?? 0) < 1)
                    {
                        throw new StepFailedException($"Job {name} failed: {failed?.Reason ?? "pod failed"}{(failed?.Message is { Length: > 0 } message ? $" ({message})" : "")}");
                    }

                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            await client.BatchV1.DeleteNamespacedJobAsync(name, options.Namespace, propagationPolicy: "Background", cancellationToken: CancellationToken.None).ConfigureAwait(false);
            await context.Log.WriteLineAsync($"deleted Job {options.Namespace}/{name}").ConfigureAwait(false);
            throw;
        }

        try
        {
            await using var stream = await artifacts.OpenReadAsync(OutputsPath(context.ArtifactRoot, context.Attempt), context.CancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync(stream, PipelineJsonContext.Default.DictionaryStringJsonNode, context.CancellationToken).ConfigureAwait(false) ?? [];
        }
        catch (ArtifactNotFoundException)
        {
            throw new StepFailedException($"Job {name} succeeded but stored no outputs at {OutputsPath(context.ArtifactRoot, context.Attempt)}");
        }
    }

    private async Task CopyLogsAsync(string job, StepContext context)
    {
        var pods = await client.CoreV1.ListNamespacedPodAsync(options.Namespace, labelSelector: $"job-name={job}", cancellationToken: context.CancellationToken).ConfigureAwait(false);
        foreach (var pod in pods.Items)
        {
            await context.Log.WriteLineAsync($"--- pod {pod.Metadata.Name} ({pod.Status?.Phase}) ---").ConfigureAwait(false);
            try
            {
                using var reader = new StreamReader(await client.CoreV1.ReadNamespacedPodLogAsync(pod.Metadata.Name, options.Namespace, cancellationToken: context.CancellationToken).ConfigureAwait(false));
                await context.Log.WriteAsync(await reader.ReadToEndAsync(context.CancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            }
            catch (HttpOperationException exception)
            {
                await context.Log.WriteLineAsync($"(no log: {exception.Response.StatusCode})").ConfigureAwait(false);
            }
        }
    }
}
