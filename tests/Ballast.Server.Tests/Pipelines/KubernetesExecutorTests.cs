using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ballast.Datasets;
using Ballast.Metadata;
using Ballast.Pipelines;
using Ballast.Pipelines.Kubernetes;
using Ballast.Pipelines.Steps;
using Ballast.Storage;
using Ballast.Tests.Metadata;
using Ballast.Tracking;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Ballast.Tests.Pipelines;

/// <summary>
/// The Kubernetes executor without a cluster: the Job manifests checked against the Kubernetes API's rules for the
/// fields we set (API reference: batch/v1 Job, core/v1 PodSpec and Container; DNS-1123 names; label syntax), and the
/// executor against a fake API server on loopback that answers as the API server does (responses shaped after
/// recorded kube-apiserver answers) and "runs" the pod by executing <c>ballast pipelines step</c>'s code in-process.
/// </summary>
public sealed partial class KubernetesExecutorTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static readonly KubernetesExecutorOptions Options = new()
    {
        Namespace = "ml", Image = "ghcr.io/ballast/ballast:1.0", EnvSecret = "ballast-env", ServiceAccount = "ballast-steps",
        CpuRequest = "500m", MemoryLimit = "2Gi", PollInterval = TimeSpan.FromMilliseconds(20),
    };

    [Theory]
    [InlineData("train")]
    [InlineData("Evaluate_On_Holdout_With_A_Very_Long_Step_Name_That_Goes_On_And_On_And_On")]
    public void Job_manifests_follow_the_kubernetes_api_rules(string step)
    {
        var job = StepJobs.Build(Options, "0123456789abcdef0123456789abcdef", step, 3, TimeSpan.FromMinutes(10));
        var json = JsonNode.Parse(KubernetesJson.Serialize(job))!.AsObject();

        // Every field maps onto the API's model: a misspelt or mistyped field would not survive the round trip.
        JsonNode.DeepEquals(JsonNode.Parse(KubernetesJson.Serialize(KubernetesJson.Deserialize<V1Job>(json.ToJsonString()))), json).ShouldBeTrue(json.ToJsonString());

        (json["apiVersion"]!.GetValue<string>(), json["kind"]!.GetValue<string>()).ShouldBe(("batch/v1", "Job"));
        var name = json["metadata"]!["name"]!.GetValue<string>();
        // Job names become the pods' job-name label: a DNS-1123 label of at most 63 characters.
        name.Length.ShouldBeLessThanOrEqualTo(63);
        Dns1123Label().IsMatch(name).ShouldBeTrue(name);
        name.ShouldEndWith("-3");
        json["metadata"]!["namespace"]!.GetValue<string>().ShouldBe("ml");
        foreach (var labels in new[] { json["metadata"]!["labels"]!, json["spec"]!["template"]!["metadata"]!["labels"]! })
        {
            foreach (var (key, value) in labels.AsObject())
            {
                LabelKey().IsMatch(key).ShouldBeTrue(key);
                var text = value!.GetValue<string>();
                (text.Length <= 63 && LabelValue().IsMatch(text)).ShouldBeTrue(text);
            }
        }

        var spec = json["spec"]!;
        spec["template"].ShouldNotBeNull("JobSpec.template is required");
        spec["backoffLimit"]!.GetValue<int>().ShouldBe(0, "the runner retries, with its backoff");
        spec["activeDeadlineSeconds"]!.GetValue<long>().ShouldBe(600);
        var pod = spec["template"]!["spec"]!;
        pod["restartPolicy"]!.GetValue<string>().ShouldBeOneOf("Never", "OnFailure");
        pod["serviceAccountName"]!.GetValue<string>().ShouldBe("ballast-steps");
        var containers = pod["containers"]!.AsArray();
        containers.Count.ShouldBe(1, "PodSpec.containers is required and not empty");
        var container = containers[0]!;
        Dns1123Label().IsMatch(container["name"]!.GetValue<string>()).ShouldBeTrue();
        container["image"]!.GetValue<string>().ShouldBe(Options.Image);
        container["args"]!.AsArray().Select(arg => arg!.GetValue<string>()).ShouldBe(["pipelines", "step", "--run", "0123456789abcdef0123456789abcdef", "--step", step, "--attempt", "3"]);
        container["envFrom"]![0]!["secretRef"]!["name"]!.GetValue<string>().ShouldBe("ballast-env");
        container["env"]!.AsArray().ShouldAllBe(env => EnvName().IsMatch(env!["name"]!.GetValue<string>()));
        (container["resources"]!["requests"]!["cpu"]!.GetValue<string>(), container["resources"]!["limits"]!["memory"]!.GetValue<string>()).ShouldBe(("500m", "2Gi"));
    }

    [Fact]
    public void The_executor_is_off_unless_asked_and_a_misconfiguration_lists_every_problem()
    {
        KubernetesExecutorOptions.FromEnvironment(_ => null).ShouldBeNull();
        Should.Throw<InvalidOperationException>(() => KubernetesExecutorOptions.FromEnvironment(name => name == KubernetesExecutorOptions.EnabledVariable ? "k8s" : null)).Message
            .ShouldBe("The Kubernetes pipeline executor is misconfigured: BALLAST_PIPELINES_EXECUTOR 'k8s' is not in-process or kubernetes; BALLAST_K8S_IMAGE (the Ballast image the Jobs run) is required.");
        var options = KubernetesExecutorOptions.FromEnvironment(name => name switch
        {
            KubernetesExecutorOptions.EnabledVariable => "kubernetes", "BALLAST_K8S_IMAGE" => "ballast:1", "BALLAST_K8S_NAMESPACE" => "ml", _ => null,
        })!;
        (options.Image, options.Namespace, options.Kinds.Single()).ShouldBe(("ballast:1", "ml", "command"));
    }

    [Fact]
    public async Task A_command_step_runs_as_a_job_whose_pod_log_and_outputs_come_back()
    {
        await using var fake = await FakeApiServer.StartAsync();
        var folder = Directory.CreateTempSubdirectory("ballast-k8s-").FullName;
        var (location, drop) = await TestDatabases.CreateAsync(DatabaseEngine.Sqlite);
        try
        {
            await using var database = await MetadataMigrator.OpenMigratedAsync(location, Cancel);
            var artifacts = ArtifactStoreFactory.Create(Path.Combine(folder, "artifacts"), null, null);
            var store = new PipelineStore(database, TimeProvider.System);
            var experiments = new ExperimentStore(database, TimeProvider.System);
            var runs = new RunStore(database, experiments, TimeProvider.System);
            IPipelineStep[] steps = [new CommandStep(), new EchoStep()];
            using var client = new Kubernetes(new KubernetesClientConfiguration { Host = fake.Url });
            await using var runner = new PipelineRunner(store, steps, experiments, runs, artifacts, TimeProvider.System,
                new PipelineRunnerOptions { WorkRoot = Path.Combine(folder, "work") }, new KubernetesStepExecutor(client, Options, artifacts));
            // The pod: the same code `ballast pipelines step` runs, against the same database and artifacts.
            await using var pod = new PipelineRunner(store, steps, experiments, runs, artifacts, TimeProvider.System, new PipelineRunnerOptions { WorkRoot = Path.Combine(folder, "pod") });
            fake.RunPod = async (args, log) =>
            {
                try
                {
                    await pod.RunStepHereAsync(args[3], args[5], int.Parse(args[7], System.Globalization.CultureInfo.InvariantCulture), log, Cancel);
                    return true;
                }
                catch (StepFailedException exception)
                {
                    await log.WriteLineAsync($"error: {exception.Message}");
                    return false;
                }
            };

            await store.PutAsync(PipelineValidation.Validate(new PipelineSpec("k8s", null, [
                new PipelineStepSpec("train", "command", new JsonObject
                {
                    ["command"] = "sh", ["args"] = new JsonArray("-c", "echo fitting in the pod; echo weights > model.bin; echo '{\"auc\": 0.91}' > m.json"),
                    ["outputs"] = new JsonObject { ["model"] = "model.bin" }, ["metrics"] = "m.json",
                }, Timeout: "10m"),
                new PipelineStepSpec("report", "echo", new JsonObject { ["auc"] = "${{ steps.train.outputs.auc }}" }),
                new PipelineStepSpec("broken", "command", new JsonObject { ["command"] = "sh", ["args"] = new JsonArray("-c", "echo bad >&2; exit 4") }),
            ]), steps.ToDictionary(step => step.Kind)), Cancel);
            var launcher = new PipelineLauncher(store, new DatasetStore(database, artifacts, TimeProvider.System, new DatasetProfiler()));
            var runId = await launcher.StartAsync("k8s", new Dictionary<string, string>(), "manual", Cancel);

            PipelineRun run = null!;
            for (var i = 0; i < 200; i++)
            {
                await runner.TickAsync(Cancel);
                await runner.IdleAsync();
                run = await store.GetRunAsync(runId, Cancel);
                if (PipelineRunStatuses.IsFinished(run.Status))
                {
                    break;
                }
            }

            run.Steps.Select(step => (step.Step, step.Status)).ShouldBe([("train", "succeeded"), ("report", "succeeded"), ("broken", "failed")], run.Error);
            var train = run.Steps[0];
            train.Outputs!["auc"]!.GetValue<double>().ShouldBe(0.91);
            train.Outputs["model"]!["sha256"]!.GetValue<string>().ShouldBe(ContentAddressing.Sha256Hex("weights\n"u8));
            run.Steps[2].Error.ShouldBe("Job ballast-" + runId[..8] + "-broken-1 failed: BackoffLimitExceeded (Job has reached the specified backoff limit)");
            fake.Created.Select(job => job.Metadata.Name).ShouldBe([$"ballast-{runId[..8]}-train-1", $"ballast-{runId[..8]}-broken-1"], ignoreOrder: true, "echo runs in the runner; command steps as Jobs");

            using var reader = new StreamReader(await artifacts.OpenReadAsync(train.LogPath!, Cancel));
            var log = await reader.ReadToEndAsync(Cancel);
            log.ShouldContain($"created Job ml/ballast-{runId[..8]}-train-1");
            log.ShouldContain("--- pod ballast-" + runId[..8] + "-train-1-x7k2p (Succeeded) ---");
            log.ShouldContain("fitting in the pod");
        }
        finally
        {
            await drop();
            Directory.Delete(folder, recursive: true);
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex(@"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex LabelKey();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    [GeneratedRegex("^[-._a-zA-Z][-._a-zA-Z0-9]*$")]
    private static partial Regex EnvName();

    /// <summary>
    /// A kube-apiserver stand-in for the calls the executor makes (create Job, read Job status, list pods by job-name,
    /// read a pod's log, delete Job), answering with the shapes the real server returns. Creating a Job "runs" its pod.
    /// </summary>
    private sealed class FakeApiServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, (Task<bool> Pod, StringBuilder Log)> _jobs = new();

        private FakeApiServer(WebApplication app)
        {
            _app = app;
        }

        public string Url => _app.Urls.First();

        public ConcurrentQueue<V1Job> Created { get; } = new();

        public Func<IReadOnlyList<string>, TextWriter, Task<bool>> RunPod { get; set; } = (_, _) => Task.FromResult(true);

        public static async Task<FakeApiServer> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var fake = new FakeApiServer(app);
            app.MapPost("/apis/batch/v1/namespaces/{ns}/jobs", async (string ns, HttpRequest request) =>
            {
                using var body = new StreamReader(request.Body);
                var job = KubernetesJson.Deserialize<V1Job>(await body.ReadToEndAsync());
                fake.Created.Enqueue(job);
                var log = new StringBuilder();
                var writer = TextWriter.Synchronized(new StringWriter(log));
                fake._jobs[job.Metadata.Name] = (Task.Run(() => fake.RunPod(job.Spec.Template.Spec.Containers[0].Args.ToList(), writer)), log);
                job.Metadata.Uid = Guid.NewGuid().ToString();
                job.Metadata.CreationTimestamp = DateTime.UtcNow;
                job.Metadata.ResourceVersion = "1";
                return Results.Text(KubernetesJson.Serialize(job), "application/json", statusCode: 201);
            });
            app.MapGet("/apis/batch/v1/namespaces/{ns}/jobs/{name}/status", (string ns, string name) =>
            {
                if (!fake._jobs.TryGetValue(name, out var job))
                {
                    return Results.Text($$"""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"jobs.batch \"{{name}}\" not found","reason":"NotFound","code":404}""", "application/json", statusCode: 404);
                }

                var status = !job.Pod.IsCompleted ? new V1JobStatus { Active = 1, StartTime = DateTime.UtcNow }
                    : job.Pod.Result ? new V1JobStatus { Succeeded = 1, Conditions = [new V1JobCondition { Type = "Complete", Status = "True" }] }
                    : new V1JobStatus { Failed = 1, Conditions = [new V1JobCondition { Type = "Failed", Status = "True", Reason = "BackoffLimitExceeded", Message = "Job has reached the specified backoff limit" }] };
                return Results.Text(KubernetesJson.Serialize(new V1Job { ApiVersion = "batch/v1", Kind = "Job", Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns }, Status = status }), "application/json");
            });
            app.MapGet("/api/v1/namespaces/{ns}/pods", (string ns, string labelSelector) =>
            {
                var job = labelSelector["job-name=".Length..];
                var phase = fake._jobs[job].Pod is { IsCompleted: true } pod ? pod.Result ? "Succeeded" : "Failed" : "Running";
                var list = new V1PodList
                {
                    ApiVersion = "v1", Kind = "PodList", Metadata = new V1ListMeta { ResourceVersion = "2" },
                    Items = [new V1Pod { Metadata = new V1ObjectMeta { Name = $"{job}-x7k2p", NamespaceProperty = ns, Labels = new Dictionary<string, string> { ["job-name"] = job } }, Status = new V1PodStatus { Phase = phase } }],
                };
                return Results.Text(KubernetesJson.Serialize(list), "application/json");
            });
            app.MapGet("/api/v1/namespaces/{ns}/pods/{pod}/log", (string ns, string pod) =>
                Results.Text(fake._jobs[pod[..pod.LastIndexOf('-')]].Log.ToString(), "text/plain"));
            app.MapDelete("/apis/batch/v1/namespaces/{ns}/jobs/{name}", (string ns, string name) =>
                Results.Text("""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success"}""", "application/json"));
            await app.StartAsync(Cancel);
            return fake;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync(CancellationToken.None);
            await _app.DisposeAsync();
        }
    }
}
