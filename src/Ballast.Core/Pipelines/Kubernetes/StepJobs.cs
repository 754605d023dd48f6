using System.Globalization;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Ballast.Pipelines.Kubernetes;

/// <summary>
/// The Job of one step attempt: one pod, never restarted, no Kubernetes-level retries (the runner retries, with its
/// backoff, and counts attempts), a deadline from the step's timeout, labels to find it and its pod by, and the
/// container running <c>ballast pipelines step --run RUN --step STEP --attempt N</c>.
/// </summary>
public static partial class StepJobs
{
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string RunLabel = "ballast.io/pipeline-run";
    public const string StepLabel = "ballast.io/step";
    public const string AttemptLabel = "ballast.io/attempt";

    /// <summary>A DNS-1123 label (at most 63 characters) naming the attempt's Job: <c>ballast-RUN8-STEP-ATTEMPT</c>.</summary>
    public static string Name(string runId, string step, int attempt)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(step);
        var suffix = "-" + attempt.ToString(CultureInfo.InvariantCulture);
        var stem = $"ballast-{runId[..Math.Min(8, runId.Length)]}-{Invalid().Replace(step.ToLowerInvariant(), "-")}";
        stem = stem[..Math.Min(stem.Length, 63 - suffix.Length)].TrimEnd('-');
        return stem + suffix;
    }

    /// <summary>A label value (at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends).</summary>
    public static string LabelValue(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = InvalidLabel().Replace(text, "-");
        return value[..Math.Min(value.Length, 63)].Trim('-', '_', '.');
    }

    public static V1Job Build(KubernetesExecutorOptions options, string runId, string step, int attempt, TimeSpan? timeout)
    {
        ArgumentNullException.ThrowIfNull(options);
        var name = Name(runId, step, attempt);
        var labels = new Dictionary<string, string>
        {
            [ManagedByLabel] = "ballast",
            [RunLabel] = LabelValue(runId),
            [StepLabel] = LabelValue(step),
            [AttemptLabel] = attempt.ToString(CultureInfo.InvariantCulture),
        };
        var container = new V1Container
        {
            Name = "step",
            Image = options.Image,
            Args = ["pipelines", "step", "--run", runId, "--step", step, "--attempt", attempt.ToString(CultureInfo.InvariantCulture)],
            Env = [new V1EnvVar { Name = "BALLAST_LOG_FORMAT", Value = "text" }],
            EnvFrom = options.EnvSecret is null ? null : [new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = options.EnvSecret } }],
            Resources = options.CpuRequest is null && options.MemoryLimit is null ? null : new V1ResourceRequirements
            {
                Requests = options.CpuRequest is null ? null : new Dictionary<string, ResourceQuantity> { ["cpu"] = new ResourceQuantity(options.CpuRequest) },
                Limits = options.MemoryLimit is null ? null : new Dictionary<string, ResourceQuantity> { ["memory"] = new ResourceQuantity(options.MemoryLimit) },
            },
        };
        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = options.Namespace, Labels = labels },
            Spec = new V1JobSpec
            {
                BackoffLimit = 0,
                Completions = 1,
                Parallelism = 1,
                ActiveDeadlineSeconds = timeout is { } limit ? (long)Math.Ceiling(limit.TotalSeconds) : null,
                TtlSecondsAfterFinished = (int)options.KeepFinished.TotalSeconds,
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        RestartPolicy = "Never",
                        ServiceAccountName = options.ServiceAccount,
                        Containers = [container],
                    },
                },
            },
        };
    }

    [GeneratedRegex("[^a-z0-9-]")]
    private static partial Regex Invalid();

    [GeneratedRegex("[^A-Za-z0-9._-]")]
    private static partial Regex InvalidLabel();
}
