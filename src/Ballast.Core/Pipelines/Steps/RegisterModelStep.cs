using System.Text.Json.Nodes;
using Ballast.Registry;
using Ballast.Tracking;

namespace Ballast.Pipelines.Steps;

/// <summary>
/// <c>kind: register</c>: registers a model file as a new version of <c>with.name</c> and optionally points an alias at it
/// (<c>with.alias: challenger</c>). <c>with.model</c> is a file output of an earlier step, an <c>mlflow-artifacts:/</c> URI
/// or <c>runs:/RUN_ID/PATH</c> (a run's artifact). The version links to <c>with.run_id</c> (say
/// <c>${{ steps.train.outputs.run_id }}</c>, so the model card shows the training run's params and metrics), else to the
/// run of a <c>runs:/</c> model, else to this step's own tracking run (lineage).
/// <c>with.feature_service</c> (say <c>${{ steps.ingest.outputs.feature_service }}</c>) records the feature service the
/// model was trained on in its signature and on its card; it must exist.
/// Outputs: <c>model</c> (the version), <c>version</c>, <c>uri</c>.
/// </summary>
public sealed class RegisterModelStep(RegistryStore registry, ModelRegistration registration, RunStore runs, Features.FeatureStore? features = null) : IPipelineStep
{
    public bool Cacheable => false;

    public string Kind => "register";

    public IReadOnlyList<string> Validate(JsonObject inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var problems = new List<string>();
        if (inputs["model"] is null)
        {
            problems.Add("with.model (a file output, mlflow-artifacts:/ URI or runs:/RUN_ID/PATH) is required");
        }

        if (inputs["name"] is not JsonValue name || !name.TryGetValue<string>(out var text) || text.Length == 0)
        {
            problems.Add("with.name (the registered model) is required");
        }

        StepInputs.CheckText(inputs, "feature_service", problems);
        return problems;
    }

    public async Task<IReadOnlyDictionary<string, JsonNode?>> RunAsync(StepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var name = context.RequiredText("name");
        var model = context.With["model"] ?? throw new StepFailedException("input 'model' is empty");
        var linkedRun = context.Text("run_id") is { Length: > 0 } given ? (await runs.GetAsync(given, context.CancellationToken).ConfigureAwait(false)).Info.RunId : null;
        if (model is JsonValue value && value.TryGetValue<string>(out var uri) && RunArtifactUri.HasScheme(uri))
        {
            // A file is registered, so the URI must name one: a run's whole artifact folder (runs:/RUN_ID) will not do.
            if (!RunArtifactUri.TryParse(uri, out var runArtifact) || runArtifact.ArtifactPath is null)
            {
                throw new StepFailedException($"'{uri}' is not runs:/RUN_ID/PATH");
            }

            var run = await runs.GetAsync(runArtifact.RunId, context.CancellationToken).ConfigureAwait(false);
            linkedRun ??= run.Info.RunId;
            model = JsonValue.Create(runArtifact.Under(run.Info.ArtifactUri));
        }

        var featureService = context.Text("feature_service") is { Length: > 0 } service ? service : null;
        if (featureService is not null)
        {
            var catalog = features is null ? Features.FeatureCatalog.Empty : await features.RefreshAsync(context.CancellationToken).ConfigureAwait(false);
            if (!catalog.Services.ContainsKey(featureService))
            {
                throw new StepFailedException($"input 'feature_service': feature service '{featureService}' does not exist");
            }
        }

        var fileName = model is JsonObject file ? file["name"]!.GetValue<string>() : Path.GetFileName(model.GetValue<string>());
        ModelVersion version;
        await using (var stream = await context.OpenFileAsync(model).ConfigureAwait(false))
        {
            version = await registration.RegisterAsync(name, stream, fileName, context.Text("flavor"), linkedRun ?? context.TrackingRunId,
                context.Text("description") ?? $"Registered by pipeline {context.Pipeline}, run {context.RunId}, step {context.Step}.", featureService, context.CancellationToken).ConfigureAwait(false);
        }

        await context.Log.WriteLineAsync($"registered {fileName} as {name} version {version.Version}" + (featureService is null ? "" : $" (feature service {featureService})")).ConfigureAwait(false);
        if (context.Text("alias") is { Length: > 0 } alias)
        {
            await registry.SetAliasAsync(name, alias, version.Version, context.CancellationToken).ConfigureAwait(false);
            await context.Log.WriteLineAsync($"alias {alias} -> version {version.Version}").ConfigureAwait(false);
        }

        return new Dictionary<string, JsonNode?>
        {
            ["model"] = StepOutputs.Model(name, version.Version),
            ["version"] = version.Version,
            ["uri"] = $"models:/{name}/{version.Version}",
        };
    }
}
