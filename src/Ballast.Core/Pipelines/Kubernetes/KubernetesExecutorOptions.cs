namespace Ballast.Pipelines.Kubernetes;

/// <summary>
/// The Kubernetes executor's settings, from the environment of the server (<c>BALLAST_PIPELINES_EXECUTOR=kubernetes</c>
/// turns it on). The Job's pod runs <c>ballast pipelines step</c> in <see cref="Image"/> and reaches the same metadata
/// database and artifact store through the variables of the secret <see cref="EnvSecret"/> (BALLAST_DATABASE, BALLAST_ARTIFACTS, …).
/// </summary>
public sealed record KubernetesExecutorOptions
{
    public const string EnabledVariable = "BALLAST_PIPELINES_EXECUTOR";

    public string Namespace { get; init; } = "default";

    public string Image { get; init; } = "";

    /// <summary>A secret whose keys become the pod's environment (the database and artifact settings).</summary>
    public string? EnvSecret { get; init; }

    public string? ServiceAccount { get; init; }

    /// <summary>The step kinds that run as Jobs; the others (registering, promoting, following a rollout) stay in the runner.</summary>
    public IReadOnlyList<string> Kinds { get; init; } = ["command"];

    public string? CpuRequest { get; init; }

    public string? MemoryLimit { get; init; }

    /// <summary>How often the executor reads the Job's status.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a finished Job stays for inspection (<c>ttlSecondsAfterFinished</c>).</summary>
    public TimeSpan KeepFinished { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The options from the environment; null when the executor is not enabled; throws with every problem when it is but is misconfigured.</summary>
    public static KubernetesExecutorOptions? FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var executor = environment(EnabledVariable);
        if (string.IsNullOrEmpty(executor) || executor == "in-process")
        {
            return null;
        }

        var problems = new List<string>();
        if (executor != "kubernetes")
        {
            problems.Add($"{EnabledVariable} '{executor}' is not in-process or kubernetes");
        }

        var image = environment("BALLAST_K8S_IMAGE");
        if (string.IsNullOrEmpty(image))
        {
            problems.Add("BALLAST_K8S_IMAGE (the Ballast image the Jobs run) is required");
        }

        return problems.Count > 0
            ? throw new InvalidOperationException($"The Kubernetes pipeline executor is misconfigured: {ProblemList.Join(problems)}.")
            : new KubernetesExecutorOptions
            {
                Image = image!,
                Namespace = environment("BALLAST_K8S_NAMESPACE") ?? "default",
                EnvSecret = environment("BALLAST_K8S_ENV_SECRET"),
                ServiceAccount = environment("BALLAST_K8S_SERVICE_ACCOUNT"),
                Kinds = environment("BALLAST_K8S_STEP_KINDS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? ["command"],
                CpuRequest = environment("BALLAST_K8S_CPU_REQUEST"),
                MemoryLimit = environment("BALLAST_K8S_MEMORY_LIMIT"),
            };
    }
}
