using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Ballast.Datasets;
using Ballast.Metadata;
using Ballast.Pipelines;
using Ballast.Pipelines.Steps;
using Ballast.Storage;
using Ballast.Tracking;
using Microsoft.Extensions.Time.Testing;

namespace Ballast.Tests.Pipelines;

/// <summary>Records the order in which steps ran; its outputs are its inputs.</summary>
internal sealed class RecordingStep : IPipelineStep
{
    public ConcurrentQueue<string> Started { get; } = new();

    public string Kind => "record";

    public IReadOnlyList<string> Validate(JsonObject inputs) => [];

    public Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        Started.Enqueue(context.Step);
        return Task.FromResult<IReadOnlyDictionary<string, JsonNode?>>(context.With.ToDictionary(pair => pair.Key, pair => pair.Value?.DeepClone()));
    }
}

/// <summary>The pipeline engine over a real metadata database and a real artifact folder, driven tick by tick on a fake clock.</summary>
internal sealed class PipelineHarness : IAsyncDisposable
{
    public PipelineHarness(MetadataDatabase database, FakeTimeProvider time)
    {
        Time = time;
        Folder = Directory.CreateTempSubdirectory("ballast-pipelines-test-").FullName;
        Artifacts = new FileArtifactStore(Path.Combine(Folder, "artifacts"));
        Store = new PipelineStore(database, time);
        Experiments = new ExperimentStore(database, time);
        Runs = new RunStore(database, Experiments, time);
        Datasets = new DatasetStore(database, Artifacts, time, new DatasetProfiler());
        Launcher = new PipelineLauncher(Store, Datasets);
        Runner = NewRunner();
    }

    public FakeTimeProvider Time { get; }

    public string Folder { get; }

    public IArtifactStore Artifacts { get; }

    public PipelineStore Store { get; }

    public ExperimentStore Experiments { get; }

    public RunStore Runs { get; }

    public DatasetStore Datasets { get; }

    public PipelineLauncher Launcher { get; }

    public RecordingStep Recorder { get; } = new();

    public PipelineRunner Runner { get; private set; }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public PipelineRunner NewRunner() => new(Store, [new EchoStep(), new FailStep(), new CommandStep(), Recorder], Experiments, Runs, Artifacts, Time,
        new PipelineRunnerOptions { WorkRoot = Path.Combine(Folder, "work") });

    /// <summary>A new runner as after a restart (the old one is stopped without finishing its steps).</summary>
    public async Task RestartAsync()
    {
        await Runner.DisposeAsync();
        Runner = NewRunner();
    }

    public async Task<PipelineSpec> PutAsync(PipelineSpec spec) => (await Store.PutAsync(PipelineValidation.Validate(spec, Runner.Steps), Cancel)).Spec;

    public async Task<PipelineRun> StartAsync(string pipeline, Dictionary<string, string>? parameters = null, bool noCache = false) =>
        (await Launcher.LaunchAsync(pipeline, parameters ?? [], "manual", noCache, null, Cancel))!;

    /// <summary>Ticks (without moving the clock) until the run stops changing; returns it.</summary>
    public async Task<PipelineRun> SettleAsync(string runId)
    {
        var last = "";
        for (var i = 0; i < 50; i++)
        {
            await Runner.TickAsync(Cancel);
            await Runner.IdleAsync();
            var run = await Store.GetRunAsync(runId, Cancel);
            var state = run.Status + string.Join(",", run.Steps.Select(step => $"{step.Step}:{step.Status}:{step.Attempts}"));
            if (state == last)
            {
                return run;
            }

            last = state;
        }

        throw new InvalidOperationException("The run did not settle in 50 ticks.");
    }

    public static StepRun Step(PipelineRun run, string name) => run.Steps.Single(step => step.Step == name);

    public async ValueTask DisposeAsync()
    {
        await Runner.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still hold a file.
        }
    }
}
